//! Client throughput in headless Chromium (fantoccini + chromedriver): a
//! page is opened on a server whose `/test/burst-ws` sends it N messages;
//! the page's harness (bench/pages/harness.js) reports the time from the
//! socket's open to the frame after the last message is in its list, and
//! the longest main-thread task meanwhile.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// Starts collecting long tasks, and long animation frames for what caused
/// them (buffered ones too); returns performance.now().
const WATCH_LONG_TASKS: &str = "window.__lt = []; window.__loaf = [];
try { new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push([e.startTime, e.duration]); })
  .observe({ type: 'longtask', buffered: true }); } catch (_) {}
try { new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__loaf.push(e); })
  .observe({ type: 'long-animation-frame', buffered: true }); } catch (_) {}
return performance.now();";
/// What made the longest task that ended after `arguments[0]` long: the
/// animation frames it overlaps (Chromium's Long Animation Frames API), each
/// with its scripts by what invoked them, and its rendering. `null` without
/// a long task; none recorded when the browser reported no frame for it
/// (or not yet).
const LONGEST_WHY: &str = "let t = null;
for (const [s, d] of window.__lt || []) if (s + d >= arguments[0] && (!t || d > t[1])) t = [s, d];
if (!t) return null;
const r = (x) => Math.round(x);
const frames = (window.__loaf || []).filter((e) => e.startTime < t[0] + t[1] && e.startTime + e.duration > t[0]).map((b) => {
  const end = b.startTime + b.duration;
  const scripts = b.scripts.map((x) => `${x.invoker} ${r(x.duration)} ms (forced layout ${r(x.forcedStyleAndLayoutDuration)} ms)`).join('; ');
  return `frame at ${r(b.startTime - t[0])} ms, ${r(b.duration)} ms (blocking ${r(b.blockingDuration)} ms): rendering ${b.renderStart ? r(end - b.renderStart) : 0} ms, `
    + `of which style and layout ${b.styleAndLayoutStart ? r(end - b.styleAndLayoutStart) : 0} ms; scripts: ${scripts || 'none'}`;
});
return frames.length ? frames.join(' | ') : 'no long animation frame recorded over it';";
/// The longest task that ended after `arguments[0]`.
const LONGEST: &str =
    "let m = 0; for (const [s, d] of window.__lt || []) if (s + d >= arguments[0]) m = Math.max(m, d); return m;";

/// Notes when a node with the marker (`arguments[0]`) is added, then the
/// frame after it (as harness.js does for the hook pages), in
/// `window.__chatDone`. Looking only at added nodes keeps it O(1) per
/// message for both pages (the raw page keeps every row); polling from here
/// instead would round every burst to the poll interval.
const WATCH_MARKER: &str = "const m = arguments[0];
const finish = () => requestAnimationFrame(() => setTimeout(() => { window.__chatDone = performance.now(); }));
if (document.body.textContent.includes(m)) { finish(); return true; }
const obs = new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) if ((n.textContent || '').includes(m)) {
    obs.disconnect(); finish(); return;
  }
});
obs.observe(document.body, { childList: true, subtree: true });
return true;";

/// A bare HTTP POST; returns the body on any 2xx (a burst answers 202 and
/// runs in the background).
async fn http_post(addr: SocketAddr, path: &str) -> Option<String> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let req = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 2").then(|| body.to_owned())
}

pub struct Browser {
    _driver: Child,
    client: Client,
}

/// One burst's outcome.
#[derive(Clone, Copy, Debug)]
pub struct Burst {
    pub ms: f64,
    pub longest_task_ms: f64,
}

impl Burst {
    /// The run of median time, with the longest task of all runs (a long
    /// task in any run is one a user could have met). `None` if any run did
    /// not finish: a page that sometimes fails has no figure.
    pub fn median(runs: Vec<Option<Burst>>) -> Option<Burst> {
        let runs: Vec<Burst> = runs.into_iter().collect::<Option<_>>()?;
        let longest_task_ms = runs.iter().map(|b| b.longest_task_ms).fold(0.0, f64::max);
        Some(Burst { ms: crate::median(runs.iter().map(|b| b.ms).collect())?, longest_task_ms })
    }
}

impl Browser {
    pub async fn start(webdriver_json: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let driver = Command::new(bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let caps: Capabilities =
            serde_json::from_str(&std::fs::read_to_string(webdriver_json).expect("webdriver.json")).expect("caps");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) if started.elapsed() > Duration::from_secs(20) => panic!("chromedriver: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Self { _driver: driver, client }
    }

    /// Opens `url` and waits up to `limit` for the page's result.
    pub async fn burst(&self, url: &str, limit: Duration) -> Option<Burst> {
        self.client.goto(url).await.ok()?;
        let start = Instant::now();
        while start.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let Ok(v) = self.client.execute("return window.__bench || null", vec![]).await else { continue };
            if let (Some(ms), Some(longest)) = (v["ms"].as_f64(), v["longest"].as_f64()) {
                let _ = self.client.goto("about:blank").await;
                return Some(Burst { ms, longest_task_ms: longest });
            }
        }
        let _ = self.client.goto("about:blank").await;
        None
    }

    /// The chat row: opens `page` (a chat page in `room`), gives it time to
    /// join, asks the server to post `n` messages into the room, and waits
    /// until the final marker is on the page.
    pub async fn chat_burst(
        &self,
        page: &str,
        server: SocketAddr,
        room: &str,
        n: usize,
        limit: Duration,
    ) -> Option<Burst> {
        self.client.goto(page).await.ok()?;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let t0 = self.client.execute(WATCH_LONG_TASKS, vec![]).await.ok()?.as_f64()?;
        let marker = http_post(server, &format!("/test/burst?room={room}&n={n}")).await?;
        self.client.execute(WATCH_MARKER, vec![marker.trim().into()]).await.ok()?;
        let check = "return window.__chatDone ?? null";
        let start = Instant::now();
        let mut result = None;
        while start.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let probe = tokio::time::timeout(limit, self.client.execute(check, vec![])).await;
            if let Some(t1) = probe.ok().and_then(Result::ok).and_then(|v| v.as_f64()) {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let longest = self.client.execute(LONGEST, vec![t0.into()]).await.ok()?.as_f64()?;
                if longest > 50.0 {
                    let why = match self.client.execute(LONGEST_WHY, vec![t0.into()]).await {
                        Ok(v) => v.as_str().unwrap_or("none recorded").to_owned(),
                        Err(e) => format!("not read: {e}"),
                    };
                    eprintln!("    {page}: longest task {longest} ms; its frames: {why}");
                }
                result = Some(Burst { ms: t1 - t0, longest_task_ms: longest });
                break;
            }
        }
        let _ = self.client.goto("about:blank").await;
        result
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
