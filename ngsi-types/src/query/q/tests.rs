//! Unit tests of the q language: parsing, printing, errors and evaluation.

use chrono::{DateTime, NaiveDate, Utc};
use indexmap::IndexMap;
use serde_json::json;

use super::*;
use crate::attribute::{Attribute, AttributeValue};
use crate::context::{ActiveContext, DEFAULT_VOCAB};
use crate::error::{NgsiError, QueryPosition};

fn iri(name: &str) -> String {
    format!("{DEFAULT_VOCAB}{name}")
}

fn parse(q: &str) -> Query {
    Query::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"))
}

/// Parses and expands with the core context.
fn query(q: &str) -> Query {
    parse(q).expand(&ActiveContext::core())
}

fn at(q: &str) -> usize {
    match Query::parse(q) {
        Err(NgsiError::QuerySyntax {
            position: QueryPosition { param: "q", offset },
            ..
        }) => offset,
        other => panic!("{q}: expected a syntax error, got {other:?}"),
    }
}

fn time(s: &str) -> DateTime<Utc> {
    crate::datetime::parse_datetime(s).unwrap_or_else(|| panic!("{s}"))
}

fn entity(attrs: Vec<(&str, Attribute)>) -> Entity {
    let mut e = Entity::new("urn:ngsi-ld:T:1", vec![iri("T")]);
    for (name, attr) in attrs {
        let expanded = ActiveContext::core().expand_term(name).into_owned();
        e.put_attribute(expanded, attr);
    }
    e
}

fn prop(v: serde_json::Value) -> Attribute {
    Attribute::property(v)
}

fn check(e: &Entity, cases: &[(&str, bool)]) {
    for (q, expected) in cases {
        assert_eq!(query(q).matches(e), *expected, "{q}");
    }
}

fn term(q: &str) -> QueryTerm {
    match parse(q).expr() {
        Expr::Term(t) => t.clone(),
        other => panic!("{q}: not a single term: {other:?}"),
    }
}

// ---- parsing ----

#[test]
fn parses_every_operator() {
    let cases = [
        ("a==1", Operator::Equal),
        ("a!=1", Operator::Unequal),
        ("a>1", Operator::Greater),
        ("a>=1", Operator::GreaterEq),
        ("a<1", Operator::Less),
        ("a<=1", Operator::LessEq),
    ];
    for (q, op) in cases {
        assert_eq!(
            term(q).condition,
            Condition::Compare {
                op,
                operand: Operand::Single(Value::Number(1.0))
            },
            "{q}"
        );
    }
    assert!(matches!(
        term("a~=^x").condition,
        Condition::Pattern { negated: false, .. }
    ));
    assert!(matches!(
        term("a!~=^x").condition,
        Condition::Pattern { negated: true, .. }
    ));
    assert_eq!(term("a").condition, Condition::Exists);
}

