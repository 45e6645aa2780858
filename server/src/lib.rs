//! Tether's server: WebSocket chat with durable, gap-free room history.
//!
//! [`app`] builds the router and [`serve`] runs it until a shutdown future
//! resolves, closing every socket with 1001 and flushing storage, so tests
//! can run the whole server in-process on port 0.

pub mod addr_rate;
pub mod admission;
pub mod bus;
pub mod cli;
pub mod closer;
pub mod config;
pub mod emulated;
pub mod faults;
pub mod fdlimit;
pub mod group_commit;
pub mod hub;
pub mod limits;
pub mod metrics;
pub mod origin;
pub mod outbox;
pub mod paging;
pub mod post_order;
pub mod postgres;
pub mod rate;
pub mod report;
pub mod security_headers;
pub mod serve;
pub mod session;
pub mod sqlite;
pub mod static_files;
pub mod store;
mod sync;
pub mod wal_sync;
pub mod ws;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use cli::{run, shutdown_signal};
pub use config::Config;
pub use limits::Limits;
pub use serve::serve;
pub use sqlite::SqliteStore;
pub use store::{Appended, NewPost, RoomInfo, Store, StoreError};

/// Failures that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Options that are not storage.
#[derive(Debug, Clone)]
pub struct Settings {
    pub static_dir: PathBuf,
    pub test_faults: bool,
    /// Origins allowed besides the request's own (`--allowed-origin`).
    pub allowed_origins: Vec<String>,
    pub limits: Limits,
    /// Posts waiting for the disk share one commit (on unless the hidden
    /// `--one-fsync-per-post` flag is given, for `make bench`'s baseline).
    pub group_commit: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            static_dir: PathBuf::from("dist"),
            test_faults: false,
            allowed_origins: Vec::new(),
            limits: Limits::default(),
            group_commit: true,
        }
    }
}

struct Inner {
    hub: hub::Hub,
    admission: admission::Admission,
    metrics: Arc<metrics::Metrics>,
    faults: faults::Faults,
    emulated: emulated::Registry,
    /// This instance among others (`--bus`): its id and where the others are.
    peers: std::sync::OnceLock<Arc<bus::peers::Peers>>,
    /// Per-address budget for `/client-metrics` and `/csp-report`.
    reports: addr_rate::AddrRate,
    settings: Settings,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Reads the room list from `store` (blocking, once, at startup).
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Result<Self, StoreError> {
        let metrics = Arc::new(metrics::Metrics::new());
        let hub =
            hub::Hub::new(store, metrics.clone(), settings.limits.max_rooms)?.with_group_commit(settings.group_commit);
        let admission = admission::Admission::new(settings.limits.conns_per_ip, settings.limits.max_conns);
        Ok(Self(Arc::new(Inner {
            hub,
            admission,
            metrics,
            faults: faults::Faults::default(),
            emulated: emulated::Registry::default(),
            peers: std::sync::OnceLock::new(),
            reports: addr_rate::AddrRate::default(),
            settings,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
        })))
    }

    /// Opens the store named in `config` (PostgreSQL with `--store`, else
    /// the SQLite file `--db`) and builds the state.
    pub fn from_config(config: &Config) -> Result<Self, StoreError> {
        let store: Arc<dyn Store> = match &config.store {
            Some(url) => Arc::new(postgres::PgStore::connect(url)?),
            None => Arc::new(SqliteStore::open(&config.db)?),
        };
        let settings = Settings {
            static_dir: config.static_dir.clone(),
            test_faults: config.test_faults,
            allowed_origins: config.allowed_origins.clone(),
            limits: config.limits.clone(),
            group_commit: !config.one_fsync_per_post,
        };
        Self::new(store, settings)
    }

