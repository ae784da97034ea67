//! The Scope query language: the `scopeQ` parameter (GS CIM 009 clause 4.19), evaluated
//! against [`Entity::scope`] (scopes are defined in clause 4.18).
//!
//! Grammar and semantics follow clause 4.19. A scope term is a path of levels: `/Madrid/Gardens` matches that scope exactly, `+` stands
//! for exactly one level (`/Madrid/+` matches `/Madrid/Gardens` but neither `/Madrid` nor
//! `/Madrid/Gardens/North`), and a last level `#` stands for the scope and everything below it
//! (`/Madrid/#` matches `/Madrid`, `/Madrid/Gardens`, ...; `/#` matches any scope, so an entity
//! without scope never matches). Terms combine with `;` (AND), `|` or `,` (OR) and parentheses.
//! The grammar only writes AND inside parentheses; a bare `a;b|c` is accepted too, with AND
//! binding tighter as in `q`. An entity matches a term when any of its scopes does.
//!
//! The leading `/` is optional in the scope grammar (clause 4.18: `Madrid` and `/Madrid`);
//! levels are compared, so `Madrid` and `/Madrid` name the same scope.

use std::fmt::{self, Display, Formatter, Write};

use crate::entity::Entity;
use crate::error::{NgsiError, Result};

const PARAM: &str = "scopeQ";
/// Deepest nesting of parentheses accepted.
pub const MAX_DEPTH: usize = 32;
/// Most scope terms accepted in one query.
pub const MAX_TERMS: usize = 256;

/// A parsed `scopeQ`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeQuery {
    expr: ScopeExpr,
}

/// The tree of a scope query. `And` and `Or` hold two or more operands; parenthesised groups
/// stay nodes of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeExpr {
    Term(ScopePattern),
    And(Vec<ScopeExpr>),
    Or(Vec<ScopeExpr>),
}

/// One scope term: `/a/b`, `/a/+/c`, `/a/#`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScopePattern {
    /// Whether the term was written with a leading `/` (kept for printing only).
    pub absolute: bool,
    /// Never empty; [`ScopeLevel::Descendants`] only as the last level.
    pub levels: Vec<ScopeLevel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScopeLevel {
    Name(String),
    /// `+`: any one level.
    AnyOne,
    /// `#`: this scope and all levels below.
    Descendants,
}

impl ScopeQuery {
    pub fn parse(s: &str) -> Result<ScopeQuery> {
        let mut p = Parser {
            src: s,
            pos: 0,
            depth: 0,
            terms: 0,
        };
        if s.is_empty() {
            return Err(NgsiError::query_syntax(PARAM, 0, "empty scope query"));
        }
        let expr = p.parse_or()?;
        if p.pos != s.len() {
            return Err(NgsiError::query_syntax(
                PARAM,
                p.pos,
                "expected ';', '|' or the end of the scope query",
            ));
        }
        Ok(ScopeQuery { expr })
    }

    pub fn expr(&self) -> &ScopeExpr {
        &self.expr
    }

    pub fn from_expr(expr: ScopeExpr) -> ScopeQuery {
        ScopeQuery { expr }
    }

    /// True if the entity's scopes satisfy the query.
    pub fn matches(&self, entity: &Entity) -> bool {
        self.expr.matches_scopes(&entity.scope)
    }
}

impl ScopeExpr {
    /// Evaluates against a list of scopes (an entity's `scope`).
    pub fn matches_scopes(&self, scopes: &[String]) -> bool {
        match self {
            ScopeExpr::Term(p) => scopes.iter().any(|s| p.matches(s)),
            ScopeExpr::And(v) => v.iter().all(|e| e.matches_scopes(scopes)),
            ScopeExpr::Or(v) => v.iter().any(|e| e.matches_scopes(scopes)),
        }
    }
}

