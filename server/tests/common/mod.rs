//! Shared helpers: an in-process server on port 0 and a WebSocket client
//! that fails fast (every network await is under a timeout).
#![allow(dead_code)]

pub mod emu;
pub mod emu_chat;
pub mod frames;
pub mod process;
pub mod stores;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tether_protocol::{ClientMsg, ServerMsg};
use tether_server::{AppState, Limits, Settings, SqliteStore, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(5);

/// The store a test server uses: SQLite at `db`, or with
/// `TETHER_TEST_STORE=postgres` (`scripts/test.sh multi`) a fresh database
/// on a PostgreSQL cluster this test process starts, so the server suites
/// run against both engines.
pub fn open_store(db: &Path) -> Arc<dyn tether_server::Store> {
    if std::env::var("TETHER_TEST_STORE").as_deref() != Ok("postgres") {
        return Arc::new(SqliteStore::open(db).expect("open db"));
    }
    static PG: std::sync::OnceLock<tether_testkit::postgres::Postgres> = std::sync::OnceLock::new();
    // One database per `db` path: a test reopening the same path means the same data.
    static DBS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let pg = PG.get_or_init(|| tether_testkit::postgres::Postgres::start().expect("start PostgreSQL"));
    let mut dbs = DBS.lock().unwrap_or_else(|e| e.into_inner());
    let url = match dbs.iter().position(|p| p == db) {
        Some(i) => pg.url(&format!("t{i}")),
        None => {
            dbs.push(db.to_path_buf());
            pg.create_db(&format!("t{}", dbs.len() - 1)).expect("createdb")
        }
    };
    Arc::new(tether_server::postgres::PgStore::connect(&url).expect("connect PostgreSQL"))
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), tether_server::ServerError>>>,
}

impl TestServer {
    /// A server whose rate limits are out of the way (tests of the limits
    /// set their own with [`TestServer::start_limited`]).
    pub async fn start(db: &Path) -> Self {
        let limits = Limits {
            post_rate: 1e6,
            post_burst: 1_000_000,
            join_rate: 1e6,
            join_burst: 1_000_000,
            ..Limits::default()
        };
        Self::start_limited(db, limits).await
    }

    pub async fn start_limited(db: &Path, limits: Limits) -> Self {
        let settings =
            Settings { static_dir: PathBuf::from("/nonexistent"), test_faults: true, limits, ..Settings::default() };
        Self::start_with(db, settings).await
    }

    pub async fn start_with(db: &Path, settings: Settings) -> Self {
        let store = open_store(db);
        let state = AppState::new(store, settings).expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        Self { addr, state, stop: Some(stop), task: Some(task) }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Triggers shutdown and waits for `serve` to return.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let res = tokio::time::timeout(Duration::from_secs(10), t).await;
            res.expect("serve returns within 10 s").expect("serve task").expect("serve ok");
        }
    }

    pub async fn http(&self, method: &str, path: &str) -> (u16, String) {
        http(self.addr, method, path).await
    }
}

/// Minimal HTTP/1.1 request; returns status and body.
pub async fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    http_with(addr, method, path, "").await
}

/// [`http`] with extra header lines (each ending in `\r\n`).
pub async fn http_with(addr: SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String) {
    let (status, text) = request(addr, method, path, headers, "").await;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// One HTTP/1.1 request with extra header lines and a body; returns the
/// status and the whole response (head and body).
pub async fn request(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let fut = async {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.expect("read");
        let text = String::from_utf8_lossy(&buf).into_owned();
        (text.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status"), text)
    };
    tokio::time::timeout(WAIT, fut).await.expect("http timed out")
}

pub async fn metric(addr: SocketAddr, name: &str) -> i64 {
    let (_, body) = http(addr, "GET", "/metrics").await;
    body.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("metric {name} missing in:\n{body}"))
}

/// Polls until `metric` equals `want` (gauges settle asynchronously).
pub async fn wait_metric(addr: SocketAddr, name: &str, want: i64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let v = metric(addr, name).await;
        if v == want {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{name} stuck at {v}, wanted {want}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether `text` is a presence frame (`presence`, `member_joined`, `member_left`).
pub fn is_presence(text: &str) -> bool {
    serde_json::from_str::<ServerMsg>(text).is_ok_and(|m| {
        matches!(m, ServerMsg::Presence { .. } | ServerMsg::MemberJoined { .. } | ServerMsg::MemberLeft { .. })
    })
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    Code(u16),
    /// No close frame: the TCP connection just ended.
    Abnormal,
}

impl Client {
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("connect timed out")
            .expect("connect");
        Self { ws }
    }

    /// Connects with an `Origin` header; returns the HTTP status on refusal.
    pub async fn connect_from(url: &str, origin: &str) -> Result<Self, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert("origin", origin.parse().expect("origin header"));
        match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req)).await.expect("connect timed out") {
            Ok((ws, _)) => Ok(Self { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("connect: {e}"),
        }
    }

    /// Connects, returning the HTTP status if the upgrade is refused.
    pub async fn try_connect(url: &str) -> Result<Self, u16> {
        match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url)).await.expect("connect timed out") {
            Ok((ws, _)) => Ok(Self { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("connect: {e}"),
        }
    }

    /// Connects and says hello, consuming `welcome` and `rooms`.
    pub async fn hello(url: &str, nick: &str) -> Self {
        let mut c = Self::connect(url).await;
        c.send(&ClientMsg::Hello { nick: nick.into() }).await;
        assert!(matches!(c.recv().await, ServerMsg::Welcome { .. }));
        assert!(matches!(c.recv().await, ServerMsg::Rooms { .. }));
        c
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        self.send_raw(Message::text(serde_json::to_string(msg).expect("json"))).await;
    }

    /// Sends without asserting success (the server may have closed).
    pub async fn ws_send(&mut self, msg: &ClientMsg) -> Result<(), ()> {
        let text = Message::text(serde_json::to_string(msg).expect("json"));
        match tokio::time::timeout(WAIT, self.ws.send(text)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    pub async fn send_raw(&mut self, msg: Message) {
        tokio::time::timeout(WAIT, self.ws.send(msg)).await.expect("send timed out").expect("send");
    }

    pub async fn recv(&mut self) -> ServerMsg {
        serde_json::from_str(&self.recv_text().await).expect("server json")
    }

    /// The next text frame as sent, to check its size. Presence frames
    /// (who is in a room) are skipped: most tests are about something else;
    /// [`Client::recv_any_text`] sees them.
    pub async fn recv_text(&mut self) -> String {
        loop {
            let text = self.recv_any_text().await;
            if !is_presence(&text) {
                return text;
            }
        }
    }

    /// The next text frame, presence frames included.
    pub async fn recv_any_text(&mut self) -> String {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next()).await.expect("recv timed out");
            match next {
                Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    /// Asserts nothing but pings arrives for `d` (reading, so pings are answered).
    pub async fn recv_nothing(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(got) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            let presence = matches!(&got, Some(Ok(Message::Text(t))) if is_presence(t.as_str()));
            if !presence && !matches!(got, Some(Ok(Message::Ping(_) | Message::Pong(_)))) {
                panic!("expected silence, got {got:?}");
            }
        }
    }

    /// Reads until the connection ends and reports how; fails if it has not
    /// ended within [`WAIT`] (server pings do not keep it waiting).
    pub async fn closed(&mut self) -> Closed {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await.expect("close timed out");
            match next {
                Some(Ok(Message::Close(Some(f)))) => return Closed::Code(f.code.into()),
                Some(Ok(Message::Close(None))) => return Closed::Code(1005),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Closed::Abnormal,
            }
        }
    }
}
