//! `/types` and `/attributes` counts through creates, type changes, attribute changes and
//! deletes.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::fixtures;
use super::*;
use crate::store::AttributeKindName;

fn kinds(names: &[&'static str]) -> BTreeSet<AttributeKindName> {
    names.iter().map(|n| AttributeKindName(n)).collect()
}

pub async fn summaries_follow_every_change(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let mut two_types = located(entity("urn:b", T, 2), 1.0, 1.0);
    two_types.types.push(U.into());
    two_types.put_attribute(NAME, Attribute::relationship("urn:x"));
    create(store, &t, vec![entity("urn:a", T, 1), two_types]).await;

    let types = store.types(&t).await.expect("types");
    assert_eq!(types.len(), 2);
    assert_eq!((types[0].name.as_str(), types[0].entity_count), (T, 2));
    assert_eq!(types[0].attributes.len(), 3);
    assert_eq!(types[0].attributes[LOCATION], kinds(&["GeoProperty"]));
    assert_eq!((types[1].name.as_str(), types[1].entity_count), (U, 1));

    let attributes = store.attributes(&t).await.expect("attributes");
    let names: Vec<_> = attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, [NAME, SPEED, LOCATION]);
    let speed = &attributes[1];
    assert_eq!(speed.attribute_count, 2);
    assert_eq!(speed.kinds, kinds(&["Property"]));
    assert_eq!(speed.types, BTreeSet::from([T.to_owned(), U.to_owned()]));

    // urn:b loses type T and its name becomes a Property; urn:a is deleted.
    let mut changed = located(entity("urn:b", U, 2), 1.0, 1.0);
    changed.put_attribute(NAME, Attribute::property("b"));
    store
        .commit(
            &t,
            vec![
                put(changed, Precondition::Any),
                delete("urn:a", Precondition::Any),
            ],
        )
        .await
        .expect("commit");
    let types = store.types(&t).await.expect("types");
    assert_eq!(types.len(), 1);
    assert_eq!((types[0].name.as_str(), types[0].entity_count), (U, 1));
    assert_eq!(types[0].attributes[NAME], kinds(&["Property"]));
    let attributes = store.attributes(&t).await.expect("attributes");
    assert!(attributes.iter().all(|a| a.attribute_count == 1));
    assert!(attributes
        .iter()
        .all(|a| a.types == BTreeSet::from([U.to_owned()])));
    assert_eq!(attributes[0].kinds, kinds(&["Property"]));

    store
        .commit(&t, vec![delete("urn:b", Precondition::Any)])
        .await
        .expect("delete");
    assert!(store.types(&t).await.expect("types").is_empty());
    assert!(store.attributes(&t).await.expect("attributes").is_empty());
}

pub async fn summaries_count_entities_per_type_and_attribute(store: Arc<dyn Store>) {
    let store = &*store;
    let city = tenant("city");
    create(store, &city, fixtures::cars()[..6].to_vec()).await;
    let types = store.types(&city).await.expect("types");
    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "https://uri.etsi.org/ngsi-ld/default-context/Car",
            "https://uri.etsi.org/ngsi-ld/default-context/Vehicle"
        ]
    );
    assert_eq!((types[0].entity_count, types[1].entity_count), (6, 2));
    let attrs = store.attributes(&city).await.expect("attributes");
    let speed = attrs.iter().find(|a| a.name == SPEED).expect("speed");
    assert_eq!(speed.attribute_count, 6);
    assert_eq!(speed.types.len(), 2);
    // The default tenant has none of them.
    assert!(store
        .types(&default_tenant())
        .await
        .expect("types")
        .is_empty());
}
