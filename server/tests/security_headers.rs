//! The app's files come with the Content-Security-Policy and the other
//! security headers (the root, a file, and the index.html fallback of a deep
//! link alike); CSP violation reports are counted; and nothing anywhere
//! answers with a wildcard origin or credentials.

mod common;

use std::net::SocketAddr;

use common::{TestServer, WAIT, metric};
use tether_server::security_headers::CONTENT_SECURITY_POLICY;
use tether_server::{Limits, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Status line and headers (lower-cased) of a request with `extra` headers and `body`.
async fn head(addr: SocketAddr, method: &str, path: &str, extra: &str, body: &str) -> String {
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.expect("read");
        let text = String::from_utf8_lossy(&buf).into_owned();
        text.split_once("\r\n\r\n").map(|(h, _)| h.to_ascii_lowercase()).unwrap_or_default()
    };
    tokio::time::timeout(WAIT, fut).await.expect("http timed out")
}

async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(dist.join("app.js"), "export {}").unwrap();
    let settings = Settings {
        static_dir: dist,
        test_faults: true,
        allowed_origins: vec!["http://static.example".into()],
        limits: Limits::default(),
        ..Settings::default()
    };
    (TestServer::start_with(&dir.path().join("t.db"), settings).await, dir)
}

#[tokio::test]
async fn every_file_of_the_app_carries_the_policy_and_security_headers() {
    let (server, _dir) = server().await;
    let csp = format!("content-security-policy: {}", CONTENT_SECURITY_POLICY.to_ascii_lowercase());
    for path in ["/", "/index.html", "/app.js", "/chat/?room=a", "/missing.js"] {
        let h = head(server.addr, "GET", path, "", "").await;
        assert!(h.starts_with("http/1.1 200"), "{path}: {h}");
        assert!(h.contains(&csp), "{path}: no CSP in {h}");
        assert!(h.contains("x-content-type-options: nosniff"), "{path}: {h}");
        assert!(h.contains("referrer-policy: no-referrer"), "{path}: {h}");
        assert!(h.contains("x-frame-options: deny"), "{path}: {h}");
    }
    server.stop().await;
}

#[tokio::test]
async fn violation_reports_are_counted_and_bad_ones_refused() {
    let (server, _dir) = server().await;
    assert_eq!(metric(server.addr, "tether_csp_violations_total").await, 0);
    let report =
        r#"{"csp-report":{"document-uri":"http://x/","violated-directive":"script-src","blocked-uri":"inline"}}"#;
    let ct = "Content-Type: application/csp-report\r\n";
    assert!(head(server.addr, "POST", "/csp-report", ct, report).await.starts_with("http/1.1 204"));
    assert!(head(server.addr, "POST", "/csp-report", ct, "not json").await.starts_with("http/1.1 400"));
    let huge = format!(r#"{{"x":"{}"}}"#, "a".repeat(20_000));
    assert!(head(server.addr, "POST", "/csp-report", ct, &huge).await.starts_with("http/1.1 413"));
    assert_eq!(metric(server.addr, "tether_csp_violations_total").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn no_wildcard_origin_and_no_credentials_anywhere() {
    let (server, _dir) = server().await;
    let ws = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    for (method, path, extra) in [
        ("GET", "/", "Origin: http://static.example\r\n".to_owned()),
        ("GET", "/ws", format!("Origin: http://evil.example\r\n{ws}")),
        ("GET", "/healthz", "Origin: http://static.example\r\n".to_owned()),
        ("OPTIONS", "/ws", "Origin: http://static.example\r\nAccess-Control-Request-Method: GET\r\n".to_owned()),
    ] {
        let h = head(server.addr, method, path, &extra, "").await;
        assert!(!h.contains("access-control-allow-origin: *"), "{method} {path}: {h}");
        assert!(!h.contains("access-control-allow-credentials"), "{method} {path}: {h}");
    }
    server.stop().await;
}
