//! Temporal reads: heads in id order, in batches, each batch's selected instances in one
//! query, merged entity by entity.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::Collection;
use ngsi_types::temporal::SCOPE_IRI;
use ngsi_types::{Attribute, Entity};

use super::{decode, heads, instances};
use crate::store::mongo::document::date;
use crate::store::mongo::error::store_error;
use crate::store::mongo::MongoStore;
use crate::store::{StoreError, StoreResult, TemporalPage, TemporalSelection, Tenant};

/// Heads read per instance query.
const BATCH: usize = 100;

/// The evolutions a selection asks for, one page of them, in id order.
pub async fn query(
    store: &MongoStore,
    tenant: &Tenant,
    selection: &TemporalSelection,
) -> StoreResult<TemporalPage> {
    let what = "querying temporal evolutions";
    let mut page = TemporalPage::default();
    if selection.limit == 0 && !selection.count {
        return Ok(page);
    }
    let heads = heads(store, tenant);
    let instances = instances(store, tenant);
    let filter = head_filter(selection);
    let mut found = heads
        .find(filter.clone())
        .sort(doc! { "_id": order(selection) })
        .projection(doc! { "body": 1 });
    if !selection.may_leave_out() {
        // Every head MongoDB selects is part of the answer: MongoDB pages and counts.
        if selection.count {
            let total = heads
                .count_documents(filter)
                .await
                .map_err(|e| store_error(what, e))?;
            page.total = Some(total);
        }
        if selection.limit == 0 {
            return Ok(page);
        }
        found = found
            .skip(selection.offset as u64)
            .limit(i64::try_from(selection.limit).unwrap_or(i64::MAX));
    }
    let mut cursor = found.await.map_err(|e| store_error(what, e))?;
    let mut pager = Pager {
        selection,
        page,
        matched: 0,
    };
    loop {
        // Without a count, ask for no more heads than the page may still need.
        let wanted = match selection.count || !selection.may_leave_out() {
            true => BATCH,
            false => (selection.offset + selection.limit)
                .saturating_sub(pager.matched)
                .clamp(1, BATCH),
        };
        let mut batch = Vec::with_capacity(wanted);
        while batch.len() < wanted {
            match cursor.try_next().await.map_err(|e| store_error(what, e))? {
                Some(d) => batch.push(decode::<Entity>("temporal head", &d)?),
                None => break,
            }
        }
        if batch.is_empty() {
            break;
        }
        let exhausted = batch.len() < wanted;
        let more = with_instances(&instances, batch, selection, &mut |e| pager.take(e)).await?;
        if !more || exhausted {
            break;
        }
    }
    let mut page = pager.page;
    if selection.count && selection.may_leave_out() {
        page.total = Some(pager.matched as u64);
    }
    Ok(page)
}

/// Where the entities of the answer go, in order.
struct Pager<'s> {
    selection: &'s TemporalSelection,
    page: TemporalPage,
    /// Entities of the answer so far, on this page and before it.
    matched: usize,
}

impl Pager<'_> {
    /// Takes the next entity of the answer; false once no more are needed.
    fn take(&mut self, entity: Entity) -> bool {
        let selection = self.selection;
        if !selection.may_leave_out() {
            // MongoDB skipped and limited the heads already.
            self.page.entities.push(entity);
            return true;
        }
        self.matched += 1;
        if self.matched > selection.offset && self.page.entities.len() < selection.limit {
            self.page.entities.push(entity);
        }
        // Past the page, go on only to count.
        selection.count || self.page.entities.len() < selection.limit
    }
}

/// The ids and types hints as a filter of heads (exactly [`TemporalSelection::keeps_head`]).
fn head_filter(selection: &TemporalSelection) -> Document {
    let mut filter = Document::new();
    if let Some(ids) = &selection.ids {
        filter.insert("_id", doc! { "$in": ids });
    }
    if let Some(types) = &selection.any_type {
        filter.insert("types", doc! { "$in": types });
    }
    filter
}

/// MongoDB's sort direction of the entity ids.
fn order(selection: &TemporalSelection) -> i32 {
    if selection.descending {
        -1
    } else {
        1
    }
}

/// The filter of the instances of `ids` that attrs, datasetIds and the time range select (the
/// range widened to whole milliseconds, see the module documentation). The scope's evolution,
/// which `TemporalSelection::finish` judges whole, is read by a query of its own
/// ([`scope_instances`]): one `$or` of both made the test server scan the collection.
fn instance_filter(ids: Vec<&str>, selection: &TemporalSelection) -> Document {
    let mut filter = doc! { "entity": { "$in": ids } };
    if let Some(attrs) = &selection.attrs {
        filter.insert("attr", doc! { "$in": attrs });
    }
    if let Some(dataset_ids) = &selection.dataset_ids {
        filter.insert("datasetId", doc! { "$in": dataset_ids });
    }
    let time = &selection.time;
    if time.timerel.is_some() {
        // An instance without the property is not in any interval (clause 4.11).
        let mut range = doc! { "$exists": true };
        if let Some(from) = time.from {
            range.insert("$gte", date(from));
        }
        if let Some(to) = time.to {
            range.insert("$lte", date(to));
        }
        filter.insert(time.property.as_str(), range);
    }
    filter
}

