//! A hole in the store's seqs (a message the room was never offered and
//! the store cannot return) must not wedge the room: filling the gap from
//! the store gives up when it makes no progress, instead of spinning under
//! the room lock where every later post and join of the room would wait.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::stores::Wrapped;
use common::{Client, WAIT};
use tether_protocol::{ClientMsg, ServerMsg};
use tether_server::{AppState, Limits, Settings, SqliteStore, Store, serve};

const ROOM: &str = "holes";
const HOLE: u64 = 2;

async fn ack_of(c: &mut Client, id: &str) -> u64 {
    let fut = async {
        loop {
            if let ServerMsg::Ack { id: got, seq, .. } = c.recv().await
                && got == id
            {
                return seq;
            }
        }
    };
    tokio::time::timeout(WAIT, fut).await.unwrap_or_else(|_| panic!("no ack for {id}: the room is wedged"))
}

fn post(id: &str) -> ClientMsg {
    ClientMsg::Post { room: ROOM.into(), id: id.into(), body: format!("body of {id}") }
}

#[tokio::test]
async fn a_hole_in_the_stores_seqs_does_not_wedge_the_room() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db: PathBuf = dir.path().join("chat.db");
    let store = Arc::new(Wrapped::open(&db).hole_at(HOLE));
    let limits = Limits { post_rate: 1e6, post_burst: 1_000_000, ..Limits::default() };
    let settings = Settings { static_dir: PathBuf::from("/nonexistent"), limits, ..Settings::default() };
    let state = AppState::new(store, settings).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener, state, std::future::pending::<()>()));
    let url = format!("ws://{addr}/ws");

    let mut poster = Client::hello(&url, "poster").await;
    poster.send(&ClientMsg::Join { room: ROOM.into(), since: None }).await;
    while !matches!(poster.recv().await, ServerMsg::Joined { .. }) {}
    poster.send(&post("p1")).await;
    assert_eq!(ack_of(&mut poster, "p1").await, 1);
    // Seq 2 is stored behind the room's back and then unreadable: a hole.
    SqliteStore::open(&db).expect("second handle").append(ROOM, "elsewhere", "x", "y", 0).expect("append");
    poster.send(&post("p3")).await;
    assert_eq!(ack_of(&mut poster, "p3").await, 3);
    // The room still answers: a later post is acked, a newcomer can join.
    poster.send(&post("p4")).await;
    assert_eq!(ack_of(&mut poster, "p4").await, 4);
    let mut joiner = Client::hello(&url, "joiner").await;
    joiner.send(&ClientMsg::Join { room: ROOM.into(), since: None }).await;
    let joined = async { while !matches!(joiner.recv().await, ServerMsg::Joined { .. }) {} };
    tokio::time::timeout(WAIT, joined).await.expect("join answered");
}
