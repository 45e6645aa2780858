//! One WebSocket connection's lifecycle: upgrade limits, the reader and
//! writer halves, and every way a connection can end.
//!
//! Ending is funnelled through one [`Closer`] so that shutdown, test faults,
//! a slow client, an oversize frame and the peer leaving all take the same
//! path, and the connection gauge and room membership are always cleaned up.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::Extensions;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, stream::SplitSink, stream::SplitStream};
use tether_protocol::{MAX_FRAME_BYTES, close_code};
use tokio::time::Instant;

use crate::AppState;
use crate::admission::Ticket;
use crate::outbox::{Closer, Ending, Outbox, OutboxRx};
use crate::session::Session;

/// How long to wait for our Close frame to be written (a slow client may
/// first have to read its backlog) and for the peer's echo, before
/// dropping the TCP connection anyway. Below the server's shutdown grace.
const CLOSE_GRACE: Duration = Duration::from_millis(1500);

/// Small socket buffers: axum's defaults cost ~130 KB per idle connection.
/// The read buffer is allocated (and zeroed) up front but grows on demand to
/// hold a whole frame (up to MAX_FRAME_BYTES), so it only needs to fit the
/// common small chat frame; a larger frame just takes several reads of this
/// size. `make bench`, 10,000 idle connections: 16 KiB gave 22.7 KiB of RSS
/// per connection, 1 KiB 7.8 KiB, 256 B 7.0 KiB.
const READ_BUFFER: usize = 256;
const WRITE_BUFFER: usize = 8 * 1024;
/// Frames written before one flush at most (see `write_loop`): enough for
/// every post's ack and broadcast to share a write under load, few enough
/// (with 256-byte chat frames, about two `WRITE_BUFFER`s) that the reader
/// and an ending connection are looked at often.
const RUN_FRAMES: usize = 64;
/// A cap, not an allocation: every frame we send fits in MAX_FRAME_BYTES
/// (history is paged), so the write buffer never grows past this.
const MAX_WRITE_BUFFER: usize = 2 * MAX_FRAME_BYTES + WRITE_BUFFER;

/// Admits the connection (per-IP and total caps) before upgrading. The
/// Origin check ran before this, as a layer on the route.
pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>, ext: Extensions) -> Response {
    if state.faults().transport.upgrades_refused() {
        return (axum::http::StatusCode::BAD_REQUEST, "upgrade refused (test fault)\n").into_response();
    }
    // Without a peer address (a router served by other code) the per-IP cap
    // cannot apply; the total cap still does.
    let ip = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ticket = match state.admission().admit(ip) {
        Ok(t) => t,
        Err(refused) => {
            state.metrics().connections_refused.inc();
            tracing::info!(?ip, %refused, "connection refused");
            return (refused.status(), format!("{refused}\n")).into_response();
        }
    };
    if state.faults().transport.upgrades_blackholed() {
        return crate::faults::transport::blackhole(ws, state, ticket);
    }
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "websocket upgrade failed"))
        .on_upgrade(move |socket| {
            let tracker = state.tracker().clone();
            // Split here, not in `run`: an argument of an async fn stays in
            // its future for the connection's whole life even once moved
            // out, and the socket is a few hundred bytes.
            let (sink, stream) = socket.split();
            tracker.track_future(run(sink, stream, state, ticket))
        })
}

/// Not an `async fn`: that would copy its arguments into locals of the
/// future, keeping each twice for the connection's life; this block uses
/// the captured ones in place (the sink is borrowed, not moved, below).
#[allow(clippy::manual_async_fn)]
fn run(
    mut sink: SplitSink<WebSocket, Message>,
    stream: SplitStream<WebSocket>,
    state: AppState,
    ticket: Ticket,
) -> impl Future<Output = ()> + Send {
    async move {
        // Held for the connection's life: dropping the ticket when `run`
        // returns its future would free the admission slot at the upgrade
        // and lift the per-address and total caps.
        let _admitted = &ticket;
        let _open = state.metrics().connection_opened();
        let slow = state.metrics().slow_consumer_closes.clone();
        let (outbox, rx) = Outbox::new(state.hub().next_conn_id(), state.settings().limits.outbox_bytes, slow);
        let _registration = state.hub().register(outbox.clone());
        tracing::debug!(conn = outbox.id, "connection started");
        let closer = outbox.closer.clone();
        // Shutdown ends every registered connection once (`serve`); one that
        // registered after that sees the token already cancelled.
        if state.shutdown_token().is_cancelled() {
            closer.end(shutting_down());
        }
        let mut session = Session::new(state.clone(), outbox);
        tokio::join!(write_loop(&mut sink, rx, &closer), read_loop(stream, &mut session, &closer));
        Box::pin(session.leave_all()).await;
        tracing::debug!(conn = session.conn_id(), ending = ?closer.ending(), "connection ended");
    }
}

/// How shutdown ends a connection: 1001, after what was queued for it.
pub fn shutting_down() -> Ending {
    Ending::Close { code: close_code::GOING_AWAY, reason: "server shutting down" }
}

