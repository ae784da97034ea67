//! Printing a query back in the syntax of clause 4.9.
//!
//! The output parses back to the same tree: groups are parenthesised exactly where the tree
//! has them, strings are JSON-escaped, numbers use Rust's shortest round-trip form and
//! date-times keep all their sub-second digits.

use std::fmt::{self, Display, Formatter, Write};

use chrono::SecondsFormat;

use super::ast::{AttrPath, Condition, Expr, Operand, QueryTerm, Value};

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (operands, sep) = match self {
            Expr::Term(term) => return term.fmt(f),
            Expr::And(operands) => (operands, ';'),
            Expr::Or(operands) => (operands, '|'),
        };
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_char(sep)?;
            }
            // Only an AND directly inside an OR can go without parentheses: AND binds tighter.
            let bare =
                matches!(operand, Expr::Term(_)) || (sep == '|' && matches!(operand, Expr::And(_)));
            if bare {
                operand.fmt(f)?;
            } else {
                write!(f, "({operand})")?;
            }
        }
        Ok(())
    }
}

impl Display for QueryTerm {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.attribute.fmt(f)?;
        match &self.condition {
            Condition::Exists => Ok(()),
            Condition::Compare { op, operand } => {
                f.write_str(op.as_str())?;
                operand.fmt(f)
            }
            Condition::Pattern { regex, negated } => {
                f.write_str(if *negated { "!~=" } else { "~=" })?;
                f.write_str(regex.as_str())
            }
        }
    }
}

impl Display for AttrPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            f.write_str(name)?;
        }
        for member in &self.members {
            write!(f, "[{member}]")?;
        }
        if let Some(linked) = &self.linked {
            f.write_char('{')?;
            if !linked.types.is_empty() {
                write!(f, "{}:", linked.types.join(","))?;
            }
            write!(f, "{}}}", linked.path)?;
        }
        Ok(())
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Single(v) => v.fmt(f),
            Operand::Range(lo, hi) => write!(f, "{lo}..{hi}"),
            Operand::List(values) => {
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    v.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::Text(s) => {
                let quoted = serde_json::to_string(s).map_err(|_| fmt::Error)?;
                f.write_str(&quoted)
            }
            Value::Bool(b) => write!(f, "{b}"),
            Value::DateTime(dt) => f.write_str(&dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::Time(t) => write!(f, "{}Z", t.format("%H:%M:%S%.f")),
            Value::Uri(u) => f.write_str(u),
        }
    }
}
