//! Selecting entities by type and id: entity type expressions (GS CIM 009 clause 4.17) and
//! `idPattern` (clause 5.2.33, EntitySelector).
//!
//! A type expression names entity types combined with `,` or `|` (OR, `,` being the older list
//! form), `;` (AND: the entity has both types) and parentheses, AND binding tighter:
//! `Building`, `Building,House`, `(Building;Home)|Apartment`. Types are expanded with the
//! request's @context before matching [`Entity::types`], which holds expanded names.

use std::fmt::{self, Display, Formatter, Write};

use regex::Regex;

use crate::context::ActiveContext;
use crate::entity::Entity;
use crate::error::{NgsiError, Result};
use crate::ident::check_name;

const PARAM: &str = "type";
/// Deepest nesting of parentheses accepted.
pub const MAX_DEPTH: usize = 32;
/// Most type names accepted in one expression.
pub const MAX_TYPES: usize = 256;

/// A parsed entity type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeExpr {
    node: TypeNode,
}

/// The tree of a type expression. `And` and `Or` hold two or more operands; `A,B` and `A|B`
/// both give `Or`; parenthesised groups stay nodes of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeNode {
    /// `*`, the whole expression: every entity type (clause 6.4.3.2, `type` parameter).
    Any,
    Type(String),
    And(Vec<TypeNode>),
    Or(Vec<TypeNode>),
}

impl TypeExpr {
    pub fn parse(s: &str) -> Result<TypeExpr> {
        let mut p = Parser {
            src: s,
            pos: 0,
            depth: 0,
            types: 0,
        };
        if s.is_empty() {
            return Err(NgsiError::query_syntax(PARAM, 0, "empty type expression"));
        }
        if s == "*" {
            return Ok(TypeExpr {
                node: TypeNode::Any,
            });
        }
        let node = p.parse_or()?;
        if p.pos != s.len() {
            return Err(NgsiError::query_syntax(
                PARAM,
                p.pos,
                "expected ',', ';', '|' or the end of the type expression",
            ));
        }
        Ok(TypeExpr { node })
    }

    pub fn from_node(node: TypeNode) -> TypeExpr {
        TypeExpr { node }
    }

    pub fn node(&self) -> &TypeNode {
        &self.node
    }

    /// Every type name, left to right (for index look-ups of simple `A,B` lists).
    pub fn types(&self) -> impl Iterator<Item = &str> {
        let mut stack = vec![&self.node];
        std::iter::from_fn(move || loop {
            match stack.pop()? {
                TypeNode::Type(t) => return Some(t.as_str()),
                TypeNode::Any => {}
                TypeNode::And(v) | TypeNode::Or(v) => stack.extend(v.iter().rev()),
            }
        })
    }

    /// The type names of an OR-only expression (`A,B|C`); `None` if it contains an AND or is `*`.
    pub fn as_any_of(&self) -> Option<Vec<&str>> {
        fn collect<'a>(node: &'a TypeNode, out: &mut Vec<&'a str>) -> bool {
            match node {
                TypeNode::Type(t) => {
                    out.push(t);
                    true
                }
                TypeNode::Or(v) => v.iter().all(|n| collect(n, out)),
                TypeNode::And(_) | TypeNode::Any => false,
            }
        }
        let mut out = Vec::new();
        collect(&self.node, &mut out).then_some(out)
    }

    /// The same expression with every type expanded against `ctx`.
    pub fn expand(&self, ctx: &ActiveContext) -> TypeExpr {
        fn expand(node: &TypeNode, ctx: &ActiveContext) -> TypeNode {
            match node {
                TypeNode::Type(t) => TypeNode::Type(ctx.expand_term(t).into_owned()),
                TypeNode::Any => TypeNode::Any,
                TypeNode::And(v) => TypeNode::And(v.iter().map(|n| expand(n, ctx)).collect()),
                TypeNode::Or(v) => TypeNode::Or(v.iter().map(|n| expand(n, ctx)).collect()),
            }
        }
        TypeExpr {
            node: expand(&self.node, ctx),
        }
    }

    /// True if the entity's (expanded) types satisfy the expression.
    pub fn matches(&self, entity: &Entity) -> bool {
        self.node.matches_types(&entity.types)
    }
}

