//! The `browser` section's rows (with `--only chat`, just the chat app's):
//! bursts into the hook pages and into the chat app, each page taking each
//! burst several times in turn with its peers, so that a median counts and
//! not one run's luck. Its own file because it is the one section that
//! drives a browser, with a server per page kept up across every burst.

use std::time::Duration;

use crate::procs::TetherCmd;
use crate::table::Row;
use crate::{Args, browser, in_turn};

/// How many times each page takes each burst (its median counts).
const BURST_ROUNDS: usize = 3;

pub async fn browser_rows(args: &Args, tether: &TetherCmd, rows: &mut Vec<Row>) {
    let browser = browser::Browser::start(&args.webdriver).await;
    let mut servers = Vec::new();
    for page in ["raw-js", "tether-ws", "leptos-use"] {
        let dir = args.pages.join(page).display().to_string();
        servers
            .push(tether.start(&format!("page-{page}"), "127.0.0.1:0", &["--test-faults", "--static-dir", &dir]).await);
    }
    let hook_pages = if args.runs("browser") { [1_000usize, 10_000, 100_000].as_slice() } else { &[] };
    for &n in hook_pages {
        let limit = Duration::from_secs(if n >= 100_000 { 90 } else { 45 });
        // Each page takes the burst BURST_ROUNDS times, the pages in turn,
        // and its median counts: one run each read 0.89x to 1.13x between the
        // hook pages, which share all their rendering. Each round starts at
        // the next page, so none always follows the raw page's 100,000-row
        // teardown.
        let mut runs = vec![Vec::new(); servers.len()];
        for round in 0..BURST_ROUNDS {
            for i in in_turn(round, servers.len()) {
                let r = browser.burst(&format!("http://{}/?n={n}", servers[i].addr), limit).await;
                eprintln!("  burst {n} at {} (round {round}): {r:?}", servers[i].addr);
                runs[i].push(r);
            }
        }
        let got: Vec<Option<browser::Burst>> = runs.into_iter().map(browser::Burst::median).collect();
        let rate = |r: Option<browser::Burst>| r.map(|b| n as f64 / (b.ms / 1000.0));
        let task = |r: Option<browser::Burst>| r.map(|b| b.longest_task_ms);
        let what = format!("hook burst {n}: messages/s to rendered");
        rows.push(Row::new("client", what.clone(), "msg/s", "higher", rate(got[1]), "raw JS", rate(got[0])));
        rows.push(Row::new("client", what, "msg/s", "higher", rate(got[1]), "leptos-use", rate(got[2])));
        let what = format!("hook burst {n}: longest main-thread task");
        rows.push(Row::new("client", what.clone(), "ms", "lower", task(got[1]), "raw JS", task(got[0])));
        rows.push(Row::new("client", what, "ms", "lower", task(got[1]), "leptos-use", task(got[2])));
    }
    // The chat app itself in a room vs the raw-JS chat page (same server path).
    let app_dir = args.app.display().to_string();
    let app = tether.start("page-app", "127.0.0.1:0", &["--test-faults", "--static-dir", &app_dir]).await;
    // The same three bursts as the hook pages: the app's work per message no
    // longer grows with the room (a frozen page would stall WebDriver, so
    // each wait is bounded).
    for n in [1_000usize, 10_000, 100_000] {
        let limit = Duration::from_secs(if n >= 100_000 { 120 } else { 60 });
        let raw = &servers[0];
        // As the hook pages: BURST_ROUNDS each, in turn, the medians count;
        // each round in a fresh room, so every run meets an empty room.
        let (mut ours, mut peer) = (Vec::new(), Vec::new());
        for round in 0..BURST_ROUNDS {
            let room = format!("burst{n}-{round}");
            for turn in in_turn(round, 2) {
                if turn == 0 {
                    let page = format!("http://{}/?name=bench&room={room}", app.addr);
                    ours.push(browser.chat_burst(&page, app.addr, &room, n, limit).await);
                } else {
                    let page = format!("http://{}/chat.html?room={room}", raw.addr);
                    peer.push(browser.chat_burst(&page, raw.addr, &room, n, limit).await);
                }
            }
        }
        eprintln!("  chat burst {n}: app {ours:?}, raw JS {peer:?}");
        let (ours, peer) = (browser::Burst::median(ours), browser::Burst::median(peer));
        let rate = |r: Option<browser::Burst>| r.map(|b| n as f64 / (b.ms / 1000.0));
        let what = format!("chat app, {n} posts into its room: messages/s to rendered");
        rows.push(Row::new("client", what, "msg/s", "higher", rate(ours), "raw JS", rate(peer)));
        let what = format!("chat app, {n} posts into its room: longest main-thread task");
        rows.push(Row::new(
            "client",
            what,
            "ms",
            "lower",
            ours.map(|b| b.longest_task_ms),
            "raw JS",
            peer.map(|b| b.longest_task_ms),
        ));
    }
    app.kill().await;
    browser.close().await;
    for s in servers {
        s.kill().await;
    }
}
