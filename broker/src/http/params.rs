//! URI query parameters: parsed once, checked against what the route accepts (an unknown
//! parameter is an error, not silently ignored: a typo like `tpye=` must not return everything),
//! and read with typed accessors that name the parameter in their errors.

use actix_web::{web, HttpRequest};
use ngsi_types::query::options::Options;

use crate::error::{BrokerError, BrokerResult};

#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses the query string; parameters not in `allowed` are InvalidRequest (GS CIM 009
    /// 6.3.20: a parameter the operation does not take), a repeated one BadRequestData.
    pub fn parse(req: &HttpRequest, allowed: &[&str]) -> BrokerResult<Self> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map_err(|e| BrokerError::BadRequestData(format!("invalid query string: {e}")))?
            .into_inner();
        for (name, _) in &pairs {
            if !allowed.contains(&name.as_str()) {
                return Err(BrokerError::InvalidRequest(format!(
                    "unknown URI parameter '{name}'"
                )));
            }
        }
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(BrokerError::BadRequestData(format!(
                    "URI parameter '{name}' given more than once"
                )));
            }
        }
        Ok(Self { pairs })
    }

    /// Every parameter as given, in order (to repeat a request, as pagination links do).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of a parameter; an empty value is BadRequestData (`?type=` means nothing).
    pub fn get(&self, name: &str) -> BrokerResult<Option<&str>> {
        match self.pairs.iter().find(|(n, _)| n == name) {
            None => Ok(None),
            Some((_, v)) if v.trim().is_empty() => Err(BrokerError::BadRequestData(format!(
                "URI parameter '{name}' is empty"
            ))),
            Some((_, v)) => Ok(Some(v.as_str())),
        }
    }

    /// A boolean parameter (`true`/`false`), false when absent.
    pub fn flag(&self, name: &str) -> BrokerResult<bool> {
        match self.get(name)? {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(BrokerError::BadRequestData(format!(
                "URI parameter '{name}' must be true or false, not '{other}'"
            ))),
        }
    }

    /// A non-negative integer parameter.
    pub fn number(&self, name: &str) -> BrokerResult<Option<usize>> {
        self.get(name)?
            .map(|v| {
                v.parse::<usize>().map_err(|_| {
                    BrokerError::BadRequestData(format!(
                        "URI parameter '{name}' must be a non-negative integer, not '{v}'"
                    ))
                })
            })
            .transpose()
    }

    /// `limit`: the configured default when absent; above `max` is TooManyResults (403), the
    /// one place that bound is enforced.
    pub fn limit(&self, default: usize, max: usize) -> BrokerResult<usize> {
        let limit = self.number("limit")?.unwrap_or(default);
        if limit > max {
            return Err(BrokerError::TooManyResults(format!(
                "limit {limit} is larger than the maximum of {max}"
            )));
        }
        Ok(limit)
    }

    /// `options` and `format`.
    pub fn options(&self) -> BrokerResult<Options> {
        Ok(Options::parse(self.get("options")?, self.get("format")?)?)
    }

    /// A comma-separated list parameter.
    pub fn list(&self, name: &str) -> BrokerResult<Option<Vec<String>>> {
        Ok(self.get(name)?.map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(qs: &str) -> HttpRequest {
        TestRequest::with_uri(&format!("/x?{qs}")).to_http_request()
    }

    #[test]
    fn unknown_duplicate_and_malformed_parameters_are_refused() {
        assert!(matches!(
            Params::parse(&req("tpye=A"), &["type"]),
            Err(BrokerError::InvalidRequest(_))
        ));
        assert!(matches!(
            Params::parse(&req("type=A&type=B"), &["type"]),
            Err(BrokerError::BadRequestData(_))
        ));
        let p = Params::parse(
            &req("type=A&limit=x&count=yes&q=a%3D%3D1"),
            &["type", "limit", "count", "q"],
        )
        .expect("known");
        assert_eq!(p.get("type").ok().flatten(), Some("A"));
        assert_eq!(p.get("q").ok().flatten(), Some("a==1"));
        assert!(p.number("limit").is_err());
        assert!(p.flag("count").is_err());
        assert!(Params::parse(&req("type="), &["type"])
            .expect("parses")
            .get("type")
            .is_err());
    }
}
