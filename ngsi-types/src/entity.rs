//! The Entity (clause 4.5.1 and 5.2.4): id, types, scope, attributes and system members.
//!
//! Attribute names and types are expanded IRIs. An attribute maps to one or more instances that
//! differ by `datasetId`; the model keeps the invariant that no two instances share a datasetId
//! (the default instance is the one with no datasetId).

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::attribute::Attribute;
use crate::error::{NgsiError, Result};

/// Expanded IRI of the `location` GeoProperty, the default geoproperty of geo-queries.
pub const LOCATION: &str = "https://uri.etsi.org/ngsi-ld/location";
/// Expanded IRI of the `observationSpace` GeoProperty.
pub const OBSERVATION_SPACE: &str = "https://uri.etsi.org/ngsi-ld/observationSpace";
/// Expanded IRI of the `operationSpace` GeoProperty.
pub const OPERATION_SPACE: &str = "https://uri.etsi.org/ngsi-ld/operationSpace";

/// The instances of one attribute, at most one per datasetId.
pub type AttributeInstances = Vec<Attribute>;

/// An entity. Its serde form is the storage form (see [`crate::attribute::AttributeValue`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The entity id, a URI.
    pub id: String,
    /// One or more expanded entity type names.
    pub types: Vec<String>,
    /// `scope`: zero or more scope paths (`/Madrid/Gardens`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// Attributes by expanded name, in the order they were first written.
    pub attributes: IndexMap<String, AttributeInstances>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::datetime::micros_opt"
    )]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::datetime::micros_opt"
    )]
    pub modified_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::datetime::micros_opt"
    )]
    pub deleted_at: Option<DateTime<Utc>>,
    /// `expiresAt` of a transient entity: the broker removes it at that instant.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::datetime::micros_opt"
    )]
    pub expires_at: Option<DateTime<Utc>>,
}

impl Entity {
    /// Keeps only the attribute instances whose datasetId is in `dataset_ids`, `@none` naming
    /// the default instance; an attribute left without instances is dropped (clause 4.5.5,
    /// 5.7.1.4, 5.7.2.4: the `datasetId` parameter).
    pub fn retain_datasets(&mut self, dataset_ids: &[String]) {
        for instances in self.attributes.values_mut() {
            instances.retain(|a| match &a.dataset_id {
                None => dataset_ids.iter().any(|d| d == "@none"),
                Some(d) => dataset_ids.contains(d),
            });
        }
        self.attributes.retain(|_, instances| !instances.is_empty());
    }

