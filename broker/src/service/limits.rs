//! Size limits on what an entity names: its id, its types, its attribute names. NGSI-LD sets
//! none (ids are URIs, names IRIs, 4.5.1, 4.6.2), but an id or a name is copied into every
//! index, every Location header, every notification and every change of the entity, and an
//! 8 MB id made every later lookup of a missing id cost 1.3 ms (the store's B-tree page that
//! holds it is read in full). The defaults are far above what real data uses: RFC 9110 4.1
//! asks HTTP to carry URIs of at least 8,000 octets, and an id must fit in one with room for
//! the path and the query; common practice caps URIs at about 2 KB.

use ngsi_types::{Attribute, Entity};

use crate::error::{BrokerError, BrokerResult};

/// Longest entity id and datasetId, in bytes, by default.
pub const DEFAULT_MAX_ID_BYTES: usize = 2048;
/// Longest expanded type or attribute name, in bytes, by default.
pub const DEFAULT_MAX_NAME_BYTES: usize = 1024;

/// The limits every entity write is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_id_bytes: usize,
    pub max_name_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_id_bytes: DEFAULT_MAX_ID_BYTES,
            max_name_bytes: DEFAULT_MAX_NAME_BYTES,
        }
    }
}

impl Limits {
    /// An entity id (in a body or in a path) within the limit; BadRequestData beyond.
    pub fn check_id(&self, id: &str) -> BrokerResult<()> {
        if id.len() > self.max_id_bytes {
            return Err(BrokerError::BadRequestData(format!(
                "the entity id is {} bytes long, more than the {} this broker takes",
                id.len(),
                self.max_id_bytes
            )));
        }
        Ok(())
    }

    /// The entity as it is to be stored: its id, types, attribute and sub-attribute names and
    /// datasetIds within the limits.
    pub fn check_entity(&self, entity: &Entity) -> BrokerResult<()> {
        self.check_id(&entity.id)?;
        for ty in &entity.types {
            self.check_name("entity type", ty)?;
        }
        let mut stack: Vec<(&str, &Attribute)> = Vec::new();
        for (name, instances) in &entity.attributes {
            stack.extend(instances.iter().map(|a| (name.as_str(), a)));
        }
        while let Some((name, attribute)) = stack.pop() {
            self.check_name("attribute name", name)?;
            if let Some(dataset_id) = &attribute.dataset_id {
                if dataset_id.len() > self.max_id_bytes {
                    return Err(BrokerError::BadRequestData(format!(
                        "the datasetId of attribute '{}' is longer than {} bytes",
                        shorten(name),
                        self.max_id_bytes
                    )));
                }
            }
            stack.extend(
                attribute
                    .sub_attributes
                    .iter()
                    .map(|(name, sub)| (name.as_str(), sub)),
            );
        }
        Ok(())
    }

    fn check_name(&self, what: &str, name: &str) -> BrokerResult<()> {
        if name.len() > self.max_name_bytes {
            return Err(BrokerError::BadRequestData(format!(
                "the {what} '{}' is {} bytes long (expanded), more than the {} this broker takes",
                shorten(name),
                name.len(),
                self.max_name_bytes
            )));
        }
        Ok(())
    }
}

/// The start of a long name, for an error message that does not echo megabytes.
fn shorten(name: &str) -> String {
    match name.char_indices().nth(64) {
        Some((cut, _)) => format!("{}...", &name[..cut]),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(id: &str, ty: &str, attr: &str, sub: &str) -> Entity {
        let ctx = ngsi_types::context::ActiveContext::core();
        ngsi_types::format::parse_entity(
            json!({
                "id": id,
                "type": ty,
                attr: {"type": "Property", "value": 1, sub: {"type": "Property", "value": 2}}
            }),
            &ctx,
        )
        .expect("an entity")
    }

    #[test]
    fn entities_within_the_limits_pass_and_each_member_beyond_fails() {
        let limits = Limits {
            max_id_bytes: 64,
            max_name_bytes: 80,
        };
        let long = "a".repeat(100);
        assert!(limits
            .check_entity(&entity("urn:x:1", "T", "speed", "unit"))
            .is_ok());
        for (e, member) in [
            (entity(&format!("urn:x:{long}"), "T", "speed", "unit"), "id"),
            (entity("urn:x:1", &long, "speed", "unit"), "entity type"),
            (entity("urn:x:1", "T", &long, "unit"), "attribute name"),
            (entity("urn:x:1", "T", "speed", &long), "attribute name"),
        ] {
            let err = limits.check_entity(&e).expect_err(member);
            assert!(err.to_string().contains(member), "{err}");
            assert!(err.to_string().len() < 400, "{err}");
        }
    }
}
