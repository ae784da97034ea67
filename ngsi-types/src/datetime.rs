//! ISO 8601 date-times as NGSI-LD uses them (`observedAt`, `createdAt`, q values, ...).
//!
//! Input is accepted in the forms clause 4.6.3 allows (with `Z` or an offset, with or without
//! fractional seconds); output is always UTC with a `Z`, and as many fractional digits as the
//! instant has (none, milliseconds or microseconds): `2020-09-01T12:03:00Z` is given back as it
//! was written, where a fixed precision would rewrite a client's value.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

use crate::error::{NgsiError, Result};

/// Parses an ISO 8601 date-time. A missing offset is taken as UTC, as Orion-LD does.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(naive.and_utc());
        }
    }
    None
}

/// Parses a DateTime a client writes as a member or a parameter (`observedAt`, `expiresAt`,
/// `timeAt`, ...), naming it in the error. GS CIM 009 4.6.3: every component, seconds
/// included, and the time zone always `Z` (UTC); the fraction may be separated by a comma.
pub fn parse_datetime_member(member: &str, s: &str) -> Result<DateTime<Utc>> {
    let invalid = || NgsiError::InvalidDateTime {
        member: member.to_owned(),
        value: s.to_owned(),
    };
    let utc = s.ends_with('Z') || s.ends_with('z');
    if !utc {
        return Err(invalid());
    }
    let dotted = s.replacen(',', ".", 1);
    DateTime::parse_from_rfc3339(&dotted)
        .map(|dt| dt.with_timezone(&Utc))
        .map_err(|_| invalid())
}

/// Parses an ISO 8601 calendar date (`2024-01-31`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The number of fraction digits of a written date-time (`12:00:00.250Z`: 3), at most 9.
pub fn fraction_digits(s: &str) -> u8 {
    let Some(dot) = s.rfind('.') else {
        return 0;
    };
    s[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count()
        .min(9) as u8
}

/// Renders a date-time with `digits` fraction digits (rounded up to 3, 6 or 9), as a client
/// wrote it.
pub fn format_datetime_digits(dt: &DateTime<Utc>, digits: u8) -> String {
    let precision = match digits {
        0 if dt.timestamp_subsec_nanos() == 0 => SecondsFormat::Secs,
        0 => return format_datetime(dt),
        1..=3 => SecondsFormat::Millis,
        4..=6 => SecondsFormat::Micros,
        _ => SecondsFormat::Nanos,
    };
    dt.to_rfc3339_opts(precision, true)
}

/// Renders a date-time the way NGSI-LD responses carry it (clause 4.6.3): UTC with `Z`, the
/// fractional seconds only as far as they are not zero (seconds, milliseconds, microseconds).
pub fn format_datetime(dt: &DateTime<Utc>) -> String {
    let nanos = dt.timestamp_subsec_nanos();
    let precision = if nanos == 0 {
        SecondsFormat::Secs
    } else if nanos.is_multiple_of(1_000_000) {
        SecondsFormat::Millis
    } else {
        SecondsFormat::Micros
    };
    dt.to_rfc3339_opts(precision, true)
}

/// The storage form of optional date-times: microseconds since the Unix epoch. Decoding an
/// integer is much cheaper than parsing RFC 3339 text, and every stored entity carries several.
pub mod micros_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.timestamp_micros()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<i64>::deserialize(d)?
            .map(|micros| {
                DateTime::from_timestamp_micros(micros).ok_or_else(|| {
                    serde::de::Error::custom(format!("timestamp {micros} out of range"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_iso_forms_and_renders_utc_with_the_digits_it_has() {
        let cases = [
            ("2017-07-29T12:00:04Z", "2017-07-29T12:00:04Z"),
            ("2017-07-29T12:00:04.000Z", "2017-07-29T12:00:04Z"),
            ("2017-07-29T12:00:04.120Z", "2017-07-29T12:00:04.120Z"),
            ("2017-07-29T12:00:04.123456Z", "2017-07-29T12:00:04.123456Z"),
            ("2017-07-29T14:00:04+02:00", "2017-07-29T12:00:04Z"),
            ("2017-07-29T12:00:04", "2017-07-29T12:00:04Z"),
        ];
        for (input, out) in cases {
            let dt = parse_datetime(input).expect(input);
            assert_eq!(format_datetime(&dt), out);
        }
    }

    #[test]
    fn rejects_non_dates() {
        for bad in [
            "",
            "yesterday",
            "2017-13-29T12:00:04Z",
            "2017-07-29 12:00",
            "12:00:04Z",
        ] {
            assert!(parse_datetime(bad).is_none(), "{bad}");
        }
        let err = parse_datetime_member("observedAt", "soon").unwrap_err();
        assert_eq!(
            err.to_string(),
            "observedAt: 'soon' is not a valid ISO 8601 DateTime"
        );
    }
}
