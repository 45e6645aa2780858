//! A client of the emulated connection (HTTP fallback) as a browser would
//! use it: one TCP connection per request, an SSE stream read event by event
//! or long-polls, numbered POSTs. Every network await is under a timeout.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper_util::rt::TokioIo;
use tether_protocol::{ClientMsg, ServerMsg};
use tokio::net::TcpStream;

use super::{WAIT, is_presence};

/// A finished response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error` code of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request on a new connection; the response body is not read yet.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> hyper::Response<Incoming> {
    let fut = async {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.expect("handshake");
        tokio::spawn(conn);
        let mut req = hyper::Request::builder().method(method).uri(path).header("host", addr.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::from(body.to_owned()))).expect("request");
        sender.send_request(req).await.expect("response")
    };
    tokio::time::timeout(WAIT, fut).await.expect("request timed out")
}

/// [`request`], reading the whole body.
pub async fn fetch(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let resp = request(addr, method, path, headers, body).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = tokio::time::timeout(WAIT * 6, resp.into_body().collect()).await.expect("body timed out");
    let body = String::from_utf8(bytes.expect("body").to_bytes().to_vec()).expect("utf-8 body");
    Reply { status, headers, body }
}

/// One SSE event (comments skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Option<u64>,
    pub event: Option<String>,
    pub data: String,
}

/// An open SSE response, read event by event.
pub struct Sse {
    pub status: u16,
    pub headers: HeaderMap,
    body: Incoming,
    buf: String,
    /// Every byte received so far (for the padding check).
    pub received: String,
}

impl Sse {
    pub async fn open(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Self {
        let resp = request(addr, "GET", path, headers, "").await;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        Self { status, headers, body: resp.into_body(), buf: String::new(), received: String::new() }
    }

    /// The next data chunk as sent, or None at the end of the response.
    pub async fn chunk(&mut self, within: Duration) -> Option<String> {
        loop {
            let frame = tokio::time::timeout(within, self.body.frame()).await.expect("no SSE bytes in time");
            match frame {
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        let text = String::from_utf8(data.to_vec()).expect("utf-8 stream");
                        self.received.push_str(&text);
                        return Some(text);
                    }
                }
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// The next event, or None when the response ends first.
    pub async fn next_event(&mut self, within: Duration) -> Option<Event> {
        loop {
            if let Some(at) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..at + 2).collect();
                let mut ev = Event { id: None, event: None, data: String::new() };
                let mut lines = 0;
                for line in block.lines().filter(|l| !l.starts_with(':') && !l.is_empty()) {
                    let (field, value) = line.split_once(": ").unwrap_or((line, ""));
                    match field {
                        "id" => ev.id = Some(value.parse().expect("numeric id")),
                        "event" => ev.event = Some(value.to_owned()),
                        "data" if lines > 0 => ev.data = format!("{}\n{value}", ev.data),
                        "data" => ev.data = value.to_owned(),
                        other => panic!("unexpected SSE field {other:?}"),
                    }
                    lines += usize::from(field == "data");
                }
                if ev.id.is_some() || ev.event.is_some() || lines > 0 {
                    return Some(ev);
                }
                continue;
            }
            let chunk = self.chunk(within).await?;
            self.buf.push_str(&chunk);
        }
    }

    /// The next event that is neither a ping nor presence, within 2 × [`WAIT`]
    /// (pings do not keep it waiting).
    pub async fn next_frame(&mut self) -> Event {
        let fut = async {
            loop {
                let ev = self.next_event(WAIT * 2).await.expect("stream ended");
                if ev.event.as_deref() != Some("ping") && !is_presence(&ev.data) {
                    return ev;
                }
            }
        };
        // Generous: a loaded 2-core machine can stall a test for seconds.
        tokio::time::timeout(WAIT * 2, fut).await.expect("no frame in time")
    }

    /// Asserts that no event at all (not even a ping) arrives for `d`.
    pub async fn nothing_for(&mut self, d: Duration) {
        if let Ok(got) = tokio::time::timeout(d, self.next_event(d * 2)).await {
            panic!("expected silence, got {got:?}");
        }
    }
}

/// How an [`Emu`] client receives.
enum Down {
    Sse(Sse),
    Poll { cursor: u64, queue: VecDeque<String> },
}

