//! A POST whose client goes away mid-commit must not take other people's
//! posts with it: with group commit the handler that gets the room lock
//! stores and answers everyone's waiting posts, so its cancellation (hyper
//! drops the handler when the client disconnects; our client aborts POSTs
//! on teardown) used to leave the others un-acked and un-broadcast.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::emu::Emu;
use common::stores::Wrapped;
use common::{Client, WAIT};
use tether_protocol::{ClientMsg, ServerMsg};
use tether_server::{AppState, Limits, Settings, serve};
use tokio::io::AsyncWriteExt;

const ROOM: &str = "cancel";

/// Holds every commit at the disk until let through, counting arrivals.
#[derive(Default)]
struct Gate {
    state: Mutex<(bool, usize, usize)>, // (open, permits, entered)
    changed: Condvar,
}

impl Gate {
    fn set(&self, f: impl FnOnce(&mut (bool, usize, usize))) {
        f(&mut self.state.lock().unwrap());
        self.changed.notify_all();
    }

    /// Called by the store before a commit: waits for the gate or a permit.
    fn pass(&self) {
        let mut st = self.state.lock().unwrap();
        st.2 += 1;
        while !st.0 && st.1 == 0 {
            st = self.changed.wait(st).unwrap();
        }
        if !st.0 {
            st.1 -= 1;
        }
    }

    async fn wait_entered(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.state.lock().unwrap().2 < n {
            assert!(tokio::time::Instant::now() < deadline, "commit {n} never reached the store");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn ws_join(url: &str, nick: &str) -> Client {
    let mut c = Client::hello(url, nick).await;
    c.send(&ClientMsg::Join { room: ROOM.into(), since: None }).await;
    while !matches!(c.recv().await, ServerMsg::Joined { .. }) {}
    c
}

fn post(id: &str) -> ClientMsg {
    ClientMsg::Post { room: ROOM.into(), id: id.into(), body: format!("body of {id}") }
}

#[tokio::test]
async fn aborted_post_mid_commit_still_answers_the_others_in_its_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db: PathBuf = dir.path().join("chat.db");
    let gate = Arc::new(Gate::default());
    gate.set(|s| s.0 = true);
    let held = gate.clone();
    let store = Arc::new(Wrapped::open(&db).before_batch(move || held.pass()));
    let limits = Limits { post_rate: 1e6, post_burst: 1_000_000, ..Limits::default() };
    let settings = Settings { static_dir: PathBuf::from("/nonexistent"), limits, ..Settings::default() };
    let state = AppState::new(store, settings).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener, state, std::future::pending::<()>()));
    let url = format!("ws://{addr}/ws");

    let mut carol = ws_join(&url, "carol").await;
    let mut bob = ws_join(&url, "bob").await;
    let mut alice = Emu::longpoll(addr).await.greet("alice").await;
    alice.send(&ClientMsg::Join { room: ROOM.into(), since: None }).await;
    while !matches!(alice.recv().await, ServerMsg::Joined { .. }) {}

    // Carol's commit holds the disk; alice's (aborted) POST and bob's post
    // queue behind it, so whoever commits next takes both.
    gate.set(|s| s.0 = false);
    carol.send(&post("c1")).await;
    gate.wait_entered(1).await;
    let text = serde_json::to_string(&post("a1")).expect("json");
    let body = serde_json::to_string(&[text]).expect("json");
    let mut raw = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /ws/send?session={}&seq=3 HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        alice.token,
        body.len()
    );
    raw.write_all(format!("{head}{body}").as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    bob.send(&post("b1")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    gate.set(|s| s.1 = 1); // carol's commit finishes; the next one (a1 + b1) holds
    gate.wait_entered(2).await;
    drop(raw); // alice's tab goes away mid-commit
    tokio::time::sleep(Duration::from_millis(300)).await;
    gate.set(|s| s.0 = true);

    // Bob's post is acked and everyone's is broadcast, each once.
    let (mut acked, mut seen) = (false, Vec::new());
    while !(acked && seen.len() == 3) {
        match bob.recv().await {
            ServerMsg::Ack { id, .. } => {
                assert_eq!(id, "b1");
                acked = true;
            }
            ServerMsg::Message { message } => seen.push(message.id),
            ServerMsg::Presence { .. } | ServerMsg::MemberJoined { .. } => {}
            other => panic!("bob got {other:?} instead of his ack and the posts"),
        }
    }
    seen.sort();
    assert_eq!(seen, ["a1", "b1", "c1"]);

    // Alice's retry is answered without storing or broadcasting it again.
    let r = alice.post_frames(3, &body).await;
    assert_eq!((r.status, r.json()["accepted"].as_u64()), (200, Some(3)), "{}", r.body);
    alice.next_seq = 4;
    alice.send(&post("a2")).await;
    loop {
        match bob.recv().await {
            ServerMsg::Message { message } => {
                assert_eq!(message.id, "a2", "a post was broadcast twice");
                break;
            }
            ServerMsg::Presence { .. } => {}
            other => panic!("bob got {other:?}"),
        }
    }
}
