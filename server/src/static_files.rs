//! Serves the built app. Unknown paths get `index.html` so client-side
//! routes survive a reload; a missing directory only makes these 404.

use std::path::Path;

use tower_http::services::{ServeDir, ServeFile};

pub fn service(dir: &Path) -> ServeDir<ServeFile> {
    ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")))
}
