//! Real PostgreSQL, Redis and tether-server processes for the
//! multi-instance tests, and a client that keeps a user's view of a room.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tether_protocol::{ChatMessage, ClientMsg, Cursor, ServerMsg};
use tether_testkit::postgres::{self, Postgres};
use tether_testkit::redis::{self, Redis};

use crate::common::frames::{join, post};
use crate::common::process::{Proc, spawn};
use crate::common::{Client, http};

/// True (after saying why) when this machine cannot run the components and
/// has no apt-get to install them; on any machine with apt-get they must run.
pub fn skip() -> bool {
    if postgres::available() && redis::available() {
        return false;
    }
    if std::path::Path::new("/usr/bin/apt-get").exists() {
        panic!("PostgreSQL 15 or redis-server missing: run scripts/setup.sh (it installs them)");
    }
    eprintln!("SKIPPED: PostgreSQL 15 and redis-server are not installed and this machine has no apt-get");
    true
}

/// One PostgreSQL cluster per test binary; each test gets its own database.
pub fn database(name: &str) -> String {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(|| Postgres::start().expect("start PostgreSQL")).create_db(name).expect("createdb")
}

pub fn redis() -> Redis {
    Redis::start().expect("start redis-server")
}

/// A tether-server process on the shared store and bus, rate limits out of the way.
pub fn instance(store: &str, bus: &str) -> Proc {
    instance_resyncing(store, bus, tether_server::hub::DEFAULT_RESYNC_MS)
}

/// An instance whose rooms are compared with the store only after it
/// (re)subscribes, never on a timer: what other instances cause reaches its
/// clients over the bus or not at all, so a test of the bus can fail.
pub fn bus_only(store: &str, bus: &str) -> Proc {
    instance_resyncing(store, bus, 0)
}

fn instance_resyncing(store: &str, bus: &str, resync_ms: u64) -> Proc {
    spawn(|c| {
        c.args(["--addr", "127.0.0.1:0", "--static-dir", "/nonexistent", "--store", store, "--bus", bus]);
        c.args(["--post-rate", "1000000", "--post-burst", "1000000", "--join-rate", "1000000"]);
        c.args(["--join-burst", "1000000", "--max-rooms", "100000", "--bus-resync-ms", &resync_ms.to_string()]);
    })
}

/// Waits until `/healthz` answers `want` (the bus subscribes asynchronously).
pub async fn wait_health(addr: SocketAddr, want: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = http(addr, "GET", "/healthz").await;
        if status == want {
            return body;
        }
        assert!(Instant::now() < deadline, "/healthz stayed {status} {body:?}, wanted {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A user in one room: what they have been shown, in order, and what
/// they posted that is not acked yet (resent after a reconnect, as the app does).
pub struct Viewer {
    pub client: Client,
    pub room: String,
    pub nick: String,
    pub seen: Vec<ChatMessage>,
    pub epoch: String,
    pub unacked: Vec<(String, String)>,
    pub acked: BTreeSet<String>,
}

impl Viewer {
    pub async fn join(addr: SocketAddr, nick: &str, room: &str) -> Self {
        let client = Client::hello(&format!("ws://{addr}/ws"), nick).await;
        let mut v = Self {
            client,
            room: room.into(),
            nick: nick.into(),
            seen: vec![],
            epoch: String::new(),
            unacked: vec![],
            acked: BTreeSet::new(),
        };
        v.client.send(&join(room, None)).await;
        v.until_joined().await;
        v
    }

    /// Reconnects to `addr` and resumes from its cursor; resends what was not acked.
    pub async fn resume(&mut self, addr: SocketAddr) {
        self.client = Client::hello(&format!("ws://{addr}/ws"), &self.nick).await;
        let since = self.seen.last().map(|m| Cursor { epoch: self.epoch.clone(), seq: m.seq });
        self.client.send(&join(&self.room, since)).await;
        self.until_joined().await;
        for (id, body) in self.unacked.clone() {
            self.client.send(&post(&self.room, &id, &body)).await;
        }
    }

    async fn until_joined(&mut self) {
        loop {
            if let ServerMsg::Joined { epoch, recovered, history, .. } = self.client.recv().await {
                if !self.seen.is_empty() {
                    assert!(recovered, "{}: resume from a cursor must replay exactly", self.nick);
                }
                self.epoch = epoch;
                self.seen.extend(history);
                return;
            }
        }
    }

    pub async fn post(&mut self, id: &str, body: &str) {
        self.unacked.push((id.into(), body.into()));
        self.client.send(&post(&self.room, id, body)).await;
    }

    /// Sends without failing when the server is gone (the kill test).
    pub async fn try_post(&mut self, id: &str, body: &str) {
        self.unacked.push((id.into(), body.into()));
        let _ =
            self.client.ws_send(&ClientMsg::Post { room: self.room.clone(), id: id.into(), body: body.into() }).await;
    }

    /// Reads until `n` messages have been seen in total and every post is acked.
    pub async fn read_until(&mut self, n: usize) {
        while self.seen.len() < n || !self.unacked.is_empty() {
            match self.client.recv().await {
                ServerMsg::Message { message } => self.seen.push(message),
                ServerMsg::Ack { id, .. } => {
                    self.unacked.retain(|(u, _)| *u != id);
                    self.acked.insert(id);
                }
                ServerMsg::Rejected { id, reason, .. } => panic!("{}: post {id} rejected: {reason:?}", self.nick),
                _ => {}
            }
        }
    }

    pub fn seqs(&self) -> Vec<u64> {
        self.seen.iter().map(|m| m.seq).collect()
    }

    /// Shown once each, in seq order, with no gap from 1.
    pub fn assert_complete(&self, n: usize) {
        assert_eq!(self.seqs(), (1..=n as u64).collect::<Vec<_>>(), "{} saw a gap, duplicate or disorder", self.nick);
        let ids: BTreeSet<_> = self.seen.iter().map(|m| &m.id).collect();
        assert_eq!(ids.len(), n, "{}: a message was stored twice", self.nick);
    }
}

/// Reads frames (presence included) until one satisfies `pred`, for at most `limit`.
pub async fn wait_for(c: &mut Client, limit: Duration, what: &str, pred: impl Fn(&ServerMsg) -> bool) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, c.ws.next()).await {
            Err(_) => panic!("no {what} within {limit:?}"),
            Ok(Some(Ok(Message::Text(t)))) => {
                if serde_json::from_str::<ServerMsg>(t.as_str()).is_ok_and(|m| pred(&m)) {
                    return;
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("connection ended waiting for {what}: {other:?}"),
        }
    }
}

/// `nick` joined, or is listed in a presence frame.
pub fn shows(nick: &str) -> impl Fn(&ServerMsg) -> bool + '_ {
    move |m| match m {
        ServerMsg::MemberJoined { nick: n, .. } => n == nick,
        ServerMsg::Presence { members, .. } => members.iter().any(|n| n == nick),
        _ => false,
    }
}
