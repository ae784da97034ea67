//! Assembling and running the HTTP server: the store chosen by the configuration, the services,
//! the routes, per-request tracing and metrics, and graceful shutdown (SIGTERM/SIGINT stop
//! accepting, finish in-flight requests, then close the store so every write is on disk).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_http::error::DispatchError;
use actix_http::{HttpService, KeepAlive};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Service};
use actix_web::{web, App};
use tokio::net::TcpStream;
use tracing::Instrument;

use crate::config::{Config, FsyncPolicy, StoreKind};
use crate::contexts::{ContextRegistry, ContextService, HttpLoader};
use crate::error::BrokerError;
use crate::http::body::BodyLimit;
use crate::http::lenient_target::LenientTarget;
use crate::http::tls::Connection;
use crate::metrics::Metrics;
use crate::routes;
use crate::service::{SharedDeliveryStatus, StoreEntitySource};
use crate::state::AppState;
use crate::store::embedded::{Durability, EmbeddedConfig, EmbeddedStore};
use crate::store::mongo::{DocumentChange, MongoConfig, MongoStore};
use crate::store::{DocumentKind, Store};

/// The store, and the changes other broker instances make to its documents when it is shared.
#[derive(Debug)]
pub struct OpenStore {
    pub store: Arc<dyn Store>,
    pub changes: Option<tokio::sync::mpsc::Receiver<DocumentChange>>,
}

/// Opens the configured store.
pub async fn open_store(config: &Config) -> anyhow::Result<OpenStore> {
    match config.store {
        StoreKind::Embedded => {
            std::fs::create_dir_all(&config.data_dir)?;
            let durability = match config.fsync {
                FsyncPolicy::Always => Durability::Immediate,
                FsyncPolicy::Never => Durability::Eventual,
            };
            let mut embedded = EmbeddedConfig::in_data_dir(&config.data_dir);
            embedded.durability = durability;
            let store = EmbeddedStore::open(embedded)?;
            Ok(OpenStore {
                store: Arc::new(store),
                changes: None,
            })
        }
        StoreKind::Mongodb => {
            let store = MongoStore::open(MongoConfig {
                url: config.mongo_url.clone(),
                db_prefix: config.mongo_db_prefix.clone(),
                timeout: Duration::from_millis(config.mongo_timeout_ms),
            })
            .await?;
            tracing::info!(prefix = %config.mongo_db_prefix, "MongoDB store ready");
            let changes = Some(store.watch_documents());
            Ok(OpenStore {
                store: Arc::new(store),
                changes,
            })
        }
    }
}

/// Keeps this instance's subscriptions and hosted @contexts equal to the shared store's, as
/// other instances (and this one: applying its own changes again is harmless) change them.
async fn follow_document_changes(
    state: AppState,
    mut changes: tokio::sync::mpsc::Receiver<DocumentChange>,
) {
    let base = state.config.public_base();
    while let Some(change) = changes.recv().await {
        match change {
            DocumentChange::Put {
                tenant,
                kind: DocumentKind::Subscription,
                id,
                doc,
            } => {
                state
                    .subscriptions
                    .activate_stored(&tenant, &id, doc, &base)
                    .await
            }
            DocumentChange::Deleted {
                tenant,
                kind: DocumentKind::Subscription,
                id,
            } => state.subscriptions.deactivate(&tenant, &id).await,
            DocumentChange::Put {
                tenant,
                kind: DocumentKind::JsonLdContext,
                id,
                doc,
            } => state.jsonld_contexts.hosted(&tenant, id, &doc),
            DocumentChange::Deleted {
                kind: DocumentKind::JsonLdContext,
                id,
                ..
            } => state.jsonld_contexts.forget(&id),
            DocumentChange::Resync => {
                if let Err(e) = state.subscriptions.restore(&base).await {
                    tracing::warn!(error = %e, "reloading subscriptions failed");
                }
            }
            DocumentChange::Put { .. } | DocumentChange::Deleted { .. } => {}
        }
    }
}

