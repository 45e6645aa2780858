//! The HTTP fallback across instances: two instances on one PostgreSQL and
//! one Redis, both refusing WebSocket upgrades (as behind a proxy that
//! strips `Upgrade`), behind nginx as a plain round-robin balancer with no
//! affinity. Each request of a page's emulated connection (session, SSE,
//! polls, POSTs) may land on either instance; the one that does not hold
//! the session passes it on. Two pages chat; both show every message once,
//! in order. Ignored in `cargo test --workspace`; `scripts/test.sh multi`
//! builds the app and runs it.

mod tabs;
mod webdriver;

use std::time::Duration;

use tabs::{Env, R, Tab, assert_once_in_order, dist, env_path};
use tether_testkit::nginx::{Nginx, free_port, round_robin};
use tether_testkit::postgres::Postgres;
use tether_testkit::redis::Redis;
use tether_testkit::{http, supervisor::Supervisor};

const SETTLE: Duration = Duration::from_secs(60);
const STATE_JS: &str = "return document.querySelector('[data-testid=connection-status]')?.dataset.state ?? ''";
const OPEN_JS: &str = "return document.querySelector('[data-testid=connection-status]')?.dataset.state === 'open'";
const TRANSPORT_JS: &str = "return document.querySelector('[data-testid=connection-status]')?.dataset.transport ?? ''";

/// Turns on the test fault `/test/{fault}` on the instance at `port`.
async fn fault(port: u16, fault: &str) -> R {
    let (status, body) = http::request(port, "POST", &format!("/test/{fault}?on=true")).await?;
    if status != 200 {
        return Err(format!("{fault} on {port}: {status} {body}").into());
    }
    Ok(())
}

/// A page of its own connection (`tabs=off`), open over `transport`.
async fn page_on(env: &Env, name: &str, transport: &str) -> R<Tab> {
    let tab = env.open(&format!("name={name}&room=lobby&tabs=off")).await?;
    env.wait(&tab, "the connection to open", SETTLE, OPEN_JS).await?;
    assert_eq!(env.js(&tab, TRANSPORT_JS).await?, transport, "{name}'s transport");
    Ok(tab)
}

#[tokio::test]
#[ignore = "needs chromedriver, the built app, PostgreSQL, Redis and nginx: scripts/test.sh multi"]
async fn two_pages_on_sse_behind_a_round_robin_balancer_see_every_message_once_in_order() -> R {
    chat_through_the_balancer(&["refuse-upgrade"], "sse").await
}

/// SSE held back too (a buffering proxy): long-polls and POSTs, each to either instance.
#[tokio::test]
#[ignore = "needs chromedriver, the built app, PostgreSQL, Redis and nginx: scripts/test.sh multi"]
async fn two_pages_on_long_poll_behind_a_round_robin_balancer_see_every_message_once_in_order() -> R {
    chat_through_the_balancer(&["refuse-upgrade", "hold-sse"], "longpoll").await
}

/// Two instances with `faults` on, nginx round robin in front; two pages
/// chat over `transport`.
async fn chat_through_the_balancer(faults: &[&str], transport: &str) -> R {
    let pg = Postgres::start()?;
    let redis = Redis::start()?;
    let shared = vec!["--store".to_owned(), pg.url("tether"), "--bus".into(), redis.url(), "--test-faults".into()];
    let (port_a, port_b) = (free_port()?, free_port()?);
    let mut args = vec!["--static-dir".to_owned(), dist().display().to_string()];
    args.extend(shared.clone());
    let mut b = Supervisor::new(env_path("TETHER_SERVER_BIN", "target/debug/tether-server"), args).on_port(port_b);
    b.start().await?;
    let nginx = Nginx::start(&round_robin(&[port_a, port_b]))?;
    let env = Env::start_with(port_a, shared, Some(format!("{}/", nginx.base_url()))).await?;
    for (port, f) in [port_a, port_b].into_iter().flat_map(|p| faults.iter().map(move |f| (p, f))) {
        fault(port, f).await?;
    }
    let result = async {
        let ann = page_on(&env, "ann", transport).await?;
        let bob = page_on(&env, "bob", transport).await?;
        env.burst(&ann, "ann", 8, 150).await?;
        env.burst(&bob, "bob", 8, 150).await?;
        let shown = env.settled(&ann, 16, SETTLE).await?;
        assert_once_in_order(&shown, &[("ann", 8), ("bob", 8)]);
        assert_eq!(env.settled(&bob, 16, SETTLE).await?, shown, "both pages show the same, in the same order");
        for tab in [&ann, &bob] {
            assert_eq!(env.js(tab, STATE_JS).await?, "open");
            assert_eq!(env.metric(tab, "reconnects").await?, "0", "the connection never dropped");
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    env.stop().await?;
    b.kill().await?;
    result
}
