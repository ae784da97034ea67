//! The NGSI-LD Query Language: the `q` parameter (GS CIM 009 clause 4.9).
//!
//! A query goes through three steps:
//!
//! 1. [`Query::parse`] reads the string into an [`Expr`] tree with the names as the client wrote
//!    them, or fails with a `QuerySyntax` error pointing at the byte where it stopped.
//! 2. [`Query::expand`] resolves attribute and sub-attribute names against the request's
//!    @context (clause 5.5.7). Metadata members (`observedAt`, `unitCode`, ...) and the members
//!    of a trailing path (`address[city]`) are not terms and stay as written.
//! 3. [`Query::matches`] evaluates the expanded query against an [`Entity`] in memory; a storage
//!    backend instead reads [`Query::expr`] and translates the tree into its own filter.
//!
//! Regular expressions are compiled once, in step 1.
//!
//! ```
//! use ngsi_types::context::ActiveContext;
//! use ngsi_types::query::q::Query;
//! use ngsi_types::{Attribute, Entity};
//!
//! let ctx = ActiveContext::core();
//! let mut car = Entity::new("urn:ngsi-ld:Vehicle:A1", vec![ctx.expand_term("Vehicle").into_owned()]);
//! car.put_attribute(ctx.expand_term("speed").into_owned(), Attribute::property(80));
//! car.put_attribute(ctx.expand_term("brandName").into_owned(), Attribute::property("Mercedes"));
//!
//! let q = Query::parse(r#"speed>50;brandName!="Mercedes""#)?.expand(&ctx);
//! assert!(!q.matches(&car));
//! let q = Query::parse("speed==60..90|rpm>3000")?.expand(&ctx);
//! assert!(q.matches(&car));
//! # Ok::<(), ngsi_types::NgsiError>(())
//! ```

mod ast;
pub(crate) mod eval;
mod parser;
mod print;

use std::fmt::{self, Display, Formatter};
use std::str::FromStr;

pub use ast::{
    AttrPath, Condition, Expr, LinkedPath, Operand, Operator, Pattern, QueryTerm, Value,
};
pub use eval::METADATA_MEMBERS;
pub(crate) use parser::compile_pattern;
pub use parser::{MAX_DEPTH, MAX_TERMS, REGEX_SIZE_LIMIT};

use crate::context::ActiveContext;
use crate::entity::Entity;
use crate::error::Result;

/// A parsed `q` query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    expr: Expr,
}

impl Query {
    /// Parses a `q` parameter (already percent-decoded).
    pub fn parse(q: &str) -> Result<Query> {
        parser::parse(q).map(|expr| Query { expr })
    }

    /// Wraps a tree built in code. The caller keeps the invariants of [`Expr`].
    pub fn from_expr(expr: Expr) -> Query {
        Query { expr }
    }

    /// The query tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Every query term, left to right.
    pub fn terms(&self) -> impl Iterator<Item = &QueryTerm> {
        let mut stack = vec![&self.expr];
        std::iter::from_fn(move || loop {
            match stack.pop()? {
                Expr::Term(t) => return Some(t),
                Expr::And(v) | Expr::Or(v) => stack.extend(v.iter().rev()),
            }
        })
    }

    /// True if a term targets an attribute that is not a system one (GS CIM 009 5.7.2.4 c:
    /// only such a `q` narrows a query). Asked of the query as written, before expansion.
    pub fn names_a_non_system_attribute(&self) -> bool {
        self.terms().any(|t| {
            t.attribute
                .names
                .first()
                .is_some_and(|n| !super::SYSTEM_ATTRIBUTES.contains(&n.as_str()))
        })
    }

    /// The same query with names expanded against `ctx`: the first name of every attribute path
    /// and the sub-attribute names after it, but not metadata members nor trailing-path members.
    /// Text values are also expanded into [`QueryTerm::vocab_values`], for VocabProperties.
    pub fn expand(&self, ctx: &ActiveContext) -> Query {
        Query {
            expr: expand_expr(&self.expr, ctx),
        }
    }

    /// True if `entity` matches. The query must have been expanded with the context the
    /// entity's attribute names were expanded with.
    pub fn matches(&self, entity: &Entity) -> bool {
        eval::matches(&self.expr, entity)
    }
}

fn expand_expr(expr: &Expr, ctx: &ActiveContext) -> Expr {
    match expr {
        Expr::Term(t) => Expr::Term(expand_term(t, ctx)),
        Expr::And(v) => Expr::And(v.iter().map(|e| expand_expr(e, ctx)).collect()),
        Expr::Or(v) => Expr::Or(v.iter().map(|e| expand_expr(e, ctx)).collect()),
    }
}

fn expand_term(term: &QueryTerm, ctx: &ActiveContext) -> QueryTerm {
    let vocab_values = match &term.condition {
        Condition::Compare { op, operand } if op.is_equality() => {
            let values: &[Value] = match operand {
                Operand::Single(v) => std::slice::from_ref(v),
                Operand::List(v) => v,
                Operand::Range(..) => &[],
            };
            values
                .iter()
                .filter_map(Value::as_text)
                .map(|t| ctx.expand_term(t).into_owned())
                .collect()
        }
        _ => Vec::new(),
    };
    QueryTerm {
        attribute: expand_path(&term.attribute, ctx),
        condition: term.condition.clone(),
        vocab_values,
    }
}

