//! The `options` and `format` request parameters (clause 6.3.7 and 6.3.17).

use crate::error::{NgsiError, Result};
use crate::format::Format;

/// What `options` (and `format`) ask for. Which flags an operation honours is the operation's
/// business; this only says what the client wrote, and refuses what no operation knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// The representation: `format` if given, else a format token of `options`.
    pub format: Option<Format>,
    pub sys_attrs: bool,
    pub no_overwrite: bool,
    pub replace: bool,
    pub update: bool,
    pub append: bool,
}

impl Options {
    /// Parses the raw `options` and `format` parameter values.
    pub fn parse(options: Option<&str>, format: Option<&str>) -> Result<Self> {
        let mut out = Self::default();
        let mut option_format: Option<Format> = None;
        for token in options.into_iter().flat_map(|o| o.split(',')) {
            let token = token.trim();
            match token {
                "sysAttrs" => out.sys_attrs = true,
                "noOverwrite" => out.no_overwrite = true,
                "replace" => out.replace = true,
                "update" => out.update = true,
                "append" => out.append = true,
                "keyValues" | "simplified" | "concise" | "normalized" => {
                    let f = format_value("options", token)?;
                    if option_format.is_some_and(|prev| prev != f) {
                        return Err(NgsiError::InvalidParameter {
                            param: "options".into(),
                            reason: "more than one output format requested".into(),
                        });
                    }
                    option_format = Some(f);
                }
                // GS CIM 009 6.3.20: an option the operation does not know is InvalidRequest.
                other => {
                    return Err(NgsiError::UnsupportedParameter {
                        param: "options".into(),
                        reason: format!("unknown option '{other}'"),
                    })
                }
            }
        }
        if out.replace && out.update {
            return Err(NgsiError::InvalidParameter {
                param: "options".into(),
                reason: "replace and update cannot be used together".into(),
            });
        }
        // GS CIM 009 6.3.17: `format` takes precedence over a format given in `options`.
        out.format = match format {
            Some(f) => Some(format_value("format", f)?),
            None => option_format,
        };
        Ok(out)
    }

    /// The representation to render, normalized by default.
    pub fn output_format(&self) -> Format {
        self.format.unwrap_or_default()
    }
}

/// A representation named by `format` or `options`; an unknown one is InvalidRequest
/// (GS CIM 009 6.3.20), as an unknown option is.
fn format_value(param: &str, value: &str) -> Result<Format> {
    Format::parse(value).map_err(|e| NgsiError::UnsupportedParameter {
        param: param.into(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_formats() {
        let o = Options::parse(Some("keyValues,sysAttrs"), None).expect("valid");
        assert_eq!(o.output_format(), Format::KeyValues);
        assert!(o.sys_attrs && !o.no_overwrite);
        let o = Options::parse(Some("simplified"), Some("concise")).expect("valid");
        assert_eq!(
            o.output_format(),
            Format::Concise,
            "format wins over options"
        );
        assert_eq!(
            Options::parse(None, None).expect("valid").output_format(),
            Format::Normalized
        );
    }

    #[test]
    fn unknown_or_contradictory_options_are_refused() {
        let err = Options::parse(Some("sysAttrs,fast"), None).expect_err("unknown");
        assert_eq!(err.to_string(), "options: unknown option 'fast'");
        assert!(Options::parse(Some("keyValues,concise"), None).is_err());
        assert!(Options::parse(Some("replace,update"), None).is_err());
        assert!(Options::parse(None, Some("pretty")).is_err());
        // Unknown values are InvalidRequest (6.3.20), contradictory ones BadRequestData.
        let kind = |o: Option<&str>, f: Option<&str>| {
            Options::parse(o, f).expect_err("refused").error_type()
        };
        assert_eq!(kind(Some("fast"), None), crate::ErrorType::InvalidRequest);
        assert_eq!(kind(None, Some("pretty")), crate::ErrorType::InvalidRequest);
        assert_eq!(
            kind(Some("replace,update"), None),
            crate::ErrorType::BadRequestData
        );
    }
}
