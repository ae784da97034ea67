//! The tenant of a request (clause 6.3.14): the `NGSILD-Tenant` header, or Orion's
//! `Fiware-Service` for clients written against NGSIv2.

use actix_web::HttpRequest;

use crate::error::{BrokerError, BrokerResult};
use crate::store::Tenant;

pub const TENANT_HEADER: &str = "NGSILD-Tenant";
const FIWARE_SERVICE_HEADER: &str = "Fiware-Service";

/// The tenant a request addresses; a malformed name is BadRequestData.
pub fn tenant_of(req: &HttpRequest) -> BrokerResult<Tenant> {
    let header = req
        .headers()
        .get(TENANT_HEADER)
        .or_else(|| req.headers().get(FIWARE_SERVICE_HEADER));
    let Some(value) = header else {
        return Ok(Tenant::default_tenant());
    };
    let name = value
        .to_str()
        .map_err(|_| {
            BrokerError::BadRequestData(format!("{TENANT_HEADER}: not a valid header value"))
        })?
        .trim();
    if name.is_empty() {
        return Ok(Tenant::default_tenant());
    }
    Tenant::named(&name.to_ascii_lowercase()).ok_or_else(|| {
        BrokerError::BadRequestData(format!(
            "{TENANT_HEADER}: invalid tenant '{name}' (1 to 50 letters, digits, '_' or '-')"
        ))
    })
}
