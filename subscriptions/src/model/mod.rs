//! The Subscription data type (GS CIM 009 clause 5.2.12) and its NotificationParams (5.2.14)
//! and Endpoint (5.2.15), held with every name *expanded* and every filter compiled.
//!
//! Three forms meet here:
//! - the API form, read by [`Subscription::parse`] and [`Subscription::patch`] with the request's
//!   @context and written by [`Subscription::render`] with the reader's @context;
//! - the compiled form, this struct: what matching and notification need, no re-parsing per
//!   event;
//! - the storage form ([`storage`]): plain serde data that round-trips through JSON, so the
//!   broker can keep subscriptions as documents and hand them back on restart.

mod members;
mod params;
mod parse;
mod render;
pub mod storage;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use ngsi_types::format::{Format, Join};
use ngsi_types::query::filter::{EntityFilter, EntitySelector};
use ngsi_types::query::geo::GeoQuery;
use ngsi_types::query::q::Query;
use ngsi_types::query::scope::ScopeQuery;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The core @context of NGSI-LD v1.8, the default `@context` of notifications.
pub const CORE_CONTEXT_URL: &str =
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

/// A subscription: which changes to which entities, and where and how to notify them.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// A URI; `urn:ngsi-ld:Subscription:<uuid>` when the client gave none.
    pub id: String,
    pub subscription_name: Option<String>,
    pub description: Option<String>,
    /// The entities watched; empty means any entity (then `watched_attributes` is set).
    pub entities: Vec<EntitySelection>,
    /// Expanded attribute names whose changes trigger notifications; empty means any.
    pub watched_attributes: Vec<String>,
    /// The triggers, never empty (the default applied at parse time).
    pub notification_trigger: Vec<Trigger>,
    pub q: Option<QueryFilter>,
    pub geo_q: Option<GeoQuery>,
    pub scope_q: Option<ScopeQuery>,
    /// `csf`: accepted and stored; it selects context sources, which Oxion does not federate.
    pub csf: Option<String>,
    /// `lang`: the language filter applied to LanguageProperties in notifications (4.15).
    pub lang: Option<String>,
    /// `datasetId` (clause 5.2.12, 4.5.5): the attribute instances notified, by datasetId,
    /// `@none` standing for the default instance; empty means every instance.
    pub dataset_id: Vec<String>,
    pub is_active: bool,
    pub expires_at: Option<DateTime<Utc>>,
    /// Seconds; at most one notification per period (clause 5.2.12).
    pub throttling: Option<f64>,
    /// Seconds; periodic notification of the matching entities instead of change-driven.
    pub time_interval: Option<f64>,
    /// `jsonldContext`: the @context notifications are compacted with (a URI).
    pub jsonld_context: Option<String>,
    /// The @context reference that notifications carry (Link header or `@context` member):
    /// `jsonldContext` when given, else what the creating request used. The broker sets it
    /// (it knows the request's Link header); it defaults to the core context.
    pub context: Value,
    /// The expansion of every term the client wrote inside `q` and the entity type
    /// expressions, so that the storage form rebuilds them without the original @context.
    pub terms: IndexMap<String, String>,
    pub notification: NotificationParams,
    pub created_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
}

/// One member of `entities`: an EntitySelector (clause 5.2.33; `type` is mandatory here), as
/// the shared `ngsi-types` model that matching and the store's queries apply, with its type
/// expression as the client wrote it (rendered back as is).
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySelection {
    /// Expanded.
    pub selector: EntitySelector,
    pub type_text: String,
}

/// A compiled `q` with the text the client wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryFilter {
    pub text: String,
    /// Expanded, ready for `matches`.
    pub query: Query,
}

/// The values of `notificationTrigger` (clause 5.2.12, v1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Trigger {
    EntityCreated,
    EntityUpdated,
    EntityDeleted,
    AttributeCreated,
    AttributeUpdated,
    AttributeDeleted,
}

impl Trigger {
    pub const ALL: [Trigger; 6] = [
        Self::EntityCreated,
        Self::EntityUpdated,
        Self::EntityDeleted,
        Self::AttributeCreated,
        Self::AttributeUpdated,
        Self::AttributeDeleted,
    ];
    /// Clause 5.2.12: without `notificationTrigger`, attribute creation and update notify.
    pub const DEFAULT: [Trigger; 2] = [Self::AttributeCreated, Self::AttributeUpdated];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EntityCreated => "entityCreated",
            Self::EntityUpdated => "entityUpdated",
            Self::EntityDeleted => "entityDeleted",
            Self::AttributeCreated => "attributeCreated",
            Self::AttributeUpdated => "attributeUpdated",
            Self::AttributeDeleted => "attributeDeleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// NotificationParams (clause 5.2.14), without the read-only status members, which live in
/// the engine (see [`crate::SubscriptionStatus`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationParams {
    /// Expanded names of the attributes notified; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// `pick` (clause 4.21): only these entity members; `id`, `type`, `scope` as written,
    /// attribute names expanded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pick: Vec<String>,
    /// `omit` (clause 4.21): never these entity members, named as in `pick`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omit: Vec<String>,
    #[serde(with = "format_name")]
    pub format: Format,
    #[serde(default)]
    pub sys_attrs: bool,
    #[serde(default)]
    pub show_changes: bool,
    /// `join` (clause 5.2.14.1): the Linked Entities notified with each entity, inline or
    /// flattened (clause 4.5.23); none when absent (`@none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<Join>,
    /// `joinLevel`: how deep (1 when `join` is set without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_level: Option<usize>,
    pub endpoint: Endpoint,
}

