//! Serves the built app. Unknown paths get `index.html` so client-side
//! routes survive a reload; a missing directory only makes these 404.
//!
//! The build writes `.br` and `.gz` next to each file (scripts/build.sh), and
//! they are sent to clients that accept them, with `Content-Encoding` and
//! `Vary: Accept-Encoding`. Files whose names carry a content hash (Trunk's
//! `name-0123456789abcdef.ext`) never change under that name, so browsers
//! may keep them for a year without asking; everything else, `index.html`
//! above all (it names the current hashes), is revalidated on every load.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

pub fn service(dir: &Path) -> Router {
    let index = ServeFile::new(dir.join("index.html")).precompressed_br().precompressed_gzip();
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip().fallback(index);
    let dir = dir.to_path_buf();
    Router::new().fallback_service(files).layer(middleware::from_fn(move |req, next| caching(dir.clone(), req, next)))
}

async fn caching(dir: PathBuf, req: Request, next: Next) -> Response {
    // Only a file that exists under its hashed name is immutable: a missing
    // one is answered with index.html, which must not be cached for a year.
    let immutable = is_hashed(req.uri().path()) && existing_file(&dir, req.uri().path());
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, if immutable { IMMUTABLE } else { REVALIDATE });
    if !headers.get_all(header::VARY).iter().any(|v| v.as_bytes().eq_ignore_ascii_case(b"accept-encoding")) {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// `app-0123456789abcdef.js`, `app-0123456789abcdef_bg.wasm`: a name whose
/// stem ends in `-` and at least 8 hex digits.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn existing_file(dir: &Path, path: &str) -> bool {
    let rel = path.trim_start_matches('/');
    !rel.split('/').any(|seg| seg == ".." || seg.is_empty()) && dir.join(rel).is_file()
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("/tether-3f2a9c0d1e4b5a6f.js"));
        assert!(is_hashed("/tether-3f2a9c0d1e4b5a6f_bg.wasm"));
        assert!(is_hashed("/main-0123abcd.css"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/some-route"));
        assert!(!is_hashed("/app.js"));
    }
}
