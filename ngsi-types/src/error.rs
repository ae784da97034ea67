//! The one error type of `ngsi-types`, and the NGSI-LD error table.
//!
//! Every violation found while parsing or validating input is an [`NgsiError`]. Each variant knows
//! its [`ErrorType`] (GS CIM 009 clause 5.5.3), which fixes the type URI, the title and the HTTP
//! status. The broker turns these into ProblemDetails bodies in exactly one place; nothing below
//! it decides a status code.

use serde::{Deserialize, Serialize};

/// The error types of GS CIM 009 table 5.5.3-1 (plus the HTTP-level ones every server needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    InvalidRequest,
    BadRequestData,
    AlreadyExists,
    /// GS CIM 009 5.5.2: the operation conflicts with the current state of the system (409).
    Conflict,
    OperationNotSupported,
    ResourceNotFound,
    InternalError,
    TooComplexQuery,
    TooManyResults,
    LdContextNotAvailable,
    NoMultiTenantSupport,
    NonexistentTenant,
}

impl ErrorType {
    /// The ETSI error type URI, the `type` member of a ProblemDetails body.
    pub fn uri(self) -> &'static str {
        match self {
            Self::InvalidRequest => "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest",
            Self::BadRequestData => "https://uri.etsi.org/ngsi-ld/errors/BadRequestData",
            Self::AlreadyExists => "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists",
            Self::Conflict => "https://uri.etsi.org/ngsi-ld/errors/Conflict",
            Self::OperationNotSupported => {
                "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported"
            }
            Self::ResourceNotFound => "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound",
            Self::InternalError => "https://uri.etsi.org/ngsi-ld/errors/InternalError",
            Self::TooComplexQuery => "https://uri.etsi.org/ngsi-ld/errors/TooComplexQuery",
            Self::TooManyResults => "https://uri.etsi.org/ngsi-ld/errors/TooManyResults",
            Self::LdContextNotAvailable => {
                "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable"
            }
            Self::NoMultiTenantSupport => {
                "https://uri.etsi.org/ngsi-ld/errors/NoMultiTenantSupport"
            }
            Self::NonexistentTenant => "https://uri.etsi.org/ngsi-ld/errors/NonexistentTenant",
        }
    }

    /// HTTP status code the HTTP binding (clause 6.3.2) assigns to this error type.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest | Self::BadRequestData => 400,
            Self::AlreadyExists | Self::Conflict => 409,
            Self::OperationNotSupported => 422,
            Self::ResourceNotFound | Self::NonexistentTenant => 404,
            Self::InternalError => 500,
            Self::TooComplexQuery | Self::TooManyResults => 403,
            // GS CIM 009 6.3.2 (504 since CR 168r1, v1.7.7): the broker could not get the
            // @context it needs from another server in time, a gateway failure.
            Self::LdContextNotAvailable => 504,
            Self::NoMultiTenantSupport => 501,
        }
    }

    /// Short human title, the `title` member of a ProblemDetails body.
    pub fn title(self) -> &'static str {
        match self {
            Self::InvalidRequest => "Invalid request",
            Self::BadRequestData => "Bad request data",
            Self::AlreadyExists => "Already exists",
            Self::Conflict => "Conflict",
            Self::OperationNotSupported => "Operation not supported",
            Self::ResourceNotFound => "Resource not found",
            Self::InternalError => "Internal error",
            Self::TooComplexQuery => "Too complex query",
            Self::TooManyResults => "Too many results",
            Self::LdContextNotAvailable => "JSON-LD @context not available",
            Self::NoMultiTenantSupport => "No multi-tenant support",
            Self::NonexistentTenant => "Nonexistent tenant",
        }
    }
}

/// A ProblemDetails body (IETF RFC 7807), as NGSI-LD error responses carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemDetails {
    #[serde(rename = "type")]
    pub error_type: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ProblemDetails {
    pub fn new(error_type: ErrorType, detail: impl Into<String>) -> Self {
        Self {
            error_type: error_type.uri().to_owned(),
            title: error_type.title().to_owned(),
            detail: Some(detail.into()),
        }
    }
}

/// Where in a query parameter a syntax error was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPosition {
    /// Name of the parameter (`q`, `scopeQ`, `geoQ.coordinates`, `type`, ...).
    pub param: &'static str,
    /// Byte offset into the parameter's value.
    pub offset: usize,
}

