//! The test-only `/test/echo` endpoint that the Autobahn conformance run
//! (scripts/conformance.sh) drives: the essentials checked here too, so they
//! hold on machines without Python 2.7. It echoes data, and when it fails a
//! connection it says why with the RFC 6455 close code instead of dropping
//! the TCP connection (which clients report as 1006). Without --test-faults
//! it is a 404 like all of /test/* (lifecycle.rs).

mod common;

use common::{Client, Closed, TestServer};
use tether_protocol::MAX_FRAME_BYTES;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

async fn echo_client(server: &TestServer) -> Client {
    Client::connect(&format!("ws://{}/test/echo", server.addr)).await
}

async fn next_data(c: &mut Client) -> Message {
    use futures_util::StreamExt;
    loop {
        let next = tokio::time::timeout(common::WAIT, c.ws.next()).await.expect("echo timed out");
        match next.expect("stream open").expect("a frame") {
            Message::Ping(_) | Message::Pong(_) => continue,
            m => return m,
        }
    }
}

#[tokio::test]
async fn echoes_text_and_binary_and_completes_the_close_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut c = echo_client(&server).await;
    c.send_raw(Message::text("héllo \u{1F600}")).await;
    assert_eq!(next_data(&mut c).await, Message::text("héllo \u{1F600}"));
    let big = vec![7u8; MAX_FRAME_BYTES];
    c.send_raw(Message::binary(big.clone())).await;
    assert_eq!(next_data(&mut c).await, Message::binary(big), "a frame of exactly the limit is fine");
    c.send_raw(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() }))).await;
    assert_eq!(c.closed().await, Closed::Code(1000));
    server.stop().await;
}

#[tokio::test]
async fn failures_close_with_the_rfc_6455_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let cases: [(&str, Message, u16); 3] = [
        ("invalid UTF-8", Message::Frame(Frame::message(vec![b'a', 0xC3, 0x28], OpCode::Data(Data::Text), true)), 1007),
        ("reserved opcode", Message::Frame(Frame::message(vec![1, 2], OpCode::Data(Data::Reserved(3)), true)), 1002),
        ("oversize", Message::binary(vec![0u8; MAX_FRAME_BYTES + 1]), 1009),
    ];
    for (what, frame, code) in cases {
        let mut c = echo_client(&server).await;
        c.send_raw(frame).await;
        assert_eq!(c.closed().await, Closed::Code(code), "{what}");
    }
    server.stop().await;
}
