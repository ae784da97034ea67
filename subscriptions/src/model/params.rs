//! NotificationParams (clause 5.2.14) and Endpoint (clause 5.2.15) in their API form.

use ngsi_types::context::ActiveContext;
use ngsi_types::format::{Format, Join};
use serde_json::Value;

use ngsi_types::ident::check_name;

use super::members::{bad, flag, is_null, names, non_empty_array, positive, string, Result};
use super::{Accept, Endpoint, KeyValue, NotificationParams};

/// The deepest Linked Entity retrieval a notification makes (as for queries).
const MAX_JOIN_LEVEL: usize = 16;

/// NotificationParams (clause 5.2.14), a full object on create and on update alike: an
/// update replaces the `notification` member as a whole (clause 5.5.8), so its endpoint is
/// mandatory there too.
pub(super) fn parse_notification(value: &Value, ctx: &ActiveContext) -> Result<NotificationParams> {
    let obj = value
        .as_object()
        .ok_or_else(|| bad("notification", format!("must be an object, not {value}")))?;
    let mut params = NotificationParams {
        attributes: Vec::new(),
        pick: Vec::new(),
        omit: Vec::new(),
        format: Format::Normalized,
        sys_attrs: false,
        show_changes: false,
        join: None,
        join_level: None,
        endpoint: parse_endpoint(
            obj.get("endpoint")
                .ok_or_else(|| bad("notification.endpoint", "is mandatory"))?,
        )?,
    };
    for (member, v) in obj {
        let reset = is_null(v);
        match member.as_str() {
            "attributes" if reset => params.attributes.clear(),
            "attributes" => params.attributes = names("notification.attributes", v, ctx)?,
            "pick" if reset => params.pick.clear(),
            "pick" => params.pick = members("notification.pick", v, ctx)?,
            "omit" if reset => params.omit.clear(),
            "omit" => params.omit = members("notification.omit", v, ctx)?,
            "format" if reset => params.format = Format::Normalized,
            "format" => {
                let name = string("notification.format", v)?;
                params.format = Format::parse(name).map_err(|_| {
                    bad(
                        "notification.format",
                        format!("unknown format '{name}' (normalized, concise or keyValues)"),
                    )
                })?;
            }
            "sysAttrs" => params.sys_attrs = flag("notification.sysAttrs", v)?,
            "showChanges" => params.show_changes = flag("notification.showChanges", v)?,
            "endpoint" => params.endpoint = parse_endpoint(v)?,
            "join" if reset => params.join = None,
            "join" => {
                let name = string("notification.join", v)?;
                params.join = Join::parse(name).ok_or_else(|| {
                    bad(
                        "notification.join",
                        format!("must be flat, inline or @none, not '{name}'"),
                    )
                })?;
            }
            "joinLevel" if reset => params.join_level = None,
            "joinLevel" => {
                let level = v.as_u64().filter(|l| *l > 0).ok_or_else(|| {
                    bad(
                        "notification.joinLevel",
                        format!("must be a positive integer, not {v}"),
                    )
                })?;
                params.join_level = Some(level.min(MAX_JOIN_LEVEL as u64) as usize);
            }
            // Read-only status members: ignored on input.
            "status" | "timesSent" | "timesFailed" | "lastNotification" | "lastFailure"
            | "lastSuccess" => {}
            other => {
                return Err(bad(
                    &format!("notification.{other}"),
                    "unknown or unsupported NotificationParams member",
                ))
            }
        }
    }
    check_notification(&params)?;
    Ok(params)
}

/// The rules between NotificationParams members (clause 5.2.14.1), checked on the merged
/// result so that create and update agree.
fn check_notification(params: &NotificationParams) -> Result<()> {
    if params.show_changes && params.format == Format::KeyValues {
        return Err(bad(
            "notification.showChanges",
            "cannot be true when the format is keyValues (simplified)",
        ));
    }
    let projections = [
        ("attributes", !params.attributes.is_empty()),
        ("pick", !params.pick.is_empty()),
        ("omit", !params.omit.is_empty()),
    ];
    let given: Vec<&str> = projections
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect();
    if given.len() > 1 {
        // Clause 4.21: pick and omit exclude each other; attributes is pick's deprecated
        // synonym.
        return Err(bad(
            &format!("notification.{}", given[1]),
            format!("cannot be used together with notification.{}", given[0]),
        ));
    }
    Ok(())
}