impl ScopePattern {
    /// True if the scope `/a/b/c` (or `a/b/c`) matches this pattern.
    pub fn matches(&self, scope: &str) -> bool {
        let mut levels = scope.strip_prefix('/').unwrap_or(scope).split('/');
        for pattern in &self.levels {
            match pattern {
                ScopeLevel::Descendants => return true,
                ScopeLevel::AnyOne => {
                    if levels.next().is_none_or(str::is_empty) {
                        return false;
                    }
                }
                ScopeLevel::Name(name) => {
                    if levels.next() != Some(name.as_str()) {
                        return false;
                    }
                }
            }
        }
        levels.next().is_none()
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    terms: usize,
}

impl Parser<'_> {
    fn error(&self, offset: usize, reason: &str) -> NgsiError {
        NgsiError::query_syntax(PARAM, offset, reason)
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn parse_or(&mut self) -> Result<ScopeExpr> {
        let mut operands = vec![self.parse_and()?];
        // Clause 4.19: a comma is an alternative spelling of OR.
        while matches!(self.peek(), Some(b'|' | b',')) {
            self.pos += 1;
            operands.push(self.parse_and()?);
        }
        Ok(collapse(operands, ScopeExpr::Or))
    }

    fn parse_and(&mut self) -> Result<ScopeExpr> {
        let mut operands = vec![self.parse_primary()?];
        while self.peek() == Some(b';') {
            self.pos += 1;
            operands.push(self.parse_primary()?);
        }
        Ok(collapse(operands, ScopeExpr::And))
    }

    fn parse_primary(&mut self) -> Result<ScopeExpr> {
        if self.peek() != Some(b'(') {
            return self.parse_term().map(ScopeExpr::Term);
        }
        let open = self.pos;
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(NgsiError::TooComplex(format!(
                "scopeQ: parentheses nested deeper than {MAX_DEPTH}"
            )));
        }
        let inner = self.parse_or()?;
        match self.peek() {
            Some(b')') => self.pos += 1,
            None => return Err(self.error(open, "unclosed '('")),
            Some(_) => return Err(self.error(self.pos, "expected ')'")),
        }
        self.depth -= 1;
        Ok(inner)
    }

    /// `[/] level *(/ level)` where a level is a `ScopeLevel` (clause 4.18), `+`, or a final `#`.
    fn parse_term(&mut self) -> Result<ScopePattern> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(NgsiError::TooComplex(format!(
                "scopeQ: more than {MAX_TERMS} scope terms"
            )));
        }
        let absolute = self.peek() == Some(b'/');
        if absolute {
            self.pos += 1;
        }
        let mut levels = Vec::new();
        loop {
            let start = self.pos;
            let rest = &self.src[self.pos..];
            let level = if rest.starts_with('+') {
                self.pos += 1;
                ScopeLevel::AnyOne
            } else if rest.starts_with('#') {
                self.pos += 1;
                ScopeLevel::Descendants
            } else {
                let mut chars = rest.char_indices();
                if !chars.next().is_some_and(|(_, c)| c.is_alphabetic()) {
                    return Err(self.error(start, "expected a scope level"));
                }
                let len = chars
                    .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
                    .map_or(rest.len(), |(i, _)| i);
                self.pos += len;
                ScopeLevel::Name(rest[..len].to_owned())
            };
            let last = level == ScopeLevel::Descendants;
            levels.push(level);
            if self.peek() != Some(b'/') {
                break;
            }
            if last {
                return Err(self.error(self.pos, "'#' must be the last level"));
            }
            self.pos += 1;
        }
        Ok(ScopePattern { absolute, levels })
    }
}

fn collapse(operands: Vec<ScopeExpr>, node: fn(Vec<ScopeExpr>) -> ScopeExpr) -> ScopeExpr {
    match <[ScopeExpr; 1]>::try_from(operands) {
        Ok([only]) => only,
        Err(operands) => node(operands),
    }
}

impl Display for ScopeQuery {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}

impl Display for ScopeExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (operands, sep) = match self {
            ScopeExpr::Term(p) => return p.fmt(f),
            ScopeExpr::And(v) => (v, ';'),
            ScopeExpr::Or(v) => (v, '|'),
        };
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_char(sep)?;
            }
            let bare = matches!(operand, ScopeExpr::Term(_))
                || (sep == '|' && matches!(operand, ScopeExpr::And(_)));
            if bare {
                operand.fmt(f)?;
            } else {
                write!(f, "({operand})")?;
            }
        }
        Ok(())
    }
}

