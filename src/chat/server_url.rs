//! Where the chat server is: the `<meta name="tether-server" content="…">`
//! of the page names its base URL, so an operator can point a static copy of
//! the app at a server on another origin by editing `index.html`, without a
//! rebuild. Empty or absent: the page's own origin (`/ws`, as before).
//!
//! Pure string logic (no `url` crate: it would weigh more in the wasm than
//! these few rules), unit-tested natively. The page reads the meta tag; this
//! decides what it means or says exactly what is wrong with it.

/// The meta tag's `name`.
pub const META_NAME: &str = "tether-server";

use tether_ws::url::Quoted;

/// The WebSocket path under the base URL.
const WS_PATH: &str = "/ws";

/// Why the meta tag's value is not a usable server base URL. Shown on the
/// page as is, so each names the value and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerUrlError {
    #[error(
        "the page's tether-server setting {} is not a web address: it must start with https:// or http:// \
         (for example https://chat.example.com)",
        Quoted(.0)
    )]
    NotHttp(String),
    #[error(
        "the page's tether-server setting {} names a WebSocket address: give the server's base address \
         with https:// or http:// instead (the app adds /ws itself)",
        Quoted(.0)
    )]
    WebSocketScheme(String),
    #[error("the page's tether-server setting {} has no host name", Quoted(.0))]
    NoHost(String),
    #[error("the page's tether-server setting {} has a bad host or port", Quoted(.0))]
    BadHost(String),
    #[error(
        "the page's tether-server setting {} has a query or fragment (?…, #…): give only \
         scheme, host, port and, behind a proxy, a path prefix",
        Quoted(.0)
    )]
    QueryOrFragment(String),
    #[error(
        "the page's tether-server setting {} already ends in /ws: give the server's base address \
         (the app adds /ws itself)",
        Quoted(.0)
    )]
    EndsInWs(String),
    #[error("the page's tether-server setting {} contains spaces or control characters", Quoted(.0))]
    Spaces(String),
}

/// The WebSocket URL for the meta tag's `content`: absent or blank gives
/// `/ws` (resolved by the hook against the page's own origin); otherwise
/// `http(s)://host[:port][/prefix][/]` gives `ws(s)://host[:port][/prefix]/ws`.
pub fn ws_url(content: Option<&str>) -> Result<String, ServerUrlError> {
    let Some(raw) = content.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(WS_PATH.to_owned());
    };
    let own = || raw.to_owned();
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ServerUrlError::Spaces(own()));
    }
    let (scheme, rest) = raw.split_once("://").ok_or_else(|| ServerUrlError::NotHttp(own()))?;
    let ws = match scheme.to_ascii_lowercase().as_str() {
        "https" => "wss",
        "http" => "ws",
        "ws" | "wss" => return Err(ServerUrlError::WebSocketScheme(own())),
        _ => return Err(ServerUrlError::NotHttp(own())),
    };
    if rest.contains(['?', '#']) {
        return Err(ServerUrlError::QueryOrFragment(own()));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.is_empty() {
        return Err(ServerUrlError::NoHost(own()));
    }
    if !valid_authority(authority) {
        return Err(ServerUrlError::BadHost(own()));
    }
    let prefix = path.trim_end_matches('/');
    if prefix.ends_with(WS_PATH) {
        return Err(ServerUrlError::EndsInWs(own()));
    }
    Ok(format!("{ws}://{}{prefix}{WS_PATH}", authority.to_ascii_lowercase()))
}

/// `host[:port]` with a DNS name, IPv4 or `[IPv6]` host; no user info (a
/// credential in a public page is a mistake, and browsers refuse it anyway).
fn valid_authority(authority: &str) -> bool {
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok_and(|n| n > 0));
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !v6.is_empty() && v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
    };
    port_ok && host_ok
}

/// Where the app reports its figures (`POST …/client-metrics`): beside the
/// WebSocket endpoint, so a path prefix in the base URL applies to it too.
/// `ws_abs` is an absolute `ws(s)://` URL.
pub fn metrics_endpoint(ws_abs: &str) -> Option<String> {
    let (scheme, rest) = ws_abs.split_once("://")?;
    let rest = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let prefix = path.strip_suffix(WS_PATH).unwrap_or("");
    let http = if scheme.eq_ignore_ascii_case("wss") { "https" } else { "http" };
    Some(format!("{http}://{host}{prefix}/client-metrics"))
}