/// Clause 5.2.14.1: `pick` and `omit` name entity members (`id`, `type`, `scope`) or
/// attributes, which are expanded.
fn members(member: &str, v: &Value, ctx: &ActiveContext) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in non_empty_array(member, v)? {
        let name = string(member, item)?;
        let name = match name {
            "id" | "type" | "scope" => name.to_owned(),
            _ => {
                check_name(member, name)?;
                ctx.expand_term(name).into_owned()
            }
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Endpoint (clause 5.2.15).
fn parse_endpoint(value: &Value) -> Result<Endpoint> {
    const M: &str = "notification.endpoint";
    let obj = value
        .as_object()
        .ok_or_else(|| bad(M, format!("must be an object, not {value}")))?;
    let uri = string(
        "notification.endpoint.uri",
        obj.get("uri").unwrap_or(&Value::Null),
    )?;
    check_endpoint_uri(uri)?;
    let accept = match obj
        .get("accept")
        .map(|v| string("notification.endpoint.accept", v))
    {
        None => Accept::Json,
        Some(Ok("application/json")) => Accept::Json,
        Some(Ok("application/ld+json")) => Accept::JsonLd,
        Some(Ok(other)) => {
            return Err(bad(
                "notification.endpoint.accept",
                format!("'{other}' is not supported (application/json or application/ld+json)"),
            ))
        }
        Some(Err(e)) => return Err(e),
    };
    let timeout = match obj.get("timeout") {
        None => None,
        // Milliseconds; a fraction below one still means "some time".
        Some(v) => Some(positive("notification.endpoint.timeout", v)?.ceil() as u64),
    };
    let receiver_info = key_values(
        "notification.endpoint.receiverInfo",
        obj.get("receiverInfo"),
    )?;
    let notifier_info = key_values(
        "notification.endpoint.notifierInfo",
        obj.get("notifierInfo"),
    )?;
    for kv in &notifier_info {
        let ok = match kv.key.as_str() {
            "MQTT-QoS" => matches!(kv.value.as_str(), "0" | "1" | "2"),
            "MQTT-Version" => matches!(kv.value.as_str(), "mqtt3.1.1" | "mqtt5.0"),
            _ => true,
        };
        if !ok {
            return Err(bad(
                "notification.endpoint.notifierInfo",
                format!("invalid value '{}' for {}", kv.value, kv.key),
            ));
        }
    }
    Ok(Endpoint {
        uri: uri.to_owned(),
        accept,
        timeout,
        receiver_info,
        notifier_info,
    })
}

/// An endpoint URI must be an absolute http, https, mqtt or mqtts URL with a host; an MQTT
/// one names its topic in the path (`mqtt://host:1883/topic`).
fn check_endpoint_uri(uri: &str) -> Result<()> {
    const M: &str = "notification.endpoint.uri";
    let url =
        url::Url::parse(uri).map_err(|e| bad(M, format!("'{uri}' is not a valid URL: {e}")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad(M, format!("'{uri}' has no host")));
    }
    match url.scheme() {
        "http" | "https" => Ok(()),
        "mqtt" | "mqtts" if url.path().trim_start_matches('/').is_empty() => {
            Err(bad(M, format!("'{uri}' names no MQTT topic")))
        }
        "mqtt" | "mqtts" => Ok(()),
        other => Err(bad(
            M,
            format!("unsupported scheme '{other}' (http, https, mqtt or mqtts)"),
        )),
    }
}

fn key_values(member: &str, value: Option<&Value>) -> Result<Vec<KeyValue>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let items = value.as_array().ok_or_else(|| {
        bad(
            member,
            format!("must be an array of key/value pairs, not {value}"),
        )
    })?;
    items
        .iter()
        .map(|item| {
            let key = item.get("key").and_then(Value::as_str);
            let val = item.get("value").and_then(Value::as_str);
            match (key, val) {
                (Some(k), Some(v)) if !k.is_empty() => Ok(KeyValue {
                    key: k.to_owned(),
                    value: v.to_owned(),
                }),
                _ => Err(bad(
                    member,
                    format!("{item} is not a {{key, value}} pair of strings"),
                )),
            }
        })
        .collect()
}
