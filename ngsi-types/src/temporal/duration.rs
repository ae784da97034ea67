//! ISO 8601 durations as aggregation periods use them (clause 4.5.19.1):
//! `P[n]Y[n]M[n]DT[n]H[n]M[n]S` or `P[n]W`, integer elements, seconds possibly fractional.

use chrono::{DateTime, Months, TimeDelta, Utc};

use crate::error::{NgsiError, Result};

/// A calendar duration: months (years are twelve) and an exact part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsoDuration {
    pub months: u32,
    pub exact: TimeDelta,
}

impl IsoDuration {
    pub fn parse(param: &str, text: &str) -> Result<Self> {
        let bad = || NgsiError::InvalidParameter {
            param: param.into(),
            reason: format!(
                "'{text}' is not an ISO 8601 duration (P[n]Y[n]M[n]DT[n]H[n]M[n]S or P[n]W)"
            ),
        };
        let rest = text.strip_prefix('P').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        let (date, time) = match rest.split_once('T') {
            Some((_, "")) => return Err(bad()),
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let mut out = Self::default();
        let mut seen_any = false;
        let mut parse_part = |part: &str, designators: &[char], time: bool| -> Result<()> {
            let mut number = String::new();
            let mut last = None::<usize>;
            for c in part.chars() {
                if c.is_ascii_digit() || c == '.' {
                    number.push(c);
                    continue;
                }
                let at = designators.iter().position(|d| *d == c).ok_or_else(bad)?;
                if number.is_empty() || last.is_some_and(|l| at <= l) {
                    return Err(bad());
                }
                last = Some(at);
                let fractional = number.contains('.');
                if fractional && !(time && c == 'S') {
                    return Err(bad());
                }
                let value: f64 = number.parse().map_err(|_| bad())?;
                let whole = value as i64;
                match (time, c) {
                    (false, 'Y') => out.months += u32::try_from(whole * 12).map_err(|_| bad())?,
                    (false, 'M') => out.months += u32::try_from(whole).map_err(|_| bad())?,
                    (false, 'W') => out.exact += TimeDelta::try_weeks(whole).ok_or_else(bad)?,
                    (false, 'D') => out.exact += TimeDelta::try_days(whole).ok_or_else(bad)?,
                    (true, 'H') => out.exact += TimeDelta::try_hours(whole).ok_or_else(bad)?,
                    (true, 'M') => out.exact += TimeDelta::try_minutes(whole).ok_or_else(bad)?,
                    (true, 'S') => {
                        out.exact += TimeDelta::try_milliseconds((value * 1000.0).round() as i64)
                            .ok_or_else(bad)?
                    }
                    _ => return Err(bad()),
                }
                seen_any = true;
                number.clear();
            }
            if number.is_empty() {
                Ok(())
            } else {
                Err(bad())
            }
        };
        // P[n]W stands alone; otherwise Y, M, D in that order.
        if date.ends_with('W') {
            if time.is_some() {
                return Err(bad());
            }
            parse_part(date, &['W'], false)?;
        } else {
            parse_part(date, &['Y', 'M', 'D'], false)?;
        }
        if let Some(time) = time {
            parse_part(time, &['H', 'M', 'S'], true)?;
        }
        if !seen_any {
            return Err(bad());
        }
        Ok(out)
    }

    /// A zero duration: one period spanning the whole time range (clause 4.5.19.1).
    pub fn is_zero(&self) -> bool {
        self.months == 0 && self.exact.is_zero()
    }

    /// `t` plus this duration (months on the calendar, then the exact part).
    pub fn after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        t.checked_add_months(Months::new(self.months))?
            .checked_add_signed(self.exact)
    }
}
