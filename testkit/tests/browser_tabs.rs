//! One connection per browser, not per tab: real Chromium windows on one
//! origin running the real app against the real server (see `tabs/mod.rs`).
//! Ignored in `cargo test --workspace` (they need a built app and
//! chromedriver); `scripts/test.sh tabs` builds both and runs them.

mod tabs;
mod webdriver;

use std::time::{Duration, Instant};
use tabs::{Env, R, Tab, assert_once_in_order, dist_with_preload};

const OPEN: &str = "tether_connections_open";
const ACCEPTED: &str = "tether_connections_total";
const SETTLE: Duration = Duration::from_secs(30);

async fn tabs(env: &Env, queries: &[&str]) -> R<Vec<Tab>> {
    let mut out = Vec::new();
    for q in queries {
        out.push(env.open(q).await?);
    }
    Ok(out)
}

async fn all_open(env: &Env, tabs: &[Tab]) -> R {
    for t in tabs {
        let js = "return document.querySelector('[data-testid=connection-status]')?.dataset.state === 'open'";
        env.wait(t, "the connection to open", SETTLE, js).await?;
    }
    Ok(())
}

/// Three tabs of `name` in one room, sharing: (all, the leader, the followers).
async fn three_sharing(env: &Env, name: &str) -> R<(Vec<Tab>, Tab, Vec<Tab>)> {
    let t = tabs(env, &[format!("name={name}&room=lobby").as_str(); 3]).await?;
    all_open(env, &t).await?;
    env.wait_server(OPEN, 1, SETTLE).await?;
    let leader = env.leader(&t).await?;
    let followers = t.iter().filter(|x| **x != leader).cloned().collect();
    Ok((t, leader, followers))
}

/// Wait until one of `tabs` leads with an open socket: how long after `since`.
async fn new_leader(env: &Env, tabs: &[Tab], since: Instant, limit: Duration) -> R<Duration> {
    while since.elapsed() < limit {
        for f in tabs {
            if env.role(f).await? == "leader" && env.metric(f, "state").await? == "open" {
                return Ok(since.elapsed());
            }
        }
    }
    Err(format!("no tab took over within {limit:?}").into())
}

#[tokio::test]
#[ignore = "needs chromedriver and the built app: scripts/test.sh tabs"]
async fn three_tabs_share_one_connection_and_see_every_message_once_in_order() -> R {
    let env = Env::start().await?;
    let t = tabs(&env, &["name=ann&room=lobby"; 3]).await?;
    all_open(&env, &t).await?;
    env.wait_server(OPEN, 1, SETTLE).await?;
    let roles: Vec<String> = [env.role(&t[0]).await?, env.role(&t[1]).await?, env.role(&t[2]).await?].into();
    assert_eq!(roles.iter().filter(|r| *r == "leader").count(), 1, "{roles:?}");
    assert_eq!(roles.iter().filter(|r| *r == "follower").count(), 2, "{roles:?}");
    for (i, tab) in t.iter().enumerate() {
        for j in 0..3 {
            env.post(tab, &format!("t{i}-{j}")).await?;
        }
    }
    let first = env.settled(&t[0], 9, SETTLE).await?;
    assert_once_in_order(&first, &[("t0", 3), ("t1", 3), ("t2", 3)]);
    for tab in &t[1..] {
        assert_eq!(env.settled(tab, 9, SETTLE).await?, first, "every tab shows the same, in the same order");
    }
    assert_eq!(env.server_metric(OPEN).await?, 1);
    assert_eq!(env.server_metric(ACCEPTED).await?, 1, "one connection ever");
    env.stop().await
}

#[tokio::test]
#[ignore = "needs chromedriver and the built app: scripts/test.sh tabs"]
async fn tabs_in_different_rooms_share_the_connection_and_each_shows_its_room() -> R {
    let env = Env::start().await?;
    let t = tabs(&env, &["name=bo&room=red", "name=bo&room=blue"]).await?;
    all_open(&env, &t).await?;
    env.post(&t[0], "red-0").await?;
    env.post(&t[1], "blue-0").await?;
    env.post(&t[0], "red-1").await?;
    assert_eq!(env.settled(&t[0], 2, SETTLE).await?, ["red-0", "red-1"]);
    assert_eq!(env.settled(&t[1], 1, SETTLE).await?, ["blue-0"]);
    let statuses: Vec<String> = env.messages(&t[1]).await?.into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, ["acked"]);
    assert_eq!(env.server_metric(OPEN).await?, 1);
    env.stop().await
}