/// Gives `take` each head of `batch` that is part of the answer, with its selected
/// instances, in order; false once `take` wants no more.
async fn with_instances(
    instances: &Collection<Document>,
    batch: Vec<Entity>,
    selection: &TemporalSelection,
    take: &mut impl FnMut(Entity) -> bool,
) -> StoreResult<bool> {
    let what = "querying temporal instances";
    let mut scopes = scope_instances(instances, &batch).await?;
    // A head is complete with its selected instances and its scope's whole evolution.
    let mut complete = |head: Entity, mut found: BTreeMap<String, Vec<Attribute>>| {
        if let Some(scope) = scopes.remove(&head.id) {
            found.insert(SCOPE_IRI.to_owned(), scope);
        }
        finish(head, found, selection, take)
    };
    let filter = instance_filter(batch.iter().map(|h| h.id.as_str()).collect(), selection);
    let mut cursor = instances
        .find(filter)
        .sort(doc! { "entity": order(selection) })
        .projection(doc! { "entity": 1, "attr": 1, "body": 1 })
        .await
        .map_err(|e| store_error(what, e))?;
    // Both streams are in MongoDB's order of the entity ids, and every instance belongs to a
    // head of the batch: the heads before an instance's entity are complete.
    let mut heads = batch.into_iter();
    let mut current: Option<(Entity, BTreeMap<String, Vec<Attribute>>)> = None;
    while let Some(d) = cursor.try_next().await.map_err(|e| store_error(what, e))? {
        let entity = d.get_str("entity").unwrap_or_default();
        while current.as_ref().is_none_or(|(head, _)| head.id != entity) {
            if let Some((head, found)) = current.take() {
                if !complete(head, found) {
                    return Ok(false);
                }
            }
            let Some(head) = heads.next() else {
                return Err(StoreError::Backend(format!(
                    "instances of {entity} came out of the entities' order"
                )));
            };
            current = Some((head, BTreeMap::new()));
        }
        let name = d.get_str("attr").unwrap_or_default().to_owned();
        if name == SCOPE_IRI {
            // Read whole by `scope_instances`.
            continue;
        }
        let instance: Attribute = decode(&format!("instance of {name} of {entity}"), &d)?;
        if selection.keeps_instance(&name, &instance) {
            if let Some((_, found)) = current.as_mut() {
                found.entry(name).or_default().push(instance);
            }
        }
    }
    for (head, found) in current
        .into_iter()
        .chain(heads.map(|h| (h, BTreeMap::new())))
    {
        if !complete(head, found) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Every instance of the scope's evolution of the heads of `batch` that have one (their heads
/// list the scope among their attributes), by entity.
async fn scope_instances(
    instances: &Collection<Document>,
    batch: &[Entity],
) -> StoreResult<BTreeMap<String, Vec<Attribute>>> {
    let what = "querying scope instances";
    let scoped: Vec<&str> = batch
        .iter()
        .filter(|h| h.attributes.contains_key(SCOPE_IRI))
        .map(|h| h.id.as_str())
        .collect();
    let mut out: BTreeMap<String, Vec<Attribute>> = BTreeMap::new();
    if scoped.is_empty() {
        return Ok(out);
    }
    let mut cursor = instances
        .find(doc! { "entity": { "$in": scoped }, "attr": SCOPE_IRI })
        .projection(doc! { "entity": 1, "body": 1 })
        .await
        .map_err(|e| store_error(what, e))?;
    while let Some(d) = cursor.try_next().await.map_err(|e| store_error(what, e))? {
        let entity = d.get_str("entity").unwrap_or_default().to_owned();
        let instance: Attribute = decode(&format!("scope instance of {entity}"), &d)?;
        out.entry(entity).or_default().push(instance);
    }
    Ok(out)
}

/// The head with its instances as the embedded store gives them (attributes in the order of
/// `attrs`, else by name; each one's instances in instanceId, that is recording, order), then
/// [`TemporalSelection::finish`]; the result goes to `take`.
fn finish(
    mut head: Entity,
    mut found: BTreeMap<String, Vec<Attribute>>,
    selection: &TemporalSelection,
    take: &mut impl FnMut(Entity) -> bool,
) -> bool {
    for instances in found.values_mut() {
        instances.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    }
    // The head lists its attribute names (empty); the instances found replace that list.
    head.attributes.clear();
    match &selection.attrs {
        Some(attrs) => {
            for name in attrs {
                if let Some(instances) = found.remove(name) {
                    head.attributes.insert(name.clone(), instances);
                }
            }
        }
        None => head.attributes.extend(found),
    }
    match selection.finish(head) {
        Some(entity) => take(entity),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use ngsi_types::temporal::{TemporalQuery, TimeProperty, TimeRel};

    use super::*;

    #[test]
    fn time_ranges_widen_to_whole_milliseconds() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("valid");
        let selection = TemporalSelection {
            time: TemporalQuery {
                timerel: Some(TimeRel::Between),
                property: TimeProperty::ModifiedAt,
                from: Some(t + Duration::microseconds(900)),
                to: Some(t + Duration::microseconds(2100)),
            },
            dataset_ids: Some(vec!["@none".into()]),
            ..TemporalSelection::default()
        };
        let filter = instance_filter(vec!["urn:e:1"], &selection);
        let ms = |n| date(t + Duration::milliseconds(n));
        assert_eq!(
            filter,
            doc! {
                "entity": { "$in": ["urn:e:1"] },
                "datasetId": { "$in": ["@none"] },
                "modifiedAt": { "$exists": true, "$gte": ms(0), "$lte": ms(2) },
            }
        );
        let unbounded = instance_filter(vec!["urn:e:1"], &TemporalSelection::default());
        assert_eq!(unbounded, doc! { "entity": { "$in": ["urn:e:1"] } });
    }
}
