//! Several real browser windows on one origin (Chromium or Firefox, see
//! `webdriver/mod.rs`), driven over WebDriver, running the real app served
//! by a real tether-server from a built `dist/` (or by a static host).
//!
//! Environment (set by scripts/test.sh): `TETHER_SERVER_BIN` (the server
//! binary), `TETHER_TABS_DIST` (the app built by trunk), `TETHER_BROWSER`.

// Shared by two test files, each using part of it.
#![allow(dead_code)]

use crate::webdriver::{Browser, Driver};
use fantoccini::Client;
use fantoccini::wd::WindowHandle;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tether_testkit::{http, supervisor::Supervisor};

pub type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn env_path(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name).map(PathBuf::from).unwrap_or_else(|| repo().join(default))
}

/// The built app (scripts/test.sh builds it).
pub fn dist() -> PathBuf {
    let dist = env_path("TETHER_TABS_DIST", "target/tabs-dist");
    assert!(dist.join("index.html").exists(), "no app at {}: run scripts/test.sh tabs", dist.display());
    dist
}

/// A copy of the built app whose `index.html` runs `script` before any of
/// the page's own (a classic `<script src>` in the head runs before the
/// module loader): a page-level setup every browser runs, and one the app's
/// Content-Security-Policy allows (a file from the same origin).
pub fn dist_with_preload(script: &str) -> R<tempfile::TempDir> {
    fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                copy(&entry.path(), &target)?;
            } else {
                std::fs::copy(entry.path(), target)?;
            }
        }
        Ok(())
    }
    let dir = tempfile::tempdir()?;
    copy(&dist(), dir.path())?;
    let index = dir.path().join("index.html");
    let html = std::fs::read_to_string(&index)?;
    let loader = html.find("<script type=\"module\"").ok_or("no module loader in index.html")?;
    let html = format!("{}<script src=\"./preload.js\"></script>{}", &html[..loader], &html[loader..]);
    std::fs::write(index, html)?;
    std::fs::write(dir.path().join("preload.js"), script)?;
    Ok(dir)
}

/// A server, a WebDriver and one browser session with its windows.
pub struct Env {
    pub server: Supervisor,
    _db: tempfile::TempDir,
    driver: Driver,
    pub client: Client,
    /// The app's address without its query (`http://127.0.0.1:PORT/`).
    page: String,
}

/// One window of the browser, showing the chat.
#[derive(Clone, Debug, PartialEq)]
pub struct Tab(pub WindowHandle);

impl Env {
    /// The server serving the app itself, at the root of its origin.
    pub async fn start() -> R<Self> {
        Self::start_with(0, Vec::new(), None).await
    }

    /// The server on `port` (0: any) with `extra` flags; the app at `page`
    /// (default: served by the server, at its root).
    pub async fn start_with(port: u16, extra: Vec<String>, page: Option<String>) -> R<Self> {
        Self::start_serving(&dist(), port, extra, page).await
    }

    /// As [`Env::start_with`], the server serving the app in `dist`.
    pub async fn start_serving(dist: &Path, port: u16, extra: Vec<String>, page: Option<String>) -> R<Self> {
        let db = tempfile::tempdir()?;
        let mut args = vec![
            "--db".into(),
            db.path().join("t.db").display().to_string(),
            "--static-dir".into(),
            dist.display().to_string(),
        ];
        args.extend(extra);
        let mut server =
            Supervisor::new(env_path("TETHER_SERVER_BIN", "target/debug/tether-server"), args).on_port(port);
        server.start().await?;
        let driver = Driver::start(Browser::from_env()).await?;
        let client = driver.client.clone();
        let page = page.unwrap_or_else(|| format!("http://127.0.0.1:{}/", server.port()));
        Ok(Self { server, _db: db, driver, client, page })
    }

    pub fn browser(&self) -> Browser {
        self.driver.browser
    }

    pub fn app_url(&self, query: &str) -> String {
        format!("{}?{query}", self.page)
    }

    /// A new window showing the app with `query` (e.g. `name=ann&room=a`).
    /// The first call uses the session's initial window.
    pub async fn open(&self, query: &str) -> R<Tab> {
        let current = self.client.window().await?;
        let blank =
            self.client.current_url().await?.as_str() == "about:blank" && self.client.windows().await?.len() == 1;
        let handle = if blank {
            current
        } else {
            let w = self.client.new_window(false).await?;
            w.handle
        };
        self.client.switch_to_window(handle.clone()).await?;
        self.client.goto(&self.app_url(query)).await?;
        let tab = Tab(handle);
        self.wait(
            &tab,
            "the app to show",
            Duration::from_secs(30),
            "return !!document.querySelector('[data-testid=message-input]')",
        )
        .await?;
        Ok(tab)
    }

    /// Run `js` (a function body) in `tab` and return its result.
    pub async fn js(&self, tab: &Tab, js: &str) -> R<Value> {
        self.client.switch_to_window(tab.0.clone()).await?;
        Ok(self.client.execute(js, vec![]).await?)
    }

