//! Which parts of a query MongoDB decides alone, and the filters they become.

use std::sync::Arc;

use mongodb::bson::doc;
use ngsi_types::query::q::Query;
use ngsi_types::query::scope::ScopeQuery;
use ngsi_types::query::type_expr::TypeExpr;

use super::*;

fn with(filter: EntityFilter) -> EntityQuery {
    EntityQuery {
        filter: Some(Arc::new(filter)),
        limit: 10,
        ..EntityQuery::default()
    }
}

fn q(text: &str) -> Translation {
    translate(&with(EntityFilter {
        q: Some(Query::parse(text).expect("valid q")),
        ..EntityFilter::default()
    }))
}

#[test]
fn value_comparisons_are_exact() {
    assert_eq!(
        q("speed>50"),
        Translation::exact(doc! { "vals.speed.s": { "$gt": 50.0 } })
    );
    assert_eq!(
        q("speed==1..5"),
        Translation::exact(doc! {
            "vals.speed": { "$elemMatch": { "s": { "$elemMatch": { "$gte": 1.0, "$lte": 5.0 } } } }
        })
    );
    assert_eq!(
        q("brand!=\"Mercedes\",\"BMW\""),
        Translation::exact(doc! {
            "vals.brand": { "$elemMatch": { "s": { "$nin": ["Mercedes", "BMW"] } } }
        })
    );
    assert_eq!(
        q("speed;brand==\"BMW\""),
        Translation::exact(doc! { "$and": [
            { "vals.speed": { "$exists": true } },
            { "vals.brand.s": "BMW" },
        ] })
    );
}

#[test]
fn what_mongodb_cannot_say_the_same_way_only_narrows() {
    for text in [
        "speed.observedAt>2024-01-01T00:00:00Z",
        "address[city]==\"Berlin\"",
        "brand~=\"^B\"",
        "brand>\"A\"",
        "seen==2024-01-01",
        "seen==\"2024-01-01T00:00:00Z\"",
    ] {
        let t = q(text);
        assert!(!t.exact, "{text}");
        let name = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .expect("name");
        assert_eq!(t.filter, doc! { "attrs.n": name }, "{text}");
    }
    // An inexact operand of an OR keeps the whole OR inexact, still narrowing.
    let t = q("speed>5|brand~=\"x\"");
    assert!(!t.exact);
    assert_eq!(
        t.filter,
        doc! { "$or": [ { "vals.speed.s": { "$gt": 5.0 } }, { "attrs.n": "brand" } ] }
    );
}

#[test]
fn types_scopes_and_hints() {
    let query = EntityQuery {
        ids: Some(vec!["urn:a".into()]),
        any_attribute: Some(vec!["speed".into()]),
        ..with(EntityFilter {
            types: Some(TypeExpr::parse("(A;B)|C").expect("type")),
            scope_q: Some(ScopeQuery::parse("/city/+/north|/park/#").expect("scope")),
            ..EntityFilter::default()
        })
    };
    let t = translate(&query);
    assert!(t.exact);
    assert_eq!(
        t.filter,
        doc! { "$and": [
            { "_id": { "$in": ["urn:a"] } },
            { "attrs.n": { "$in": ["speed"] } },
            { "$and": [
                { "$or": [ { "$and": [ { "types": "A" }, { "types": "B" } ] }, { "types": "C" } ] },
                { "$or": [
                    { "scopes": { "$regex": "^/?city/[^/]+/north$" } },
                    { "scopes": { "$regex": "^/?park(/.*)?$" } },
                ] },
            ] },
        ] }
    );
    let hints = translate_hints(&query);
    assert!(!hints.exact);
}
