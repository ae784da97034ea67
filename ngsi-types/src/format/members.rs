//! Small pieces of JSON rendering that the resources other than entities share
//! (subscriptions, context source registrations): lists of compacted names, optional string
//! members, numbers and instants as a client reads them.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::context::ActiveContext;
use crate::datetime::format_datetime;

/// Expanded names, compacted with `ctx`, as a JSON array (even of one).
pub fn compact_all(names: &[String], ctx: &ActiveContext) -> Value {
    Value::Array(
        names
            .iter()
            .map(|n| Value::String(ctx.compact_iri(n).into_owned()))
            .collect(),
    )
}

/// Inserts `member` when there is a value.
pub fn put_opt(out: &mut Map<String, Value>, member: &str, v: Option<&str>) {
    if let Some(v) = v {
        out.insert(member.into(), json!(v));
    }
}

/// A number as the client most likely wrote it: `5`, not `5.0`.
pub fn plain_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// An instant as an NGSI-LD DateTime, or null.
pub fn time_or_null(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| json!(format_datetime(&t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_the_form_a_client_wrote() {
        assert_eq!(plain_number(5.0), json!(5));
        assert_eq!(plain_number(0.5), json!(0.5));
        assert_eq!(time_or_null(None), Value::Null);
    }
}
