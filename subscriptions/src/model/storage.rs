//! The storage form of a subscription: plain serde data (strings, numbers, expanded names)
//! that round-trips through JSON, so the broker can store subscriptions as documents.
//!
//! Compiled filters are stored as text and compiled again when read: `q` and the entity type
//! expressions as written, with the subscription's `terms` (their expansions) standing in for
//! the @context they were written against; `geoQ` as its GeoQuery object, already expanded.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use ngsi_types::context::ActiveContext;
use ngsi_types::query::filter::EntitySelector;
use ngsi_types::query::geo::GeoQuery;
use ngsi_types::query::q::Query;
use ngsi_types::query::scope::ScopeQuery;
use ngsi_types::query::type_expr::{IdPattern, TypeExpr};
use ngsi_types::NgsiError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{EntitySelection, NotificationParams, QueryFilter, Subscription, Trigger};

/// The document form of [`Subscription`]; `Subscription` (de)serializes through it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionDoc {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<SelectorDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watched_attributes: Vec<String>,
    pub notification_trigger: Vec<Trigger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_q: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csf: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dataset_id: Vec<String>,
    pub is_active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_interval: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jsonld_context: Option<String>,
    pub context: Value,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub terms: IndexMap<String, String>,
    pub notification: NotificationParams,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectorDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_pattern: Option<String>,
    #[serde(rename = "type")]
    pub type_text: String,
}

impl From<&Subscription> for SubscriptionDoc {
    fn from(s: &Subscription) -> Self {
        SubscriptionDoc {
            id: s.id.clone(),
            subscription_name: s.subscription_name.clone(),
            description: s.description.clone(),
            entities: s
                .entities
                .iter()
                .map(|e| SelectorDoc {
                    id: e.selector.id.clone(),
                    id_pattern: e
                        .selector
                        .id_pattern
                        .as_ref()
                        .map(|p| p.as_str().to_owned()),
                    type_text: e.type_text.clone(),
                })
                .collect(),
            watched_attributes: s.watched_attributes.clone(),
            notification_trigger: s.notification_trigger.clone(),
            q: s.q.as_ref().map(|q| q.text.clone()),
            geo_q: s.geo_q.as_ref().map(GeoQuery::to_json),
            scope_q: s.scope_q.as_ref().map(ToString::to_string),
            csf: s.csf.clone(),
            lang: s.lang.clone(),
            dataset_id: s.dataset_id.clone(),
            is_active: s.is_active,
            expires_at: s.expires_at,
            throttling: s.throttling,
            time_interval: s.time_interval,
            jsonld_context: s.jsonld_context.clone(),
            context: s.context.clone(),
            terms: s.terms.clone(),
            notification: s.notification.clone(),
            created_at: s.created_at,
            modified_at: s.modified_at,
        }
    }
}

impl From<Subscription> for SubscriptionDoc {
    fn from(s: Subscription) -> Self {
        SubscriptionDoc::from(&s)
    }
}

impl TryFrom<SubscriptionDoc> for Subscription {
    type Error = NgsiError;

    fn try_from(d: SubscriptionDoc) -> Result<Self, NgsiError> {
        // The recorded expansions act as the @context the filters were written against.
        let terms: Map<String, Value> = d
            .terms
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let ctx = ActiveContext::from_inline(&Value::Object(terms))?;
        let entities = d
            .entities
            .iter()
            .map(|e| {
                Ok(EntitySelection {
                    selector: EntitySelector {
                        id: e.id.clone(),
                        id_pattern: e.id_pattern.as_deref().map(IdPattern::new).transpose()?,
                        types: Some(TypeExpr::parse(&e.type_text)?.expand(&ctx)),
                    },
                    type_text: e.type_text.clone(),
                })
            })
            .collect::<Result<_, NgsiError>>()?;
        let q =
            d.q.map(|text| {
                Query::parse(&text).map(|q| QueryFilter {
                    query: q.expand(&ctx),
                    text,
                })
            })
            .transpose()?;
        Ok(Subscription {
            id: d.id,
            subscription_name: d.subscription_name,
            description: d.description,
            entities,
            watched_attributes: d.watched_attributes,
            notification_trigger: d.notification_trigger,
            q,
            geo_q: d.geo_q.as_ref().map(GeoQuery::from_json).transpose()?,
            scope_q: d.scope_q.as_deref().map(ScopeQuery::parse).transpose()?,
            csf: d.csf,
            lang: d.lang,
            dataset_id: d.dataset_id,
            is_active: d.is_active,
            expires_at: d.expires_at,
            throttling: d.throttling,
            time_interval: d.time_interval,
            jsonld_context: d.jsonld_context,
            context: d.context,
            terms: d.terms,
            notification: d.notification,
            created_at: d.created_at,
            modified_at: d.modified_at,
        })
    }
}

impl Serialize for Subscription {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SubscriptionDoc::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Subscription {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let doc = SubscriptionDoc::deserialize(d)?;
        Subscription::try_from(doc).map_err(serde::de::Error::custom)
    }
}
