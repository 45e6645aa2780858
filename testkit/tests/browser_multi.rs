//! Two instances on one PostgreSQL and one Redis, behind nginx as a
//! round-robin load balancer that forwards WebSocket upgrades; two browsers
//! (separate sessions, so they cannot share a connection) run the built app,
//! each served and connected through nginx, landing on different instances.
//! They chat, also while one instance is killed under them: both show every
//! message once, in order, the same order. Ignored in
//! `cargo test --workspace`; `scripts/test.sh multi` builds the app and runs it.

mod chat_pages;
#[allow(dead_code)] // Shared; this file does not ask which browser it is.
mod webdriver;

use chat_pages::{Page, R, SETTLE, assert_conversation, spread};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tether_testkit::cluster::Cluster;

fn env_path(name: &str, default: &str) -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::var_os(name).map(PathBuf::from).unwrap_or_else(|| repo.join(default))
}

/// The cluster serving the built app, and one page on each instance.
async fn two_pages_on_two_instances() -> R<(Cluster, [Page; 2])> {
    let dist = env_path("TETHER_TABS_DIST", "target/tabs-dist");
    assert!(dist.join("index.html").exists(), "no app at {}: run scripts/test.sh multi", dist.display());
    let cluster = Cluster::start(env_path("TETHER_SERVER_BIN", "target/debug/tether-server"), &dist).await?;
    let base = cluster.nginx.base_url();
    let pages = [Page::open(&base, "ann").await?, Page::open(&base, "bob").await?];
    spread(&cluster, &pages[1]).await?;
    Ok((cluster, pages))
}

fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Waits until each page has posted at least `n[i]` messages.
async fn posted_at_least(pages: &[Page; 2], n: [usize; 2]) -> R {
    let start = Instant::now();
    for (page, n) in pages.iter().zip(n) {
        while page.posted().await?.len() < n {
            assert!(start.elapsed() < SETTLE, "{} did not get to post {n} messages", page.nick);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs chromedriver, the built app, PostgreSQL, Redis and nginx: scripts/test.sh multi"]
async fn two_browsers_on_two_instances_behind_nginx_see_every_message_once_in_order() -> R {
    let (_cluster, pages) = two_pages_on_two_instances().await?;
    for page in &pages {
        page.start_posting(Some(8)).await?;
    }
    assert_conversation(&[&pages[0], &pages[1]], &[8, 8]).await?;
    Ok(())
}

/// The instance under one page is SIGKILLed while both pages keep posting:
/// that page reconnects through nginx to the other instance and resumes;
/// the other page never notices; both end with the whole conversation.
#[tokio::test]
#[ignore = "needs chromedriver, the built app, PostgreSQL, Redis and nginx: scripts/test.sh multi"]
async fn an_instance_killed_mid_conversation_loses_and_doubles_nothing_its_page_resumes_on_the_other() -> R {
    let (mut cluster, pages) = two_pages_on_two_instances().await?;
    for page in &pages {
        page.start_posting(None).await?;
    }
    posted_at_least(&pages, [10, 10]).await?;
    // A few posts at once on both pages, so some are in flight at the kill.
    tokio::try_join!(pages[0].post_now(5), pages[1].post_now(5))?;
    let killed_at = now_ms();
    cluster.servers[0].kill().await?;

    // The page that was on the killed instance shows a drop, then open again.
    let start = Instant::now();
    let (victim, dropped_at, in_flight, reopened_at) = 'found: loop {
        for (i, page) in pages.iter().enumerate() {
            let states = page.states().await?;
            let mut after = states.iter().filter(|(_, t, _)| *t >= killed_at);
            let Some(&(_, dropped_at, unacked)) = after.find(|(s, _, _)| s != "open") else { continue };
            if let Some(&(_, reopened_at, _)) = after.find(|(s, _, _)| s == "open") {
                break 'found (i, dropped_at, unacked, reopened_at);
            }
        }
        assert!(start.elapsed() < SETTLE, "no page came back after the kill: {:?}", pages[0].states().await?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let survivor = 1 - victim;

    // Both keep posting on the survivor; then the killed instance comes back.
    let now = [pages[0].posted().await?.len(), pages[1].posted().await?.len()];
    posted_at_least(&pages, [now[0] + 10, now[1] + 10]).await?;
    cluster.servers[0].start().await?;
    let now = [pages[0].posted().await?.len(), pages[1].posted().await?.len()];
    posted_at_least(&pages, [now[0] + 5, now[1] + 5]).await?;
    let posted = [pages[0].stop().await?, pages[1].stop().await?];
    let mut during = 0;
    for page in &pages {
        during += page.posted().await?.iter().filter(|&&t| t >= killed_at && t <= reopened_at).count();
    }
    println!(
        "kill → {}'s page shows the drop: {:.0} ms; kill → open again on the other instance: {:.0} ms; \
         posted during the outage: {during} (both pages); {}'s posts not acked when it saw the drop: {}; \
         posted in all: {}",
        pages[victim].nick,
        dropped_at - killed_at,
        reopened_at - killed_at,
        pages[victim].nick,
        in_flight,
        posted[0] + posted[1]
    );
    let shown = assert_conversation(&[&pages[0], &pages[1]], &posted).await?;
    let survivor_states = pages[survivor].states().await?;
    assert!(
        survivor_states.iter().all(|(s, _, _)| s == "open"),
        "{}'s page, on the instance that stayed up, lost its connection: {survivor_states:?}",
        pages[survivor].nick
    );
    // Both connections are on the survivor now; the restarted one has none.
    let start = Instant::now();
    let mut conns = cluster.open_conns().await?;
    while conns != [0, 2] && start.elapsed() < SETTLE {
        tokio::time::sleep(Duration::from_millis(200)).await;
        conns = cluster.open_conns().await?;
    }
    assert_eq!(conns, [0, 2], "connections per instance (killed and restarted, survivor)");
    // Loaded again (from whichever instance nginx picks), the app shows the same.
    pages[victim].reload().await?;
    let again = pages[victim].settled(shown.len()).await?;
    assert_eq!(again, shown, "{}'s page after a reload", pages[victim].nick);

    Ok(())
}
