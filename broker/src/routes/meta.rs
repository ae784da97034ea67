//! Operational endpoints outside the NGSI-LD API: version (Orion-LD's `/version` and
//! `/ngsi-ld/ex/v1/version`), health for load balancers and container checks, and Prometheus
//! metrics.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::contexts::CORE_CONTEXT_URL;
use crate::error::BrokerResult;
use crate::metrics::Metrics;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/version", web::get().to(version))
        .route("/ngsi-ld/ex/v1/version", web::get().to(version))
        .route("/health", web::get().to(health))
        .route("/metrics", web::get().to(metrics));
}

async fn version() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "oxion": {
            "version": env!("CARGO_PKG_VERSION"),
            "ngsiLdSpec": "1.8",
            "coreContext": CORE_CONTEXT_URL,
        }
    }))
}

/// 200 when the store answers, 503 (ProblemDetails) when it does not.
async fn health(state: web::Data<AppState>) -> BrokerResult<HttpResponse> {
    state
        .entities
        .store()
        .tenant_exists(&crate::store::Tenant::default_tenant())
        .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok"})))
}

async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}
