//! Chat helpers for the emulated-connection tests: server limits, and
//! receiving from a WebSocket and an emulated client alike.

use tether_protocol::ServerMsg;
use tether_server::Limits;
use tether_server::emulated::EmulatedLimits;

use super::emu::Emu;
use super::{Client, TestServer};

pub fn limits(emulated: EmulatedLimits) -> Limits {
    Limits {
        post_rate: 1e6,
        post_burst: 1_000_000,
        join_rate: 1e6,
        join_burst: 1_000_000,
        emulated,
        ..Limits::default()
    }
}

pub async fn server(dir: &tempfile::TempDir, emulated: EmulatedLimits) -> TestServer {
    TestServer::start_limited(&dir.path().join("t.db"), limits(emulated)).await
}

pub fn quick() -> EmulatedLimits {
    EmulatedLimits { session_idle_ms: 60_000, poll_hold_ms: 1_500, sse_ping_ms: 200, ..EmulatedLimits::default() }
}

/// Anything that receives chat frames: a WebSocket or an emulated client.
pub trait Receiver {
    async fn next(&mut self) -> ServerMsg;
}

impl Receiver for Client {
    async fn next(&mut self) -> ServerMsg {
        self.recv().await
    }
}

impl Receiver for Emu {
    async fn next(&mut self) -> ServerMsg {
        self.recv().await
    }
}

pub async fn joined(r: &mut impl Receiver, room: &str) {
    loop {
        match r.next().await {
            ServerMsg::Joined { room: got, .. } if got == room => return,
            ServerMsg::Rooms { .. } | ServerMsg::RoomAdded { .. } => continue,
            other => panic!("expected joined, got {other:?}"),
        }
    }
}

/// Reads until `messages` chat messages arrived; returns (id, seq) of each
/// message in arrival order and the acks (id, seq) seen meanwhile.
pub async fn collect(r: &mut impl Receiver, messages: usize) -> (Vec<(String, u64)>, Vec<(String, u64)>) {
    let (mut got, mut acks) = (Vec::new(), Vec::new());
    while got.len() < messages {
        match r.next().await {
            ServerMsg::Message { message } => got.push((message.id, message.seq)),
            ServerMsg::Ack { id, seq, .. } => acks.push((id, seq)),
            ServerMsg::RoomAdded { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    (got, acks)
}