impl Display for ScopePattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, level) in self.levels.iter().enumerate() {
            if i > 0 || self.absolute {
                f.write_char('/')?;
            }
            match level {
                ScopeLevel::Name(n) => f.write_str(n)?,
                ScopeLevel::AnyOne => f.write_char('+')?,
                ScopeLevel::Descendants => f.write_char('#')?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scoped(scopes: &[&str]) -> Entity {
        let mut e = Entity::new("urn:ngsi-ld:T:1", vec!["https://example.org/T".into()]);
        e.scope = scopes.iter().map(|s| (*s).to_owned()).collect();
        e
    }

    fn parse(s: &str) -> ScopeQuery {
        ScopeQuery::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn exact_one_level_and_subtree() {
        let e = scoped(&["/Madrid/Gardens/ParqueNorte", "/CompanyA/UnitC"]);
        let cases = [
            ("/Madrid/Gardens/ParqueNorte", true),
            ("Madrid/Gardens/ParqueNorte", true),
            ("/Madrid/Gardens", false),
            ("/Madrid/#", true),
            ("/Madrid/Gardens/ParqueNorte/#", true),
            ("/Madrid/Gardens/ParqueNorte/North/#", false),
            ("/#", true),
            ("/Madrid/+", false),
            ("/Madrid/+/ParqueNorte", true),
            ("/+/+/+", true),
            ("/+/UnitC", true),
            ("/+", false),
            ("/Barcelona/#", false),
            ("/Madrid/#;/CompanyA/#", true),
            ("/Madrid/#;/CompanyB/#", false),
            ("/Barcelona|/CompanyA/UnitC", true),
            ("(/Barcelona|/CompanyA/+);/Madrid/#", true),
            ("/Barcelona|/CompanyA/+;/Sevilla", false),
        ];
        for (q, expected) in cases {
            assert_eq!(parse(q).matches(&e), expected, "{q}");
        }
        assert!(!parse("/#").matches(&scoped(&[])));
    }

    #[test]
    fn clause_4_19_examples() {
        let cases = [
            ("/Madrid", &["/Madrid"][..], true),
            ("/Madrid", &["/Madrid/Gardens"][..], false),
            ("/Madrid/Gardens/#", &["/Madrid/Gardens"][..], true),
            (
                "/Madrid/Gardens/#",
                &["/Madrid/Gardens/ParqueNorte/Parterre1"][..],
                true,
            ),
            ("/Madrid/Gardens/#", &["/Madrid/GardensX"][..], false),
            (
                "/Madrid/+/ParqueNorte",
                &["/Madrid/Sights/ParqueNorte"][..],
                true,
            ),
            (
                "(/Madrid/Districts;/CompanyA)",
                &["/Madrid/Districts", "/CompanyA"][..],
                true,
            ),
            (
                "(/Madrid/Districts;/CompanyA)",
                &["/Madrid/Districts"][..],
                false,
            ),
            (
                "(/Madrid/Districts;/CompanyA)|CompanyB",
                &["/CompanyB"][..],
                true,
            ),
            (
                "(/Madrid/Districts;/CompanyA),CompanyB",
                &["/CompanyB"][..],
                true,
            ),
            (
                "(/Madrid/Districts;/CompanyA),CompanyB",
                &["/CompanyC"][..],
                false,
            ),
        ];
        for (q, scopes, expected) in cases {
            assert_eq!(
                parse(q).matches(&scoped(scopes)),
                expected,
                "{q} on {scopes:?}"
            );
        }
        assert_eq!(parse("/a,/b").to_string(), "/a|/b");
    }

    #[test]
    fn prints_back() {
        for q in [
            "/Madrid",
            "Madrid/Gardens",
            "/a/+/b",
            "/a/#",
            "/a;/b|/c",
            "/a;(/b|/c)",
            "(/a;/b);/c",
        ] {
            assert_eq!(parse(q).to_string(), q);
        }
    }

    #[test]
    fn syntax_errors_have_positions() {
        let cases = [
            ("", 0),
            ("/", 1),
            ("//a", 1),
            ("/a/", 3),
            ("/a/#/b", 4),
            ("/a;", 3),
            ("(/a", 0),
            ("/a)", 2),
            ("/1a", 1),
            ("/a-b", 2),
            ("/a b", 2),
        ];
        for (q, offset) in cases {
            match ScopeQuery::parse(q) {
                Err(NgsiError::QuerySyntax { position, .. }) => {
                    assert_eq!((position.param, position.offset), ("scopeQ", offset), "{q}")
                }
                other => panic!("{q}: {other:?}"),
            }
        }
        let deep = format!("{}/a{}", "(".repeat(33), ")".repeat(33));
        assert!(matches!(
            ScopeQuery::parse(&deep),
            Err(NgsiError::TooComplex(_))
        ));
    }
}
