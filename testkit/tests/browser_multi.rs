//! Two instances on one PostgreSQL and one Redis, behind nginx as a
//! round-robin load balancer that forwards WebSocket upgrades; two browsers
//! (separate Chromium sessions, so they cannot share a connection) run the
//! built app, each served and connected through nginx, landing on
//! different instances. They chat; both show every message once, in order.
//! Ignored in `cargo test --workspace`; `scripts/test.sh multi` builds the
//! app and runs it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tether_testkit::nginx::Nginx;
use tether_testkit::postgres::Postgres;
use tether_testkit::redis::Redis;
use tether_testkit::{http, supervisor::Supervisor};
use tokio::process::Command;

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;
const SETTLE: Duration = Duration::from_secs(60);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn env_path(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name).map(PathBuf::from).unwrap_or_else(|| repo().join(default))
}

/// Round robin over both instances, upgrades forwarded (the README's snippet).
fn balancer(a: u16, b: u16) -> String {
    format!(
        "map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
         upstream tether {{ server 127.0.0.1:{a}; server 127.0.0.1:{b}; }}
         server {{
           listen 127.0.0.1:{{port}};
           location / {{
             proxy_pass http://tether;
             proxy_http_version 1.1;
             proxy_set_header Upgrade $http_upgrade;
             proxy_set_header Connection $connection_upgrade;
             proxy_set_header Host $http_host;
             proxy_read_timeout 1h;
           }}
         }}"
    )
}

/// One browser window showing the app.
struct Page(Client);

impl Page {
    async fn open(driver: &str, url: &str) -> R<Self> {
        let caps: Capabilities = serde_json::from_str(&std::fs::read_to_string(repo().join("webdriver.json"))?)?;
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(driver).await {
                Ok(c) => break c,
                Err(_) if started.elapsed() < Duration::from_secs(20) => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => return Err(e.into()),
            }
        };
        client.goto(url).await?;
        let page = Self(client);
        page.wait_open().await?;
        Ok(page)
    }

    async fn js(&self, js: &str) -> R<Value> {
        Ok(self.0.execute(js, vec![]).await?)
    }

    async fn wait_open(&self) -> R {
        let js = "return document.querySelector('[data-testid=connection-status]')?.dataset.state === 'open'";
        let start = Instant::now();
        while self.js(js).await? != Value::Bool(true) {
            if start.elapsed() > SETTLE {
                return Err("the page's connection did not open".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Posts `prefix-0..n`, one every 150 ms, as a user would (type, send).
    async fn burst(&self, prefix: &str, n: usize) -> R {
        let js = format!(
            "const post = (body) => {{ const i = document.querySelector('[data-testid=message-input]'); \
             i.value = body; i.dispatchEvent(new Event('input', {{ bubbles: true }})); \
             document.querySelector('[data-testid=send-button]').click(); }}; \
             let i = 0; const t = setInterval(() => {{ post({p} + '-' + i); i += 1; \
             if (i >= {n}) clearInterval(t); }}, 150); return true;",
            p = json!(prefix)
        );
        self.js(&js).await?;
        Ok(())
    }

    /// Waits until exactly `n` messages show, all acked or delivered; their bodies.
    async fn settled(&self, n: usize) -> R<Vec<String>> {
        let js = "return Array.from(document.querySelectorAll('[data-testid=message]')).map(m => \
                  [m.querySelector('[data-testid=message-body]').textContent, m.dataset.status]);";
        let start = Instant::now();
        loop {
            let msgs: Vec<(String, String)> = serde_json::from_value(self.js(js).await?)?;
            if msgs.len() == n && msgs.iter().all(|(_, s)| s == "acked" || s == "delivered") {
                return Ok(msgs.into_iter().map(|(b, _)| b).collect());
            }
            if start.elapsed() > SETTLE {
                return Err(format!("page shows {} messages, expected {n} settled: {msgs:?}", msgs.len()).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn open_conns(server: &Supervisor) -> R<i64> {
    let (_, body) = http::request(server.port(), "GET", "/metrics").await?;
    let v = body.lines().find_map(|l| l.strip_prefix("tether_connections_open ")?.trim().parse::<f64>().ok());
    Ok(v.ok_or("no tether_connections_open")? as i64)
}

#[tokio::test]
#[ignore = "needs chromedriver, the built app, PostgreSQL, Redis and nginx: scripts/test.sh multi"]
async fn two_browsers_on_two_instances_behind_nginx_see_every_message_once_in_order() -> R {
    let dist = env_path("TETHER_TABS_DIST", "target/tabs-dist");
    assert!(dist.join("index.html").exists(), "no app at {}: run scripts/test.sh multi", dist.display());
    let pg = Postgres::start()?;
    let redis = Redis::start()?;
    let args = vec![
        "--static-dir".to_owned(),
        dist.display().to_string(),
        "--store".into(),
        pg.url("tether"),
        "--bus".into(),
        redis.url(),
    ];
    let bin = env_path("TETHER_SERVER_BIN", "target/debug/tether-server");
    let mut servers = [Supervisor::new(bin.clone(), args.clone()), Supervisor::new(bin, args)];
    for s in &mut servers {
        s.start().await?;
    }
    let nginx = Nginx::start(&balancer(servers[0].port(), servers[1].port()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let mut driver = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let driver_pid = driver.id().and_then(|p| i32::try_from(p).ok());
    let result = async {
        let webdriver = format!("http://127.0.0.1:{port}");
        let ann = Page::open(&webdriver, &format!("{}/?name=ann&room=lobby", nginx.base_url())).await?;
        let bob = Page::open(&webdriver, &format!("{}/?name=bob&room=lobby", nginx.base_url())).await?;
        // Round robin also spreads the page's own requests (so a reload can
        // land where it was): one extra request shifts it, then reload until
        // each instance holds exactly one of the two connections.
        for attempt in 0.. {
            let counts = (open_conns(&servers[0]).await?, open_conns(&servers[1]).await?);
            if counts == (1, 1) {
                break;
            }
            assert!(attempt < 20, "the pages never landed on different instances: {counts:?}");
            // One or two extra requests, alternately: a reload costs a fixed
            // number of requests, which alone could keep the parity.
            for _ in 0..=(attempt % 2) {
                http::request(nginx.port(), "GET", "/healthz").await?;
            }
            bob.0.refresh().await?;
            bob.wait_open().await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        ann.burst("ann", 8).await?;
        bob.burst("bob", 8).await?;
        let shown = ann.settled(16).await?;
        let mut seen = std::collections::HashSet::new();
        for b in &shown {
            assert!(seen.insert(b), "{b} shown twice: {shown:?}");
        }
        for who in ["ann", "bob"] {
            let mine: Vec<String> = shown.iter().filter(|b| b.starts_with(&format!("{who}-"))).cloned().collect();
            let want: Vec<String> = (0..8).map(|i| format!("{who}-{i}")).collect();
            assert_eq!(mine, want, "{who}'s messages, in order");
        }
        assert_eq!(bob.settled(16).await?, shown, "both pages show the same, in the same order");
        let _ = ann.0.close().await;
        let _ = bob.0.close().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    if let Some(pid) = driver_pid {
        // SAFETY: kill(2) on the process group of the chromedriver we started (its Chromiums too).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = driver.wait().await;
    result
}
