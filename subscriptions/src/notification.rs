//! The Notification data type (clause 5.3.1) and how entities are rendered into it
//! (NotificationParams, clause 5.2.14).
//!
//! Entities are rendered like a query result, per `notification.format`, `attributes`,
//! `sysAttrs` and the subscription's `lang`, compacted with the subscription's @context.
//! `showChanges` adds the previous value of every changed attribute under the member that
//! mirrors its value member (`previousValue`, `previousObject`, `previousLanguageMap`, ...).
//! A deleted entity is notified as its id, type and `deletedAt` (v1.8 `entityDeleted`).

use chrono::{DateTime, Utc};
use ngsi_types::attribute::{Attribute, AttributeValue};
use ngsi_types::context::ActiveContext;
use ngsi_types::datetime::format_datetime;
use ngsi_types::format::{render_attribute, render_entity, Format, RenderOptions};
use ngsi_types::query::projection::{LangFilter, Projection};
use ngsi_types::Entity;
use serde_json::{json, Map, Value};

use crate::event::ChangeEvent;
use crate::model::{Accept, Subscription, Trigger};

/// A notification, ready to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// `urn:ngsi-ld:Notification:<uuid>`.
    pub id: String,
    pub subscription_id: String,
    pub notified_at: DateTime<Utc>,
    /// The rendered entities.
    pub data: Vec<Value>,
    /// `triggerReason`; absent for periodic (`timeInterval`) notifications.
    pub trigger_reason: Option<Trigger>,
}

impl Notification {
    pub fn new(
        sub: &Subscription,
        data: Vec<Value>,
        trigger: Option<Trigger>,
        now: DateTime<Utc>,
    ) -> Self {
        Notification {
            id: format!("urn:ngsi-ld:Notification:{}", uuid::Uuid::new_v4()),
            subscription_id: sub.id.clone(),
            notified_at: now,
            data,
            trigger_reason: trigger,
        }
    }

    /// The body. With `application/ld+json` the @context travels inside it (clause 6.3.4).
    pub fn to_json(&self, accept: Accept, context: &Value) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id));
        out.insert("type".into(), json!("Notification"));
        out.insert("subscriptionId".into(), json!(self.subscription_id));
        if accept == Accept::JsonLd {
            out.insert("@context".into(), context.clone());
        }
        out.insert(
            "notifiedAt".into(),
            json!(format_datetime(&self.notified_at)),
        );
        out.insert("data".into(), Value::Array(self.data.clone()));
        if let Some(t) = self.trigger_reason {
            out.insert("triggerReason".into(), json!(t.as_str()));
        }
        Value::Object(out)
    }
}

/// How a subscription renders entities.
#[derive(Debug)]
pub struct EntityRenderer<'a> {
    sub: &'a Subscription,
    ctx: &'a ActiveContext,
    projection: Option<Projection>,
    lang: Option<LangFilter>,
}

impl<'a> EntityRenderer<'a> {
    pub fn new(sub: &'a Subscription, ctx: &'a ActiveContext) -> Self {
        let attrs = &sub.notification.attributes;
        EntityRenderer {
            sub,
            ctx,
            projection: (!attrs.is_empty()).then(|| Projection::attrs(attrs.iter().cloned())),
            // Checked when the subscription was parsed.
            lang: sub.lang.as_deref().and_then(|l| LangFilter::parse(l).ok()),
        }
    }

    fn options(&self) -> RenderOptions<'_> {
        RenderOptions {
            format: self.sub.notification.format,
            sys_attrs: self.sub.notification.sys_attrs,
            lang: self.lang.as_ref(),
            projection: self.projection.as_ref(),
        }
    }

    /// An entity as it is now (periodic notifications, creations, updates).
    pub fn entity(&self, entity: &Entity) -> Value {
        Value::Object(render_entity(entity, self.ctx, &self.options()))
    }

    /// The entity a change event notifies, with previous values when `showChanges` is set.
    pub fn event(&self, event: &ChangeEvent) -> Value {
        let (Some(after), before) = (&event.after, &event.before) else {
            return self.deleted(event);
        };
        let mut out = render_entity(after, self.ctx, &self.options());
        let show =
            self.sub.notification.show_changes && self.sub.notification.format != Format::KeyValues;
        if let (true, Some(before)) = (show, before) {
            for name in &event.changes.updated {
                self.add_previous(
                    &mut out,
                    name,
                    before.attribute(name),
                    after.attribute(name),
                );
            }
            for name in &event.changes.deleted {
                if after.attributes.contains_key(name) {
                    continue;
                }
                let Some(old) = before.attribute(name) else {
                    continue;
                };
                if self
                    .projection
                    .as_ref()
                    .is_some_and(|p| !p.keeps_attribute(name))
                {
                    continue;
                }
                // Clause 5.2.1: a deleted attribute is notified with the NGSI-LD Null.
                let null = Attribute::new(AttributeValue::Null(old.kind()));
                let rendered = render_attribute(&null, self.ctx, &self.options());
                out.insert(self.ctx.compact_iri(name).into_owned(), rendered);
                self.add_previous(&mut out, name, Some(old), Some(&null));
            }
        }
        Value::Object(out)
    }

    /// v1.8: a deleted entity is notified as id, type and deletedAt.
    fn deleted(&self, event: &ChangeEvent) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(event.entity_id));
        if let Some(before) = &event.before {
            let types: Vec<Value> = before
                .types
                .iter()
                .map(|t| json!(self.ctx.compact_iri(t)))
                .collect();
            let types = match types.as_slice() {
                [one] => one.clone(),
                _ => Value::Array(types),
            };
            out.insert("type".into(), types);
        }
        out.insert("deletedAt".into(), json!(format_datetime(&event.at)));
        Value::Object(out)
    }

    fn add_previous(
        &self,
        out: &mut Map<String, Value>,
        name: &str,
        old: Option<&Attribute>,
        new: Option<&Attribute>,
    ) {
        let (Some(old), Some(new)) = (old, new) else {
            return;
        };
        let key = self.ctx.compact_iri(name).into_owned();
        let Some(slot) = out.get_mut(&key) else {
            return;
        };
        if slot.is_array() {
            // Several datasetIds: which instance changed is not known here.
            return;
        }
        let old_value = render_attribute(
            old,
            self.ctx,
            &RenderOptions {
                format: Format::Normalized,
                ..self.options()
            },
        );
        let member = old.kind().value_member();
        let Some(previous) = old_value.get(member).cloned() else {
            return;
        };
        // Concise may have rendered a bare value: make room for the extra member.
        if !slot.is_object() {
            let bare = slot.take();
            *slot = json!({ new.kind().value_member(): bare });
        }
        if let Some(obj) = slot.as_object_mut() {
            obj.insert(previous_member(member), previous);
        }
    }
}

