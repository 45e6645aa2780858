//! The built app is served precompressed when the browser accepts it, with
//! the right `Content-Encoding` and `Vary`, cached for a year under hashed
//! names and revalidated otherwise (index.html names the current hashes).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;

use common::{TestServer, WAIT};
use tether_server::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const JS: &str = "app-0123456789abcdef.js";

/// GET `path` with `Accept-Encoding: accept`: status, headers (lower-case
/// names, repeated ones joined with ", "), body bytes.
async fn get(addr: SocketAddr, path: &str, accept: &str) -> (u16, HashMap<String, String>, Vec<u8>) {
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: {accept}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.expect("read");
        buf
    };
    let buf = tokio::time::timeout(WAIT, fut).await.expect("http timed out");
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).expect("status");
    let mut headers: HashMap<String, String> = HashMap::new();
    for l in lines {
        let (k, v) = l.split_once(':').expect("header line");
        let e = headers.entry(k.trim().to_ascii_lowercase()).or_default();
        if !e.is_empty() {
            e.push_str(", ");
        }
        e.push_str(v.trim());
    }
    (status, headers, buf[end + 4..].to_vec())
}

#[tokio::test]
async fn precompressed_files_with_encoding_vary_and_caching() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    // Distinct contents, so the test sees which file was sent.
    std::fs::write(dist.join("index.html"), "<html>app</html>").unwrap();
    std::fs::write(dist.join("index.html.gz"), "GZ-INDEX").unwrap();
    std::fs::write(dist.join(JS), "RAW-JS").unwrap();
    std::fs::write(dist.join(format!("{JS}.br")), "BR-JS").unwrap();
    std::fs::write(dist.join(format!("{JS}.gz")), "GZ-JS").unwrap();
    let settings = Settings { static_dir: dist, ..Settings::default() };
    let server = TestServer::start_with(&dir.path().join("t.db"), settings).await;
    let a = server.addr;
    let immutable = "public, max-age=31536000, immutable";

    let (status, h, body) = get(a, &format!("/{JS}"), "gzip, deflate, br").await;
    assert_eq!((status, body.as_slice()), (200, &b"BR-JS"[..]), "brotli preferred");
    assert_eq!(h.get("content-encoding").map(String::as_str), Some("br"));
    assert!(h["vary"].to_ascii_lowercase().contains("accept-encoding"), "{h:?}");
    assert_eq!(h.get("cache-control").map(String::as_str), Some(immutable));
    assert!(h["content-type"].contains("javascript"), "{h:?}");

    let (_, h, body) = get(a, &format!("/{JS}"), "gzip").await;
    assert_eq!(body, b"GZ-JS");
    assert_eq!(h.get("content-encoding").map(String::as_str), Some("gzip"));

    let (_, h, body) = get(a, &format!("/{JS}"), "identity").await;
    assert_eq!(body, b"RAW-JS");
    assert_eq!(h.get("content-encoding"), None);
    assert!(h["vary"].to_ascii_lowercase().contains("accept-encoding"), "{h:?}");

    // index.html (also as the fallback for app routes) is revalidated.
    for path in ["/", "/index.html", "/rooms/general"] {
        let (status, h, body) = get(a, path, "gzip").await;
        assert_eq!((status, body.as_slice()), (200, &b"GZ-INDEX"[..]), "{path}");
        assert_eq!(h.get("cache-control").map(String::as_str), Some("no-cache"), "{path}");
    }
    // A hashed name that does not exist is the app page, not cached for a year.
    let (_, h, body) = get(a, "/app-ffffffffffffffff.js", "identity").await;
    assert_eq!(body, b"<html>app</html>");
    assert_eq!(h.get("cache-control").map(String::as_str), Some("no-cache"));
    server.stop().await;
}