#[test]
fn parses_every_value_kind() {
    let single = |q: &str| match term(q).condition {
        Condition::Compare {
            operand: Operand::Single(v),
            ..
        } => v,
        other => panic!("{q}: {other:?}"),
    };
    assert_eq!(single("a==-1.5e3"), Value::Number(-1500.0));
    assert_eq!(single("a==0"), Value::Number(0.0));
    assert_eq!(single(r#"a=="x\"y;z""#), Value::Text("x\"y;z".into()));
    assert_eq!(single("a==true"), Value::Bool(true));
    assert_eq!(single("a==false"), Value::Bool(false));
    assert_eq!(
        single("a==2017-12-24T12:00:00Z"),
        Value::DateTime(time("2017-12-24T12:00:00Z"))
    );
    assert_eq!(
        single("a==2017-12-24"),
        Value::Date(NaiveDate::from_ymd_opt(2017, 12, 24).unwrap_or_default())
    );
    assert!(matches!(single("a==12:30:00Z"), Value::Time(_)));
    assert_eq!(
        single("a==urn:ngsi-ld:OffStreetParking:Downtown1"),
        Value::Uri("urn:ngsi-ld:OffStreetParking:Downtown1".into())
    );
}

#[test]
fn parses_lists_and_ranges() {
    let operand = |q: &str| match term(q).condition {
        Condition::Compare { operand, .. } => operand,
        other => panic!("{q}: {other:?}"),
    };
    assert_eq!(
        operand("a==1,2,3"),
        Operand::List(vec![
            Value::Number(1.0),
            Value::Number(2.0),
            Value::Number(3.0)
        ])
    );
    assert_eq!(
        operand(r#"a=="x","y""#),
        Operand::List(vec![Value::Text("x".into()), Value::Text("y".into())])
    );
    assert_eq!(
        operand("a==1..5"),
        Operand::Range(Value::Number(1.0), Value::Number(5.0))
    );
    assert_eq!(
        operand("a!=1.5..2.5"),
        Operand::Range(Value::Number(1.5), Value::Number(2.5))
    );
    assert!(matches!(
        operand("a==2020-01-01..2020-12-31"),
        Operand::Range(Value::Date(_), Value::Date(_))
    ));
    assert!(matches!(
        operand("a==2020-01-01T00:00:00Z..2020-12-31T00:00:00Z"),
        Operand::Range(Value::DateTime(_), Value::DateTime(_))
    ));
    assert!(matches!(
        operand(r#"a=="a".."m""#),
        Operand::Range(Value::Text(_), Value::Text(_))
    ));
}

#[test]
fn parses_attribute_paths() {
    let path = |q: &str| term(q).attribute;
    let p = path("temperature.observedAt>=2017-12-24T12:00:00Z");
    assert_eq!(p.names, ["temperature", "observedAt"]);
    assert!(p.members.is_empty());
    let p = path(r#"address[city]=="Berlin""#);
    assert_eq!(
        (p.names, p.members),
        (vec!["address".into()], vec!["city".into()])
    );
    let p = path("sensor.rawdata[airquality.particulate]==40");
    assert_eq!(p.names, ["sensor", "rawdata"]);
    assert_eq!(p.members, ["airquality", "particulate"]);
    assert_eq!(path("a[b][c]").members, ["b", "c"]);
    assert_eq!(path("name[en-GB]").members, ["en-GB"]);
    assert_eq!(path("name[*]").members, ["*"]);
    assert_eq!(path("schema:name").names, ["schema:name"]);
}

#[test]
fn and_binds_tighter_than_or() {
    let t = |q: &str| Expr::Term(term(q));
    assert_eq!(
        parse("a;b|c").expr(),
        &Expr::Or(vec![Expr::And(vec![t("a"), t("b")]), t("c")])
    );
    assert_eq!(
        parse("a|b;c").expr(),
        &Expr::Or(vec![t("a"), Expr::And(vec![t("b"), t("c")])])
    );
    assert_eq!(
        parse("a;(b|c)").expr(),
        &Expr::And(vec![t("a"), Expr::Or(vec![t("b"), t("c")])])
    );
    assert_eq!(
        parse("a;b;c").expr(),
        &Expr::And(vec![t("a"), t("b"), t("c")])
    );
    // EXAMPLE 6 of clause 4.9 nests parentheses.
    assert_eq!(
        parse(r#"((speed>50|rpm>3000);brandName=="Mercedes")"#).expr(),
        &Expr::And(vec![
            Expr::Or(vec![t("speed>50"), t("rpm>3000")]),
            t(r#"brandName=="Mercedes""#)
        ])
    );
    assert_eq!(parse("((a))").expr(), &t("a"));
}

#[test]
fn regex_ends_at_a_logical_operator_outside_its_groups() {
    let q = parse("a~=(x|y)[;|]z;b");
    let Expr::And(operands) = q.expr() else {
        panic!("{q:?}")
    };
    let Expr::Term(QueryTerm {
        condition: Condition::Pattern { regex, .. },
        ..
    }) = &operands[0]
    else {
        panic!("{q:?}")
    };
    assert_eq!(regex.as_str(), "(x|y)[;|]z");
    assert_eq!(parse("(a~=x)").to_string(), "a~=x");
    assert_eq!(parse(r"a~=\)").to_string(), r"a~=\)");
}

#[test]
fn prints_back_to_an_equivalent_query() {
    for q in [
        "a",
        "a==1",
        r#"a=="x";b!="y""#,
        "a;b|c",
        "a;(b|c)",
        "(a;b);c",
        "(a|b)|c",
        "a.b.observedAt>=2017-12-24T12:00:00Z",
        "a[b][c]==1,2,3",
        "a==1..5",
        "a==2017-12-24",
        "a<12:30:00Z",
        "a~=^x(y|z)$",
        "a!~=x",
        "a==urn:ngsi-ld:X:1",
        "a==true",
        "a==1.5",
        "a==2017-12-24T12:00:00.123Z",
    ] {
        assert_eq!(parse(q).to_string(), q);
    }
    assert_eq!(parse("a==1e2").to_string(), "a==100");
    // EXAMPLE 12 of clause 4.9 writes a bare word: it is read as a string.
    assert_eq!(parse("gender==Male").to_string(), r#"gender=="Male""#);
    assert_eq!(parse("a[b.c]").to_string(), "a[b][c]");
}

// ---- syntax errors ----

#[test]
fn syntax_errors_point_at_the_offending_byte() {
    let cases = [
        ("", 0),
        ("a==", 3),
        ("a=1", 1),
        ("a==1;", 5),
        ("a==1|", 5),
        (";a", 0),
        ("(a==1", 0),
        ("(a==1;b", 0),
        ("a==1)", 4),
        ("a==1 ", 3),
        ("a b", 1),
        ("1a==1", 0),
        ("a.==1", 2),
        ("a[==1", 2),
        ("a[b==1", 3),
        (r#"a=="x"#, 3),
        (r#"a=="\q""#, 3),
        ("a>true", 2),
        ("a>1,2", 2),
        ("a<1..2", 2),
        ("a>urn:x", 2),
        ("a==no-sense", 3),
        ("a==1a", 3),
        ("a~=", 3),
        ("a~=(", 3),
        ("a~=x[", 3),
        ("b;a==1..urn:x", 8),
        ("a.b{c}==1", 3),
        ("a{b==1", 3),
        ("a{}==1", 2),
        ("a==1e999", 3),
        ("a[*.b]", 1),
        ("a==()", 3),
    ];
    for (q, offset) in cases {
        assert_eq!(at(q), offset, "{q}");
    }
}

#[test]
fn syntax_error_message_names_the_position() {
    let err = Query::parse("speed>>50").expect_err("a syntax error");
    assert_eq!(
        err.to_string(),
        "invalid q at position 6: invalid value '>50'"
    );
}

#[test]
fn limits_are_too_complex() {
    let deep = format!("{}a{}", "(".repeat(33), ")".repeat(33));
    assert!(matches!(Query::parse(&deep), Err(NgsiError::TooComplex(_))));
    let ok = format!("{}a{}", "(".repeat(32), ")".repeat(32));
    assert!(Query::parse(&ok).is_ok());
    let wide = vec!["a"; 257].join(";");
    assert!(matches!(Query::parse(&wide), Err(NgsiError::TooComplex(_))));
    assert!(Query::parse(&vec!["a"; 256].join("|")).is_ok());
    let huge = "a~=x{1000}{1000}";
    assert!(matches!(Query::parse(huge), Err(NgsiError::TooComplex(_))));
}

// ---- expansion ----

#[test]
fn expansion_covers_attribute_and_sub_attribute_names_only() {
    let ctx = ActiveContext::from_inline(&json!({"temp": "https://example.org/temperature"}))
        .unwrap_or_else(|e| panic!("{e}"));
    let q = parse("temp.accuracy.observedAt>1;addr[city]==\"x\";location").expand(&ctx);
    let names: Vec<_> = q.terms().map(|t| t.attribute.names.clone()).collect();
    assert_eq!(
        names,
        vec![
            vec![
                "https://example.org/temperature".to_owned(),
                iri("accuracy"),
                "observedAt".to_owned()
            ],
            vec![iri("addr")],
            vec!["https://uri.etsi.org/ngsi-ld/location".to_owned()],
        ]
    );
    let members: Vec<_> = q.terms().map(|t| t.attribute.members.clone()).collect();
    assert_eq!(members[1], ["city"]);
}

// ---- evaluation ----

#[test]
fn existence() {
    let e = entity(vec![("speed", prop(json!(50)))]);
    check(
        &e,
        &[("speed", true), ("rpm", false), ("speed.observedAt", false)],
    );
}

#[test]
fn numbers_with_every_operator() {
    let e = entity(vec![("speed", prop(json!(50)))]);
    check(
        &e,
        &[
            ("speed==50", true),
            ("speed==50.0", true),
            ("speed==51", false),
            ("speed!=51", true),
            ("speed!=50", false),
            ("speed>49", true),
            ("speed>50", false),
            ("speed>=50", true),
            ("speed>=51", false),
            ("speed<51", true),
            ("speed<50", false),
            ("speed<=50", true),
            ("speed<=49.9", false),
            ("speed==40..60", true),
            ("speed==51..60", false),
            ("speed!=51..60", true),
            ("speed!=40..60", false),
            ("speed==1,50,3", true),
            ("speed==1,2,3", false),
            ("speed!=1,2,3", true),
            ("speed!=1,50", false),
        ],
    );
}

#[test]
fn strings_booleans_and_type_mismatch() {
    let e = entity(vec![
        ("brandName", prop(json!("Mercedes"))),
        ("parked", prop(json!(true))),
    ]);
    check(
        &e,
        &[
            (r#"brandName=="Mercedes""#, true),
            (r#"brandName!="Mercedes""#, false),
            (r#"brandName!="Audi""#, true),
            (r#"brandName>"Audi""#, true),
            (r#"brandName<"Audi""#, false),
            (r#"brandName=="Audi","Mercedes""#, true),
            (r#"brandName=="A".."N""#, true),
            ("parked==true", true),
            ("parked==false", false),
            ("parked!=false", true),
            // Type mismatch: no match for ==, <, >; unequal for != (clause 4.9).
            ("brandName==1", false),
            ("brandName>1", false),
            ("brandName!=1", true),
            (r#"parked=="true""#, false),
            ("parked>1", false),
        ],
    );
}

#[test]
fn arrays_match_when_any_element_does() {
    let e = entity(vec![("color", prop(json!(["blue", "red", "green"])))]);
    check(
        &e,
        &[
            (r#"color=="red""#, true),
            (r#"color=="black""#, false),
            (r#"color!="red""#, false),
            (r#"color!="black""#, true),
            (r#"color=="black","red""#, true),
            (r#"color!="black","yellow""#, true),
            (r#"color!="black","red""#, false),
            ("color~=^gr", true),
            ("color!~=^gr", false),
            ("color!~=^x", true),
        ],
    );
}

#[test]
fn dates_times_and_datetimes() {
    let e = entity(vec![
        ("seen", prop(json!("2017-12-24T12:00:00Z"))),
        ("day", prop(json!("2017-12-24"))),
        ("opens", prop(json!("08:30:00Z"))),
        (
            "typed",
            prop(json!({"@type": "DateTime", "@value": "2020-01-01T00:00:00Z"})),
        ),
    ]);
    check(
        &e,
        &[
            ("seen==2017-12-24T12:00:00Z", true),
            ("seen==2017-12-24T14:00:00+02:00", true),
            ("seen>2017-12-24T11:59:59Z", true),
            ("seen<2017-12-24T11:59:59Z", false),
            ("seen==2017-12-24T00:00:00Z..2017-12-25T00:00:00Z", true),
            ("seen==2017-12-24", true),
            ("seen>2017-12-23", true),
            // A quoted date-time compares as a date-time, not as text.
            (r#"seen=="2017-12-24T13:00:00+01:00""#, true),
            ("day==2017-12-24", true),
            ("day>=2017-12-25", false),
            ("day==2017-12-01..2017-12-31", true),
            ("opens>08:00:00Z", true),
            ("opens<08:00:00Z", false),
            ("opens==08:30:00", true),
            ("typed>=2019-06-01T00:00:00Z", true),
            ("seen==12", false),
        ],
    );
}

#[test]
fn metadata_members_of_a_dotted_path() {
    let mut temp = prop(json!(21));
    temp.observed_at = Some(time("2017-12-24T12:00:00Z"));
    temp.unit_code = Some("CEL".into());
    temp.modified_at = Some(time("2020-01-01T00:00:00Z"));
    let e = entity(vec![("temperature", temp)]);
    check(
        &e,
        &[
            ("temperature.observedAt>=2017-12-24T12:00:00Z", true),
            ("temperature.observedAt>2017-12-24T12:00:00Z", false),
            ("temperature.observedAt", true),
            ("temperature.createdAt", false),
            ("temperature.modifiedAt<2021-01-01", true),
            (r#"temperature.unitCode=="CEL""#, true),
            ("temperature.unitCode~=^C", true),
        ],
    );
}

#[test]
fn sub_attributes_by_dotted_path() {
    let mut sensor = prop(json!(40));
    let mut rawdata = prop(json!({"airquality": {"particulate": 40, "PM20": 85}}));
    rawdata
        .sub_attributes
        .insert(iri("quality"), prop(json!("good")));
    sensor.sub_attributes.insert(iri("rawdata"), rawdata);
    let e = entity(vec![("sensor", sensor)]);
    check(
        &e,
        &[
            // EXAMPLE 10 of clause 4.9.
            ("sensor.rawdata[airquality.particulate]==40", true),
            ("sensor.rawdata[airquality][PM20]>80", true),
            ("sensor.rawdata[airquality.missing]", false),
            ("sensor.rawdata[airquality.missing]!=1", false),
            ("sensor.rawdata[airquality]", true),
            (r#"sensor.rawdata.quality=="good""#, true),
            ("sensor.missing", false),
            ("sensor.missing.observedAt", false),
            ("sensor==40", true),
        ],
    );
}

#[test]
fn compound_members_of_a_value() {
    let e = entity(vec![(
        "address",
        prop(json!({"city": "Berlin", "street": "Ulrich Strasse", "zip": [10115, 10117]})),
    )]);
    check(
        &e,
        &[
            // EXAMPLE 9 of clause 4.9.
            (r#"address[city]=="Berlin""#, true),
            (r#"address[city]!="Berlin""#, false),
            (r#"address[city]=="Paris""#, false),
            ("address[zip]==10117", true),
            ("address[country]", false),
            (r#"address[city][x]=="Berlin""#, false),
            ("address==1", false),
        ],
    );
}

#[test]
fn relationships_compare_their_object_with_equality_only() {
    let e = entity(vec![
        (
            "isParked",
            Attribute::relationship("urn:ngsi-ld:OffStreetParking:Downtown1"),
        ),
        (
            "owners",
            Attribute::new(AttributeValue::ListRelationship {
                objects: vec!["urn:ngsi-ld:P:1".into(), "urn:ngsi-ld:P:2".into()],
                object_type: None,
            }),
        ),
    ]);
    check(
        &e,
        &[
            // EXAMPLE 3 of clause 4.9, quoted and unquoted.
            (
                r#"isParked=="urn:ngsi-ld:OffStreetParking:Downtown1""#,
                true,
            ),
            ("isParked==urn:ngsi-ld:OffStreetParking:Downtown1", true),
            ("isParked!=urn:ngsi-ld:OffStreetParking:Downtown2", true),
            (r#"isParked>"urn:ngsi-ld:A""#, false),
            ("isParked~=Downtown", true),
            ("owners==urn:ngsi-ld:P:2", true),
            (r#"owners=="urn:ngsi-ld:P:3","urn:ngsi-ld:P:1""#, true),
            ("owners!=urn:ngsi-ld:P:2", false),
            ("owners!=urn:ngsi-ld:P:3", true),
            ("isParked[x]", false),
        ],
    );
}

#[test]
fn language_properties_by_language_or_any() {
    let mut map = IndexMap::new();
    map.insert("fr".to_owned(), json!("rouge"));
    map.insert("en".to_owned(), json!(["red", "cat"]));
    let e = entity(vec![(
        "color",
        Attribute::new(AttributeValue::LanguageProperty(map)),
    )]);
    check(
        &e,
        &[
            (r#"color=="rouge""#, true),
            (r#"color[*]=="red""#, true),
            (r#"color[en]=="red""#, true),
            (r#"color[en]=="rouge""#, false),
            (r#"color[en]!="rouge""#, true),
            (r#"color[en]!="cat""#, false),
            (r#"color[de]=="rot""#, false),
            (r#"color[de]!="rot""#, false),
            ("color[fr]", true),
            ("color[de]", false),
            ("color[fr]~=^rou", true),
        ],
    );
}

#[test]
fn list_vocab_json_and_geo_properties() {
    let e = entity(vec![
        (
            "readings",
            Attribute::new(AttributeValue::ListProperty(vec![
                json!(1),
                json!(5),
                json!(9),
            ])),
        ),
        (
            "category",
            Attribute::new(AttributeValue::VocabProperty {
                vocab: vec![iri("Male"), "https://schema.org/Thing".into()],
                many: true,
            }),
        ),
        (
            "tickets",
            Attribute::new(AttributeValue::JsonProperty(
                json!({"id": "85a6", "value": "Overstay 60 minutes"}),
            )),
        ),
        (
            "location",
            Attribute::new(AttributeValue::GeoProperty(
                crate::geojson::Geometry::from_geojson(
                    "location",
                    &json!({"type": "Point", "coordinates": [1.0, 2.0]}),
                )
                .unwrap_or_else(|e| panic!("{e}")),
            )),
        ),
    ]);
    check(
        &e,
        &[
            ("readings==5", true),
            ("readings==6", false),
            ("readings>8", true),
            ("readings==6..7", false),
            ("readings!=5", false),
            ("readings!=6", true),
            // The query value is expanded like the vocab (clause 4.9, EXAMPLE 12).
            ("category==Male", true),
            (r#"category=="Male""#, true),
            (r#"category=="https://schema.org/Thing""#, true),
            ("category==https://schema.org/Thing", true),
            (r#"category!="Female""#, true),
            (r#"category!="Male""#, false),
            // EXAMPLE 11: members of a JsonProperty are not expanded.
            (r#"tickets[value]=="Overstay 60 minutes""#, true),
            (r#"tickets[id]~=^85"#, true),
            ("location", true),
            ("location==1", false),
            ("location!=1", true),
        ],
    );
}

#[test]
fn any_dataset_instance_can_match() {
    let mut gps = prop(json!(80));
    gps.dataset_id = Some("urn:ngsi-ld:gps".into());
    let e = entity(vec![("speed", prop(json!(50))), ("speed", gps)]);
    check(
        &e,
        &[
            ("speed==80", true),
            ("speed==50", true),
            ("speed>70", true),
            ("speed<60", true),
            ("speed==60", false),
            ("speed!=50", true),
            (r#"speed.datasetId=="urn:ngsi-ld:gps""#, true),
            ("speed==50;speed==80", true),
            ("speed==50..80", true),
        ],
    );
}

#[test]
fn regular_expressions() {
    let e = entity(vec![
        ("name", prop(json!("Parking Downtown"))),
        ("count", prop(json!(3))),
    ]);
    check(
        &e,
        &[
            ("name~=Down", true),
            ("name~=^Parking", true),
            ("name~=^Down", false),
            ("name~=(?i)parking", true),
            ("name!~=Up", true),
            ("name!~=Down", false),
            // A non-string target matches neither (clause 4.9).
            ("count~=3", false),
            ("count!~=4", false),
        ],
    );
}

#[test]
fn logic_and_precedence() {
    let e = entity(vec![
        ("speed", prop(json!(60))),
        ("rpm", prop(json!(1000))),
        ("brandName", prop(json!("Mercedes"))),
        ("temperature", prop(json!(22))),
    ]);
    check(
        &e,
        &[
            // EXAMPLES 4, 6 and 7 of clause 4.9.
            (r#"speed>50;brandName!="Mercedes""#, false),
            (r#"((speed>50|rpm>3000);brandName=="Mercedes")"#, true),
            ("(temperature>=20;temperature<=25)|capacity<=10", true),
            ("speed>70;rpm>0|brandName", true),
            ("speed>70;(rpm>0|brandName)", false),
            ("speed>70|rpm>5000|temperature==22", true),
            ("speed>70|rpm>5000|temperature==23", false),
        ],
    );
}

#[test]
fn null_attributes_do_not_exist() {
    let e = entity(vec![(
        "speed",
        Attribute::new(AttributeValue::Null(
            crate::attribute::AttributeKind::Property,
        )),
    )]);
    check(&e, &[("speed", false), ("speed!=1", false)]);
}

#[test]
fn only_terms_on_system_attributes_do_not_narrow() {
    assert!(!parse("modifiedAt>\"2020-01-01T00:00:00Z\"").names_a_non_system_attribute());
    assert!(!parse("createdAt>\"2020-01-01T00:00:00Z\"|deletedAt").names_a_non_system_attribute());
    assert!(parse("createdAt>\"2020-01-01T00:00:00Z\";speed>1").names_a_non_system_attribute());
    assert!(parse("speed.observedAt>\"2020-01-01T00:00:00Z\"").names_a_non_system_attribute());
}

#[test]
fn linked_entity_paths_follow_relationships() {
    let q = Query::parse("managedBy{name}==\"Pisa\"").expect("valid");
    assert_eq!(q.linked_depth(), 1);
    assert_eq!(q.to_string(), "managedBy{name}==\"Pisa\"");
    let q = Query::parse("sensor{Device,Probe:humidity}>40;a==1").expect("valid");
    let sub = q.linked_subqueries();
    assert_eq!(sub.len(), 1);
    assert_eq!(sub[0].relationship, "sensor");
    assert_eq!(sub[0].types, vec!["Device".to_owned(), "Probe".to_owned()]);
    assert_eq!(sub[0].inner.to_string(), "humidity>40");
    let q = Query::parse("a{b{T:c.d[e]}}").expect("valid");
    assert_eq!(q.linked_depth(), 2);
    assert_eq!(q.to_string(), "a{b{T:c.d[e]}}");
    assert_eq!(q.linked_subqueries()[0].inner.to_string(), "b{T:c.d[e]}");
}

#[test]
fn a_linked_term_is_decided_by_the_targets_it_is_given() {
    let ctx = ActiveContext::core();
    let rel = ctx.expand_term("managedBy").into_owned();
    let mut e = Entity::new("urn:x:1", vec!["T".into()]);
    e.put_attribute(rel.clone(), Attribute::relationship("urn:y:1"));
    let q = Query::parse("managedBy{name}==\"Pisa\"|a==1")
        .expect("valid")
        .expand(&ctx);
    assert!(!q.matches(&e), "unresolved, a linked term matches nothing");
    let hit = q.with_linked_targets(vec![vec!["urn:y:1".into(), "urn:y:2".into()]]);
    assert!(hit.matches(&e));
    let one = q.with_linked_targets(vec![vec!["urn:y:1".into()]]);
    assert!(one.matches(&e));
    let none = q.with_linked_targets(vec![vec![]]);
    assert!(!none.matches(&e));
}