/// Every error `ngsi-types` can report. Messages name the offending member and value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NgsiError {
    /// The request body is not JSON, or not the JSON shape an operation takes.
    #[error("{0}")]
    InvalidJson(String),
    /// A member that must be a URI is not one.
    #[error("{member}: '{value}' is not a valid URI")]
    InvalidUri { member: String, value: String },
    /// An entity type, attribute name or other name breaks the naming rules (clause 4.6.2).
    #[error("{member}: invalid name '{value}': {reason}")]
    InvalidName {
        member: String,
        value: String,
        reason: String,
    },
    /// A date/time member does not hold an ISO 8601 date-time.
    #[error("{member}: '{value}' is not a valid ISO 8601 DateTime")]
    InvalidDateTime { member: String, value: String },
    /// A GeoProperty value or geometry is not valid GeoJSON.
    #[error("{member}: invalid GeoJSON geometry: {reason}")]
    InvalidGeometry { member: String, reason: String },
    /// An attribute violates the rules of its kind.
    #[error("attribute '{attribute}': {reason}")]
    InvalidAttribute { attribute: String, reason: String },
    /// The entity as a whole is invalid (missing id/type, duplicate datasetId, ...).
    #[error("{0}")]
    InvalidEntity(String),
    /// A query parameter (q, scopeQ, geoQ, type expression, attrs ...) does not parse.
    #[error("invalid {param} at position {offset}: {reason}", param = .position.param, offset = .position.offset)]
    QuerySyntax {
        position: QueryPosition,
        reason: String,
    },
    /// A query is valid but beyond the limits the broker evaluates (nesting, number of terms).
    #[error("query too complex: {0}")]
    TooComplex(String),
    /// A query parameter is well-formed but not acceptable (unknown option, bad georel, ...).
    #[error("{param}: {reason}")]
    InvalidParameter { param: String, reason: String },
    /// A URI parameter, or a value of `options`/`format`, that the operation does not take
    /// (GS CIM 009 6.3.20: InvalidRequest, unlike a malformed value, which is BadRequestData).
    #[error("{param}: {reason}")]
    UnsupportedParameter { param: String, reason: String },
    /// A JSON-LD @context is malformed.
    #[error("invalid @context: {0}")]
    InvalidContext(String),
    /// A remote JSON-LD @context could not be retrieved.
    #[error("@context '{url}' could not be retrieved: {reason}")]
    ContextNotAvailable { url: String, reason: String },
    /// The entity, attribute or instance a request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but asks for something not supported.
    #[error("{0}")]
    NotSupported(String),
}

impl NgsiError {
    /// The NGSI-LD error type this error is reported as.
    pub fn error_type(&self) -> ErrorType {
        match self {
            Self::InvalidJson(_) | Self::UnsupportedParameter { .. } => ErrorType::InvalidRequest,
            // GS CIM 009 5.5.4, 5.5.6: a document that is JSON but not a valid JSON-LD
            // @context (inline or remote) is bad data, not a malformed request.
            Self::InvalidContext(_)
            | Self::InvalidUri { .. }
            | Self::InvalidName { .. }
            | Self::InvalidDateTime { .. }
            | Self::InvalidGeometry { .. }
            | Self::InvalidAttribute { .. }
            | Self::InvalidEntity(_)
            | Self::QuerySyntax { .. }
            | Self::InvalidParameter { .. } => ErrorType::BadRequestData,
            Self::ContextNotAvailable { .. } => ErrorType::LdContextNotAvailable,
            Self::NotSupported(_) => ErrorType::OperationNotSupported,
            Self::TooComplex(_) => ErrorType::TooComplexQuery,
            Self::NotFound(_) => ErrorType::ResourceNotFound,
        }
    }

    /// The ProblemDetails body for this error.
    pub fn problem_details(&self) -> ProblemDetails {
        ProblemDetails::new(self.error_type(), self.to_string())
    }

    pub fn attribute(attribute: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidAttribute {
            attribute: attribute.into(),
            reason: reason.into(),
        }
    }

    pub fn query_syntax(param: &'static str, offset: usize, reason: impl Into<String>) -> Self {
        Self::QuerySyntax {
            position: QueryPosition { param, offset },
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = NgsiError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_error_is_bad_request_data_and_names_the_member() {
        let err = NgsiError::InvalidUri {
            member: "id".into(),
            value: "not a uri".into(),
        };
        let pd = err.problem_details();
        assert_eq!(
            pd.error_type,
            "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
        );
        assert_eq!(err.error_type().status(), 400);
        assert_eq!(
            pd.detail.as_deref(),
            Some("id: 'not a uri' is not a valid URI")
        );
    }

    #[test]
    fn query_syntax_error_points_at_offset() {
        let err = NgsiError::query_syntax("q", 7, "expected an operator");
        assert_eq!(
            err.to_string(),
            "invalid q at position 7: expected an operator"
        );
    }
}
