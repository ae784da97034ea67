//! Recursive-descent parser for the `q` grammar of GS CIM 009 clause 4.9.
//!
//! The grammar has no whitespace and its values are context dependent (what follows `~=` is a
//! regular expression, what follows `==` may be a list or a range), so the parser reads bytes
//! directly instead of going through a separate token stream. Every error carries the byte
//! offset where the input stopped making sense.

use chrono::NaiveTime;
use regex::RegexBuilder;

use super::ast::{
    AttrPath, Condition, Expr, LinkedPath, Operand, Operator, Pattern, QueryTerm, Value,
};
use crate::datetime::{parse_date, parse_datetime};
use crate::error::{NgsiError, Result};
use crate::ident::is_uri;

/// Deepest nesting of parentheses accepted.
pub const MAX_DEPTH: usize = 32;
/// Most query terms accepted in one query.
pub const MAX_TERMS: usize = 256;
/// Size limit of one compiled regular expression: a client cannot make the broker build a huge
/// automaton.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

const PARAM: &str = "q";

pub(crate) fn parse(src: &str) -> Result<Expr> {
    let mut parser = Parser {
        src,
        pos: 0,
        depth: 0,
        terms: 0,
    };
    if src.is_empty() {
        return Err(parser.error(0, "empty query"));
    }
    let expr = parser.parse_or()?;
    match parser.peek() {
        None => Ok(expr),
        Some(b')') => Err(parser.error(parser.pos, "unbalanced ')'")),
        Some(_) => Err(parser.error(parser.pos, "expected ';', '|' or the end of the query")),
    }
}

/// Compiles a regular expression for `~=` / `!~=` (and `idPattern`), with the size limit.
pub(crate) fn compile_pattern(param: &'static str, offset: usize, source: &str) -> Result<Pattern> {
    let regex = RegexBuilder::new(source)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => NgsiError::TooComplex(format!(
                "{param}: regular expression exceeds the size limit of {limit} bytes"
            )),
            other => NgsiError::query_syntax(
                param,
                offset,
                format!(
                    "invalid regular expression: {}",
                    last_line(&other.to_string())
                ),
            ),
        })?;
    if has_nested_repetition(source) {
        return Err(NgsiError::query_syntax(
            param,
            offset,
            "invalid regular expression: a repetition operator cannot repeat another",
        ));
    }
    Ok(Pattern {
        source: source.to_owned(),
        regex,
    })
}

/// True for `a**`, `a+*` or `a{2}+`: the regex crate reads them, but the
/// POSIX expressions that clause 6.4.3.2 refers to (IEEE 1003.2) leave several adjacent
/// duplication symbols undefined, so a client cannot rely on them. Lazy forms (`a*?`) are one
/// repetition, not two. Called on a pattern that already compiled.
fn has_nested_repetition(source: &str) -> bool {
    use regex_syntax::ast::Ast;
    fn nested(ast: &Ast) -> bool {
        match ast {
            Ast::Repetition(r) => matches!(*r.ast, Ast::Repetition(_)) || nested(&r.ast),
            Ast::Group(g) => nested(&g.ast),
            Ast::Alternation(a) => a.asts.iter().any(nested),
            Ast::Concat(c) => c.asts.iter().any(nested),
            _ => false,
        }
    }
    regex_syntax::ast::parse::Parser::new()
        .parse(source)
        .is_ok_and(|ast| nested(&ast))
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    terms: usize,
}

