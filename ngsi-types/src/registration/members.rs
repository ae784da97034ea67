//! Readers of single JSON members of a registration: each checks the JSON type and names the
//! member in its BadRequestData error.

use serde_json::Value;

use crate::error::{NgsiError, Result};

pub(super) fn bad(member: &str, reason: impl Into<String>) -> NgsiError {
    NgsiError::InvalidParameter {
        param: member.to_owned(),
        reason: reason.into(),
    }
}

/// JSON `null` or the NGSI-LD Null: in an update, the member goes back to its default.
pub(super) fn is_null(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some(crate::attribute::NGSI_LD_NULL)
}

pub(super) fn string<'a>(member: &str, v: &'a Value) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| bad(member, format!("must be a string, not {v}")))
}

/// GS CIM 009 5.2.9: registrationName, description and contextSourceAlias are non-empty.
pub(super) fn non_empty_string(member: &str, v: &Value) -> Result<String> {
    match string(member, v)? {
        "" => Err(bad(member, "must not be an empty string")),
        s => Ok(s.to_owned()),
    }
}

pub(super) fn non_empty_array<'a>(member: &str, v: &'a Value) -> Result<&'a Vec<Value>> {
    match v.as_array() {
        Some(items) if !items.is_empty() => Ok(items),
        Some(_) => Err(bad(member, "must not be an empty array")),
        None => Err(bad(member, format!("must be an array, not {v}"))),
    }
}

pub(super) fn object<'a>(member: &str, v: &'a Value) -> Result<&'a serde_json::Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad(member, format!("must be a JSON object, not {v}")))
}

/// GS CIM 009 5.2.34: timeout and cooldown are numbers greater than 0.
pub(super) fn positive(member: &str, v: &Value) -> Result<f64> {
    match v.as_f64() {
        Some(n) if n > 0.0 && n.is_finite() => Ok(n),
        _ => Err(bad(
            member,
            format!("must be a number greater than 0, not {v}"),
        )),
    }
}

/// A string, or an array of strings, as a list.
pub(super) fn one_or_many<'a>(member: &str, v: &'a Value) -> Result<Vec<&'a str>> {
    match v {
        Value::Array(_) => non_empty_array(member, v)?
            .iter()
            .map(|item| string(member, item))
            .collect(),
        other => Ok(vec![string(member, other)?]),
    }
}