#[tokio::test]
#[ignore = "needs chromedriver and the built app: scripts/test.sh tabs"]
async fn closing_the_leader_during_a_burst_loses_nothing() -> R {
    let env = Env::start().await?;
    let (_, leader, followers) = three_sharing(&env, "cy").await?;
    let n = 30;
    env.burst(&followers[0], "a", n, 40).await?;
    env.burst(&followers[1], "b", n, 40).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    env.close(&leader).await?;
    let took_over = new_leader(&env, &followers, Instant::now(), SETTLE).await?;
    println!("FIGURE takeover after the leader closed: {} ms", took_over.as_millis());
    for f in &followers {
        // Handed over by the lock (same term), not by the frozen-leader watch.
        assert_eq!(env.metric(f, "tabs_epoch").await?, "0");
        assert_eq!(env.metric(f, "leader_changes").await?, "1");
    }
    let shown = env.settled(&followers[0], 2 * n, SETTLE).await?;
    assert_once_in_order(&shown, &[("a", n), ("b", n)]);
    assert_eq!(env.settled(&followers[1], 2 * n, SETTLE).await?, shown);
    env.wait_server(OPEN, 1, SETTLE).await?;
    env.stop().await
}

#[tokio::test]
#[ignore = "needs chromedriver and the built app: scripts/test.sh tabs"]
async fn a_frozen_leader_is_replaced_and_steps_down_when_it_wakes() -> R {
    let env = Env::start().await?;
    let (t, leader, followers) = three_sharing(&env, "di").await?;
    // Hang the leader's page for 15 s: its lock stays held, its socket open.
    // Started from a timer, so that the WebDriver call returns first (with a
    // delay of 0 chromedriver only answers once the loop is over).
    let freeze = "setTimeout(() => { const end = Date.now() + 15000; while (Date.now() < end) {} }, 500); return true;";
    let sent = Instant::now();
    env.js(&leader, freeze).await?;
    let frozen_at = sent + Duration::from_millis(500);
    tokio::time::sleep_until(frozen_at.into()).await;
    // One post from each follower: each tab's own order is what sharing
    // promises; which tab's post goes first depends on which one takes over
    // (its own queue goes out at once, the other's after its handshake).
    env.post(&followers[0], "da-0").await?;
    env.post(&followers[1], "db-0").await?;
    let replaced = new_leader(&env, &followers, frozen_at, Duration::from_secs(14)).await?;
    println!("FIGURE frozen leader replaced after: {} ms", replaced.as_millis());
    assert_eq!(env.server_metric(OPEN).await?, 2, "the new leader's socket, and the hung tab's");
    for f in &followers {
        assert_eq!(env.metric(f, "tabs_epoch").await?, "1", "a new term");
    }
    let shown = env.settled(&followers[0], 2, SETTLE).await?;
    assert_once_in_order(&shown, &[("da", 1), ("db", 1)]);
    assert_eq!(env.settled(&followers[1], 2, SETTLE).await?, shown, "the same order in every tab");
    // It wakes, hears the higher epoch, steps down and closes its socket.
    env.wait(
        &leader,
        "the woken leader to follow",
        SETTLE,
        "return document.querySelector('[data-metric=role] dd')?.textContent === 'follower'",
    )
    .await?;
    env.wait_server(OPEN, 1, SETTLE).await?;
    env.post(&leader, "after-0").await?;
    for tab in &t {
        let now = env.settled(tab, 3, SETTLE).await?;
        assert_eq!(now[..2], shown[..], "what was shown stays, in its order");
        assert_eq!(now[2], "after-0");
    }
    env.stop().await
}

#[tokio::test]
#[ignore = "needs chromedriver and the built app: scripts/test.sh tabs"]
async fn a_server_restart_costs_one_reconnect_not_three() -> R {
    let env = Env::start().await?;
    let restart = restart_counts(env, 3, "").await?;
    assert_eq!(restart, (1, 1), "(connections open, reconnects after a restart) with sharing");
    Ok(())
}

