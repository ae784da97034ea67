use chrono::{DateTime, Utc};
use serde_json::json;

use super::aggregate::{apply, periods, Method};
use super::duration::IsoDuration;
use super::*;
use crate::attribute::Attribute;
use crate::context::ActiveContext;

fn t(s: &str) -> DateTime<Utc> {
    crate::datetime::parse_datetime(s).expect("date")
}

fn observed(value: serde_json::Value, at: &str) -> Attribute {
    let mut a = Attribute::property(value);
    a.observed_at = Some(t(at));
    a
}

#[test]
fn temporal_query_bounds_are_inclusive_below_and_exclusive_above() {
    let q = TemporalQuery::parse(
        Some("between"),
        Some("2020-08-01T12:05:00Z"),
        Some("2020-08-01T12:07:00Z"),
        None,
    )
    .expect("valid");
    assert!(q.matches(&observed(json!(1), "2020-08-01T12:05:00Z")));
    assert!(!q.matches(&observed(json!(1), "2020-08-01T12:07:00Z")));
    let before = TemporalQuery::parse(Some("before"), Some("2020-08-01T12:05:00Z"), None, None)
        .expect("valid");
    assert!(!before.matches(&observed(json!(1), "2020-08-01T12:05:00Z")));
    assert!(
        !before.matches(&Attribute::property(1)),
        "no observedAt, no match"
    );
    assert!(TemporalQuery::default().matches(&Attribute::property(1)));
}

#[test]
fn temporal_query_refuses_incomplete_or_unknown_terms() {
    for (rel, at, end, prop) in [
        (Some("during"), Some("2020-01-01T00:00:00Z"), None, None),
        (Some("after"), None, None, None),
        (Some("between"), Some("2020-01-01T00:00:00Z"), None, None),
        (
            Some("between"),
            Some("2020-01-02T00:00:00Z"),
            Some("2020-01-01T00:00:00Z"),
            None,
        ),
        (Some("after"), Some("yesterday"), None, None),
        (
            Some("after"),
            Some("2020-01-01T00:00:00Z"),
            None,
            Some("expiresAt"),
        ),
    ] {
        let err = TemporalQuery::parse(rel, at, end, prop).expect_err("invalid");
        assert_eq!(err.error_type(), crate::ErrorType::BadRequestData, "{err}");
    }
}

#[test]
fn iso_durations_as_aggregation_periods() {
    let d = IsoDuration::parse("p", "P1Y2M3DT4H5M6.5S").expect("valid");
    assert_eq!(d.months, 14);
    assert_eq!(
        d.exact.num_milliseconds(),
        ((3 * 24 + 4) * 60 + 5) * 60_000 + 6_500
    );
    assert_eq!(
        IsoDuration::parse("p", "P2W")
            .expect("valid")
            .exact
            .num_days(),
        14
    );
    assert!(IsoDuration::parse("p", "PT0S").expect("valid").is_zero());
    for bad in [
        "", "P", "PT", "1H", "PT1H2", "P1H", "PM1", "P1.5D", "P1W1D", "PT1S1M", "hour",
    ] {
        assert!(IsoDuration::parse("p", bad).is_err(), "{bad}");
    }
}

#[test]
fn periods_are_whole_durations_from_the_start() {
    let hour = IsoDuration::parse("p", "PT1H").expect("valid");
    let p = periods(
        t("2020-08-01T12:03:00Z"),
        t("2020-08-01T14:07:00Z"),
        &hour,
        100,
    );
    assert_eq!(p.len(), 3);
    assert_eq!(p[2], (t("2020-08-01T14:03:00Z"), t("2020-08-01T15:03:00Z")));
    let zero = IsoDuration::parse("p", "P0D").expect("valid");
    assert_eq!(
        periods(
            t("2020-08-01T12:03:00Z"),
            t("2020-08-01T14:07:00Z"),
            &zero,
            100
        )
        .len(),
        1
    );
}