async fn write_loop(sink: &mut SplitSink<WebSocket, Message>, mut rx: OutboxRx, closer: &Closer) {
    // A frame taken from the queue but not yet accepted by the socket: the
    // first of the next run, or, once the connection was told to end, the
    // first of the backlog sent before the Close.
    let mut pending = None;
    loop {
        let next = match pending.take() {
            Some(m) if !closer.is_ended() => Some(m),
            taken => {
                pending = taken;
                tokio::select! {
                    biased;
                    _ = closer.ended() => break,
                    m = rx.recv() => m,
                }
            }
        };
        let Some(mut msg) = next else { break };
        // Every frame already queued goes to the socket before one flush: a
        // post's ack and its broadcast, queued together, leave in one write
        // rather than a system call each. A run stops at `RUN_FRAMES` so that
        // reads and an ending connection are looked at between runs.
        let mut run = 0;
        let fed = loop {
            run += 1;
            // Readiness and flushing are cancel-safe (nothing is lost if the
            // connection ends meanwhile); `start_send` hands the frame over at once.
            let ready = tokio::select! {
                biased;
                r = std::future::poll_fn(|cx| sink.poll_ready_unpin(cx)) => r,
                _ = closer.ended() => {
                    pending = Some(msg);
                    break false;
                }
            };
            if ready.is_err() || sink.start_send_unpin(msg).is_err() {
                closer.end(Ending::PeerGone);
                break false;
            }
            match rx.try_recv() {
                Some(m) if run < RUN_FRAMES => msg = m,
                Some(m) => {
                    pending = Some(m);
                    break true;
                }
                None => break true,
            }
        };
        if !fed {
            break;
        }
        let flushed = tokio::select! {
            biased;
            r = sink.flush() => r,
            _ = closer.ended() => break,
        };
        if flushed.is_err() {
            closer.end(Ending::PeerGone);
            break;
        }
        if pending.is_some() {
            // A long backlog: let the read side (same task) run between runs.
            tokio::task::yield_now().await;
        }
    }
    if let Some(Ending::Close { code, reason }) = closer.ending() {
        // Frames already queued (acks, messages) go out before the Close,
        // all within one bound: a client that does not read gets its Close
        // late or not at all, but never holds the server.
        let frame = CloseFrame { code: *code, reason: (*reason).into() };
        let flush = async {
            let backlog = pending.into_iter().chain(std::iter::from_fn(|| rx.try_recv()));
            for m in backlog {
                if sink.feed(m).await.is_err() {
                    return;
                }
            }
            let _ = sink.send(Message::Close(Some(frame))).await;
        };
        // Boxed like the frame handler: only a closing connection needs it.
        let _ = tokio::time::timeout(CLOSE_GRACE, Box::pin(flush)).await;
    }
}

async fn read_loop(mut stream: SplitStream<WebSocket>, session: &mut Session, closer: &Closer) {
    // Only what the loop needs, not a clone of all the limits: whatever is
    // alive across an await sits in every idle connection's task.
    let limits = &session.state().settings().limits;
    let hello_deadline = Instant::now() + Duration::from_millis(limits.hello_timeout_ms);
    let idle = Duration::from_millis(limits.idle_timeout_ms);
    let ping_every = Duration::from_millis(limits.ping_interval_ms.max(10));
    let mut pings = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    let mut last_heard = Instant::now();
    let stream_open = loop {
        let frame = tokio::select! {
            biased;
            _ = closer.ended() => break true,
            // Between frames: a post being handled is acked first.
            _ = closer.shutdown_asked() => {
                closer.end(shutting_down());
                continue;
            }
            _ = tokio::time::sleep_until(hello_deadline), if !session.greeted() => {
                tracing::info!(conn = session.conn_id(), "no hello in time; closing with 1008");
                closer.close(close_code::POLICY, "no hello in time");
                continue;
            }
            _ = pings.tick() => {
                if last_heard.elapsed() >= idle {
                    tracing::info!(conn = session.conn_id(), "peer silent; closing with 4000");
                    closer.close(close_code::HEARTBEAT_TIMEOUT, "no pong in time");
                } else {
                    session.outbox().push_ping();
                }
                continue;
            }
            f = stream.next() => f,
        };
        last_heard = Instant::now();
        match frame {
            Some(Ok(Message::Close(_))) => {
                // Keep reading below so tungstenite flushes its close echo.
                closer.end(Ending::PeerGone);
                break true;
            }
            // Boxed: handling a frame can take a large future (the post
            // path), which would otherwise sit in every idle connection's
            // task for its whole life.
            Some(Ok(msg)) => Box::pin(session.on_frame(msg)).await,
            Some(Err(e)) if is_too_big(&e) => {
                tracing::info!(conn = session.conn_id(), "frame too big; closing with 1009");
                closer.close(close_code::TOO_BIG, "message too big");
                break true;
            }
            Some(Err(e)) if is_bad_utf8(&e) => {
                tracing::info!(conn = session.conn_id(), "text frame not UTF-8; closing with 1007");
                closer.close(close_code::INVALID_PAYLOAD, "text is not valid UTF-8");
                break true;
            }
            Some(Err(e)) => {
                tracing::debug!(conn = session.conn_id(), error = %e, "websocket read failed");
                closer.end(Ending::PeerGone);
                break false;
            }
            None => {
                closer.end(Ending::PeerGone);
                break false;
            }
        }
    };
    if stream_open && closer.ending() != Some(&Ending::Abort) {
        // Let the peer's close echo (or our echo of its close) go through,
        // so it sees a clean close with the code rather than 1006.
        let drain = async { while let Some(Ok(_)) = stream.next().await {} };
        let _ = tokio::time::timeout(CLOSE_GRACE, drain).await;
    }
}

fn tungstenite_error(e: &axum::Error) -> Option<&tungstenite::Error> {
    use std::error::Error as _;
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(err) = source {
        if let Some(t) = err.downcast_ref::<tungstenite::Error>() {
            return Some(t);
        }
        source = err.source();
    }
    None
}

fn is_too_big(e: &axum::Error) -> bool {
    matches!(tungstenite_error(e), Some(tungstenite::Error::Capacity(_)))
}

fn is_bad_utf8(e: &axum::Error) -> bool {
    matches!(tungstenite_error(e), Some(tungstenite::Error::Utf8(_)))
}
