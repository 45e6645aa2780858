//! The built app deployed as static files: copied under `/chat/` of a real
//! nginx (a static host on its own origin), its `tether-server` meta tag
//! pointing at the real server on another port, in a real browser
//! (Chromium or Firefox: `webdriver/mod.rs`). Also the app served by the
//! server itself, under the Content-Security-Policy the server sends.
//! Ignored in `cargo test --workspace`; `scripts/test.sh tabs` runs them.

mod tabs;
mod webdriver;

use std::path::Path;
use std::time::Duration;
use tabs::{Env, R, Tab, dist};
use tether_server::security_headers::CONTENT_SECURITY_POLICY;
use tether_testkit::nginx::{Nginx, free_port};

const SETTLE: Duration = Duration::from_secs(30);
const VIOLATIONS: &str = "tether_csp_violations_total";
const STATE_JS: &str = "return document.querySelector('[data-testid=connection-status]')?.dataset.state ?? ''";

/// The app, copied to `{host dir}/www/chat/` with its meta tag set to
/// `server` (as an operator would, with sed), served with `try_files` so a
/// reload of any deep link under `/chat/` gets the page.
struct StaticHost {
    nginx: Nginx,
}

impl StaticHost {
    /// `csp`: the Content-Security-Policy header nginx adds to every file.
    fn start(server: &str, csp: &str) -> R<Self> {
        let conf = format!(
            "server {{\n  listen 127.0.0.1:{{port}};\n  root {{dir}}/www;\n  \
             add_header Content-Security-Policy \"{csp}\" always;\n  \
             add_header X-Content-Type-Options nosniff always;\n  \
             location /chat/ {{ try_files $uri /chat/index.html; }}\n}}"
        );
        let nginx = Nginx::start(&conf)?;
        let to = nginx.dir().join("www/chat");
        copy_app(&dist(), &to, server)?;
        Ok(Self { nginx })
    }

    fn origin(&self) -> String {
        self.nginx.base_url()
    }

    fn page(&self) -> String {
        format!("{}/chat/", self.origin())
    }
}