/// Endpoint (clause 5.2.15).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// `http`, `https`, `mqtt` or `mqtts` URI.
    pub uri: String,
    pub accept: Accept,
    /// Milliseconds; overrides the engine's HTTP timeout for this endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Extra headers (HTTP) or metadata members (MQTT) of every notification.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receiver_info: Vec<KeyValue>,
    /// Notifier settings: `MQTT-QoS` (0, 1, 2) and `MQTT-Version` (`mqtt3.1.1`, `mqtt5.0`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifier_info: Vec<KeyValue>,
}

impl Endpoint {
    /// The MQTT QoS of `notifierInfo` (default 0).
    pub fn mqtt_qos(&self) -> u8 {
        self.notifier_info
            .iter()
            .find(|kv| kv.key == "MQTT-QoS")
            .and_then(|kv| kv.value.parse().ok())
            .unwrap_or(0)
    }

    pub fn is_mqtt(&self) -> bool {
        self.uri.starts_with("mqtt://") || self.uri.starts_with("mqtts://")
    }
}

/// KeyValuePair (clause 5.2.22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// `endpoint.accept`: the media type of notification bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Accept {
    /// `application/json`: @context in a Link header.
    #[default]
    #[serde(rename = "application/json")]
    Json,
    /// `application/ld+json`: @context inside the body.
    #[serde(rename = "application/ld+json")]
    JsonLd,
}

impl Accept {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::JsonLd => "application/ld+json",
        }
    }
}

/// The derived `status` of a subscription (clause 5.2.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Active,
    Paused,
    Expired,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Expired => "expired",
        }
    }
}

impl Subscription {
    /// `expired` once past `expiresAt`, else `paused` when `isActive` is false.
    pub fn state(&self, now: DateTime<Utc>) -> State {
        if self.expires_at.is_some_and(|t| t <= now) {
            State::Expired
        } else if !self.is_active {
            State::Paused
        } else {
            State::Active
        }
    }

    /// True for a periodic (`timeInterval`) subscription, which change events do not trigger.
    pub fn is_periodic(&self) -> bool {
        self.time_interval.is_some()
    }

    /// The @context reference notifications carry (clause 5.8.6: that of `jsonldContext`,
    /// which the broker initializes from the creating request; a subscription without one
    /// carries the creating request's reference).
    pub fn notification_context(&self) -> Value {
        match &self.jsonld_context {
            Some(url) => Value::String(url.clone()),
            None => self.context.clone(),
        }
    }

    pub fn has_trigger(&self, t: Trigger) -> bool {
        self.notification_trigger.contains(&t)
    }
}

/// A subscription with the @context its notifications are compacted with, as the engine
/// holds it. The broker resolves the context (from `jsonldContext` or the creating request).
#[derive(Debug, Clone)]
pub struct ActiveSubscription {
    pub subscription: Subscription,
    pub context: Arc<ngsi_types::context::ActiveContext>,
}

mod format_name {
    use ngsi_types::format::Format;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(f: &Format, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(f.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
        let s = String::deserialize(d)?;
        Format::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Subscription {
    /// The entities this subscription is about: its selectors and its `q`, `scopeQ` and
    /// `geoQ`, as the filter a store query takes (periodic notifications read them so).
    /// The subscription's selectors and filters as an entity filter; a `q` with terms through
    /// Relationships is left out, for the caller to decide on each entity.
    pub fn entity_filter(&self) -> EntityFilter {
        EntityFilter {
            selectors: self.entities.iter().map(|e| e.selector.clone()).collect(),
            q: self
                .q
                .as_ref()
                .filter(|q| q.query.linked_depth() == 0)
                .map(|q| q.query.clone()),
            scope_q: self.scope_q.clone(),
            geo_q: self.geo_q.clone(),
            ..EntityFilter::default()
        }
    }

    /// True if the entity is one this subscription selects and passes its `q`, `scopeQ` and
    /// `geoQ` (for an [`crate::EntitySource`] filtering candidates).
    pub fn matches_entity(&self, entity: &ngsi_types::Entity) -> bool {
        crate::matching::selects(self, entity) && crate::matching::passes_filters(self, entity)
    }
}
