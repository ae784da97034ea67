//! Property tests of the query parsers: printing a random tree and parsing it back gives the
//! same tree, and no input string makes a parser panic.

use chrono::{DateTime, NaiveDate, NaiveTime};
use ngsi_types::query::q::{
    AttrPath, Condition, Expr, Operand, Operator, Pattern, Query, QueryTerm, Value,
};
use ngsi_types::query::scope::{ScopeExpr, ScopeLevel, ScopePattern, ScopeQuery};
use ngsi_types::query::type_expr::{TypeExpr, TypeNode};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z][a-zA-Z0-9_]{0,6}",
        1 => "[a-z]{1,4}:[a-zA-Z][a-zA-Z0-9_]{0,4}",
        1 => "[α-ω][α-ω0-9]{0,3}",
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let members = prop_oneof![
        3 => prop::collection::vec("[a-z][a-zA-Z0-9_-]{0,4}", 0..3),
        1 => Just(vec!["*".to_owned()]),
    ];
    (prop::collection::vec(name(), 1..4), members)
        .prop_map(|(names, members)| AttrPath::local(names, members))
}

fn comparable() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(Value::Number),
        (-1000i64..1000).prop_map(|n| Value::Number(n as f64)),
        any::<String>().prop_map(Value::Text),
        (0i64..4_102_444_800, 0u32..1_000_000_000).prop_map(|(s, ns)| {
            Value::DateTime(DateTime::from_timestamp(s, ns).unwrap_or_default())
        }),
        (1000i32..9999, 1u32..13, 1u32..29).prop_map(|(y, m, d)| {
            Value::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
        }),
        (0u32..86_400, prop_oneof![Just(0u32), 0u32..1_000_000_000]).prop_map(|(s, ns)| {
            Value::Time(NaiveTime::from_num_seconds_from_midnight_opt(s, ns).unwrap_or_default())
        }),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => comparable(),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => "(urn|https?):[a-zA-Z0-9:/_-]{1,12}".prop_map(Value::Uri),
    ]
}

fn pattern() -> impl Strategy<Value = Pattern> {
    prop::sample::select(vec![
        "^a",
        "x(y|z)",
        "[;|)]+",
        r"\)",
        "a.*b$",
        "(?i)mercedes",
        "(a(b)c)d",
        "é+",
    ])
    .prop_map(|s| Pattern::new(s).unwrap_or_else(|e| panic!("{s}: {e}")))
}

fn condition() -> impl Strategy<Value = Condition> {
    let order_op = prop::sample::select(vec![
        Operator::Greater,
        Operator::GreaterEq,
        Operator::Less,
        Operator::LessEq,
        Operator::Equal,
        Operator::Unequal,
    ]);
    let equality_op = prop::sample::select(vec![Operator::Equal, Operator::Unequal]);
    prop_oneof![
        1 => Just(Condition::Exists),
        3 => (order_op, comparable()).prop_map(|(op, v)| Condition::Compare {
            op,
            operand: Operand::Single(v)
        }),
        2 => (equality_op.clone(), value()).prop_map(|(op, v)| Condition::Compare {
            op,
            operand: Operand::Single(v)
        }),
        2 => (equality_op.clone(), prop::collection::vec(value(), 2..5)).prop_map(|(op, v)| {
            Condition::Compare {
                op,
                operand: Operand::List(v),
            }
        }),
        2 => (equality_op, comparable(), comparable()).prop_map(|(op, lo, hi)| {
            Condition::Compare {
                op,
                operand: Operand::Range(lo, hi),
            }
        }),
        1 => (pattern(), any::<bool>())
            .prop_map(|(regex, negated)| Condition::Pattern { regex, negated }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let term = (attr_path(), condition()).prop_map(|(attribute, condition)| {
        Expr::Term(QueryTerm {
            attribute,
            condition,
            vocab_values: Vec::new(),
        })
    });
    term.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(Expr::And),
            prop::collection::vec(inner, 2..5).prop_map(Expr::Or),
        ]
    })
}

fn scope_expr() -> impl Strategy<Value = ScopeExpr> {
    let level = prop_oneof![
        3 => "[a-zA-Z][a-zA-Z0-9_]{0,5}".prop_map(ScopeLevel::Name),
        1 => Just(ScopeLevel::AnyOne),
    ];
    let term = (
        any::<bool>(),
        prop::collection::vec(level, 1..4),
        any::<bool>(),
    )
        .prop_map(|(absolute, mut levels, descendants)| {
            if descendants {
                levels.push(ScopeLevel::Descendants);
            }
            ScopeExpr::Term(ScopePattern { absolute, levels })
        });
    term.prop_recursive(4, 30, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(ScopeExpr::And),
            prop::collection::vec(inner, 2..4).prop_map(ScopeExpr::Or),
        ]
    })
}

fn type_node() -> impl Strategy<Value = TypeNode> {
    let leaf = prop_oneof![
        name(),
        "https://example\\.org/[A-Za-z]{1,6}".prop_map(String::from),
    ]
    .prop_map(TypeNode::Type);
    leaf.prop_recursive(4, 30, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(TypeNode::And),
            prop::collection::vec(inner, 2..4).prop_map(TypeNode::Or),
        ]
    })
}

/// Characters of the three grammars, for dense random inputs.
const ALPHABET: &str = r#"[a-z0-9TZ=!<>~;|().,"\\\[\]:*#/+ eE-]{0,40}"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn q_print_then_parse_is_identity(expr in expr()) {
        let printed = Query::from_expr(expr.clone()).to_string();
        let parsed = Query::parse(&printed);
        prop_assert!(parsed.is_ok(), "{printed}: {parsed:?}");
        let parsed = parsed.unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(parsed.expr(), &expr, "{}", printed);
    }

    #[test]
    fn scope_print_then_parse_is_identity(expr in scope_expr()) {
        let printed = ScopeQuery::from_expr(expr.clone()).to_string();
        let parsed = ScopeQuery::parse(&printed);
        prop_assert!(parsed.is_ok(), "{printed}: {parsed:?}");
        let parsed = parsed.unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(parsed.expr(), &expr);
    }

    #[test]
    fn type_print_then_parse_is_identity(node in type_node()) {
        let printed = TypeExpr::from_node(node.clone()).to_string();
        let parsed = TypeExpr::parse(&printed);
        prop_assert!(parsed.is_ok(), "{printed}: {parsed:?}");
        let parsed = parsed.unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(parsed.node(), &node);
    }

    #[test]
    fn parsers_never_panic_on_any_string(s in "\\PC{0,60}") {
        let _ = Query::parse(&s);
        let _ = ScopeQuery::parse(&s);
        let _ = TypeExpr::parse(&s);
    }

    #[test]
    fn parsers_never_panic_on_grammar_characters(s in ALPHABET) {
        if let Ok(q) = Query::parse(&s) {
            // Whatever parses prints to something that parses to the same tree.
            let again = Query::parse(&q.to_string());
            let again = again.ok();
            prop_assert_eq!(again.as_ref(), Some(&q), "{}", s);
        }
        let _ = ScopeQuery::parse(&s);
        let _ = TypeExpr::parse(&s);
    }
}
