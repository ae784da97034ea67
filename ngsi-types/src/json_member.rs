//! Readers of single JSON members of the API's own data types (Subscription, NotificationParams,
//! CSourceRegistration, ...): each checks the JSON type and names the member in its
//! BadRequestData error.

use serde_json::Value;

use crate::context::ActiveContext;
use crate::error::{NgsiError, Result};
use crate::ident::check_name;

/// BadRequestData about `member`.
pub fn bad(member: &str, reason: impl Into<String>) -> NgsiError {
    NgsiError::InvalidParameter {
        param: member.to_owned(),
        reason: reason.into(),
    }
}

/// JSON `null` or the NGSI-LD Null: in an update, the member goes back to its default.
pub fn is_null(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some(crate::attribute::NGSI_LD_NULL)
}

pub fn string<'a>(member: &str, v: &'a Value) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| bad(member, format!("must be a string, not {v}")))
}

/// A string, or `None` for a null (see [`is_null`]).
pub fn opt_string(member: &str, v: &Value) -> Result<Option<String>> {
    if is_null(v) {
        return Ok(None);
    }
    string(member, v).map(|s| Some(s.to_owned()))
}

/// A string that is not empty (registrationName, description, ... of 5.2.9).
pub fn non_empty_string(member: &str, v: &Value) -> Result<String> {
    match string(member, v)? {
        "" => Err(bad(member, "must not be an empty string")),
        s => Ok(s.to_owned()),
    }
}

pub fn flag(member: &str, v: &Value) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| bad(member, format!("must be a boolean, not {v}")))
}

pub fn non_empty_array<'a>(member: &str, v: &'a Value) -> Result<&'a Vec<Value>> {
    match v.as_array() {
        Some(items) if !items.is_empty() => Ok(items),
        Some(_) => Err(bad(member, "must not be an empty array")),
        None => Err(bad(member, format!("must be an array, not {v}"))),
    }
}

pub fn object<'a>(member: &str, v: &'a Value) -> Result<&'a serde_json::Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad(member, format!("must be a JSON object, not {v}")))
}

/// A finite number greater than 0 (throttling, timeInterval, timeouts, cooldowns).
pub fn positive(member: &str, v: &Value) -> Result<f64> {
    match v.as_f64() {
        Some(n) if n > 0.0 && n.is_finite() => Ok(n),
        _ => Err(bad(
            member,
            format!("must be a number greater than 0, not {v}"),
        )),
    }
}

/// A string, or a non-empty array of strings, as a list.
pub fn one_or_many<'a>(member: &str, v: &'a Value) -> Result<Vec<&'a str>> {
    match v {
        Value::Array(_) => non_empty_array(member, v)?
            .iter()
            .map(|item| string(member, item))
            .collect(),
        other => Ok(vec![string(member, other)?]),
    }
}

/// A non-empty list of attribute names, expanded, without duplicates.
pub fn names(member: &str, v: &Value, ctx: &ActiveContext) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in non_empty_array(member, v)? {
        let name = string(member, item)?;
        check_name(member, name)?;
        let expanded = ctx.expand_term(name).into_owned();
        if !out.contains(&expanded) {
            out.push(expanded);
        }
    }
    Ok(out)
}
