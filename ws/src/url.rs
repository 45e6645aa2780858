//! Which URL the socket opens. Apps pass what is natural for them (`/ws`,
//! `ws`, `https://host/ws`, `wss://host/ws`); the browser only accepts
//! absolute `ws:`/`wss:` URLs and reports anything else as an opaque
//! `SyntaxError`, so the hook resolves and checks the URL itself first and
//! says exactly what is wrong.

use crate::WsError;
use std::fmt;

/// `s` in double quotes, escaped exactly as `{:?}` writes a `str`, but through
/// `Display`: an error a user reads should not depend on `Debug` output, which
/// a size-tuned build may strip (`-Zfmt-debug=none`: README, "App size").
/// Public so that apps quoting user input in their own errors (a bad setting,
/// a bad address) write it the same way the hook does.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char('"')?;
        for c in self.0.chars() {
            // `str`'s Debug leaves `'` alone; `char::escape_debug` would not.
            match c {
                '\'' => f.write_char(c)?,
                _ => write!(f, "{}", c.escape_debug())?,
            }
        }
        f.write_char('"')
    }
}

/// Resolve `url` against the page's address `page` (its `location.href`) and
/// turn `http(s)` into `ws(s)`. Relative forms: `/ws` (root), `ws` or `./ws`
/// and `../ws` (the page's directory), `//host/ws` (the page's scheme).
pub fn resolve_url(url: &str, page: &str) -> Result<String, WsError> {
    let bad = |why: &str| Err(WsError::InvalidUrl(format!("{}: {why}", Quoted(url))));
    let url = url.trim();
    if url.is_empty() {
        return bad("empty URL");
    }
    if url.chars().any(char::is_whitespace) {
        return bad("contains spaces");
    }
    if let Some((scheme, rest)) = split_scheme(url) {
        let ws = match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => "ws",
            "wss" | "https" => "wss",
            _ => return bad("scheme must be ws, wss, http or https"),
        };
        let Some(rest) = rest.strip_prefix("//") else { return bad("not an absolute URL") };
        if rest.is_empty() || rest.starts_with('/') {
            return bad("missing host");
        }
        return Ok(format!("{ws}://{rest}"));
    }
    let Some((page_scheme, page_rest)) = split_scheme(page).and_then(|(s, r)| Some((s, r.strip_prefix("//")?))) else {
        return bad("relative URL, and the page has no http(s) address to resolve it against");
    };
    let ws = match page_scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => "wss",
        "http" | "ws" => "ws",
        _ => return bad("relative URL on a page that is not served over http(s)"),
    };
    if let Some(rest) = url.strip_prefix("//") {
        return if rest.is_empty() { bad("missing host") } else { Ok(format!("{ws}://{rest}")) };
    }
    let host_end = page_rest.find(['/', '?', '#']).unwrap_or(page_rest.len());
    let (host, page_path) = page_rest.split_at(host_end);
    if host.is_empty() {
        return bad("the page has no host");
    }
    let page_path = &page_path[..page_path.find(['?', '#']).unwrap_or(page_path.len())];
    let (path, tail) = url.split_at(url.find(['?', '#']).unwrap_or(url.len()));
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        let dir = &page_path[..page_path.rfind('/').map_or(0, |i| i + 1)];
        format!("{}{path}", if dir.is_empty() { "/" } else { dir })
    };
    Ok(format!("{ws}://{host}{}{tail}", normalize(&joined)))
}

fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    let ok = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    ok.then_some((scheme, rest))
}

/// Remove `.` and `..` segments (RFC 3986 §5.2.4, for the paths we build).
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_writes_what_debug_writes() {
        for s in ["", "/ws", "it's \"x\" \\ y", "tab\tnl\ncr\r\u{0}\u{7f}", "é\u{301} ü \u{200b} 😀"] {
            assert_eq!(Quoted(s).to_string(), format!("{s:?}"));
        }
        match resolve_url("ftp://h/\"x\"", "http://p/") {
            Err(WsError::InvalidUrl(m)) => assert!(m.starts_with("\"ftp://h/\\\"x\\\"\": scheme"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    const PAGE: &str = "https://app.example.com/app/index.html?room=a#x";

    #[test]
    fn absolute_urls_are_kept_and_http_becomes_ws() {
        assert_eq!(resolve_url("ws://127.0.0.1:8080/ws", PAGE).unwrap(), "ws://127.0.0.1:8080/ws");
        assert_eq!(resolve_url("WSS://example.com", PAGE).unwrap(), "wss://example.com");
        assert_eq!(resolve_url("http://h:1/ws?x=1", PAGE).unwrap(), "ws://h:1/ws?x=1");
        assert_eq!(resolve_url("https://h/ws", PAGE).unwrap(), "wss://h/ws");
    }

    #[test]
    fn relative_urls_resolve_against_the_page() {
        assert_eq!(resolve_url("/ws", PAGE).unwrap(), "wss://app.example.com/ws");
        assert_eq!(resolve_url("ws", PAGE).unwrap(), "wss://app.example.com/app/ws");
        assert_eq!(resolve_url("./ws?t=1", PAGE).unwrap(), "wss://app.example.com/app/ws?t=1");
        assert_eq!(resolve_url("../ws", PAGE).unwrap(), "wss://app.example.com/ws");
        assert_eq!(resolve_url("//other:9/ws", PAGE).unwrap(), "wss://other:9/ws");
        assert_eq!(resolve_url("/ws", "http://127.0.0.1:8080").unwrap(), "ws://127.0.0.1:8080/ws");
        assert_eq!(resolve_url("ws", "http://127.0.0.1:8080").unwrap(), "ws://127.0.0.1:8080/ws");
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (bad, why) in [
            ("", "empty"),
            ("ws://a b", "spaces"),
            ("ftp://x/ws", "scheme"),
            ("ws:///ws", "missing host"),
            ("ws:", "not an absolute URL"),
        ] {
            match resolve_url(bad, PAGE) {
                Err(WsError::InvalidUrl(m)) => assert!(m.contains(why), "{bad:?}: {m}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(matches!(resolve_url("/ws", "about:blank"), Err(WsError::InvalidUrl(_))));
        assert!(matches!(resolve_url("/ws", "file:///tmp/x.html"), Err(WsError::InvalidUrl(_))));
    }
}
