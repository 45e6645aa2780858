//! Client throughput in headless Chromium (fantoccini + chromedriver): a
//! page is opened on a server whose `/test/burst-ws` sends it N messages;
//! the page's harness (bench/pages/harness.js) reports the time from the
//! socket's open to the frame after the last message is in its list, and
//! the longest main-thread task meanwhile.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use tokio::process::{Child, Command};

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

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
