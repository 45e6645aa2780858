//! One headless browser over WebDriver: Chromium (chromedriver), Firefox
//! ESR (geckodriver) or WebKitGTK's MiniBrowser (WebKitWebDriver; it needs an
//! X display: scripts/test.sh runs it under `xvfb-run`), chosen by
//! `TETHER_BROWSER=chromium|firefox|webkit`.
//!
//! Environment: `CHROMEDRIVER`, `GECKODRIVER` (or `TETHER_GECKODRIVER`, set
//! by .tools/env.sh); defaults are where scripts/setup.sh installs them.

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Browser {
    Chromium,
    Firefox,
    WebKit,
}

impl Browser {
    pub fn from_env() -> Self {
        match std::env::var("TETHER_BROWSER").as_deref() {
            Ok("firefox") => Self::Firefox,
            Ok("webkit") => Self::WebKit,
            _ => Self::Chromium,
        }
    }

    fn driver(self) -> String {
        let var = |names: &[&str], default: &str| {
            names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty())).unwrap_or(default.into())
        };
        match self {
            Self::Chromium => var(&["CHROMEDRIVER"], "/usr/bin/chromedriver"),
            Self::Firefox => var(
                &["GECKODRIVER", "TETHER_GECKODRIVER"],
                &format!("{}/.cargo/bin/geckodriver", std::env::var("HOME").unwrap_or_default()),
            ),
            Self::WebKit => var(&["WEBKITWEBDRIVER"], "/usr/bin/WebKitWebDriver"),
        }
    }

    /// Headless, and nothing reaching for the (closed) network on its own.
    fn capabilities(self) -> R<Capabilities> {
        Ok(match self {
            Self::Chromium => {
                let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
                serde_json::from_str(&std::fs::read_to_string(repo.join("webdriver.json"))?)?
            }
            Self::Firefox => serde_json::from_value(json!({
                "moz:firefoxOptions": {
                    "binary": "/usr/bin/firefox-esr",
                    "args": ["-headless"],
                    "prefs": {
                        "network.captive-portal-service.enabled": false,
                        "app.update.enabled": false,
                        "browser.safebrowsing.malware.enabled": false,
                        "browser.safebrowsing.phishing.enabled": false,
                        "datareporting.policy.dataSubmissionEnabled": false,
                        "toolkit.telemetry.enabled": false
                    }
                }
            }))?,
            Self::WebKit => serde_json::from_value(json!({
                "webkitgtk:browserOptions": {
                    "binary": "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
                    "args": ["--automation"]
                }
            }))?,
        })
    }
}

/// A WebDriver server and one session of its browser; the whole process
/// group (driver and browser) is killed on drop, also when a test fails.
pub struct Driver {
    process: Child,
    pub client: Client,
    pub browser: Browser,
}

impl Driver {
    pub async fn start(browser: Browser) -> R<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut cmd = Command::new(browser.driver());
        match browser {
            Browser::Chromium | Browser::WebKit => cmd.arg(format!("--port={port}")),
            Browser::Firefox => cmd.args(["--port", &port.to_string(), "--log", "error"]),
        };
        let process = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, which the browser joins: see `Drop`.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the WebDriver for {browser:?} ({}): {e}", browser.driver()))?;
        let caps = browser.capabilities()?;
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(_) if started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        Ok(Self { process, client, browser })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.process.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) on a process group this Driver created.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}