fn expand_path(path: &AttrPath, ctx: &ActiveContext) -> AttrPath {
    let names = path
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let is_last = i + 1 == path.names.len();
            if i > 0 && is_last && METADATA_MEMBERS.contains(&name.as_str()) {
                name.clone()
            } else {
                ctx.expand_term(name).into_owned()
            }
        })
        .collect();
    AttrPath {
        names,
        members: path.members.clone(),
        linked: path.linked.as_ref().map(|l| {
            Box::new(LinkedPath {
                types: l
                    .types
                    .iter()
                    .map(|t| ctx.expand_term(t).into_owned())
                    .collect(),
                path: expand_path(&l.path, ctx),
            })
        }),
    }
}

impl Query {
    /// The same query (as parsed, before [`Query::expand`]) with the text values of the terms
    /// on the `attributes` (as written) expanded against `ctx` (`expandValues`, clause 4.9:
    /// JSON-LD type coercion of the query value, as the stored value had).
    pub fn with_values_expanded(&self, attributes: &[String], ctx: &ActiveContext) -> Query {
        fn walk(expr: &Expr, attributes: &[String], ctx: &ActiveContext) -> Expr {
            match expr {
                Expr::Term(t) if attributes.contains(&t.attribute.names[0]) => {
                    let expand = |v: &Value| match v {
                        Value::Text(s) => Value::Text(ctx.expand_term(s).into_owned()),
                        Value::Uri(s) => Value::Uri(ctx.expand_term(s).into_owned()),
                        other => other.clone(),
                    };
                    let condition = match &t.condition {
                        Condition::Compare { op, operand } => Condition::Compare {
                            op: *op,
                            operand: match operand {
                                Operand::Single(v) => Operand::Single(expand(v)),
                                Operand::List(vs) => Operand::List(vs.iter().map(expand).collect()),
                                Operand::Range(lo, hi) => Operand::Range(expand(lo), expand(hi)),
                            },
                        },
                        other => other.clone(),
                    };
                    Expr::Term(QueryTerm {
                        condition,
                        ..t.clone()
                    })
                }
                Expr::Term(t) => Expr::Term(t.clone()),
                Expr::And(v) => Expr::And(v.iter().map(|e| walk(e, attributes, ctx)).collect()),
                Expr::Or(v) => Expr::Or(v.iter().map(|e| walk(e, attributes, ctx)).collect()),
            }
        }
        Query {
            expr: walk(&self.expr, attributes, ctx),
        }
    }
}

/// A term that follows a Relationship (`rel{Type:path}op value`), seen as the query to run on
/// the entities it may target: which of them match decides which Relationship objects do.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedSubquery {
    /// The (expanded) Relationship name.
    pub relationship: String,
    /// The type hint: only entities of one of these types count (empty: any type).
    pub types: Vec<String>,
    /// The term inside the targeted entities (it may follow a Relationship again).
    pub inner: Query,
}

impl Query {
    /// How many Relationships the deepest term follows (0 when none does): a linked entity
    /// query is no deeper than the Linked Entity retrieval (clause 5.7.2.4).
    pub fn linked_depth(&self) -> usize {
        self.terms().map(|t| t.attribute.depth()).max().unwrap_or(0)
    }

    /// The terms that follow a Relationship, left to right, as the sub-queries that decide
    /// them; [`Query::with_linked_targets`] takes their answers in the same order.
    pub fn linked_subqueries(&self) -> Vec<LinkedSubquery> {
        self.terms()
            .filter_map(|t| {
                let linked = t.attribute.linked.as_ref()?;
                Some(LinkedSubquery {
                    relationship: t.attribute.names[0].clone(),
                    types: linked.types.clone(),
                    inner: Query::from_expr(Expr::Term(QueryTerm {
                        attribute: linked.path.clone(),
                        condition: t.condition.clone(),
                        vocab_values: t.vocab_values.clone(),
                    })),
                })
            })
            .collect()
    }

    /// The same query with each term that follows a Relationship replaced by "the Relationship
    /// targets one of these entities", `targets[i]` being the ids that matched the `i`-th
    /// [`LinkedSubquery`]. An empty list matches no entity.
    pub fn with_linked_targets(&self, targets: Vec<Vec<String>>) -> Query {
        let mut targets = targets.into_iter();
        Query {
            expr: replace_linked(&self.expr, &mut targets),
        }
    }
}

fn replace_linked(expr: &Expr, targets: &mut impl Iterator<Item = Vec<String>>) -> Expr {
    match expr {
        Expr::Term(t) if t.attribute.linked.is_some() => {
            let ids = targets.next().unwrap_or_default();
            let operand = match <[String; 1]>::try_from(ids) {
                Ok([one]) => Operand::Single(Value::Uri(one)),
                Err(ids) => Operand::List(ids.into_iter().map(Value::Uri).collect()),
            };
            Expr::Term(QueryTerm {
                attribute: AttrPath::local(vec![t.attribute.names[0].clone()], Vec::new()),
                condition: Condition::Compare {
                    op: Operator::Equal,
                    operand,
                },
                vocab_values: Vec::new(),
            })
        }
        Expr::Term(t) => Expr::Term(t.clone()),
        Expr::And(v) => Expr::And(v.iter().map(|e| replace_linked(e, targets)).collect()),
        Expr::Or(v) => Expr::Or(v.iter().map(|e| replace_linked(e, targets)).collect()),
    }
}

/// Prints the query in the `q` syntax. Names print as held: a parsed query prints back to an
/// equivalent string, an expanded one prints IRIs (for logs; the grammar cannot read them back).
impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}

impl FromStr for Query {
    type Err = crate::error::NgsiError;

    fn from_str(s: &str) -> Result<Query> {
        Query::parse(s)
    }
}

impl Pattern {
    /// Compiles a regular expression with the size limit every query pattern gets.
    pub fn new(source: &str) -> Result<Pattern> {
        parser::compile_pattern("q", 0, source)
    }
}

#[cfg(test)]
mod tests;
