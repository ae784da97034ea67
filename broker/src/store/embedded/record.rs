//! The stored form of an entity: a fixed header (format, creation sequence, version) followed by
//! the entity as named MessagePack.
//!
//! The header lets the writer read an entity's version and creation sequence without decoding
//! the body, and lets the entity body be encoded by the caller, off the writer thread, before
//! the version is known. An entity is always one value under one key, so redb's atomic commits
//! make every entity all-or-nothing.

use ngsi_types::Entity;
use serde::de::DeserializeOwned;

use crate::store::{StoreError, StoreResult};

/// Bumped if the layout below ever changes; records of unknown formats are reported corrupt.
const FORMAT: u8 = 1;
const HEADER_LEN: usize = 1 + 8 + 8;

/// The header of a stored entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Position of the entity in creation order (kept across replacements).
    pub seq: u64,
    pub version: u64,
}

/// The entity's body, encoded once by the caller.
pub fn encode_body(entity: &Entity) -> StoreResult<Vec<u8>> {
    rmp_serde::to_vec_named(entity)
        .map_err(|e| StoreError::Backend(format!("cannot encode entity {}: {e}", entity.id)))
}

/// A whole record: header, then the already encoded body.
pub fn encode(header: Header, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.push(FORMAT);
    out.extend_from_slice(&header.seq.to_be_bytes());
    out.extend_from_slice(&header.version.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The header of a record, without touching the body.
pub fn header(record: &[u8]) -> StoreResult<Header> {
    let bad = || StoreError::Corrupt(format!("entity record of {} bytes", record.len()));
    if record.len() < HEADER_LEN || record[0] != FORMAT {
        return Err(bad());
    }
    let word = |at: usize| -> StoreResult<u64> {
        let bytes: [u8; 8] = record[at..at + 8].try_into().map_err(|_| bad())?;
        Ok(u64::from_be_bytes(bytes))
    };
    Ok(Header {
        seq: word(1)?,
        version: word(9)?,
    })
}

/// Header and entity of a record.
pub fn decode(record: &[u8]) -> StoreResult<(Header, Entity)> {
    decode_as(record)
}

/// Header and body of a record, the body decoded as any type whose serde form reads the
/// stored entity (a partial view, such as the index facts).
pub fn decode_as<T: DeserializeOwned>(record: &[u8]) -> StoreResult<(Header, T)> {
    let header = header(record)?;
    let body = rmp_serde::from_slice(&record[HEADER_LEN..])
        .map_err(|e| StoreError::Corrupt(format!("entity record: {e}")))?;
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use ngsi_types::{Attribute, Entity};

    use super::*;

    #[test]
    fn records_round_trip() {
        let mut entity = Entity::new("urn:ngsi-ld:T:1", vec!["https://example.org/T".into()]);
        entity.put_attribute("https://example.org/p", Attribute::property(21.5));
        entity.put_attribute("https://example.org/n", Attribute::property(-3));
        entity.put_attribute("https://example.org/r", Attribute::relationship("urn:x"));
        let header = Header { seq: 7, version: 3 };
        let record = encode(header, &encode_body(&entity).expect("encodes"));
        assert_eq!(super::header(&record).expect("header"), header);
        assert_eq!(decode(&record).expect("decodes"), (header, entity));
    }

    #[test]
    fn damaged_records_are_corrupt_not_panics() {
        for record in [&[][..], &[9; 20][..], &[FORMAT, 0, 0][..]] {
            assert!(matches!(decode(record), Err(StoreError::Corrupt(_))));
        }
        let mut record = encode(Header { seq: 1, version: 1 }, &[0xc1]);
        assert!(matches!(decode(&record), Err(StoreError::Corrupt(_))));
        record.truncate(HEADER_LEN);
        assert!(matches!(decode(&record), Err(StoreError::Corrupt(_))));
    }
}