/// What the page says while it has never reached the server at `ws_abs`
/// (absolute). A browser hides why a WebSocket failed (down, or an origin
/// the server refuses with 403), so both are named; the origin only when the
/// server is on another host than the page at `page_origin`.
pub fn unreachable_message(ws_abs: &str, page_origin: &str) -> String {
    let host = |u: &str| u.split_once("://").map(|(_, r)| r.split(['/', '?', '#']).next().unwrap_or("").to_owned());
    let mut msg = format!("Cannot connect to the chat server at {ws_abs}. It may be down");
    if host(ws_abs) != host(page_origin) {
        msg.push_str(&format!(", or it does not accept pages from {page_origin} (its --allowed-origin)"));
    }
    msg.push_str(". Retrying.");
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_or_blank_means_the_pages_own_origin() {
        assert_eq!(ws_url(None).unwrap(), "/ws");
        assert_eq!(ws_url(Some("")).unwrap(), "/ws");
        assert_eq!(ws_url(Some("  \n ")).unwrap(), "/ws");
    }

    #[test]
    fn a_base_url_gives_its_ws_endpoint() {
        assert_eq!(ws_url(Some("https://chat.example.com")).unwrap(), "wss://chat.example.com/ws");
        assert_eq!(ws_url(Some(" https://chat.example.com/ ")).unwrap(), "wss://chat.example.com/ws");
        assert_eq!(ws_url(Some("http://127.0.0.1:8080")).unwrap(), "ws://127.0.0.1:8080/ws");
        assert_eq!(ws_url(Some("HTTPS://Chat.Example.com:8443")).unwrap(), "wss://chat.example.com:8443/ws");
        assert_eq!(ws_url(Some("https://example.com/tether/")).unwrap(), "wss://example.com/tether/ws");
        assert_eq!(ws_url(Some("http://[::1]:9000")).unwrap(), "ws://[::1]:9000/ws");
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        use ServerUrlError::*;
        type Case = (&'static str, fn(String) -> ServerUrlError);
        let cases: [Case; 13] = [
            ("chat.example.com", NotHttp),
            ("/api", NotHttp),
            ("ftp://chat.example.com", NotHttp),
            ("wss://chat.example.com/ws", WebSocketScheme),
            ("https://", NoHost),
            ("https:///ws", NoHost),
            ("https://user:pw@chat.example.com", BadHost),
            ("https://chat.example.com:99999", BadHost),
            ("https://chat.example.com:", BadHost),
            ("https://chat..example.com", BadHost),
            ("https://chat.example.com/?room=a", QueryOrFragment),
            ("https://chat.example.com/ws/", EndsInWs),
            ("https://chat example.com", Spaces),
        ];
        for (value, want) in cases {
            assert_eq!(ws_url(Some(value)), Err(want(value.trim().to_owned())), "{value}");
        }
        let shown = ws_url(Some("chat.example.com")).unwrap_err().to_string();
        assert!(shown.contains("\"chat.example.com\"") && shown.contains("https://"), "{shown}");
    }

    #[test]
    fn client_metrics_sit_beside_the_ws_endpoint() {
        assert_eq!(metrics_endpoint("wss://h:1/ws").unwrap(), "https://h:1/client-metrics");
        assert_eq!(metrics_endpoint("ws://h/tether/ws?x=1").unwrap(), "http://h/tether/client-metrics");
        assert_eq!(metrics_endpoint("ws://h").unwrap(), "http://h/client-metrics");
    }

    #[test]
    fn the_unreachable_message_names_the_origin_only_across_origins() {
        let same = unreachable_message("ws://h:1/ws", "http://h:1");
        assert!(same.contains("ws://h:1/ws") && !same.contains("accept pages"), "{same}");
        let cross = unreachable_message("wss://chat.example.com/ws", "https://static.example.com");
        assert!(cross.contains("does not accept pages from https://static.example.com"), "{cross}");
    }
}