    /// Wait until `js` returns true in `tab`.
    pub async fn wait(&self, tab: &Tab, what: &str, limit: Duration, js: &str) -> R {
        let start = Instant::now();
        loop {
            if self.js(tab, js).await? == Value::Bool(true) {
                return Ok(());
            }
            if start.elapsed() > limit {
                return Err(format!("timed out after {limit:?} waiting for {what}").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn close(&self, tab: &Tab) -> R {
        self.client.switch_to_window(tab.0.clone()).await?;
        self.client.close_window().await?;
        Ok(())
    }

    /// Sends `method path` to the server itself (test faults, say).
    pub async fn server_request(&self, method: &str, path: &str) -> R<String> {
        let (status, body) = http::request(self.server.port(), method, path).await?;
        if !(200..300).contains(&status) {
            return Err(format!("{method} {path} -> {status}: {body}").into());
        }
        Ok(body)
    }

    /// `metric` from the server's `/metrics`.
    pub async fn server_metric(&self, metric: &str) -> R<i64> {
        let (_, body) = http::request(self.server.port(), "GET", "/metrics").await?;
        body.lines()
            .find_map(|l| l.strip_prefix(metric)?.strip_prefix(' ')?.trim().parse::<f64>().ok())
            .map(|v| v as i64)
            .ok_or_else(|| format!("the server exports no {metric}").into())
    }

    /// Wait until the server's `metric` is `want`.
    pub async fn wait_server(&self, metric: &str, want: i64, limit: Duration) -> R {
        let start = Instant::now();
        loop {
            let got = self.server_metric(metric).await?;
            if got == want {
                return Ok(());
            }
            if start.elapsed() > limit {
                return Err(format!("server {metric} is {got}, expected {want}").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn role(&self, tab: &Tab) -> R<String> {
        let v = self.js(tab, "return document.querySelector('[data-metric=role] dd')?.textContent ?? ''").await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    pub async fn metric(&self, tab: &Tab, name: &str) -> R<String> {
        let js = format!("return document.querySelector('[data-metric={name}] dd')?.textContent ?? ''");
        Ok(self.js(tab, &js).await?.as_str().unwrap_or_default().to_owned())
    }

    /// The tab that leads, among `tabs`.
    pub async fn leader(&self, tabs: &[Tab]) -> R<Tab> {
        for t in tabs {
            if self.role(t).await? == "leader" {
                return Ok(t.clone());
            }
        }
        Err("no tab leads".into())
    }

    /// Post `body` from `tab` as a user would (type, Enter).
    pub async fn post(&self, tab: &Tab, body: &str) -> R {
        let js = format!("{POST_JS} post({}); return true;", json!(body));
        self.js(tab, &js).await?;
        Ok(())
    }

    /// In `tab`, post `prefix-0..n` one every `every_ms`, in the page itself
    /// (so it goes on while the test drives other windows).
    pub async fn burst(&self, tab: &Tab, prefix: &str, n: usize, every_ms: u32) -> R {
        let js = format!(
            "{POST_JS} let i = 0; const t = setInterval(() => {{ post({p} + '-' + i); i += 1; \
             if (i >= {n}) clearInterval(t); }}, {every_ms}); return true;",
            p = json!(prefix)
        );
        self.js(tab, &js).await?;
        Ok(())
    }

    /// (body, status) of every message shown in `tab`, top to bottom.
    pub async fn messages(&self, tab: &Tab) -> R<Vec<(String, String)>> {
        let v = self
            .js(
                tab,
                "return Array.from(document.querySelectorAll('[data-testid=message]')).map(m => \
                 [m.querySelector('[data-testid=message-body]').textContent, m.dataset.status]);",
            )
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Wait until `tab` shows exactly `n` messages, all of them acked or
    /// delivered (none pending), and return their bodies.
    pub async fn settled(&self, tab: &Tab, n: usize, limit: Duration) -> R<Vec<String>> {
        let start = Instant::now();
        loop {
            let msgs = self.messages(tab).await?;
            if msgs.len() == n && msgs.iter().all(|(_, s)| s == "acked" || s == "delivered") {
                return Ok(msgs.into_iter().map(|(b, _)| b).collect());
            }
            if start.elapsed() > limit {
                return Err(format!("tab shows {} messages, expected {n} settled: {msgs:?}", msgs.len()).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn stop(mut self) -> R {
        let _ = self.client.clone().close().await;
        self.server.kill().await?;
        Ok(())
    }
}

const POST_JS: &str = "const post = (body) => { \
    const i = document.querySelector('[data-testid=message-input]'); \
    i.value = body; i.dispatchEvent(new Event('input', { bubbles: true })); \
    document.querySelector('[data-testid=send-button]').click(); };";

/// Every body appears once, and each sender's bodies appear in the order sent.
pub fn assert_once_in_order(shown: &[String], senders: &[(&str, usize)]) {
    let mut seen = std::collections::HashSet::new();
    for b in shown {
        assert!(seen.insert(b), "{b} shown twice: {shown:?}");
    }
    for (prefix, n) in senders {
        let mine: Vec<&String> = shown.iter().filter(|b| b.starts_with(&format!("{prefix}-"))).collect();
        let want: Vec<String> = (0..*n).map(|i| format!("{prefix}-{i}")).collect();
        assert_eq!(mine, want.iter().collect::<Vec<_>>(), "{prefix}'s messages, in order");
    }
}