fn copy_tree(from: &Path, to: &Path) -> R {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn copy_app(from: &Path, to: &Path, server: &str) -> R {
    copy_tree(from, to)?;
    let index = to.join("index.html");
    let html = std::fs::read_to_string(&index)?;
    let blank = r#"<meta name="tether-server" content="" />"#;
    assert!(html.contains(blank), "the built index.html has no blank tether-server meta tag");
    std::fs::write(&index, html.replace(blank, &format!(r#"<meta name="tether-server" content="{server}" />"#)))?;
    Ok(())
}

/// The README's policy for a static host: the server's own policy with the
/// chat server added to `connect-src` and reports sent to it.
fn static_host_csp(server_port: u16) -> String {
    let s = format!("127.0.0.1:{server_port}");
    CONTENT_SECURITY_POLICY
        .replace("connect-src 'self'", &format!("connect-src 'self' http://{s} ws://{s}"))
        .replace("report-uri /csp-report", &format!("report-uri http://{s}/csp-report"))
}

/// A server on a known port that allows `origins` (with `flags` besides),
/// and a browser that will open `page`.
async fn server_allowing(port: u16, origins: &[String], flags: &[&str], page: Option<String>) -> R<Env> {
    let mut extra: Vec<String> = origins.iter().flat_map(|o| ["--allowed-origin".to_owned(), o.clone()]).collect();
    extra.extend(flags.iter().map(|f| f.to_string()));
    Env::start_with(port, extra, page).await
}

/// The app under `/chat/` of a static host whose meta tag names a server on
/// another origin, which allows the host's origin; the server also gets
/// `flags` (`--test-faults`, for a test that refuses WebSocket upgrades to
/// make the app fall back to HTTP). The browser opens pages on the host.
async fn deployed_across_origins(flags: &[&str]) -> R<(StaticHost, Env)> {
    let port = free_port()?;
    let host = StaticHost::start(&format!("http://127.0.0.1:{port}"), &static_host_csp(port))?;
    let env = server_allowing(port, &[host.origin()], flags, Some(host.page())).await?;
    Ok((host, env))
}

async fn wait_open(env: &Env, tab: &Tab) -> R {
    let js = "return document.querySelector('[data-testid=connection-status]')?.dataset.state === 'open'";
    env.wait(tab, "the connection to open", SETTLE, js).await
}

/// Two pages chat, each sees both messages once, acked or delivered.
async fn two_pages_chat(env: &Env, room: &str) -> R<(Tab, Tab)> {
    let ann = env.open(&format!("name=ann&room={room}")).await?;
    let bob = env.open(&format!("name=bob&room={room}")).await?;
    wait_open(env, &ann).await?;
    wait_open(env, &bob).await?;
    env.post(&ann, "hello from ann").await?;
    env.settled(&bob, 1, SETTLE).await?;
    env.post(&bob, "hi ann").await?;
    for tab in [&ann, &bob] {
        assert_eq!(env.settled(tab, 2, SETTLE).await?, ["hello from ann", "hi ann"]);
    }
    Ok((ann, bob))
}

/// Violation reports are sent in the background: give them time to arrive,
/// then make one on purpose (an inline script, which the policy blocks) to
/// prove this browser reports to this server, and see that it is the only one.
async fn assert_no_violation_but_the_probe(env: &Env, tab: &Tab) -> R {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = env.server_metric(VIOLATIONS).await?;
    assert_eq!(before, 0, "CSP violations reported while the chat ran ({:?})", env.browser());
    let probe = "const s = document.createElement('script'); s.textContent = 'window.__probe = 1'; \
                 document.body.append(s); return window.__probe === undefined;";
    assert_eq!(env.js(tab, probe).await?, serde_json::Value::Bool(true), "the inline script was blocked");
    env.wait_server(VIOLATIONS, 1, SETTLE).await
}

#[tokio::test]
#[ignore = "needs a WebDriver, nginx and the built app: scripts/test.sh tabs"]
async fn a_static_host_under_a_subpath_talks_to_a_server_on_another_origin() -> R {
    let (host, env) = deployed_across_origins(&[]).await?;
    let (ann, bob) = two_pages_chat(&env, "deploy").await?;
    // A reload of the deep link: the same room, its history, connected.
    env.client.switch_to_window(bob.0.clone()).await?;
    let before = env.client.current_url().await?;
    env.client.refresh().await?;
    env.wait(&bob, "the app after a reload", SETTLE, "return !!document.querySelector('[data-testid=message-input]')")
        .await?;
    assert_eq!(env.client.current_url().await?, before);
    assert!(before.as_str().starts_with(&format!("{}?", host.page())), "{before}");
    wait_open(&env, &bob).await?;
    assert_eq!(env.settled(&bob, 2, SETTLE).await?, ["hello from ann", "hi ann"]);
    let room = env.js(&bob, "return document.querySelector('.room-title').textContent").await?;
    assert_eq!(room, "#deploy");
    env.post(&bob, "after reload").await?;
    assert_eq!(env.settled(&ann, 3, SETTLE).await?, ["hello from ann", "hi ann", "after reload"]);
    assert_no_violation_but_the_probe(&env, &ann).await?;
    env.stop().await
}

/// A network between the static host's visitors and the server that lets no
/// WebSocket through: the chat works across origins over SSE or long-poll
/// (CORS for the allowed origin, under the static host's CSP).
#[tokio::test]
#[ignore = "needs a WebDriver, nginx and the built app: scripts/test.sh tabs"]
async fn across_origins_with_websockets_refused_the_chat_falls_back_to_http() -> R {
    let (_host, env) = deployed_across_origins(&["--test-faults"]).await?;
    env.server_request("POST", "/test/refuse-upgrade?on=true").await?;
    let (ann, bob) = two_pages_chat(&env, "fallback").await?;
    let js = "return document.querySelector('[data-testid=connection-status]').dataset.transport";
    for tab in [&ann, &bob] {
        let transport = env.js(tab, js).await?;
        assert!(transport == "sse" || transport == "longpoll", "transport {transport} ({:?})", env.browser());
    }
    assert_no_violation_but_the_probe(&env, &ann).await?;
    env.stop().await
}

#[tokio::test]
#[ignore = "needs a WebDriver, nginx and the built app: scripts/test.sh tabs"]
async fn a_page_from_an_origin_the_server_does_not_allow_is_refused_and_says_so() -> R {
    let port = free_port()?;
    let allowed = StaticHost::start(&format!("http://127.0.0.1:{port}"), &static_host_csp(port))?;
    let other = StaticHost::start(&format!("http://127.0.0.1:{port}"), &static_host_csp(port))?;
    let env = server_allowing(port, &[allowed.origin()], &[], Some(other.page())).await?;
    let tab = env.open("name=eve&room=deploy").await?;
    let said = "return document.querySelector('.notice')?.textContent ?? ''";
    env.wait(&tab, "a notice", SETTLE, &format!("const t = (() => {{ {said} }})(); return t.length > 0;")).await?;
    let notice = env.js(&tab, said).await?;
    let notice = notice.as_str().unwrap_or_default();
    assert!(notice.contains("Cannot connect to the chat server"), "{notice}");
    assert!(notice.contains(&format!("does not accept pages from {}", other.origin())), "{notice}");
    // Retrying (connecting again, or waiting for the next attempt), never open.
    let state = env.js(&tab, STATE_JS).await?;
    assert!(["reconnecting", "connecting", "failed"].contains(&state.as_str().unwrap_or_default()), "badge: {state}");
    assert_eq!(env.server_metric("tether_connections_total").await?, 0, "no connection was accepted");
    env.stop().await
}

#[tokio::test]
#[ignore = "needs a WebDriver and the built app: scripts/test.sh tabs"]
async fn the_app_served_by_the_server_runs_under_its_content_security_policy() -> R {
    let env = Env::start().await?;
    let (status, _) = tether_testkit::http::request(env.server.port(), "GET", "/").await?;
    assert_eq!(status, 200);
    let (ann, _bob) = two_pages_chat(&env, "csp").await?;
    assert_no_violation_but_the_probe(&env, &ann).await?;
    env.stop().await
}

#[tokio::test]
#[ignore = "needs a WebDriver, nginx and the built app: scripts/test.sh tabs"]
async fn a_bad_server_address_in_the_page_is_shown_not_a_dead_chat() -> R {
    let port = free_port()?;
    let host = StaticHost::start("chat.example.com", &static_host_csp(port))?;
    let env = server_allowing(port, &[], &[], Some(host.page())).await?;
    env.client.goto(&env.app_url("name=ann")).await?;
    let tab = Tab(env.client.window().await?);
    let shown = "return document.querySelector('[data-testid=config-error]')?.textContent ?? ''";
    env.wait(&tab, "the error", SETTLE, &format!("return (() => {{ {shown} }})().length > 0")).await?;
    let text = env.js(&tab, shown).await?;
    assert!(text.as_str().unwrap_or_default().contains("\"chat.example.com\" is not a web address"), "{text}");
    env.stop().await
}
