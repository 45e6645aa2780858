//! `fetch` for the emulated connection: one request, its status and body
//! text, abortable through an `AbortSignal`.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit, Response};

/// A request to make.
pub(crate) struct Req<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// A JSON body.
    pub body: Option<&'a str>,
    pub signal: Option<&'a AbortSignal>,
    /// Outlives the page (the `DELETE` sent while a page unloads).
    pub keepalive: bool,
}

/// The status and body, or why there is no answer (network error, aborted).
pub(crate) async fn fetch(req: Req<'_>) -> Result<(u16, String), String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = RequestInit::new();
    init.set_method(req.method);
    init.set_cache(web_sys::RequestCache::NoStore);
    if let Some(body) = req.body {
        let headers = Headers::new().map_err(|_| "headers")?;
        let _ = headers.set("Content-Type", "application/json");
        init.set_headers(&headers);
        init.set_body(&body.into());
    }
    if let Some(signal) = req.signal {
        init.set_signal(Some(signal));
    }
    if req.keepalive {
        // Not in web-sys's stable API: set the field directly.
        let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &true.into());
    }
    let resp = JsFuture::from(window.fetch_with_str_and_init(req.url, &init))
        .await
        .map_err(|_| format!("{} {}: no answer", req.method, path_of(req.url)))?;
    let resp: Response = resp.dyn_into().map_err(|_| "not a Response")?;
    let status = resp.status();
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok((status, text))
}

/// The URL without its query (never show a session token in a message).
fn path_of(url: &str) -> &str {
    &url[..url.find('?').unwrap_or(url.len())]
}
