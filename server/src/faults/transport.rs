//! Switches that break the WebSocket transport the ways networks do, so
//! tests can watch the client fall back (emulated connection) and return:
//! a proxy that strips `Upgrade` (400), one that accepts the upgrade and
//! then passes nothing, and one that buffers streamed responses (held SSE).

use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use tokio::sync::watch;

use super::StallQuery;
use crate::AppState;
use crate::admission::Ticket;

#[derive(Debug)]
pub struct TransportFaults {
    refuse_upgrade: AtomicBool,
    blackhole_upgrade: watch::Sender<bool>,
    hold_sse: watch::Sender<bool>,
}

impl Default for TransportFaults {
    fn default() -> Self {
        Self {
            refuse_upgrade: AtomicBool::new(false),
            blackhole_upgrade: watch::Sender::new(false),
            hold_sse: watch::Sender::new(false),
        }
    }
}

impl TransportFaults {
    pub fn upgrades_refused(&self) -> bool {
        self.refuse_upgrade.load(Ordering::Relaxed)
    }

    pub fn upgrades_blackholed(&self) -> bool {
        *self.blackhole_upgrade.borrow()
    }

    /// Watches the hold-SSE switch (true: SSE sends nothing past its padding).
    pub fn sse_hold(&self) -> watch::Receiver<bool> {
        self.hold_sse.subscribe()
    }
}

pub(super) async fn refuse_upgrade(State(state): State<AppState>, Query(q): Query<StallQuery>) -> String {
    state.faults().transport.refuse_upgrade.store(q.on, Ordering::Relaxed);
    tracing::info!(on = q.on, "test fault: refuse upgrade");
    format!("refuse-upgrade {}\n", q.on)
}

pub(super) async fn blackhole_upgrade(State(state): State<AppState>, Query(q): Query<StallQuery>) -> String {
    state.faults().transport.blackhole_upgrade.send_replace(q.on);
    tracing::info!(on = q.on, "test fault: blackhole upgrade");
    format!("blackhole-upgrade {}\n", q.on)
}

pub(super) async fn hold_sse(State(state): State<AppState>, Query(q): Query<StallQuery>) -> String {
    state.faults().transport.hold_sse.send_replace(q.on);
    tracing::info!(on = q.on, "test fault: hold sse");
    format!("hold-sse {}\n", q.on)
}

/// Accepts the upgrade and then neither sends nor reads anything until the
/// switch goes off or the server stops; then drops the TCP connection.
/// The admission ticket is held meanwhile, so such sockets stay bounded.
pub fn blackhole(ws: WebSocketUpgrade, state: AppState, ticket: Ticket) -> Response {
    ws.on_upgrade(move |socket| {
        let tracker = state.tracker().clone();
        tracker.track_future(silent(socket, state, ticket))
    })
}

async fn silent(socket: WebSocket, state: AppState, _ticket: Ticket) {
    let mut on = state.faults().transport.blackhole_upgrade.subscribe();
    let shutdown = state.shutdown_token().clone();
    tokio::select! {
        _ = on.wait_for(|on| !on) => {}
        _ = shutdown.cancelled() => {}
    }
    drop(socket);
}