impl Parser<'_> {
    fn error(&self, offset: usize, reason: impl Into<String>) -> NgsiError {
        NgsiError::query_syntax(PARAM, offset, reason)
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// `Query`: AND binds tighter than OR (clause 4.9).
    fn parse_or(&mut self) -> Result<Expr> {
        let first = self.parse_and()?;
        if self.peek() != Some(b'|') {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.eat("|") {
            operands.push(self.parse_and()?);
        }
        Ok(Expr::Or(operands))
    }

    fn parse_and(&mut self) -> Result<Expr> {
        let first = self.parse_primary()?;
        if self.peek() != Some(b';') {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.eat(";") {
            operands.push(self.parse_primary()?);
        }
        Ok(Expr::And(operands))
    }

    /// `QueryTermAssoc` or `QueryTerm`. The grammar allows one level of parentheses but its own
    /// EXAMPLE 6 nests two; any depth up to [`MAX_DEPTH`] is accepted.
    fn parse_primary(&mut self) -> Result<Expr> {
        if self.peek() != Some(b'(') {
            return self.parse_term().map(Expr::Term);
        }
        let open = self.pos;
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(NgsiError::TooComplex(format!(
                "q: parentheses nested deeper than {MAX_DEPTH}"
            )));
        }
        let inner = self.parse_or()?;
        if !self.eat(")") {
            return Err(match self.peek() {
                None => self.error(open, "unclosed '('"),
                Some(_) => self.error(self.pos, "expected ')'"),
            });
        }
        self.depth -= 1;
        Ok(inner)
    }

    fn parse_term(&mut self) -> Result<QueryTerm> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(NgsiError::TooComplex(format!(
                "q: more than {MAX_TERMS} query terms"
            )));
        }
        let attribute = self.parse_attribute()?;
        let condition = self.parse_condition()?;
        Ok(QueryTerm {
            attribute,
            condition,
            vocab_values: Vec::new(),
        })
    }

    /// `Attribute`: `DottedPath` then an optional trailing path in brackets, either `[a.b]`
    /// (v1.9 `ValuePath`) or `[a][b]` (v1.8 `compoundAttrName`).
    fn parse_attribute(&mut self) -> Result<AttrPath> {
        let mut names = vec![self.parse_name()?];
        if self.peek() == Some(b'{') {
            return self.parse_linked(names);
        }
        while self.eat(".") {
            names.push(self.parse_name()?);
        }
        let mut members = Vec::new();
        while self.peek() == Some(b'[') {
            let open = self.pos;
            self.pos += 1;
            loop {
                members.push(self.parse_member()?);
                if !self.eat(".") {
                    break;
                }
            }
            if !self.eat("]") {
                return Err(self.error(self.pos, "expected ']'"));
            }
            if members.iter().any(|m| m == "*") && members.len() > 1 {
                return Err(self.error(open, "'*' must be the only member of a trailing path"));
            }
        }
        if self.peek() == Some(b'{') {
            return Err(self.error(
                self.pos,
                "a linked entity path ('{...}') follows a Relationship name only",
            ));
        }
        Ok(AttrPath::local(names, members))
    }

    /// `AttrName{LinkedEntityPath}` (clause 4.9): the path inside the entities the
    /// Relationship targets, after an optional hint of their types, `Type1,Type2:`.
    fn parse_linked(&mut self, names: Vec<String>) -> Result<AttrPath> {
        let open = self.pos;
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(NgsiError::TooComplex(format!(
                "q: linked entity paths nested deeper than {MAX_DEPTH}"
            )));
        }
        let types = self.parse_type_hint();
        let path = self.parse_attribute()?;
        if !self.eat("}") {
            return Err(self.error(
                self.pos,
                format!("expected '}}' closing the '{{' at {open}"),
            ));
        }
        self.depth -= 1;
        Ok(AttrPath {
            names,
            members: Vec::new(),
            linked: Some(Box::new(LinkedPath { types, path })),
        })
    }

    /// `EntityType *(, EntityType) :` before a linked path's attribute; nothing (and the
    /// position unchanged) when the path has no such hint. A `word:word` at the start of a
    /// linked path reads as a hint, as the grammar puts the hint first.
    fn parse_type_hint(&mut self) -> Vec<String> {
        let start = self.pos;
        let mut types = Vec::new();
        loop {
            let word = self.pos;
            self.scan_word();
            if self.pos == word {
                break;
            }
            types.push(self.src[word..self.pos].to_owned());
            if !self.eat(",") {
                break;
            }
        }
        let hint = !types.is_empty()
            && self.peek() == Some(b':')
            && self.src[self.pos + 1..]
                .chars()
                .next()
                .is_some_and(char::is_alphabetic);
        if hint {
            self.pos += 1;
            types
        } else {
            self.pos = start;
            Vec::new()
        }
    }

    /// `AttrName` (a letter, then letters, digits and `_`), optionally with a prefix as clause
    /// 4.6.2 allows (`schema:name`).
    fn parse_name(&mut self) -> Result<String> {
        let start = self.pos;
        self.scan_word();
        if self.pos == start {
            return Err(self.error(start, "expected an attribute name"));
        }
        if self.peek() == Some(b':') {
            let after = self.pos + 1;
            self.pos = after;
            self.scan_word();
            if self.pos == after {
                return Err(self.error(after, "expected a name after the prefix"));
            }
        }
        Ok(self.src[start..self.pos].to_owned())
    }

    /// Advances over `unicodeLetter *TermChar`; leaves `pos` unchanged if no letter is there.
    fn scan_word(&mut self) {
        let mut chars = self.rest().char_indices();
        match chars.next() {
            Some((_, c)) if c.is_alphabetic() => {}
            _ => return,
        }
        let len = chars
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
            .map_or(self.rest().len(), |(i, _)| i);
        self.pos += len;
    }

    /// A member of a trailing path: a JSON member name or a language tag (`en-GB`), or `*`
    /// (any language, clause 4.9).
    fn parse_member(&mut self) -> Result<String> {
        let start = self.pos;
        if self.eat("*") {
            return Ok("*".to_owned());
        }
        let len = self
            .rest()
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .map_or(self.rest().len(), |(i, _)| i);
        if len == 0 {
            return Err(self.error(start, "expected a member name"));
        }
        self.pos += len;
        Ok(self.src[start..self.pos].to_owned())
    }

    fn parse_condition(&mut self) -> Result<Condition> {
        let at = self.pos;
        if matches!(self.peek(), None | Some(b';' | b'|' | b')')) {
            return Ok(Condition::Exists);
        }
        // Longest operators first: `!~=` before `!=`, `>=` before `>`.
        if self.eat("!~=") {
            return self.parse_pattern(true);
        }
        if self.eat("~=") {
            return self.parse_pattern(false);
        }
        let op = [
            ("==", Operator::Equal),
            ("!=", Operator::Unequal),
            (">=", Operator::GreaterEq),
            (">", Operator::Greater),
            ("<=", Operator::LessEq),
            ("<", Operator::Less),
        ]
        .into_iter()
        .find_map(|(text, op)| self.eat(text).then_some(op))
        .ok_or_else(|| self.error(at, "expected an operator or the end of the term"))?;
        let value_at = self.pos;
        let operand = self.parse_operand()?;
        let comparable = match &operand {
            Operand::Single(v) => v.is_comparable(),
            Operand::List(_) | Operand::Range(..) => false,
        };
        if !op.is_equality() && !comparable {
            return Err(self.error(
                value_at,
                format!(
                    "operator {} takes a number, a string, a date, a time or a date-time",
                    op.as_str()
                ),
            ));
        }
        Ok(Condition::Compare { op, operand })
    }

    /// `RegExp`: up to the next `;`, `|` or `)` outside the regular expression's own
    /// parentheses and bracket classes (so `a~=(x|y);b` ends the pattern at `;`).
    fn parse_pattern(&mut self, negated: bool) -> Result<Condition> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let (mut depth, mut in_class, mut i) = (0usize, false, start);
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 1,
                b'[' => in_class = true,
                b']' => in_class = false,
                b'(' if !in_class => depth += 1,
                b')' if !in_class && depth == 0 => break,
                b')' if !in_class => depth -= 1,
                b';' | b'|' if !in_class && depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(bytes.len());
        if end == start {
            return Err(self.error(start, "expected a regular expression"));
        }
        let regex = compile_pattern(PARAM, start, &self.src[start..end])?;
        self.pos = end;
        Ok(Condition::Pattern { regex, negated })
    }

    /// `ComparableValue`, `ValueList`, `Range`, `OtherValue` or `URI`.
    fn parse_operand(&mut self) -> Result<Operand> {
        let first_at = self.pos;
        let first = self.parse_value()?;
        if self.eat("..") {
            let second_at = self.pos;
            let second = self.parse_value()?;
            for (v, at) in [(&first, first_at), (&second, second_at)] {
                if !v.is_comparable() {
                    return Err(self.error(at, "a range bound must be a number, string or date"));
                }
            }
            return Ok(Operand::Range(first, second));
        }
        if self.peek() != Some(b',') {
            return Ok(Operand::Single(first));
        }
        let mut values = vec![first];
        while self.eat(",") {
            values.push(self.parse_value()?);
        }
        Ok(Operand::List(values))
    }

    fn parse_value(&mut self) -> Result<Value> {
        let start = self.pos;
        if self.peek() == Some(b'"') {
            return self.parse_quoted();
        }
        let rest = self.rest();
        let token_len = rest.find([';', '|', ')', ',', '"']).unwrap_or(rest.len());
        let token = &rest[..token_len];
        if token.is_empty() {
            return Err(self.error(start, "expected a value"));
        }
        // The lower bound of a range ends at `..` (`1..5`, `2020-01-01..2020-12-31`).
        if let Some(dots) = token.find("..") {
            if let Some(v) = scalar(&token[..dots]).filter(Value::is_comparable) {
                self.pos += dots;
                return Ok(v);
            }
        }
        match scalar(token) {
            Some(v) => {
                self.pos += token_len;
                Ok(v)
            }
            None => Err(self.error(start, format!("invalid value '{token}'"))),
        }
    }

    /// `quotedStr`: a JSON string (RFC 8259 section 7), escapes included.
    fn parse_quoted(&mut self) -> Result<Value> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        if i >= bytes.len() {
            return Err(self.error(start, "unterminated string"));
        }
        let text: String = serde_json::from_str(&self.src[start..=i])
            .map_err(|e| self.error(start, format!("invalid string: {e}")))?;
        self.pos = i + 1;
        Ok(Value::Text(text))
    }
}

