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
        let mut data = self.data.clone();
        if accept == Accept::JsonLd {
            // Each entity of `data` is an NGSI-LD Entity (clause 5.3.1), which may carry its
            // @context (4.5.1): receivers that take the entities out of the notification get
            // them with the @context they are compacted with.
            for entity in data.iter_mut().filter_map(Value::as_object_mut) {
                entity.insert("@context".into(), context.clone());
            }
        }
        out.insert("data".into(), Value::Array(data));
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
        let n = &sub.notification;
        let projected = !(n.attributes.is_empty() && n.pick.is_empty() && n.omit.is_empty());
        EntityRenderer {
            sub,
            ctx,
            projection: projected.then(|| Projection::expanded(&n.attributes, &n.pick, &n.omit)),
            // Checked when the subscription was parsed.
            lang: sub.lang.as_deref().and_then(|l| LangFilter::parse(l).ok()),
        }
    }

    pub fn subscription(&self) -> &Subscription {
        self.sub
    }

    /// The projection of the notified entities, every member when none is set.
    pub fn projection(&self) -> Projection {
        self.projection.clone().unwrap_or_default()
    }

    pub fn context(&self) -> &ActiveContext {
        self.ctx
    }

    pub fn options(&self) -> RenderOptions<'_> {
        RenderOptions {
            format: self.sub.notification.format,
            sys_attrs: self.sub.notification.sys_attrs,
            lang: self.lang.as_ref(),
            projection: self.projection.as_ref(),
        }
    }

    /// An entity as it is now (periodic notifications, creations, updates).
    pub fn entity(&self, entity: &Entity) -> Value {
        Value::Object(self.render(entity.clone()))
    }

    /// Renders, keeping only the attribute instances of the subscription's `datasetId`
    /// (clause 5.8.6: a notification carries just the instances whose datasetId was selected).
    fn render(&self, mut entity: Entity) -> Map<String, Value> {
        let wanted = &self.sub.dataset_id;
        if !wanted.is_empty() {
            let selected = |a: &Attribute| {
                let id = a.dataset_id.as_deref().unwrap_or("@none");
                wanted.iter().any(|w| w == id)
            };
            for instances in entity.attributes.values_mut() {
                instances.retain(|a| selected(a));
            }
            entity
                .attributes
                .retain(|_, instances| !instances.is_empty());
        }
        let mut out = render_entity(&entity, self.ctx, &self.options());
        // Clause 5.2.14.1: with sysAttrs the notified entity carries createdAt and
        // modifiedAt, in the simplified format too.
        if self.sub.notification.sys_attrs && self.sub.notification.format == Format::KeyValues {
            let times = [
                ("createdAt", entity.created_at),
                ("modifiedAt", entity.modified_at),
                ("deletedAt", entity.deleted_at),
            ];
            for (member, t) in times {
                if let Some(t) = t {
                    out.entry(member)
                        .or_insert_with(|| json!(format_datetime(&t)));
                }
            }
        }
        out
    }

    /// The entity a change event notifies (clause 5.8.6): its new state, every attribute
    /// instance the write deleted as the NGSI-LD Null, and the previous values when
    /// `showChanges` is set.
    pub fn event(&self, event: &ChangeEvent, trigger: Trigger) -> Value {
        self.event_entity(event, trigger).0
    }

    /// [`EntityRenderer::event`], with the entity it renders unless the event deleted it: the
    /// one whose Linked Entities a `join` adds.
    pub fn event_entity(&self, event: &ChangeEvent, trigger: Trigger) -> (Value, Option<Entity>) {
        let Some(after) = &event.after else {
            return (self.deleted(event, trigger), None);
        };
        let mut notified = after.clone();
        if let Some(before) = &event.before {
            for name in &event.changes.deleted {
                let Some(instances) = before.attributes.get(name) else {
                    continue;
                };
                match instances.as_slice() {
                    // Every instance deleted at once: the attribute is notified as one Null
                    // (the datasetIds are no longer needed to tell the instances apart).
                    [_, _, ..] if !after.attributes.contains_key(name) => {
                        let mut null = deleted_instance(&instances[0], event.at);
                        null.dataset_id = None;
                        notified.put_attribute(name.clone(), null);
                    }
                    _ => {
                        for old in instances {
                            if after.instance(name, old.dataset_id.as_deref()).is_none() {
                                notified
                                    .put_attribute(name.clone(), deleted_instance(old, event.at));
                            }
                        }
                    }
                }
            }
        }
        let mut out = self.render(notified.clone());
        if let (true, Some(before)) = (self.shows_changes(), &event.before) {
            for name in event.changes.updated.iter().chain(&event.changes.deleted) {
                self.add_previous(
                    &mut out,
                    name,
                    before.attribute(name),
                    notified.attribute(name),
                );
            }
        }
        (Value::Object(out), Some(notified))
    }

    /// Clause 5.2.14: previous values are not shown in the simplified format.
    fn shows_changes(&self) -> bool {
        self.sub.notification.show_changes && self.sub.notification.format != Format::KeyValues
    }

    /// A deleted entity (clause 5.8.6): id, type and deletedAt (createdAt and modifiedAt too
    /// with `sysAttrs`). Its attributes are notified as deleted (the NGSI-LD Null) when
    /// `showChanges` asks for their previous values, or when the notification is about the
    /// deletion of watched attributes (`attributeDeleted`).
    fn deleted(&self, event: &ChangeEvent, trigger: Trigger) -> Value {
        let Some(before) = &event.before else {
            return json!({"id": event.entity_id, "deletedAt": format_datetime(&event.at)});
        };
        let mut gone = Entity::new(before.id.clone(), before.types.clone());
        gone.created_at = before.created_at;
        gone.modified_at = before.modified_at;
        gone.deleted_at = Some(event.at);
        let show = self.shows_changes();
        let watched = &self.sub.watched_attributes;
        for (name, instances) in &before.attributes {
            let notified = show
                || (trigger == Trigger::AttributeDeleted
                    && (watched.is_empty() || watched.contains(name)));
            if notified {
                for old in instances {
                    gone.put_attribute(name.clone(), deleted_instance(old, event.at));
                }
            }
        }
        let mut out = self.render(gone.clone());
        // deletedAt is always notified, whatever the format and sysAttrs.
        out.entry("deletedAt")
            .or_insert_with(|| json!(format_datetime(&event.at)));
        if show {
            for name in before.attributes.keys() {
                self.add_previous(&mut out, name, before.attribute(name), gone.attribute(name));
            }
        }
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

/// A deleted attribute instance as notified (clause 5.8.6): the NGSI-LD Null of its kind,
/// with its datasetId and, for `sysAttrs`, its createdAt, modifiedAt and the deletedAt.
fn deleted_instance(old: &Attribute, at: DateTime<Utc>) -> Attribute {
    let mut null = Attribute::new(AttributeValue::Null(old.kind()));
    null.dataset_id = old.dataset_id.clone();
    null.created_at = old.created_at;
    null.modified_at = old.modified_at;
    null.deleted_at = Some(at);
    null
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
        let out = EntityRenderer::new(&s, &ctx).event(&event, Trigger::AttributeUpdated);
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
        let out = EntityRenderer::new(&s, &ctx).event(&event, Trigger::AttributeUpdated);
        assert_eq!(
            out["owner"],
            json!({"type": "Relationship", "object": "urn:ngsi-ld:P:2", "previousObject": "urn:ngsi-ld:P:1"})
        );
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
