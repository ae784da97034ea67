//! The registry's indexes: an event only ever meets the subscriptions of its tenant that
//! could concern it.

use crate::fixtures::{entity, iri, subscription};
use serde_json::json;
use subscriptions::registry::Registry;

fn sub(id: &str, entities: serde_json::Value) -> subscriptions::Subscription {
    let mut body = json!({
        "id": id,
        "type": "Subscription",
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}}
    });
    if entities[0].is_object() {
        body["entities"] = entities;
    } else {
        body["watchedAttributes"] = entities;
    }
    subscription(body)
}

fn found(
    reg: &Registry<&'static str>,
    tenant: Option<&str>,
    e: &ngsi_types::Entity,
) -> Vec<&'static str> {
    let mut out: Vec<&str> = reg
        .candidates(&tenant.map(str::to_owned), e, std::iter::empty())
        .into_iter()
        .copied()
        .collect();
    out.sort();
    out
}

#[test]
fn candidates_come_from_id_type_attribute_and_any_indexes_of_the_tenant() {
    let mut reg = Registry::default();
    reg.insert(None, &sub("urn:s:a", json!([{"type": "A"}])), "a");
    reg.insert(None, &sub("urn:s:b", json!([{"type": "B"}])), "b");
    reg.insert(
        None,
        &sub("urn:s:id", json!([{"id": "urn:e:1", "type": "B"}])),
        "id",
    );
    reg.insert(None, &sub("urn:s:any", json!([{"type": "*"}])), "any");
    reg.insert(None, &sub("urn:s:and", json!([{"type": "A;C"}])), "and");
    reg.insert(None, &sub("urn:s:attr", json!(["speed"])), "attr");
    reg.insert(
        Some("t2".into()),
        &sub("urn:s:t2", json!([{"type": "A"}])),
        "t2",
    );
    reg.insert(
        None,
        &sub("urn:s:periodic", json!([{"type": "A"}])).clone_with_interval(),
        "periodic",
    );

    let a = entity("urn:e:9", "A", &[]);
    assert_eq!(found(&reg, None, &a), ["a", "and", "any"]);
    let b = entity("urn:e:1", "B", &[("speed", json!(1))]);
    assert_eq!(found(&reg, None, &b), ["any", "attr", "b", "id"]);
    assert_eq!(found(&reg, Some("t2"), &a), ["t2"]);
    assert!(found(&reg, Some("t3"), &a).is_empty());
    assert_eq!(reg.len(), 8);

    // Re-filing under new types unfiles the old ones.
    reg.insert(None, &sub("urn:s:a", json!([{"type": "B"}])), "a");
    assert_eq!(found(&reg, None, &a), ["and", "any"]);
    assert_eq!(reg.remove(&None, "urn:s:any"), Some("any"));
    assert_eq!(found(&reg, None, &a), ["and"]);
    assert_eq!(iri("A"), a.types[0]);
}

trait WithInterval {
    fn clone_with_interval(&self) -> Self;
}

impl WithInterval for subscriptions::Subscription {
    fn clone_with_interval(&self) -> Self {
        let mut s = self.clone();
        s.time_interval = Some(1.0);
        s
    }
}
