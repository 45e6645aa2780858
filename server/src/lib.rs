//! Tether's server: WebSocket chat with durable, gap-free room history.
//!
//! [`app`] builds the router and [`serve`] runs it until a shutdown future
//! resolves, closing every socket with 1001 and flushing storage, so tests
//! can run the whole server in-process on port 0.

pub mod cli;
pub mod config;
pub mod faults;
pub mod hub;
pub mod metrics;
pub mod outbox;
pub mod session;
pub mod sqlite;
pub mod static_files;
pub mod store;
pub mod ws;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use cli::{run, shutdown_signal};
pub use config::Config;
pub use sqlite::SqliteStore;
pub use store::{Appended, RoomInfo, Store, StoreError};

/// How long shutdown waits for sockets to finish closing.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

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
}

impl Default for Settings {
    fn default() -> Self {
        Self { static_dir: PathBuf::from("dist"), test_faults: false }
    }
}

struct Inner {
    hub: hub::Hub,
    metrics: Arc<metrics::Metrics>,
    faults: faults::Faults,
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
        let hub = hub::Hub::new(store, metrics.clone())?;
        Ok(Self(Arc::new(Inner {
            hub,
            metrics,
            faults: faults::Faults::default(),
            settings,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
        })))
    }

    /// Opens the SQLite database named in `config` and builds the state.
    pub fn from_config(config: &Config) -> Result<Self, StoreError> {
        let store = Arc::new(SqliteStore::open(&config.db)?);
        let settings = Settings { static_dir: config.static_dir.clone(), test_faults: config.test_faults };
        Self::new(store, settings)
    }

    pub fn hub(&self) -> &hub::Hub {
        &self.0.hub
    }
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.0.metrics
    }
    pub fn faults(&self) -> &faults::Faults {
        &self.0.faults
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

/// The full router: API routes first, then the app's static files.
pub fn app(state: AppState) -> Router {
    let statics = static_files::service(&state.settings().static_dir);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics_text))
        .route("/ws", get(ws::upgrade))
        .merge(faults::routes(state.settings().test_faults))
        .fallback_service(statics)
        .with_state(state)
}

/// Serves until `shutdown` resolves, then stops accepting, closes every
/// WebSocket with 1001, waits briefly for them, and checkpoints storage.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let token = state.shutdown_token().clone();
    let signal = {
        let token = token.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down");
            token.cancel();
        }
    };
    // Chat frames are small and latency-bound: without TCP_NODELAY an `ack`
    // followed by a `message` waits ~40 ms on Nagle + delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app(state.clone())).with_graceful_shutdown(signal);
    // A stuck keep-alive client must not hold shutdown hostage.
    let deadline = async {
        token.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = server.into_future() => served?,
        _ = deadline => tracing::warn!("HTTP connections still open at shutdown; dropping them"),
    }
    token.cancel();
    let tracker = state.tracker().clone();
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await.is_err() {
        tracing::warn!(open = tracker.len(), "sockets still closing at shutdown; dropping them");
    }
    let store = state.hub().store().clone();
    tokio::task::spawn_blocking(move || store.close()).await??;
    Ok(())
}
