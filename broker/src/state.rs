//! What every request handler shares: the services, the request @context resolver (used by
//! the `http` extractors), and the configuration.

use std::sync::Arc;

use subscriptions::EngineHandle;

use crate::config::Config;
use crate::contexts::ContextService;
use crate::service::{
    Catalog, Clock, CsourceNotifier, CsourceSubscriptions, Entities, Health, JsonLdContexts,
    Limits, Registrations, SharedDeliveryStatus, SourceIdentity, Subscriptions, TemporalEntities,
};
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct AppState {
    pub entities: Entities,
    pub temporal: TemporalEntities,
    pub subscriptions: Subscriptions,
    pub registrations: Registrations,
    pub csource_subscriptions: CsourceSubscriptions,
    pub jsonld_contexts: JsonLdContexts,
    pub catalog: Catalog,
    pub health: Health,
    pub source_identity: SourceIdentity,
    /// Resolves the @context of each request.
    pub contexts: Arc<ContextService>,
    pub config: Arc<Config>,
}

impl AppState {
    /// The services over one store. `delivery`: with a store other instances share, their
    /// delivery statuses, summed on reads.
    pub fn new(
        store: Arc<dyn Store>,
        engine: EngineHandle,
        contexts: Arc<ContextService>,
        delivery: Option<Arc<SharedDeliveryStatus>>,
        source_identity: SourceIdentity,
        config: Arc<Config>,
    ) -> Self {
        let clock = Clock::system();
        let limits = Limits {
            max_id_bytes: config.max_id_bytes,
            max_name_bytes: config.max_name_bytes,
        };
        let entities = Entities::new(
            store.clone(),
            Some(engine.clone()),
            clock.clone(),
            config.history(),
        )
        .with_limits(limits);
        // Starts the csource notification task: `new` runs inside the runtime.
        let notifier = CsourceNotifier::start(
            store.clone(),
            contexts.clone(),
            clock.clone(),
            std::time::Duration::from_millis(config.notification_timeout_ms),
        );
        let registrations =
            Registrations::new(store.clone(), clock.clone()).with_notifier(notifier.clone());
        Self {
            temporal: TemporalEntities::new(
                store.clone(),
                clock.clone(),
                config.history(),
                config.temporal_max_instances,
                entities.temporal_stats().clone(),
            )
            .with_limits(limits),
            entities,
            subscriptions: Subscriptions::new(
                store.clone(),
                engine,
                contexts.clone(),
                delivery,
                clock.clone(),
            ),
            csource_subscriptions: CsourceSubscriptions::new(
                store.clone(),
                contexts.clone(),
                registrations.clone(),
                notifier,
                clock.clone(),
            ),
            registrations,
            jsonld_contexts: JsonLdContexts::new(store.clone(), contexts.clone(), clock),
            catalog: Catalog::new(store.clone()),
            health: Health::new(store),
            source_identity,
            contexts,
            config,
        }
    }
}