/// `value` → `previousValue`, `languageMap` → `previousLanguageMap`, ...
fn previous_member(value_member: &str) -> String {
    let mut chars = value_member.chars();
    let first = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or_default();
    format!("previous{first}{}", chars.as_str())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use ngsi_types::context::ActiveContext;
    use ngsi_types::update::Changes;
    use serde_json::json;

    use super::*;

    fn sub(notification: Value) -> Subscription {
        let mut params = json!({"endpoint": {"uri": "http://127.0.0.1:9/n"}, "showChanges": true});
        for (k, v) in notification.as_object().into_iter().flatten() {
            params[k] = v.clone();
        }
        let body =
            json!({"type": "Subscription", "entities": [{"type": "T"}], "notification": params});
        Subscription::parse(&body, &ActiveContext::core(), Utc::now()).expect("valid")
    }

    fn update(before: Entity, after: Entity, updated: &[&str]) -> ChangeEvent {
        ChangeEvent {
            tenant: None,
            entity_id: after.id.clone(),
            before: Some(before),
            after: Some(after),
            changes: Changes {
                updated: updated.iter().map(|s| (*s).to_owned()).collect(),
                ..Changes::default()
            },
            at: Utc::now(),
        }
    }

    fn entity(name: &str, attr: Attribute) -> Entity {
        let ctx = ActiveContext::core();
        let mut e = Entity::new("urn:ngsi-ld:T:1", vec![ctx.expand_term("T").into_owned()]);
        e.put_attribute(ctx.expand_term(name).into_owned(), attr);
        e
    }

    #[test]
    fn previous_members_mirror_the_value_member() {
        assert_eq!(previous_member("value"), "previousValue");
        assert_eq!(previous_member("object"), "previousObject");
        assert_eq!(previous_member("languageMap"), "previousLanguageMap");
        assert_eq!(previous_member("valueList"), "previousValueList");
    }

    #[test]
    fn concise_show_changes_turns_a_bare_value_into_an_object() {
        let ctx = ActiveContext::core();
        let s = sub(json!({"format": "concise"}));
        let name = ctx.expand_term("speed").into_owned();
        let event = update(
            entity("speed", Attribute::property(1)),
            entity("speed", Attribute::property(2)),
            &[&name],
        );
        let out = EntityRenderer::new(&s, &ctx).event(&event);
        assert_eq!(out["speed"], json!({"value": 2, "previousValue": 1}));
    }

    #[test]
    fn relationships_show_their_previous_object() {
        let ctx = ActiveContext::core();
        let s = sub(json!({}));
        let name = ctx.expand_term("owner").into_owned();
        let event = update(
            entity("owner", Attribute::relationship("urn:ngsi-ld:P:1")),
            entity("owner", Attribute::relationship("urn:ngsi-ld:P:2")),
            &[&name],
        );
        let out = EntityRenderer::new(&s, &ctx).event(&event);
        assert_eq!(
            out["owner"],
            json!({"type": "Relationship", "object": "urn:ngsi-ld:P:2", "previousObject": "urn:ngsi-ld:P:1"})
        );
    }

    #[test]
    fn key_values_never_carry_previous_values() {
        let ctx = ActiveContext::core();
        let s = sub(json!({"format": "keyValues"}));
        let name = ctx.expand_term("speed").into_owned();
        let event = update(
            entity("speed", Attribute::property(1)),
            entity("speed", Attribute::property(2)),
            &[&name],
        );
        let out = EntityRenderer::new(&s, &ctx).event(&event);
        assert_eq!(out["speed"], json!(2));
    }

    #[test]
    fn the_notification_body_has_the_members_of_clause_5_3_1() {
        let s = sub(json!({}));
        let n = Notification::new(
            &s,
            vec![json!({"id": "urn:x:1"})],
            Some(Trigger::EntityCreated),
            Utc::now(),
        );
        let body = n.to_json(Accept::JsonLd, &json!("https://example.org/c.jsonld"));
        let keys: Vec<&str> = body
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "id",
                "type",
                "subscriptionId",
                "@context",
                "notifiedAt",
                "data",
                "triggerReason"
            ]
        );
        assert_eq!(body["triggerReason"], "entityCreated");
        assert!(n
            .to_json(Accept::Json, &json!("x"))
            .get("@context")
            .is_none());
    }
}