    /// The earliest `expiresAt` of the entity and its attribute instances: when the broker
    /// next has something to remove from it (clause 4.22).
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.attributes
            .values()
            .flatten()
            .filter_map(|a| a.expires_at)
            .chain(self.expires_at)
            .min()
    }

    /// The earliest `expiresAt` of its attribute instances.
    pub fn attributes_expire_at(&self) -> Option<DateTime<Utc>> {
        self.attributes
            .values()
            .flatten()
            .filter_map(|a| a.expires_at)
            .min()
    }

    /// Removes the attribute instances whose `expiresAt` is at or before `now` (clause 4.22);
    /// returns the names of the attributes that lost one.
    pub fn drop_expired_attributes(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut touched = Vec::new();
        for (name, instances) in self.attributes.iter_mut() {
            let before = instances.len();
            instances.retain(|a| a.expires_at.is_none_or(|at| at > now));
            if instances.len() != before {
                touched.push(name.clone());
            }
        }
        if !touched.is_empty() {
            self.attributes.retain(|_, instances| !instances.is_empty());
        }
        touched
    }

    pub fn new(id: impl Into<String>, types: Vec<String>) -> Self {
        Self {
            id: id.into(),
            types,
            scope: Vec::new(),
            attributes: IndexMap::new(),
            created_at: None,
            modified_at: None,
            deleted_at: None,
            expires_at: None,
        }
    }

    /// The default instance (no datasetId) of an attribute, else its first instance.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        let instances = self.attributes.get(name)?;
        instances
            .iter()
            .find(|a| a.dataset_id.is_none())
            .or_else(|| instances.first())
    }

    /// The instance of `name` with the given datasetId (`None`: the default instance).
    pub fn instance(&self, name: &str, dataset_id: Option<&str>) -> Option<&Attribute> {
        self.attributes
            .get(name)?
            .iter()
            .find(|a| a.dataset_id.as_deref() == dataset_id)
    }

    /// Puts an attribute instance, replacing the instance with the same datasetId.
    /// Returns the replaced instance.
    pub fn put_attribute(&mut self, name: impl Into<String>, attr: Attribute) -> Option<Attribute> {
        let instances = self.attributes.entry(name.into()).or_default();
        match instances
            .iter_mut()
            .find(|a| a.dataset_id == attr.dataset_id)
        {
            Some(slot) => Some(std::mem::replace(slot, attr)),
            None => {
                instances.push(attr);
                None
            }
        }
    }

    /// Removes the instance of `name` with `dataset_id`; removes the attribute when it was the
    /// last one. Returns the removed instance.
    pub fn remove_instance(&mut self, name: &str, dataset_id: Option<&str>) -> Option<Attribute> {
        let instances = self.attributes.get_mut(name)?;
        let pos = instances
            .iter()
            .position(|a| a.dataset_id.as_deref() == dataset_id)?;
        let removed = instances.remove(pos);
        if instances.is_empty() {
            self.attributes.shift_remove(name);
        }
        Some(removed)
    }

    /// True if the entity has every one of `types` (expanded).
    pub fn has_type(&self, ty: &str) -> bool {
        self.types.iter().any(|t| t == ty)
    }

    /// Checks the datasetId invariant: within one attribute, no datasetId appears twice.
    pub fn check_dataset_ids(&self) -> Result<()> {
        for (name, instances) in &self.attributes {
            for (i, a) in instances.iter().enumerate() {
                if instances[..i].iter().any(|b| b.dataset_id == a.dataset_id) {
                    let which = a.dataset_id.as_deref().unwrap_or("(default)");
                    return Err(NgsiError::attribute(
                        name.clone(),
                        format!("datasetId {which} appears more than once"),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_dataset(value: i64, dataset: Option<&str>) -> Attribute {
        let mut a = Attribute::property(value);
        a.dataset_id = dataset.map(str::to_owned);
        a
    }

    #[test]
    fn instances_are_keyed_by_dataset_id() {
        let mut e = Entity::new("urn:ngsi-ld:T:1", vec!["https://example.org/T".into()]);
        let speed = "https://example.org/speed";
        assert!(e.put_attribute(speed, with_dataset(1, None)).is_none());
        assert!(e
            .put_attribute(speed, with_dataset(2, Some("urn:gps")))
            .is_none());
        let old = e.put_attribute(speed, with_dataset(3, Some("urn:gps")));
        assert_eq!(old, Some(with_dataset(2, Some("urn:gps"))));
        assert_eq!(e.attributes[speed].len(), 2);
        assert_eq!(e.attribute(speed), Some(&with_dataset(1, None)));
        assert_eq!(
            e.instance(speed, Some("urn:gps")),
            Some(&with_dataset(3, Some("urn:gps")))
        );
        e.check_dataset_ids().expect("unique datasetIds");

        e.remove_instance(speed, None);
        assert_eq!(e.attribute(speed), Some(&with_dataset(3, Some("urn:gps"))));
        e.remove_instance(speed, Some("urn:gps"));
        assert!(!e.attributes.contains_key(speed));
    }

    #[test]
    fn duplicate_dataset_ids_are_reported() {
        let mut e = Entity::new("urn:ngsi-ld:T:1", vec!["https://example.org/T".into()]);
        e.attributes.insert(
            "https://example.org/speed".into(),
            vec![
                with_dataset(1, Some("urn:a")),
                with_dataset(2, Some("urn:a")),
            ],
        );
        let err = e.check_dataset_ids().unwrap_err();
        assert!(
            err.to_string().contains("urn:a appears more than once"),
            "{err}"
        );
    }
}