#[test]
fn aggregation_methods_follow_the_json_type() {
    let values = [json!(120), json!(80), json!(100)].map(Attribute::property);
    let refs: Vec<&Attribute> = values.iter().collect();
    assert_eq!(apply(Method::Avg, &refs), Some(json!(100.0)));
    assert_eq!(apply(Method::Max, &refs), Some(json!(120.0)));
    assert_eq!(apply(Method::Sumsq, &refs), Some(json!(30800.0)));
    assert_eq!(apply(Method::TotalCount, &refs), Some(json!(3)));
    let words = [json!("b"), json!("a"), json!("b")].map(Attribute::property);
    let refs: Vec<&Attribute> = words.iter().collect();
    assert_eq!(apply(Method::Max, &refs), Some(json!("b")));
    assert_eq!(apply(Method::DistinctCount, &refs), Some(json!(2)));
    assert_eq!(apply(Method::Avg, &refs), None, "no average of strings");
    assert!(Method::parse_list("avg,bogus").is_err());
}

#[test]
fn temporal_payloads_keep_every_instance_and_render_as_pairs() {
    let ctx = ActiveContext::core();
    let body = json!({
        "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle",
        "speed": [
            {"type": "Property", "value": 120, "observedAt": "2020-08-01T12:03:00Z"},
            {"type": "Property", "value": 80, "observedAt": "2020-08-01T12:05:00Z"}
        ]
    });
    let entity = parse_temporal_entity(body, &ctx, true).expect("valid");
    let speed = ctx.expand_term("speed").into_owned();
    assert_eq!(entity.attributes[&speed].len(), 2);
    let query = TemporalQuery::default();
    let r = TemporalRender {
        options: TemporalOptions::parse(Some("temporalValues"), None).expect("valid"),
        query: &query,
        aggregation: None,
        lang: None,
        projection: None,
    };
    let out = serde_json::Value::Object(render_temporal_entity(&entity, &ctx, &r));
    assert_eq!(
        out["speed"],
        json!({"type": "Property", "values": [[120, "2020-08-01T12:03:00Z"], [80, "2020-08-01T12:05:00Z"]]})
    );
    assert!(parse_temporal_entity(json!({"type": "Vehicle"}), &ctx, true).is_err());

    // The subtypes' simplified values carry their member once (4.5.4, 4.5.9).
    let body = json!({
        "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle",
        "street": {"type": "LanguageProperty", "languageMap": {"fr": "Grand Place"},
                   "observedAt": "2020-08-01T12:03:00Z"},
        "config": {"type": "JsonProperty", "json": {"a": 1}, "observedAt": "2020-08-01T12:03:00Z"},
        "category": {"type": "VocabProperty", "vocab": "monument",
                     "observedAt": "2020-08-01T12:03:00Z"}
    });
    let entity = parse_temporal_entity(body, &ctx, true).expect("valid");
    let out = serde_json::Value::Object(render_temporal_entity(&entity, &ctx, &r));
    assert_eq!(
        out["street"]["languageMaps"][0][0],
        json!({"languageMap": {"fr": "Grand Place"}})
    );
    assert_eq!(out["config"]["jsons"][0][0], json!({"json": {"a": 1}}));
    assert_eq!(
        out["category"]["vocabs"][0][0],
        json!({"vocab": "monument"})
    );
}

#[test]
fn changes_record_touched_and_deleted_instances() {
    let at = t("2024-01-01T00:00:00Z");
    let mut before = Entity::new("urn:a", vec!["T".into()]);
    let mut kept = Attribute::property(1);
    kept.modified_at = Some(t("2023-01-01T00:00:00Z"));
    before.put_attribute("p", kept.clone());
    before.put_attribute("gone", Attribute::property(2));
    let mut after = Entity::new("urn:a", vec!["T".into()]);
    after.put_attribute("p", kept);
    let mut touched = Attribute::property(3);
    touched.modified_at = Some(at);
    after.put_attribute("q", touched);
    let mut n = 0;
    let changes = changed_instances(Some(&before), Some(&after), at, || {
        n += 1;
        format!("urn:ngsi-ld:i{n}")
    });
    let names: Vec<&str> = changes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["q", "gone"]);
    assert_eq!(changes[1].1.deleted_at, Some(at));
    assert!(is_deletion(&changes[1].1));
}
