//! The representation of a temporal answer: `format` and `options` (clause 6.3.12, 6.3.7).

use crate::error::{NgsiError, Result};

/// Which temporal representation to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TemporalFormat {
    /// Every instance as an attribute object (clauses 4.5.7, 4.5.8).
    #[default]
    Normalized,
    /// Concise instances (clause 4.5.16 applied to each instance).
    Concise,
    /// `temporalValues`: [value, time] pairs (clause 4.5.9).
    TemporalValues,
    /// `aggregatedValues`: per aggregation method, [value, start, end] per period (4.5.19).
    AggregatedValues,
}

/// What `format` and `options` ask of a temporal retrieval or query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TemporalOptions {
    pub format: TemporalFormat,
    pub sys_attrs: bool,
}

impl TemporalOptions {
    /// Parses `options` and `format`; `format` takes precedence (6.3.12). An unknown token is
    /// InvalidRequest (6.3.20); two representations in `options` are BadRequestData.
    pub fn parse(options: Option<&str>, format: Option<&str>) -> Result<Self> {
        let mut out = Self::default();
        let mut from_options = None;
        for token in options.into_iter().flat_map(|o| o.split(',')) {
            match token.trim() {
                "sysAttrs" => out.sys_attrs = true,
                other => {
                    let f = representation("options", other)?;
                    if from_options.is_some_and(|prev| prev != f) {
                        return Err(NgsiError::InvalidParameter {
                            param: "options".into(),
                            reason: "more than one temporal representation requested".into(),
                        });
                    }
                    from_options = Some(f);
                }
            }
        }
        out.format = match format {
            Some(f) => representation("format", f)?,
            None => from_options.unwrap_or_default(),
        };
        Ok(out)
    }
}

fn representation(param: &str, token: &str) -> Result<TemporalFormat> {
    Ok(match token {
        "normalized" => TemporalFormat::Normalized,
        "concise" => TemporalFormat::Concise,
        "temporalValues" | "simplified" | "keyValues" => TemporalFormat::TemporalValues,
        "aggregatedValues" => TemporalFormat::AggregatedValues,
        other => {
            return Err(NgsiError::UnsupportedParameter {
                param: param.into(),
                reason: format!("'{other}' is not a temporal representation"),
            })
        }
    })
}
