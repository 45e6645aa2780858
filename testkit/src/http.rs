//! A few lines of HTTP/1.1 to talk to the supervised server on loopback,
//! instead of pulling a full HTTP client (and a TLS stack) into the testkit.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("request to the server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("request to the server timed out")]
    Timeout,
    #[error("malformed response from the server")]
    Malformed,
}

/// Sends `method path` to 127.0.0.1:`port` and returns (status, body).
pub async fn request(port: u16, method: &str, path: &str) -> Result<(u16, String), HttpError> {
    tokio::time::timeout(TIMEOUT, request_inner(port, method, path)).await.map_err(|_| HttpError::Timeout)?
}

async fn request_inner(port: u16, method: &str, path: &str) -> Result<(u16, String), HttpError> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    stream.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> Result<(u16, String), HttpError> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or(HttpError::Malformed)?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(HttpError::Malformed)?;
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    let body = if chunked { dechunk(body)? } else { body.to_owned() };
    Ok((status, body))
}

fn dechunk(mut rest: &str) -> Result<String, HttpError> {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").ok_or(HttpError::Malformed)?;
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| HttpError::Malformed)?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(after.get(..size).ok_or(HttpError::Malformed)?);
        rest = after.get(size + 2..).ok_or(HttpError::Malformed)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_bodies() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        assert_eq!(parse(plain).unwrap(), (200, "ok".into()));
        let chunked = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse(chunked).unwrap(), (404, "abcde".into()));
        assert!(parse(b"garbage").is_err());
    }
}