impl TypeNode {
    pub fn matches_types(&self, types: &[String]) -> bool {
        match self {
            TypeNode::Any => true,
            TypeNode::Type(t) => types.iter().any(|x| x == t),
            TypeNode::And(v) => v.iter().all(|n| n.matches_types(types)),
            TypeNode::Or(v) => v.iter().any(|n| n.matches_types(types)),
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    types: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn parse_or(&mut self) -> Result<TypeNode> {
        let mut operands = vec![self.parse_and()?];
        while matches!(self.peek(), Some(b'|' | b',')) {
            self.pos += 1;
            operands.push(self.parse_and()?);
        }
        Ok(collapse(operands, TypeNode::Or))
    }

    fn parse_and(&mut self) -> Result<TypeNode> {
        let mut operands = vec![self.parse_primary()?];
        while self.peek() == Some(b';') {
            self.pos += 1;
            operands.push(self.parse_primary()?);
        }
        Ok(collapse(operands, TypeNode::And))
    }

    fn parse_primary(&mut self) -> Result<TypeNode> {
        if self.peek() != Some(b'(') {
            return self.parse_type();
        }
        let open = self.pos;
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(NgsiError::TooComplex(format!(
                "type: parentheses nested deeper than {MAX_DEPTH}"
            )));
        }
        let inner = self.parse_or()?;
        match self.peek() {
            Some(b')') => self.pos += 1,
            None => return Err(NgsiError::query_syntax(PARAM, open, "unclosed '('")),
            Some(_) => return Err(NgsiError::query_syntax(PARAM, self.pos, "expected ')'")),
        }
        self.depth -= 1;
        Ok(inner)
    }

    /// A type name: a term, a compact IRI or an absolute IRI (clause 4.6.2).
    fn parse_type(&mut self) -> Result<TypeNode> {
        self.types += 1;
        if self.types > MAX_TYPES {
            return Err(NgsiError::TooComplex(format!(
                "type: more than {MAX_TYPES} entity types"
            )));
        }
        let start = self.pos;
        let rest = &self.src[start..];
        let len = rest.find([',', ';', '|', '(', ')']).unwrap_or(rest.len());
        let name = &rest[..len];
        if name.is_empty() {
            return Err(NgsiError::query_syntax(
                PARAM,
                start,
                "expected an entity type",
            ));
        }
        if name == "*" {
            return Err(NgsiError::query_syntax(
                PARAM,
                start,
                "'*' selects every type and must be the whole expression",
            ));
        }
        if let Err(e) = check_name(PARAM, name) {
            let reason = match e {
                NgsiError::InvalidName { reason, .. } => reason,
                other => other.to_string(),
            };
            return Err(NgsiError::query_syntax(
                PARAM,
                start,
                format!("invalid entity type '{name}': {reason}"),
            ));
        }
        self.pos += len;
        Ok(TypeNode::Type(name.to_owned()))
    }
}

fn collapse(operands: Vec<TypeNode>, node: fn(Vec<TypeNode>) -> TypeNode) -> TypeNode {
    match <[TypeNode; 1]>::try_from(operands) {
        Ok([only]) => only,
        Err(operands) => node(operands),
    }
}

impl Display for TypeExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

/// Prints OR as `|` (so `A,B` prints as `A|B`).
impl Display for TypeNode {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (operands, sep) = match self {
            TypeNode::Any => return f.write_char('*'),
            TypeNode::Type(t) => return f.write_str(t),
            TypeNode::And(v) => (v, ';'),
            TypeNode::Or(v) => (v, '|'),
        };
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_char(sep)?;
            }
            let bare = matches!(operand, TypeNode::Type(_))
                || (sep == '|' && matches!(operand, TypeNode::And(_)));
            if bare {
                operand.fmt(f)?;
            } else {
                write!(f, "({operand})")?;
            }
        }
        Ok(())
    }
}

/// `idPattern`: a regular expression searched in the entity id (clause 4.4.3: an id matches
/// if the expression matches it). Unanchored like Orion-LD's (a MongoDB `$regex`), so
/// `idPattern=Sensor` selects every id containing "Sensor"; `^...$` anchors explicitly.
#[derive(Debug, Clone)]
pub struct IdPattern {
    source: String,
    regex: Regex,
}

impl IdPattern {
    /// Compiles the pattern (with the q language's size limit).
    pub fn new(pattern: &str) -> Result<IdPattern> {
        if pattern.is_empty() {
            return Err(NgsiError::query_syntax(
                "idPattern",
                0,
                "empty regular expression",
            ));
        }
        let compiled = super::q::compile_pattern("idPattern", 0, pattern)?;
        Ok(IdPattern {
            source: pattern.to_owned(),
            regex: compiled.regex,
        })
    }

    /// The pattern as the client wrote it.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn is_match(&self, id: &str) -> bool {
        self.regex.is_match(id)
    }

    pub fn matches(&self, entity: &Entity) -> bool {
        self.is_match(&entity.id)
    }
}

