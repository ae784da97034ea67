//! Writing a Subscription in its API form (clause 5.2.12), names compacted with the reader's
//! @context, with the derived `status` and, when the engine knows them, the read-only
//! delivery members of NotificationParams (clause 5.2.14).

use chrono::{DateTime, Utc};
use ngsi_types::context::ActiveContext;
use ngsi_types::datetime::format_datetime;
use ngsi_types::format::members::{compact_all, plain_number, put_opt, time_or_null};
use serde_json::{json, Map, Value};

use super::{Endpoint, EntitySelection, NotificationParams, Subscription};
use crate::status::SubscriptionStatus;

impl Subscription {
    /// The API form. `status` adds timesSent, lastNotification, ... under `notification`;
    /// `sys_attrs` (`options=sysAttrs`, clause 4.8) adds createdAt and modifiedAt, which are
    /// not members of the Subscription data type (clause 5.2.12) otherwise.
    pub fn render(
        &self,
        ctx: &ActiveContext,
        status: Option<&SubscriptionStatus>,
        now: DateTime<Utc>,
        sys_attrs: bool,
    ) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id));
        out.insert("type".into(), json!("Subscription"));
        put_opt(
            &mut out,
            "subscriptionName",
            self.subscription_name.as_deref(),
        );
        put_opt(&mut out, "description", self.description.as_deref());
        if !self.entities.is_empty() {
            let selectors: Vec<Value> = self
                .entities
                .iter()
                .map(|s| {
                    let mut sel = Map::new();
                    if let Some(id) = &s.selector.id {
                        sel.insert("id".into(), json!(id));
                    }
                    if let Some(p) = &s.selector.id_pattern {
                        sel.insert("idPattern".into(), json!(p.as_str()));
                    }
                    sel.insert("type".into(), json!(selector_type(s, ctx)));
                    Value::Object(sel)
                })
                .collect();
            out.insert("entities".into(), Value::Array(selectors));
        }
        if !self.watched_attributes.is_empty() {
            out.insert(
                "watchedAttributes".into(),
                compact_all(&self.watched_attributes, ctx),
            );
        }
        let triggers: Vec<&str> = self
            .notification_trigger
            .iter()
            .map(|t| t.as_str())
            .collect();
        out.insert("notificationTrigger".into(), json!(triggers));
        if let Some(q) = &self.q {
            out.insert("q".into(), json!(q.text));
        }
        if let Some(geo) = &self.geo_q {
            let mut g = geo.to_json();
            g["geoproperty"] = json!(ctx.compact_iri(&geo.geoproperty));
            out.insert("geoQ".into(), g);
        }
        if let Some(scope) = &self.scope_q {
            out.insert("scopeQ".into(), json!(scope.to_string()));
        }
        put_opt(&mut out, "csf", self.csf.as_deref());
        put_opt(&mut out, "lang", self.lang.as_deref());
        if !self.dataset_id.is_empty() {
            out.insert("datasetId".into(), json!(self.dataset_id));
        }
        // isActive is true by default (clause 5.2.12): only a paused subscription says so.
        if !self.is_active {
            out.insert("isActive".into(), json!(false));
        }
        out.insert("status".into(), json!(self.state(now).as_str()));
        if let Some(t) = &self.expires_at {
            out.insert("expiresAt".into(), json!(format_datetime(t)));
        }
        if let Some(t) = self.throttling {
            out.insert("throttling".into(), plain_number(t));
        }
        if let Some(t) = self.time_interval {
            out.insert("timeInterval".into(), plain_number(t));
        }
        put_opt(&mut out, "jsonldContext", self.jsonld_context.as_deref());
        out.insert(
            "notification".into(),
            render_notification(&self.notification, ctx, status),
        );
        if sys_attrs {
            out.insert("createdAt".into(), time_or_null(self.created_at));
            out.insert("modifiedAt".into(), time_or_null(self.modified_at));
        }
        out.retain(|_, v| !v.is_null());
        Value::Object(out)
    }
}

/// A single entity type is compacted with the reader's @context (clause 5.5.7), so that a
/// reader without the creator's @context sees the full IRI; an expression is rendered as
/// the client wrote it.
fn selector_type(s: &EntitySelection, ctx: &ActiveContext) -> String {
    use ngsi_types::query::type_expr::TypeNode;
    match s.selector.types.as_ref().map(|t| t.node()) {
        Some(TypeNode::Type(expanded)) => ctx.compact_iri(expanded).into_owned(),
        _ => s.type_text.clone(),
    }
}

fn render_notification(
    params: &NotificationParams,
    ctx: &ActiveContext,
    status: Option<&SubscriptionStatus>,
) -> Value {
    let mut out = Map::new();
    if !params.attributes.is_empty() {
        out.insert("attributes".into(), compact_all(&params.attributes, ctx));
    }
    if !params.pick.is_empty() {
        out.insert("pick".into(), compact_all(&params.pick, ctx));
    }
    if !params.omit.is_empty() {
        out.insert("omit".into(), compact_all(&params.omit, ctx));
    }
    out.insert("format".into(), json!(params.format.as_str()));
    if params.sys_attrs {
        out.insert("sysAttrs".into(), json!(true));
    }
    if params.show_changes {
        out.insert("showChanges".into(), json!(true));
    }
    if let Some(join) = params.join {
        out.insert("join".into(), json!(join.as_str()));
    }
    if let Some(level) = params.join_level {
        out.insert("joinLevel".into(), json!(level));
    }
    out.insert("endpoint".into(), render_endpoint(&params.endpoint));
    if let Some(s) = status {
        if let Some(ok) = s.ok {
            out.insert("status".into(), json!(if ok { "ok" } else { "failed" }));
        }
        // Clause 5.2.14.2: both counters are "greater than 0" when present.
        if s.times_sent > 0 {
            out.insert("timesSent".into(), json!(s.times_sent));
        }
        if s.times_failed > 0 {
            out.insert("timesFailed".into(), json!(s.times_failed));
        }
        out.insert("lastNotification".into(), time_or_null(s.last_notification));
        out.insert("lastSuccess".into(), time_or_null(s.last_success));
        out.insert("lastFailure".into(), time_or_null(s.last_failure));
        out.retain(|_, v| !v.is_null());
    }
    Value::Object(out)
}

fn render_endpoint(e: &Endpoint) -> Value {
    let mut out = Map::new();
    out.insert("uri".into(), json!(e.uri));
    out.insert("accept".into(), json!(e.accept.as_str()));
    if let Some(t) = e.timeout {
        out.insert("timeout".into(), json!(t));
    }
    if !e.receiver_info.is_empty() {
        out.insert("receiverInfo".into(), json!(e.receiver_info));
    }
    if !e.notifier_info.is_empty() {
        out.insert("notifierInfo".into(), json!(e.notifier_info));
    }
    Value::Object(out)
}
