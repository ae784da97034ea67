//! The broker's one error type, and the single place where errors become HTTP responses:
//! an `application/json` ProblemDetails body with the ETSI error type URI (GS CIM 009 5.5.3,
//! 6.3.2), never an HTML page or an empty 500.

use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use ngsi_types::{ErrorType, NgsiError, ProblemDetails};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A payload or parameter violates NGSI-LD (carries its own error type).
    #[error(transparent)]
    Ngsi(#[from] NgsiError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// 409: the operation conflicts with the current state (GS CIM 009 5.5.2), such as an
    /// exclusive registration overlapping another (4.3.6.3).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NonexistentTenant(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    BadRequestData(String),
    #[error("{0}")]
    TooManyResults(String),
    /// The operation is valid NGSI-LD but this broker does not do it.
    #[error("{0}")]
    NotSupported(String),
    /// 406: nothing the client accepts can be produced.
    #[error("{0}")]
    NotAcceptable(String),
    /// 415: the request body's media type is not one the operation takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 413: the body is larger than `--max-body`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 405: the resource exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A request head refused before the HTTP parser (414, 431, 400, 408).
    #[error("{}", .0.detail())]
    Refused(crate::http::refusal::Refusal),
    /// 408: the request body did not arrive within `--body-timeout-ms`.
    #[error("{0}")]
    BodyTimeout(String),
    /// 401 (`--auth jwt`): no valid bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 (`--auth jwt`): the token does not grant what the request does.
    #[error("{0}")]
    Forbidden(String),
    /// 409 after too many optimistic-concurrency retries on one entity.
    #[error("{0}")]
    Contention(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Subscriptions(#[from] subscriptions::Error),
}

impl BrokerError {
    /// The NGSI-LD error type and HTTP status of this error.
    fn classify(&self) -> (ErrorType, StatusCode) {
        let typed = |t: ErrorType| {
            (
                t,
                StatusCode::from_u16(t.status()).unwrap_or(StatusCode::BAD_REQUEST),
            )
        };
        match self {
            Self::Ngsi(e) => typed(e.error_type()),
            Self::NotFound(_) => typed(ErrorType::ResourceNotFound),
            Self::AlreadyExists(_) => typed(ErrorType::AlreadyExists),
            Self::Conflict(_) => typed(ErrorType::Conflict),
            Self::NonexistentTenant(_) => typed(ErrorType::NonexistentTenant),
            Self::InvalidRequest(_) => typed(ErrorType::InvalidRequest),
            Self::BadRequestData(_) => typed(ErrorType::BadRequestData),
            Self::TooManyResults(_) => typed(ErrorType::TooManyResults),
            Self::NotSupported(_) => typed(ErrorType::OperationNotSupported),
            // HTTP-level failures have no ETSI type of their own; Orion-LD reports them as
            // InvalidRequest with the HTTP status that names the problem.
            Self::NotAcceptable(_) => (ErrorType::InvalidRequest, StatusCode::NOT_ACCEPTABLE),
            Self::UnsupportedMediaType(_) => (
                ErrorType::InvalidRequest,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            Self::PayloadTooLarge(_) => (ErrorType::InvalidRequest, StatusCode::PAYLOAD_TOO_LARGE),
            Self::MethodNotAllowed(_) => {
                (ErrorType::InvalidRequest, StatusCode::METHOD_NOT_ALLOWED)
            }
            // Malformed or incomplete HTTP is a syntactically invalid request (5.5.2).
            Self::Refused(refusal) => (ErrorType::InvalidRequest, refusal.status()),
            Self::BodyTimeout(_) => (ErrorType::InvalidRequest, StatusCode::REQUEST_TIMEOUT),
            Self::Unauthorized(_) => (ErrorType::InvalidRequest, StatusCode::UNAUTHORIZED),
            Self::Forbidden(_) => (ErrorType::InvalidRequest, StatusCode::FORBIDDEN),
            Self::Contention(_) => (ErrorType::InternalError, StatusCode::CONFLICT),
            Self::Store(StoreError::Unavailable(_)) => {
                (ErrorType::InternalError, StatusCode::SERVICE_UNAVAILABLE)
            }
            Self::Store(_) => typed(ErrorType::InternalError),
            Self::Subscriptions(subscriptions::Error::Invalid(e)) => typed(e.error_type()),
            Self::Subscriptions(_) => (ErrorType::InternalError, StatusCode::SERVICE_UNAVAILABLE),
        }
    }

    /// The ProblemDetails body of this error.
    pub fn problem_details(&self) -> ProblemDetails {
        ProblemDetails::new(self.classify().0, self.to_string())
    }
}

impl ResponseError for BrokerError {
    fn status_code(&self) -> StatusCode {
        self.classify().1
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = HttpResponse::build(status);
        if let Self::Unauthorized(detail) = self {
            // RFC 6750 3: the challenge, with the reason when a token was sent.
            let challenge = match detail.starts_with("invalid token") {
                true => r#"Bearer realm="oxion", error="invalid_token""#,
                false => r#"Bearer realm="oxion""#,
            };
            response.insert_header((actix_web::http::header::WWW_AUTHENTICATE, challenge));
        }
        response
            .content_type(ContentType::json())
            .json(self.problem_details())
    }
}

pub type BrokerResult<T> = Result<T, BrokerError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_type_and_status() {
        let cases: Vec<(BrokerError, &str, u16)> = vec![
            (BrokerError::NotFound("x".into()), "ResourceNotFound", 404),
            (BrokerError::AlreadyExists("x".into()), "AlreadyExists", 409),
            (BrokerError::Conflict("x".into()), "Conflict", 409),
            (
                BrokerError::NonexistentTenant("x".into()),
                "NonexistentTenant",
                404,
            ),
            (
                BrokerError::TooManyResults("x".into()),
                "TooManyResults",
                403,
            ),
            (
                BrokerError::UnsupportedMediaType("x".into()),
                "InvalidRequest",
                415,
            ),
            (
                BrokerError::NotAcceptable("x".into()),
                "InvalidRequest",
                406,
            ),
            (
                BrokerError::Store(StoreError::Unavailable("down".into())),
                "InternalError",
                503,
            ),
            (
                NgsiError::InvalidJson("bad".into()).into(),
                "InvalidRequest",
                400,
            ),
            (
                NgsiError::InvalidUri {
                    member: "id".into(),
                    value: "x".into(),
                }
                .into(),
                "BadRequestData",
                400,
            ),
        ];
        for (err, ty, status) in cases {
            assert_eq!(err.status_code().as_u16(), status, "{err}");
            assert_eq!(
                err.problem_details().error_type,
                format!("https://uri.etsi.org/ngsi-ld/errors/{ty}")
            );
        }
    }
}
