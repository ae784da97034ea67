//! Requests refused before the HTTP/1 parser: a request line or head too large, a malformed
//! one, a head that never completes. The parser under actix-web answers these itself, with an
//! empty body, below any route; GS CIM 009 6.3.2 wants every error as a ProblemDetails. So
//! [`super::lenient_target`] judges each request head first and, for one it refuses, hands the
//! parser a stand-in request for [`PATH`] instead, which the App answers through the one
//! `ResponseError` like every other error. The stand-in closes the connection: after a broken
//! head nothing that follows on it can be framed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::error::BrokerError;

/// The path of the stand-in requests. A client asking for it gets the refusal it names, which
/// tells it nothing it could not provoke anyway.
pub const PATH: &str = "/.oxion/refused/{reason}";

/// Why a request head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request line is longer than the limit (414).
    UriTooLong,
    /// The head as a whole, or one header line, is longer than the limit (431).
    HeadTooLarge,
    /// More header fields than the parser takes (431).
    TooManyHeaders,
    /// Not `method SP target SP HTTP/1.x` (400).
    MalformedRequestLine,
    /// The target is not a URI even after the raw characters are percent-encoded (400).
    MalformedTarget,
    /// A header field that is not `name: value`, holds a control character (NUL, a bare CR),
    /// or frames the body ambiguously (400).
    MalformedHeader,
    /// The head did not arrive in time (408).
    HeadTimeout,
}

impl Refusal {
    const ALL: [Refusal; 7] = [
        Refusal::UriTooLong,
        Refusal::HeadTooLarge,
        Refusal::TooManyHeaders,
        Refusal::MalformedRequestLine,
        Refusal::MalformedTarget,
        Refusal::MalformedHeader,
        Refusal::HeadTimeout,
    ];

    fn reason(self) -> &'static str {
        match self {
            Self::UriTooLong => "uri-too-long",
            Self::HeadTooLarge => "head-too-large",
            Self::TooManyHeaders => "too-many-headers",
            Self::MalformedRequestLine => "request-line",
            Self::MalformedTarget => "target",
            Self::MalformedHeader => "header",
            Self::HeadTimeout => "head-timeout",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::UriTooLong => StatusCode::URI_TOO_LONG,
            Self::HeadTooLarge | Self::TooManyHeaders => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            Self::MalformedRequestLine | Self::MalformedTarget | Self::MalformedHeader => {
                StatusCode::BAD_REQUEST
            }
            Self::HeadTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    pub fn detail(self) -> String {
        use super::lenient_target::{MAX_HEAD, MAX_HEADERS, MAX_REQUEST_LINE};
        match self {
            Self::UriTooLong => {
                format!("the request line is longer than {MAX_REQUEST_LINE} bytes")
            }
            Self::HeadTooLarge => format!("the request head is longer than {MAX_HEAD} bytes"),
            Self::TooManyHeaders => format!("the request has more than {MAX_HEADERS} headers"),
            Self::MalformedRequestLine => {
                "the request line is not 'method target HTTP/1.1'".to_owned()
            }
            Self::MalformedTarget => "the request target is not a valid URI".to_owned(),
            Self::MalformedHeader => {
                "a header is malformed (not 'name: value', a control character such as NUL or \
                 CR in it, or an invalid or repeated Content-Length)"
                    .to_owned()
            }
            Self::HeadTimeout => "the request head was not received in time".to_owned(),
        }
    }

    /// The request the parser reads in place of the refused one.
    pub fn stand_in(self) -> Vec<u8> {
        format!(
            "GET {} HTTP/1.1\r\nHost: oxion\r\nConnection: close\r\n\r\n",
            PATH.replace("{reason}", self.reason())
        )
        .into_bytes()
    }
}

/// The handler of the stand-in requests.
pub async fn answer(reason: web::Path<String>) -> Result<HttpResponse, BrokerError> {
    let refusal = Refusal::ALL
        .into_iter()
        .find(|r| r.reason() == reason.as_str())
        .unwrap_or(Refusal::MalformedRequestLine);
    Err(BrokerError::Refused(refusal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stand_in_names_its_refusal() {
        for refusal in Refusal::ALL {
            let request = String::from_utf8(refusal.stand_in()).expect("ASCII");
            let path = request.split(' ').nth(1).unwrap_or_default();
            assert_eq!(path.rsplit('/').next(), Some(refusal.reason()), "{request}");
        }
    }
}