/// Open `n` tabs with `extra` query, restart the server, and return the
/// connections open before the restart and the connections it accepted after.
/// Each tab posts while the server is down: its post waits in its outbox and
/// goes out once (the restarted server sees no duplicate), and every tab shows
/// every post once, acked.
async fn restart_counts(mut env: Env, n: usize, extra: &str) -> R<(i64, i64)> {
    let q = format!("name=ed&room=lobby{extra}");
    let t = tabs(&env, &vec![q.as_str(); n]).await?;
    all_open(&env, &t).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let open = env.server_metric(OPEN).await?;
    env.server.kill().await?;
    let down = "return document.querySelector('[data-testid=connection-status]')?.dataset.state !== 'open'";
    for (i, tab) in t.iter().enumerate() {
        env.wait(tab, "the connection to drop", SETTLE, down).await?;
        env.post(tab, &format!("down{i}-0")).await?;
    }
    env.server.start().await?;
    all_open(&env, &t).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let accepted = env.server_metric(ACCEPTED).await?;
    env.post(&t[n - 1], "back-0").await?;
    let senders: Vec<(String, usize)> =
        (0..n).map(|i| (format!("down{i}"), 1)).chain([("back".to_owned(), 1)]).collect();
    let senders: Vec<(&str, usize)> = senders.iter().map(|(p, k)| (p.as_str(), *k)).collect();
    let first = env.settled(&t[0], n + 1, SETTLE).await?;
    assert_once_in_order(&first, &senders);
    for tab in &t[1..] {
        assert_eq!(env.settled(tab, n + 1, SETTLE).await?, first);
    }
    // Each outbox goes out once per connection. A tab whose WebSocket
    // retries ran out while the server was down tries the HTTP fallback,
    // and its handshake may reach the server on a fallback session that
    // then ends before the post's ack came back: switched back
    // make-before-break, or given up because its stream never attached
    // in time (ten tabs share the browser's six connections per host).
    // The WebSocket's handshake then resends the post and the server
    // deduplicates it. That is the only resend allowed: per fallback
    // session started (counted when created, attached or not), the posts
    // its handshake carried: every tab's when shared, one when per tab.
    let fallbacks = env.server_metric("tether_emulated_sessions_total").await?;
    let duplicates = env.server_metric("tether_duplicate_posts_total").await?;
    let mode = if extra.is_empty() { "shared" } else { "per tab" };
    println!("FIGURE {n} tabs, {mode}: {duplicates} posts deduplicated, {fallbacks} fallback sessions");
    let per_handshake = if extra.is_empty() { n as i64 } else { 1 };
    assert!(
        duplicates <= fallbacks * per_handshake,
        "each outbox sent once ({duplicates} duplicates, {fallbacks} fallback sessions)"
    );
    env.stop().await?;
    Ok((open, accepted))
}

#[tokio::test]
#[ignore = "needs chromedriver and the built app: scripts/test.sh tabs"]
async fn sharing_off_means_one_connection_per_tab() -> R {
    let env = Env::start().await?;
    let counts = restart_counts(env, 3, "&tabs=off").await?;
    assert_eq!(counts, (3, 3));
    Ok(())
}

#[tokio::test]
#[ignore = "needs chromedriver and the built app: scripts/test.sh tabs"]
async fn without_web_locks_each_tab_has_its_own_connection_and_says_why() -> R {
    // A browser without Web Locks: the API removed before the app starts.
    let dist = dist_with_preload("delete Navigator.prototype.locks;")?;
    let env = Env::start_serving(dist.path(), 0, Vec::new(), None).await?;
    let mut t = Vec::new();
    for _ in 0..3 {
        t.push(env.open("name=fi&room=lobby").await?);
    }
    all_open(&env, &t).await?;
    env.wait_server(OPEN, 3, SETTLE).await?;
    for tab in &t {
        assert_eq!(env.role(tab).await?, "standalone");
        assert!(env.metric(tab, "tabs_fallback").await?.contains("Web Locks"));
    }
    env.post(&t[0], "x-0").await?;
    for tab in &t {
        assert_eq!(env.settled(tab, 1, SETTLE).await?, ["x-0"]);
    }
    env.stop().await
}

#[tokio::test]
#[ignore = "needs chromedriver and the built app: scripts/test.sh tabs"]
async fn figures_connections_and_reconnects_for_1_and_10_tabs() -> R {
    // 3 tabs, both ways: the two tests above assert (1, 1) and (3, 3).
    for n in [1, 10] {
        for (label, extra) in [("shared", ""), ("per tab", "&tabs=off")] {
            let (open, reconnects) = restart_counts(Env::start().await?, n, extra).await?;
            println!("FIGURE {n} tabs, {label}: {open} connections, {reconnects} reconnects after a server restart");
            let want = if extra.is_empty() { 1 } else { n as i64 };
            assert_eq!((open, reconnects), (want, want), "{n} tabs, {label}");
        }
    }
    Ok(())
}
