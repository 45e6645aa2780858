//! The accept loop: hyper's HTTP/1 server with a header-read timeout (a
//! client that trickles headers cannot hold a connection forever), the peer
//! address available to handlers, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::{AppState, ServerError, app};

/// How long shutdown waits for sockets to finish closing.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Serves until `shutdown` resolves, then stops accepting, closes every
/// WebSocket with 1001 (after flushing what was queued for it), waits
/// briefly for them, and checkpoints storage.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let token = state.shutdown_token().clone();
    let router = app(state.clone());
    let header_timeout = Duration::from_millis(state.settings().limits.header_timeout_ms);
    let http_conns = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Chat frames are small and latency-bound: without TCP_NODELAY an `ack`
        // followed by a `message` waits ~40 ms on Nagle + delayed ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let router = router.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(req)
        });
        let token = token.clone();
        http_conns.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r { tracing::debug!(error = %e, "http connection ended"); }
                    return;
                }
                _ = token.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "http connection ended");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down");
    token.cancel();
    // Every WebSocket is told here, in one pass, instead of each watching
    // the shared token: its lock, taken by every connection each time it
    // wakes, slowed room fan-out (see `ws::run` for connections arriving now).
    state.hub().shut_down_all();
    http_conns.close();
    // A stuck keep-alive client must not hold shutdown hostage.
    if tokio::time::timeout(SHUTDOWN_GRACE, http_conns.wait()).await.is_err() {
        tracing::warn!("HTTP connections still open at shutdown; dropping them");
    }
    let tracker = state.tracker().clone();
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await.is_err() {
        tracing::warn!(open = tracker.len(), "sockets still closing at shutdown; dropping them");
    }
    let store = state.hub().store().clone();
    tokio::task::spawn_blocking(move || store.close()).await??;
    Ok(())
}
