//! The typed AST of an NGSI-LD query (GS CIM 009 clause 4.9).
//!
//! The tree is explicit data (no closures) so that a storage backend can translate it into its
//! own filter language. Names are held as written until [`super::Query::expand`] replaces them
//! with IRIs; compound members (`a[b][c]`) are never expanded because they address the inside of
//! a JSON value.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use regex::Regex;

/// A logical combination of query terms. `And` and `Or` always hold two or more operands.
/// `a;b;c` is one `And` of three; a parenthesised group stays a node of its own, so printing and
/// parsing again gives back the same tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Term(QueryTerm),
    /// `;`: every operand matches.
    And(Vec<Expr>),
    /// `|`: at least one operand matches.
    Or(Vec<Expr>),
}

/// One predicate on one attribute path (production rule `QueryTerm`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    pub attribute: AttrPath,
    pub condition: Condition,
    /// The text and URI values of the condition expanded as terms of the @context, filled by
    /// [`super::Query::expand`]: a VocabProperty holds expanded IRIs (clause 4.9: "the target
    /// value shall be expanded according to the @context"). Empty until then.
    pub vocab_values: Vec<String>,
}

/// The attribute path of a query term: `attr`, `attr.sub.observedAt`, `attr[member][member]`,
/// `attr.sub[member]`, or through a Relationship to the entity it targets, `rel{attr}`,
/// `rel{Type:attr}` (clause 4.9, `LinkedEntityRelation`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The top-level attribute then the sub-attribute (or metadata member) names: the
    /// `DottedPath`. Never empty; a single Relationship name when `linked` is set.
    pub names: Vec<String>,
    /// The members inside the target value (`[city]`), or the language tag of a LanguageProperty
    /// (`[en]`, `[*]`). Empty when absent.
    pub members: Vec<String>,
    /// The path inside the entities the Relationship `names[0]` targets (`rel{...}`); the
    /// term's condition then applies there.
    pub linked: Option<Box<LinkedPath>>,
}

impl AttrPath {
    /// A path that stays inside the entity: a dotted path and its trailing members.
    pub fn local(names: Vec<String>, members: Vec<String>) -> Self {
        Self {
            names,
            members,
            linked: None,
        }
    }

    /// How many Relationships the path follows (`a{b{c}}`: 2).
    pub fn depth(&self) -> usize {
        self.linked.as_ref().map_or(0, |l| 1 + l.path.depth())
    }
}

/// The part of a query path inside a Linked Entity: an optional hint of the entity types the
/// Relationship may target (`Device:humidity`, only those entities are considered), then the
/// path in them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkedPath {
    /// Entity types of the hint, empty for none (expanded by [`super::Query::expand`]).
    pub types: Vec<String>,
    pub path: AttrPath,
}

/// What a query term asks of its target.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The attribute alone: the target element exists.
    Exists,
    /// `==`, `!=`, `>`, `>=`, `<`, `<=` with a value, a list or a range.
    Compare { op: Operator, operand: Operand },
    /// `~=` (or `!~=` when `negated`) with a regular expression.
    Pattern { regex: Pattern, negated: bool },
}

/// The comparison operators (production rule `Operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Equal,
    Unequal,
    Greater,
    GreaterEq,
    Less,
    LessEq,
}

impl Operator {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "==",
            Self::Unequal => "!=",
            Self::Greater => ">",
            Self::GreaterEq => ">=",
            Self::Less => "<",
            Self::LessEq => "<=",
        }
    }

    /// `==` and `!=` accept every operand form; the order operators only a single
    /// `ComparableValue`.
    pub fn is_equality(self) -> bool {
        matches!(self, Self::Equal | Self::Unequal)
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Single(Value),
    /// `ValueList`: two or more values, `a==1,2,3` (equality operators only). A query built
    /// in code may hold an empty list, which no value equals.
    List(Vec<Value>),
    /// `Range`: `a==1..5`, both bounds included (equality operators only).
    Range(Value, Value),
}

/// A literal of the query language.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    /// `quotedStr`: a JSON string.
    Text(String),
    Bool(bool),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
    Time(NaiveTime),
    /// An unquoted URI (`isParked==urn:ngsi-ld:OffStreetParking:Downtown1`).
    Uri(String),
}

impl Value {
    /// `ComparableValue` in the grammar: what may stand after an order operator or in a range.
    pub fn is_comparable(&self) -> bool {
        !matches!(self, Self::Bool(_) | Self::Uri(_))
    }

    /// The string of a text or URI literal.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) | Self::Uri(s) => Some(s),
            _ => None,
        }
    }
}

/// A regular expression compiled once, at parse time. Two patterns are equal when their sources
/// are.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub(crate) source: String,
    pub(crate) regex: Regex,
}

impl Pattern {
    /// The regular expression as written in the query.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}