/// Classifies an unquoted literal. Order matters: a date-time is also made of digits, and a URI
/// check would accept `true:x`-like text but never a number or a date.
fn scalar(token: &str) -> Option<Value> {
    match token {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    if is_json_number(token) {
        return token
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Value::Number);
    }
    if token.contains('T') {
        if let Some(dt) = parse_datetime(token) {
            return Some(Value::DateTime(dt));
        }
    }
    if token.len() == 10 {
        if let Some(d) = parse_date(token) {
            return Some(Value::Date(d));
        }
    }
    if let Some(t) = parse_time(token) {
        return Some(Value::Time(t));
    }
    if is_uri(token) {
        return Some(Value::Uri(token.to_owned()));
    }
    // Not in the grammar, but clause 4.9 EXAMPLE 12 writes `gender==Male`: a bare name is read
    // as the string it spells.
    let mut chars = token.chars();
    let is_name = chars.next().is_some_and(char::is_alphabetic)
        && chars.all(|c| c.is_alphanumeric() || c == '_');
    is_name.then(|| Value::Text(token.to_owned()))
}

/// Time as clause 4.6.3 writes it: `hh:mm:ss[.fff][Z]`.
pub(crate) fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    if s.len() < 8 || !s.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    NaiveTime::parse_from_str(s, "%H:%M:%S%.f").ok()
}

/// RFC 8259 section 6 `number`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}