/// A chat client over the emulated connection.
pub struct Emu {
    pub addr: SocketAddr,
    pub token: String,
    pub next_seq: u64,
    down: Down,
}

/// Starts a session; panics unless 201.
pub async fn start_session(addr: SocketAddr) -> String {
    let r = fetch(addr, "POST", "/ws/session", &[], "").await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["session"].as_str().expect("session token").to_owned()
}

impl Emu {
    pub async fn sse(addr: SocketAddr) -> Self {
        let token = start_session(addr).await;
        let sse = Sse::open(addr, &format!("/ws/sse?session={token}"), &[]).await;
        assert_eq!(sse.status, 200);
        Self { addr, token, next_seq: 1, down: Down::Sse(sse) }
    }

    pub async fn longpoll(addr: SocketAddr) -> Self {
        let token = start_session(addr).await;
        Self { addr, token, next_seq: 1, down: Down::Poll { cursor: 0, queue: VecDeque::new() } }
    }

    /// A client of an existing session, receiving by long-poll.
    pub fn of(addr: SocketAddr, token: &str) -> Self {
        Self { addr, token: token.to_owned(), next_seq: 1, down: Down::Poll { cursor: 0, queue: VecDeque::new() } }
    }

    /// The SSE stream, for an SSE client.
    pub fn stream(&mut self) -> Option<&mut Sse> {
        match &mut self.down {
            Down::Sse(sse) => Some(sse),
            Down::Poll { .. } => None,
        }
    }

    /// Says hello and consumes `welcome` and `rooms`.
    pub async fn greet(mut self, nick: &str) -> Self {
        self.send(&ClientMsg::Hello { nick: nick.into() }).await;
        assert!(matches!(self.recv().await, ServerMsg::Welcome { .. }));
        assert!(matches!(self.recv().await, ServerMsg::Rooms { .. }));
        self
    }

    /// POSTs `body` (a JSON array) as frames numbered from `seq`.
    pub async fn post_frames(&self, seq: u64, body: &str) -> Reply {
        let path = format!("/ws/send?session={}&seq={seq}", self.token);
        fetch(self.addr, "POST", &path, &[("content-type", "application/json")], body).await
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        let text = serde_json::to_string(msg).expect("json");
        let body = serde_json::to_string(&[text]).expect("json");
        let r = self.post_frames(self.next_seq, &body).await;
        assert_eq!((r.status, r.json()["accepted"].as_u64()), (200, Some(self.next_seq)), "{}", r.body);
        self.next_seq += 1;
    }

    pub async fn poll(&self, after: u64) -> Reply {
        fetch(self.addr, "GET", &format!("/ws/poll?session={}&after={after}", self.token), &[], "").await
    }

    /// The next text frame (presence included when polling).
    pub async fn recv_any_text(&mut self) -> String {
        match &mut self.down {
            Down::Sse(sse) => {
                let ev = sse.next_frame().await;
                assert_eq!(ev.event, None, "unexpected event: {}", ev.data);
                ev.data
            }
            Down::Poll { cursor, queue } => {
                let deadline = tokio::time::Instant::now() + WAIT;
                loop {
                    assert!(tokio::time::Instant::now() < deadline, "no frame polled in time");
                    if let Some(t) = queue.pop_front() {
                        return t;
                    }
                    let path = format!("/ws/poll?session={}&after={cursor}", self.token);
                    let r = fetch(self.addr, "GET", &path, &[], "").await;
                    assert_eq!(r.status, 200, "{}", r.body);
                    let answer = r.json();
                    assert!(answer["close"].is_null(), "closed: {}", r.body);
                    for f in answer["frames"].as_array().expect("frames") {
                        let n = f["n"].as_u64().expect("n");
                        assert_eq!(n, *cursor + 1, "frames numbered without gaps");
                        *cursor = n;
                        queue.push_back(f["t"].as_str().expect("text frame").to_owned());
                    }
                }
            }
        }
    }

    /// The next frame that is not presence.
    pub async fn recv(&mut self) -> ServerMsg {
        loop {
            let text = self.recv_any_text().await;
            if !is_presence(&text) {
                return serde_json::from_str(&text).expect("server json");
            }
        }
    }
}