impl PartialEq for IdPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Display for IdPattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::DEFAULT_VOCAB;

    fn typed(types: &[&str]) -> Entity {
        Entity::new(
            "urn:ngsi-ld:Building:1",
            types
                .iter()
                .map(|t| format!("{DEFAULT_VOCAB}{t}"))
                .collect(),
        )
    }

    fn parse(s: &str) -> TypeExpr {
        TypeExpr::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .expand(&ActiveContext::core())
    }

    #[test]
    fn lists_or_and_and_groups() {
        let e = typed(&["Building", "Home"]);
        let cases = [
            ("Building", true),
            ("House", false),
            ("House,Building", true),
            ("House|Building", true),
            ("Building;Home", true),
            ("Building;House", false),
            ("(Building;Home)|House", true),
            ("(Building;House)|Apartment", false),
            ("Apartment|Building;Home", true),
            ("(Apartment|Building);Home", true),
            ("(Apartment|Building);House", false),
        ];
        for (q, expected) in cases {
            assert_eq!(parse(q).matches(&e), expected, "{q}");
        }
        let any = TypeExpr::parse("*").unwrap_or_else(|e| panic!("{e}"));
        assert!(any.matches(&e));
        assert_eq!((any.to_string(), any.as_any_of()), ("*".to_owned(), None));
        assert!(TypeExpr::parse("A,*").is_err());
        let full = TypeExpr::parse("https://example.org/Thing").unwrap_or_else(|e| panic!("{e}"));
        let mut e = typed(&[]);
        e.types.push("https://example.org/Thing".into());
        assert!(full.expand(&ActiveContext::core()).matches(&e));
    }

    #[test]
    fn any_of_and_printing() {
        let t = TypeExpr::parse("A,B|C").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.as_any_of(), Some(vec!["A", "B", "C"]));
        assert_eq!(t.to_string(), "A|B|C");
        let t = TypeExpr::parse("(A;B)|C").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.as_any_of(), None);
        assert_eq!(t.types().collect::<Vec<_>>(), ["A", "B", "C"]);
        for s in ["A;B|C", "A;(B|C)", "(A;B);C", "schema:Thing"] {
            let t = TypeExpr::parse(s).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.to_string(), s);
        }
    }

    #[test]
    fn syntax_errors_have_positions() {
        for (s, offset) in [
            ("", 0),
            ("A,", 2),
            (",A", 0),
            ("A;;B", 2),
            ("(A|B", 0),
            ("A)", 1),
            ("A b", 0),
            ("A,B.C", 2),
        ] {
            match TypeExpr::parse(s) {
                Err(NgsiError::QuerySyntax { position, .. }) => {
                    assert_eq!((position.param, position.offset), ("type", offset), "{s}")
                }
                other => panic!("{s}: {other:?}"),
            }
        }
    }

    #[test]
    fn id_pattern_searches_the_id_unless_anchored() {
        let p = IdPattern::new("urn:ngsi-ld:Vehicle:.*").unwrap_or_else(|e| panic!("{e}"));
        assert!(p.is_match("urn:ngsi-ld:Vehicle:A1"));
        assert!(!p.is_match("urn:ngsi-ld:Car:A1"));
        let p = IdPattern::new("Vehicle|Car").unwrap_or_else(|e| panic!("{e}"));
        assert!(p.is_match("Car"));
        assert!(
            p.is_match("urn:Car:1"),
            "unanchored, like Orion-LD's $regex"
        );
        assert!(!p.is_match("urn:Bus:1"));
        let anchored =
            IdPattern::new("^urn:ngsi-ld:Vehicle:A[0-9]$").unwrap_or_else(|e| panic!("{e}"));
        assert!(anchored.is_match("urn:ngsi-ld:Vehicle:A1"));
        assert!(!anchored.is_match("urn:ngsi-ld:Vehicle:A12"));
        assert_eq!(p.to_string(), "Vehicle|Car");
        assert!(matches!(
            IdPattern::new("a("),
            Err(NgsiError::QuerySyntax { .. })
        ));
        assert!(matches!(
            IdPattern::new("x{1000}{1000}"),
            Err(NgsiError::TooComplex(_))
        ));
        for doubled in ["pattern**", "a+*", "(a|b){2}+"] {
            assert!(
                matches!(IdPattern::new(doubled), Err(NgsiError::QuerySyntax { .. })),
                "{doubled}"
            );
        }
        assert!(IdPattern::new("a*?b+?").is_ok());
    }
}
