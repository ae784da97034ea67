//! Representations of entities (GS CIM 009 clause 4.5): reading client payloads into the model
//! and rendering the model back for a client.
//!
//! Input comes in the normalized form (every attribute an object with a `type`) or the concise
//! form (clause 4.5.16: `type` omitted and inferred, bare values for Properties). Output is one of
//! [`Format`]; the client's @context decides how expanded IRIs are compacted.

mod feature;
mod linked;
pub mod members;
pub(crate) mod parse;
mod render;
mod version;

pub use feature::{render_feature, render_feature_collection};
pub use linked::{Join, LinkedEntities, LinkedRetrieval};
pub use parse::{
    parse_attribute, parse_attributes, parse_entity, parse_instances, parse_partial_update,
    EntityFragment,
};
pub use render::{render_attribute, render_entity, RenderOptions};
pub use version::{downgrade_entity, SpecVersion};

use crate::error::{NgsiError, Result};

/// The output representation a client asked for (`options`/`format` parameters, clause 6.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Every attribute as an object with its `type` (lossless).
    #[default]
    Normalized,
    /// Lossless but compact: `type` omitted, bare values where unambiguous (clause 4.5.16).
    Concise,
    /// `keyValues` / `simplified`: attribute name to value, no metadata (clause 4.5.3).
    KeyValues,
}

impl Format {
    /// Parses the value of the `format` parameter (also accepted as an `options` token).
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "normalized" => Ok(Self::Normalized),
            "concise" => Ok(Self::Concise),
            "keyValues" | "simplified" => Ok(Self::KeyValues),
            other => Err(NgsiError::InvalidParameter {
                param: "format".into(),
                reason: format!("unknown format '{other}' (expected normalized, concise, simplified or keyValues)"),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normalized => "normalized",
            Self::Concise => "concise",
            Self::KeyValues => "keyValues",
        }
    }
}
