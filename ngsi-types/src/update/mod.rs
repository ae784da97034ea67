//! What each write operation of the API does to an entity (GS CIM 009 clause 5.6), as pure
//! functions from the current entity to the new one.
//!
//! Keeping the semantics here, away from storage, lets every backend share them: the broker
//! reads an entity, applies one of these functions, and commits the result under a version
//! precondition. Each function stamps `createdAt`/`modifiedAt` and reports which attributes it
//! created, updated or deleted, which is what subscriptions match on.

mod attribute;
mod entity;
mod scope;

pub use attribute::{
    delete_attribute, drop_attributes, partial_update_attribute, replace_attribute, FragmentForm,
};
pub use entity::{
    append_attributes, expire_attributes, merge_entity, replace_entity, update_attributes,
    Attributes,
};
pub use scope::{append_scope, delete_scope, update_scope, SCOPE};

use crate::error::NgsiError;

/// Why an attribute of a request was not applied (the `notUpdated` member of an UpdateResult,
/// clause 5.2.18).
#[derive(Debug, Clone, PartialEq)]
pub struct NotUpdated {
    /// Expanded attribute name.
    pub attribute: String,
    pub reason: String,
}

/// What an operation did to an entity: the attributes (expanded names) it created, updated and
/// deleted, and those it left alone with the reason.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changes {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub deleted: Vec<String>,
    pub not_updated: Vec<NotUpdated>,
    /// The entity's types or scope changed.
    pub entity_changed: bool,
}

impl Changes {
    /// True if the entity was modified at all.
    pub fn is_modified(&self) -> bool {
        self.entity_changed
            || !self.created.is_empty()
            || !self.updated.is_empty()
            || !self.deleted.is_empty()
    }

    /// Names of every attribute that was created, updated or deleted.
    pub fn touched(&self) -> impl Iterator<Item = &str> {
        self.created
            .iter()
            .chain(&self.updated)
            .chain(&self.deleted)
            .map(String::as_str)
    }

    fn record(&mut self, name: &str, outcome: Outcome) {
        let list = match outcome {
            Outcome::Created => &mut self.created,
            Outcome::Updated => &mut self.updated,
            Outcome::Deleted => &mut self.deleted,
        };
        if !list.iter().any(|n| n == name) {
            list.push(name.to_owned());
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Created,
    Updated,
    Deleted,
}

/// The attribute (or the instance with the given datasetId) does not exist.
fn missing(name: &str, dataset_id: Option<&str>) -> NgsiError {
    let what = match dataset_id {
        Some(d) => format!("attribute '{name}' has no instance with datasetId '{d}'"),
        None => format!("attribute '{name}' does not exist"),
    };
    NgsiError::NotFound(what)
}

#[cfg(test)]
mod tests;