/// Runs the broker until a shutdown signal.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let OpenStore { store, changes } = open_store(&config).await?;
    let config = Arc::new(config);
    let egress = Arc::new(
        config
            .egress_policy()
            .map_err(|e| anyhow::anyhow!("--egress-allow/--egress-deny: {e}"))?,
    );
    tracing::info!(policy = %egress.describe(), "egress policy");
    let budget = config.context_budget();
    let registry = Arc::new(ContextRegistry::new(budget.registry_bytes()));
    let loader = HttpLoader::new(
        config.context_timeout(),
        config.context_max_bytes,
        registry.clone(),
        egress.clone(),
    )?;
    let engine = subscriptions::Engine::start(
        subscriptions::EngineConfig {
            http_timeout: Duration::from_millis(config.notification_timeout_ms),
            egress: egress.clone(),
            ..subscriptions::EngineConfig::default()
        },
        Arc::new(StoreEntitySource::new(store.clone())),
    );
    // Only a store other instances share (it reports their changes) needs shared status.
    let delivery = changes
        .is_some()
        .then(|| Arc::new(SharedDeliveryStatus::new(store.clone())));
    let source_identity = crate::service::SourceIdentity::load(
        &*store,
        config.source_alias.as_deref(),
        crate::service::Clock::system(),
    )
    .await?;
    let state = AppState::new(
        store.clone(),
        engine.clone(),
        Arc::new(ContextService::new(loader, registry, budget)),
        delivery.clone(),
        source_identity,
        config.clone(),
    );
    state.jsonld_contexts.restore().await?;
    state.subscriptions.restore(&config.public_base()).await?;
    state.csource_subscriptions.restore().await?;
    if let Some(changes) = changes {
        tokio::spawn(follow_document_changes(state.clone(), changes));
    }
    let (stop_background, background_stopped) = tokio::sync::watch::channel(false);
    if let Some(delivery) = &delivery {
        tokio::spawn(
            delivery
                .clone()
                .run(engine.clone(), background_stopped.clone()),
        );
    }
    if let Some(keep) = config.temporal_retention {
        tokio::spawn(crate::expiry::run_retention(
            state.temporal.clone(),
            keep,
            background_stopped.clone(),
        ));
    }
    tokio::spawn(crate::expiry::run_registration_expiry(
        state.registrations.clone(),
        background_stopped.clone(),
    ));
    let expiry = tokio::spawn(crate::expiry::run_expiry(
        state.entities.clone(),
        background_stopped,
    ));
    let auth = match config.jwt() {
        Some(settings) => {
            let auth = Arc::new(crate::auth::JwtAuth::new(settings, egress.clone()).await?);
            auth.spawn_refresh();
            tracing::info!("authentication: JWT bearer tokens");
            Some(web::Data::from(auth))
        }
        None => None,
    };
    let metrics = web::Data::new(Metrics::new()?);
    let request_ids = Arc::new(AtomicU64::new(1));
    let body_limit = BodyLimit {
        bytes: config.max_body,
        timeout: Duration::from_millis(config.body_timeout_ms),
    };
    let head_timeout = Duration::from_millis(config.head_timeout_ms);
    let bind = (config.host, config.port);
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(crate::http::tls::acceptor(cert, key)?),
        _ => None,
    };
    let scheme = config.scheme();
    // actix-web's HttpServer, spelled out on actix-server and actix-http so that each
    // connection passes through LenientTarget before the HTTP/1 parser reads it.
    let mut server = actix_server::Server::build()
        .bind("oxion", bind, move || {
            let metrics = metrics.clone();
            let request_ids = request_ids.clone();
            let mut app = App::new()
                .app_data(web::Data::new(state.clone()))
                .app_data(metrics.clone())
                .app_data(body_limit);
            if let Some(auth) = auth.clone() {
                app = app.app_data(auth);
            }
            let app = app
                .configure(routes::configure)
                .default_service(web::to(routes::no_such_resource))
                .wrap(actix_web::middleware::from_fn(crate::http::prefer::version_preference))
                .wrap(actix_web::middleware::from_fn(crate::http::front::request_front))
                .wrap_fn(move |req, srv| {
                    let started = Instant::now();
                    let method = req.method().to_string();
                    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
                    let tenant = req
                        .headers()
                        .get(crate::http::tenant::TENANT_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    let id = request_ids.fetch_add(1, Ordering::Relaxed);
                    let span = tracing::info_span!("request", id, %method, path = %req.path(), tenant = %tenant);
                    let metrics = metrics.clone();
                    let fut = srv.call(req);
                    async move {
                        let res = fut.await?;
                        let status = res.status().as_u16();
                        metrics.observe(&method, &route, status, started.elapsed().as_secs_f64());
                        tracing::debug!(status, "served");
                        Ok(res)
                    }
                    .instrument(span)
                });
            let http = HttpService::build()
                .keep_alive(KeepAlive::Timeout(Duration::from_secs(5)))
                // LenientTarget times request heads, and answers with a ProblemDetails.
                .client_request_timeout(Duration::ZERO)
                .client_disconnect_timeout(Duration::from_secs(1))
                .h1(map_config(
                    app.into_factory()
                        .map_err(|e: actix_web::Error| e.error_response()),
                    |_| AppConfig::default(),
                ));
            let tls = tls.clone();
            fn_service(move |stream: TcpStream| {
                let tls = tls.clone();
                async move {
                    let peer = stream.peer_addr().ok();
                    let connection = Connection::accept(stream, tls.as_ref(), head_timeout)
                        .await
                        .map_err(DispatchError::Io)?;
                    Ok::<_, DispatchError>((LenientTarget::new(connection, head_timeout), peer))
                }
            })
            .and_then(http)
        })?
        .shutdown_timeout(10);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    tracing::info!(host = %config.host, port = config.port, scheme, store = ?config.store, "oxion listening");
    server.run().await?;
    let _ = stop_background.send(true);
    let _ = expiry.await;
    engine.shutdown().await;
    tracing::info!("HTTP server stopped; closing the store");
    store.close().await.map_err(BrokerError::from)?;
    tracing::info!("store closed");
    Ok(())
}
