//! Frame helpers: build client frames and await specific answers.

use tether_protocol::{ChatMessage, ClientMsg, Cursor, ServerMsg};

use super::Client;

pub fn join(room: &str, since: Option<Cursor>) -> ClientMsg {
    ClientMsg::Join { room: room.into(), since }
}

pub fn post(room: &str, id: &str, body: &str) -> ClientMsg {
    ClientMsg::Post { room: room.into(), id: id.into(), body: body.into() }
}

/// Joins and returns (epoch, recovered, history).
pub async fn joined(c: &mut Client, room: &str, since: Option<Cursor>) -> (String, bool, Vec<ChatMessage>) {
    c.send(&join(room, since)).await;
    loop {
        match c.recv().await {
            ServerMsg::Joined { room: r, epoch, recovered, history, .. } => {
                assert_eq!(r, room);
                return (epoch, recovered, history);
            }
            ServerMsg::Rooms { .. } | ServerMsg::RoomAdded { .. } => continue,
            other => panic!("expected joined, got {other:?}"),
        }
    }
}

pub async fn recv_message(c: &mut Client) -> ChatMessage {
    loop {
        match c.recv().await {
            ServerMsg::Message { message } => return message,
            ServerMsg::Rooms { .. } | ServerMsg::RoomAdded { .. } => continue,
            other => panic!("expected message, got {other:?}"),
        }
    }
}

pub async fn recv_ack(c: &mut Client) -> (String, String, u64) {
    loop {
        match c.recv().await {
            ServerMsg::Ack { id, room, seq } => return (id, room, seq),
            ServerMsg::Rooms { .. } | ServerMsg::RoomAdded { .. } => continue,
            other => panic!("expected ack, got {other:?}"),
        }
    }
}

/// Posts and waits for the ack and the echo; returns the seq.
pub async fn post_ok(c: &mut Client, room: &str, id: &str, body: &str) -> u64 {
    c.send(&post(room, id, body)).await;
    let (ack_id, _, seq) = recv_ack(c).await;
    assert_eq!(ack_id, id);
    assert_eq!(recv_message(c).await.seq, seq);
    seq
}

/// Two greeted clients, `a` and `b`, both in `room`.
pub async fn pair_in(url: &str, room: &str) -> (Client, Client) {
    let mut a = Client::hello(url, "a").await;
    let mut b = Client::hello(url, "b").await;
    joined(&mut a, room, None).await;
    joined(&mut b, room, None).await;
    (a, b)
}
