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
    state.health.check().await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok"})))
}

async fn metrics(metrics: web::Data<Metrics>, state: web::Data<AppState>) -> HttpResponse {
    let mut body = metrics.render();
    body.push_str(&subscription_metrics(&state.subscriptions.stats()));
    let (recorded, expired) = state.temporal.stats().snapshot();
    body.push_str(&format!(
        "# HELP oxion_temporal_instances_recorded_total attribute instances added to temporal evolutions\n\
         # TYPE oxion_temporal_instances_recorded_total counter\n\
         oxion_temporal_instances_recorded_total {recorded}\n\
         # HELP oxion_temporal_instances_expired_total attribute instances dropped by --temporal-retention\n\
         # TYPE oxion_temporal_instances_expired_total counter\n\
         oxion_temporal_instances_expired_total {expired}\n"
    ));
    body.push_str(&context_metrics(&state.contexts.cache_use()));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}

/// The subscription engine's counters in the Prometheus text format: dropped change events
/// and notifications are visible here even when no single subscription shows them.
fn subscription_metrics(stats: &subscriptions::StatsSnapshot) -> String {
    let counters = [
        (
            "events_received",
            "change events accepted by the subscription engine",
            stats.events_received,
        ),
        (
            "events_dropped",
            "change events dropped because the engine's queue was full",
            stats.events_dropped,
        ),
        (
            "notifications_sent",
            "notifications delivered",
            stats.notifications_sent,
        ),
        (
            "notifications_failed",
            "notifications that failed after every retry",
            stats.notifications_failed,
        ),
        (
            "notifications_dropped",
            "notifications dropped from a full subscription queue",
            stats.notifications_dropped,
        ),
        (
            "notifications_throttled",
            "notifications skipped by throttling",
            stats.notifications_throttled,
        ),
    ];
    let mut out = format!(
        "# HELP oxion_subscriptions Subscriptions this instance holds\n# TYPE oxion_subscriptions gauge\noxion_subscriptions {}\n",
        stats.subscriptions
    );
    for (name, help, value) in counters {
        out.push_str(&format!(
            "# HELP oxion_subscriptions_{name}_total {help}\n# TYPE oxion_subscriptions_{name}_total counter\noxion_subscriptions_{name}_total {value}\n"
        ));
    }
    out
}

/// What the @context caches hold (bounded by `--context-cache-bytes`).
fn context_metrics(used: &crate::contexts::ContextCacheUse) -> String {
    let caches = [
        (
            "contexts",
            used.resolver.contexts,
            used.resolver.context_bytes,
        ),
        (
            "documents",
            used.resolver.documents,
            used.resolver.document_bytes,
        ),
        ("registry", used.registry_entries, used.registry_bytes),
    ];
    let mut out = String::from(
        "# HELP oxion_context_cache_entries entries held by each @context cache\n\
         # TYPE oxion_context_cache_entries gauge\n",
    );
    for (cache, entries, _) in caches {
        out.push_str(&format!(
            "oxion_context_cache_entries{{cache=\"{cache}\"}} {entries}\n"
        ));
    }
    out.push_str(
        "# HELP oxion_context_cache_bytes approximate bytes held by each @context cache\n\
         # TYPE oxion_context_cache_bytes gauge\n",
    );
    for (cache, _, bytes) in caches {
        out.push_str(&format!(
            "oxion_context_cache_bytes{{cache=\"{cache}\"}} {bytes}\n"
        ));
    }
    out
}