    /// Joins the other instances on the bus at `url` (`redis://…`): starts
    /// its connections and feeds what they publish into the hub, comparing
    /// live rooms with the store every `resync` (never if zero).
    pub fn start_bus(&self, url: &str, resync: std::time::Duration) -> Result<(), bus::BusError> {
        let peers = Arc::new(bus::peers::Peers::new(url)?);
        let (bus, incoming) = bus::Bus::connect(url, peers.id().to_owned(), self.shutdown_token().clone())?;
        let _ = self.0.peers.set(peers);
        self.hub().set_bus(bus);
        let state = self.clone();
        tokio::spawn(async move { state.hub().pump(incoming, resync, state.shutdown_token().clone()).await });
        Ok(())
    }

    /// Tells the other instances this one is reachable at `url` (an
    /// `http://host:port` they can connect to), so they can pass on requests
    /// for its emulated sessions. Needs [`Self::start_bus`] first.
    pub fn advertise(&self, url: String) {
        if let Some(peers) = self.peers() {
            peers.clone().advertise(url, self.shutdown_token().clone());
        }
    }

    /// Set with `--bus`: this instance's id, put in front of its session tokens.
    pub fn peers(&self) -> Option<&Arc<bus::peers::Peers>> {
        self.0.peers.get()
    }

    pub fn hub(&self) -> &hub::Hub {
        &self.0.hub
    }
    pub fn admission(&self) -> &admission::Admission {
        &self.0.admission
    }
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.0.metrics
    }
    pub fn faults(&self) -> &faults::Faults {
        &self.0.faults
    }
    pub fn metrics_arc(&self) -> Arc<metrics::Metrics> {
        self.0.metrics.clone()
    }
    /// Live emulated sessions (the HTTP fallback).
    pub fn emulated(&self) -> &emulated::Registry {
        &self.0.emulated
    }
    pub fn reports(&self) -> &addr_rate::AddrRate {
        &self.0.reports
    }
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }
    /// Cancelled when shutdown starts; every connection watches it.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.0.shutdown
    }
    /// Tracks connection tasks so shutdown can wait for them.
    pub fn tracker(&self) -> &TaskTracker {
        &self.0.tracker
    }
}

async fn metrics_text(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], state.metrics().render())
}

/// 200 `ok` only when the store can commit a write; otherwise 503 and why.
/// How long `/healthz` waits for the store before answering 503.
const HEALTH_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    let store = state.hub().store().clone();
    // A load balancer asking must get an answer even while the store hangs.
    let check = tokio::task::spawn_blocking(move || store.check_writable());
    let Ok(checked) = tokio::time::timeout(HEALTH_CHECK_TIMEOUT, check).await else {
        tracing::warn!("health check: store not answering");
        return (StatusCode::SERVICE_UNAVAILABLE, "store cannot write: no answer in time\n".to_owned());
    };
    match checked {
        Ok(Ok(())) => match state.hub().bus().map(bus::Bus::check) {
            Some(Err(why)) => {
                tracing::warn!(%why, "health check: bus down");
                (StatusCode::SERVICE_UNAVAILABLE, format!("bus unavailable: {why}\n"))
            }
            _ => (StatusCode::OK, "ok".to_owned()),
        },
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: store cannot write");
            (StatusCode::SERVICE_UNAVAILABLE, format!("store cannot write: {e}\n"))
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store check failed: {e}\n")),
    }
}

/// The full router: API routes first, then the app's static files. Routes
/// that change state (the WebSocket, client reports, test faults) check the Origin.
pub fn app(state: AppState) -> Router {
    let statics = security_headers::wrap(static_files::service(&state.settings().static_dir));
    let guarded = Router::new()
        .route("/ws", get(ws::upgrade))
        .route("/client-metrics", axum::routing::post(report::client_metrics).layer(report::body_limit()))
        .merge(faults::routes(state.settings().test_faults))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), origin::check));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route(
            security_headers::REPORT_PATH,
            axum::routing::post(security_headers::report).layer(security_headers::body_limit()),
        )
        .merge(guarded)
        .merge(emulated::routes(&state))
        .fallback_service(statics)
        .with_state(state)
}
