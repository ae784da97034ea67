//! The CSourceRegistration data type (GS CIM 009 clause 5.2.9) with its RegistrationInfo
//! (5.2.10), EntityInfo (5.2.8), TimeInterval (5.2.11) and RegistrationManagementInfo
//! (5.2.34), held with every entity type and attribute name *expanded*.
//!
//! The struct is also the storage form: plain serde data that round-trips through JSON, so
//! the broker keeps registrations as documents. Three concerns live beside it:
//! - [`parse`]: the API form read with the request's @context (Register, 5.9.2; Update, 5.9.3);
//! - [`render`]: the API form written with the reader's @context (5.10.1, 5.10.2);
//! - [`discovery`]: which registrations a Query Context Source Registrations selects (5.10.2,
//!   5.12), and [`proxied`]: the overlap rules of exclusive and redirect registrations (4.3.6.3).

pub mod discovery;
mod members;
pub mod operations;
mod parse;
pub mod proxied;
mod render;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use discovery::RegistrationQuery;

/// The `type` of every registration (clause 5.2.9).
pub const REGISTRATION_TYPE: &str = "ContextSourceRegistration";

/// A context source registration: which entities and attributes a Context Source may provide,
/// and how to reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CSourceRegistration {
    /// A URI; `urn:ngsi-ld:ContextSourceRegistration:<uuid>` when the client gave none.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Never empty.
    pub information: Vec<RegistrationInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation_interval: Option<TimeInterval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_interval: Option<TimeInterval>,
    /// GeoJSON geometries as given (validated when read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation_space: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_space: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_source_info: Vec<KeyValue>,
    /// Scope paths (clause 4.18).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// `None`: inclusive, the default (clause 5.2.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Operation and operation group names as given (clause 4.20); empty: `federationOps`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
    /// An ISO 8601 duration, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_rate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management: Option<ManagementInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_source_alias: Option<String>,
    /// `@none` stands for the default attribute instances.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dataset_id: Vec<String>,
    /// The Context Source Properties (members beyond those of clause 5.2.9), by expanded name,
    /// values as given.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub properties: IndexMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<DateTime<Utc>>,
}

/// RegistrationInfo (clause 5.2.10): at least one of its members is present, none is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationInfo {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<EntityInfo>,
    /// Expanded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub property_names: Vec<String>,
    /// Expanded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationship_names: Vec<String>,
}

impl RegistrationInfo {
    /// The registered attributes (Properties and Relationships), expanded.
    pub fn attributes(&self) -> impl Iterator<Item = &str> {
        self.property_names
            .iter()
            .chain(&self.relationship_names)
            .map(String::as_str)
    }

    /// True if no Property or Relationship is named: whole entities are registered.
    pub fn names_no_attribute(&self) -> bool {
        self.property_names.is_empty() && self.relationship_names.is_empty()
    }
}

/// EntityInfo (clause 5.2.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A regular expression, checked when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_pattern: Option<String>,
    /// Expanded; one or more.
    pub types: Vec<String>,
}

/// TimeInterval (clause 5.2.11); `end_at` absent: open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeInterval {
    pub start_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_at: Option<DateTime<Utc>>,
}

/// KeyValuePair (clause 5.2.22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// RegistrationManagementInfo (clause 5.2.34).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_only: Option<bool>,
    /// An ISO 8601 duration, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_duration: Option<String>,
    /// Milliseconds, greater than 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// Milliseconds, greater than 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<f64>,
}

/// The mode of distributed operation (clause 4.3.6, 5.2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    #[default]
    Inclusive,
    Exclusive,
    Redirect,
    Auxiliary,
}

impl Mode {
    pub const ALL: [Mode; 4] = [
        Self::Inclusive,
        Self::Exclusive,
        Self::Redirect,
        Self::Auxiliary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inclusive => "inclusive",
            Self::Exclusive => "exclusive",
            Self::Redirect => "redirect",
            Self::Auxiliary => "auxiliary",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Exclusive and redirect registrations are proxied (clause 4.3.6.3): the broker holds no
    /// data of its own for what they register.
    pub fn is_proxied(self) -> bool {
        matches!(self, Self::Exclusive | Self::Redirect)
    }
}

impl CSourceRegistration {
    /// The mode, inclusive when not given (clause 5.2.9).
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or_default()
    }

    /// True once `expiresAt` has passed: the registration is no longer valid (clause 5.9.2.4).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    /// The operations the source supports, groups expanded (clause 4.20; `federationOps` by
    /// default).
    pub fn supported_operations(&self) -> Vec<&'static str> {
        operations::resolve(&self.operations)
    }
}

#[cfg(test)]
mod tests;
