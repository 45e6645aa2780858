//! One WebSocket connection's lifecycle: upgrade limits, the reader and
//! writer halves, and every way a connection can end.
//!
//! Ending is funnelled through one [`Closer`] so that shutdown, test faults,
//! a slow client, an oversize frame and the peer leaving all take the same
//! path, and the connection gauge and room membership are always cleaned up.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt, stream::SplitSink, stream::SplitStream};
use tether_protocol::{MAX_FRAME_BYTES, close_code};
use tokio::sync::mpsc;

use crate::AppState;
use crate::outbox::{Closer, Ending, Outbox};
use crate::session::Session;

/// How long to wait for our Close frame to be written (a slow client may
/// first have to read its backlog) and for the peer's echo, before
/// dropping the TCP connection anyway. Below the server's shutdown grace.
const CLOSE_GRACE: Duration = Duration::from_millis(1500);

/// Small socket buffers: axum's defaults cost ~130 KB per idle connection.
const READ_BUFFER: usize = 16 * 1024;
const WRITE_BUFFER: usize = 8 * 1024;
/// A cap, not an allocation. It must hold the largest frame we send: a
/// `joined` replay of up to 1000 maximal messages can be several MB.
const MAX_WRITE_BUFFER: usize = 32 * 1024 * 1024;

pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "websocket upgrade failed"))
        .on_upgrade(move |socket| {
            let tracker = state.tracker().clone();
            tracker.track_future(run(socket, state))
        })
}

async fn run(socket: WebSocket, state: AppState) {
    let _open = state.metrics().connection_opened();
    let slow = state.metrics().slow_consumer_closes.clone();
    let (outbox, rx) = Outbox::new(state.hub().next_conn_id(), slow);
    let _registration = state.hub().register(outbox.clone());
    let closer = outbox.closer.clone();
    let (sink, stream) = socket.split();
    let mut session = Session::new(state.clone(), outbox);
    tokio::join!(write_loop(sink, rx, &closer), read_loop(stream, &mut session, &closer));
    session.leave_all().await;
    tracing::debug!(conn = session.conn_id(), ending = ?closer.ending(), "connection ended");
}

async fn write_loop(mut sink: SplitSink<WebSocket, Message>, mut rx: mpsc::Receiver<Message>, closer: &Closer) {
    loop {
        let next = tokio::select! {
            biased;
            _ = closer.ended() => break,
            m = rx.recv() => m,
        };
        let Some(msg) = next else { break };
        tokio::select! {
            biased;
            _ = closer.ended() => break,
            sent = sink.send(msg) => if sent.is_err() {
                closer.end(Ending::PeerGone);
                break;
            },
        }
    }
    if let Some(Ending::Close { code, reason }) = closer.ending() {
        let frame = CloseFrame { code: *code, reason: (*reason).into() };
        let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(Message::Close(Some(frame)))).await;
    }
}

async fn read_loop(mut stream: SplitStream<WebSocket>, session: &mut Session, closer: &Closer) {
    let shutdown = session.state().shutdown_token().clone();
    let stream_open = loop {
        let frame = tokio::select! {
            biased;
            _ = closer.ended() => break true,
            _ = shutdown.cancelled() => {
                closer.close(close_code::GOING_AWAY, "server shutting down");
                continue;
            }
            f = stream.next() => f,
        };
        match frame {
            Some(Ok(Message::Close(_))) => {
                // Keep reading below so tungstenite flushes its close echo.
                closer.end(Ending::PeerGone);
                break true;
            }
            Some(Ok(msg)) => session.on_frame(msg).await,
            Some(Err(e)) if is_too_big(&e) => {
                tracing::info!(conn = session.conn_id(), "frame too big; closing with 1009");
                closer.close(close_code::TOO_BIG, "message too big");
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

fn is_too_big(e: &axum::Error) -> bool {
    use std::error::Error as _;
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(err) = source {
        if let Some(tungstenite::Error::Capacity(_)) = err.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        source = err.source();
    }
    false
}
