//! Readers of single JSON members, shared by the Subscription and NotificationParams
//! readers: each checks the JSON type and names the member in its BadRequestData error.

use ngsi_types::context::ActiveContext;
use ngsi_types::ident::check_name;
use ngsi_types::NgsiError;
use serde_json::Value;

pub(super) type Result<T> = std::result::Result<T, NgsiError>;

pub(super) fn bad(member: &str, reason: impl Into<String>) -> NgsiError {
    NgsiError::InvalidParameter {
        param: member.to_owned(),
        reason: reason.into(),
    }
}

pub(super) fn is_null(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some(ngsi_types::attribute::NGSI_LD_NULL)
}

pub(super) fn string<'a>(member: &str, v: &'a Value) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| bad(member, format!("must be a string, not {v}")))
}

pub(super) fn opt_string(member: &str, v: &Value) -> Result<Option<String>> {
    if is_null(v) {
        return Ok(None);
    }
    string(member, v).map(|s| Some(s.to_owned()))
}

pub(super) fn flag(member: &str, v: &Value) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| bad(member, format!("must be a boolean, not {v}")))
}

pub(super) fn non_empty_array<'a>(member: &str, v: &'a Value) -> Result<&'a Vec<Value>> {
    match v.as_array() {
        Some(items) if !items.is_empty() => Ok(items),
        Some(_) => Err(bad(member, "must not be an empty list")),
        None => Err(bad(member, format!("must be an array, not {v}"))),
    }
}

/// Clause 5.2.12: throttling, timeInterval (and the endpoint timeout) are greater than zero.
pub(super) fn positive(member: &str, v: &Value) -> Result<f64> {
    match v.as_f64() {
        Some(n) if n > 0.0 && n.is_finite() => Ok(n),
        _ => Err(bad(
            member,
            format!("must be a number greater than 0, not {v}"),
        )),
    }
}

/// A non-empty list of attribute names, expanded.
pub(super) fn names(member: &str, v: &Value, ctx: &ActiveContext) -> Result<Vec<String>> {
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
