//! Running an [`EntityQuery`]: candidates from the index plan, in creation order, loaded from
//! one redb snapshot and decided by the query's own filter.
//!
//! The index and the snapshot are not one atomic view (the writer may commit between the
//! chunks). That is harmless by construction: every returned entity is checked against the
//! query in the state the snapshot holds, a candidate whose stored creation sequence differs
//! from the index's (deleted and re-created meanwhile) is skipped, so nothing is returned twice
//! and creation order holds. Everything acknowledged before the query began is seen, because
//! the writer updates the indexes before it acknowledges.

use super::index::Plan;
use super::record;
use super::redb_error::OrBackend;
use super::tables::{tenant_key, ENTITIES};
use super::Shared;
use crate::store::{EntityQuery, QueryPage, StoreResult, Tenant};

pub fn run(shared: &Shared, tenant: &Tenant, query: &EntityQuery) -> StoreResult<QueryPage> {
    let nothing = QueryPage {
        entities: Vec::new(),
        total: query.count.then_some(0),
    };
    if query.limit == 0 && !query.count {
        return Ok(QueryPage::default());
    }
    let txn = shared.db.begin_read().or_backend("query")?;
    let table = txn.open_table(ENTITIES).or_backend("query")?;
    let plan = match shared.read_indexes().tenant(tenant) {
        Some(index) => Plan::new(index, query),
        None => None,
    };
    let Some(plan) = plan else {
        return Ok(nothing);
    };

    let key = tenant_key(tenant);
    let mut entities = Vec::new();
    let mut matched: u64 = 0;
    let mut after = None;
    loop {
        let (chunk, resume) = match shared.read_indexes().tenant(tenant) {
            Some(index) => plan.chunk(index, after),
            None => (Vec::new(), None),
        };
        for (seq, id) in chunk {
            let stored = table.get((key, &*id)).or_backend("query")?;
            let Some(stored) = stored else {
                continue;
            };
            let (header, entity) = record::decode(stored.value())?;
            if header.seq != seq || !query.matches(&entity) {
                continue;
            }
            matched += 1;
            if matched > query.offset as u64 && entities.len() < query.limit {
                entities.push(entity);
                if !query.count && entities.len() == query.limit {
                    return Ok(QueryPage {
                        entities,
                        total: None,
                    });
                }
            }
        }
        match resume {
            Some(seq) => after = Some(seq),
            None => break,
        }
    }
    Ok(QueryPage {
        entities,
        total: query.count.then_some(matched),
    })
}
