//! `tether-bench`, run by `make bench` (scripts/bench.sh builds everything
//! first): measures Tether against its peers in one run on one machine and
//! prints one table (ours | peer | ratio) plus the same rows as JSON.
//! Figures are only compared within a run; nothing here passes or fails.

mod browser;
mod bursts;
mod clients;
mod posts;
mod procs;
mod scale;
mod sizes;
mod storm;
mod table;

use std::path::PathBuf;

use clap::Parser;
use clients::Dialect;
use procs::TetherCmd;
use table::Row;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "target/release/tether-server")]
    server_bin: PathBuf,
    #[arg(long, default_value = "bench/node/broadcast.js")]
    node_script: PathBuf,
    /// Directory holding node_modules/ws.
    #[arg(long, default_value = ".tools/bench/node_modules")]
    ws_modules: PathBuf,
    /// Built burst pages: tether-ws/, leptos-use/, raw-js/.
    #[arg(long, default_value = "target/bench/pages")]
    pages: PathBuf,
    /// The release app (scripts/build.sh's dist/).
    #[arg(long, default_value = "dist")]
    app: PathBuf,
    #[arg(long, default_value = "webdriver.json")]
    webdriver: PathBuf,
    /// Databases live here: on the real disk, so fsync costs what it costs.
    #[arg(long, default_value = "target/bench/tmp")]
    work: PathBuf,
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
    /// Output of `cargo bench -p tether-ws --bench storm`, for its row.
    #[arg(long)]
    storm_sim: Option<PathBuf>,
    /// Sections to run (size, browser, write, scale, storm); all by default.
    /// `chat` runs only the chat app's rows of `browser`.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

impl Args {
    fn runs(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    // The generator's own sockets; children (the servers) inherit it too.
    let nofile = tether_server::fdlimit::raise_to_hard();
    eprintln!("open-files limit: {nofile:?}");
    std::fs::create_dir_all(&args.work).expect("work dir");
    let tether = TetherCmd { bin: args.server_bin.clone(), work: args.work.clone() };
    let mut rows = Vec::new();
    if args.runs("size") {
        size_rows(&args, &mut rows);
    }
    if args.runs("browser") || args.runs("chat") {
        bursts::browser_rows(&args, &tether, &mut rows).await;
    }
    if args.runs("write") {
        write_rows(&tether, &mut rows).await;
    }
    if args.runs("scale") {
        scale_rows(&args, &tether, &mut rows).await;
    }
    let mut storm = serde_json::Value::Null;
    if args.runs("storm") {
        storm = storm_rows(&args, &tether, &mut rows).await;
    }
    let table = table::render(&rows);
    println!("{table}");
    let json = serde_json::json!({
        "date": String::from_utf8_lossy(&std::process::Command::new("date").arg("-u").output().map(|o| o.stdout).unwrap_or_default()).trim(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "rows": rows,
        "storm": storm,
    });
    if let Some(dir) = args.out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&json).expect("json")).expect("write results");
    std::fs::write(args.out.with_extension("md"), table).expect("write table");
    eprintln!("wrote {}", args.out.display());
}

fn size_rows(args: &Args, rows: &mut Vec<Row>) {
    let app = sizes::measure(&args.app);
    let ours = sizes::measure(&args.pages.join("tether-ws"));
    let minimal = sizes::measure(&args.pages.join("minimal"));
    let lu = sizes::measure(&args.pages.join("leptos-use"));
    let kb = |v: Option<(u64, u64, u64)>, i: usize| v.map(|t| [t.0, t.1, t.2][i] as f64 / 1024.0);
    for (i, how) in ["raw", "gzip", "brotli"].into_iter().enumerate() {
        rows.push(Row::new(
            "size",
            format!("app wasm+JS, {how}"),
            "KiB",
            "lower",
            kb(app, i),
            "leptos-use page",
            kb(lu, i),
        ));
    }
    for (i, how) in ["raw", "gzip", "brotli"].into_iter().enumerate() {
        let what = format!("hook minimal example (ws/examples/minimal) wasm+JS, {how}");
        rows.push(Row::new("size", what, "KiB", "lower", kb(minimal, i), "leptos-use page", kb(lu, i)));
    }
    for (i, how) in ["raw", "gzip", "brotli"].into_iter().enumerate() {
        let what = format!("hook bench page (same features + burst mode) wasm+JS, {how}");
        rows.push(Row::new("size", what, "KiB", "lower", kb(ours, i), "leptos-use page", kb(lu, i)));
    }
}

/// Rounds of each write measurement; the medians count.
const WRITE_ROUNDS: usize = 3;

async fn write_rows(tether: &TetherCmd, rows: &mut Vec<Row>) {
    for posters in [1usize, 10, 100] {
        // Group commit and the baseline in turn (each round starting with the
        // other), each on a fresh database: one run each read the ratio at
        // 100 posters anywhere from 9.7x to 11.0x with the same code.
        let (mut ours, mut peer) = (Vec::new(), Vec::new());
        for round in 0..WRITE_ROUNDS {
            for turn in in_turn(round, 2) {
                if turn == 0 {
                    let group = tether.start(&format!("write-group-{posters}"), "127.0.0.1:0", &[]).await;
                    ours.push(posts::posts_per_sec(&group, posters, 4.0).await);
                    group.kill().await;
                } else {
                    let extra = ["--one-fsync-per-post"];
                    let single = tether.start(&format!("write-single-{posters}"), "127.0.0.1:0", &extra).await;
                    peer.push(posts::posts_per_sec(&single, posters, 4.0).await);
                    single.kill().await;
                }
            }
        }
        eprintln!("  {posters} posters: group commit {ours:.0?}/s, one fsync per post {peer:.0?}/s");
        let what = format!("durable posts/s, {posters} concurrent posters");
        rows.push(Row::new("server", what, "posts/s", "higher", median(ours), "one fsync per post", median(peer)));
    }
}

/// The middle value (`None` for none).
fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// The order of `n` contenders in `round`: each round starts one later, so
/// none always runs right after the same other one.
fn in_turn(round: usize, n: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |k| (round + k) % n)
}

/// Posts per side in the fan-out rows: p99 of 200 is the 3rd slowest.
const FANOUT_POSTS: usize = 200;

async fn scale_rows(args: &Args, tether: &TetherCmd, rows: &mut Vec<Row>) {
    let steps = [1_000usize, 10_000];
    let ours = tether.start("idle", "127.0.0.1:0", &[]).await;
    let our_rss = scale::idle_rss(&ours, Dialect::Tether, &steps).await;
    ours.kill().await;
    let node = procs::start_node(&args.node_script, &args.ws_modules).await;
    let node_rss = scale::idle_rss(&node, Dialect::Plain, &steps).await;
    node.kill().await;
    for (i, n) in steps.iter().enumerate() {
        let o = our_rss.get(i).map(|r| r.1);
        let p = node_rss.get(i).map(|r| r.1);
        rows.push(Row::new(
            "server",
            format!("RSS per idle connection, {n} connections"),
            "KiB",
            "lower",
            o,
            "Node ws",
            p,
        ));
    }
    let members = 1_000;
    let ours = tether.start("fanout", "127.0.0.1:0", &[]).await;
    let node = procs::start_node(&args.node_script, &args.ws_modules).await;
    let [our_lat, node_lat] =
        scale::fanout_pair((&ours, Dialect::Tether), (&node, Dialect::Plain), members, FANOUT_POSTS).await;
    ours.kill().await;
    node.kill().await;
    for (p, name) in [(0.5, "p50"), (0.99, "p99")] {
        let what = format!("fan-out to {members} members, post to last receipt {name}");
        let (o, n) = (scale::percentile(&our_lat, p), scale::percentile(&node_lat, p));
        rows.push(Row::new("server", what, "ms", "lower", Some(o), "Node ws", Some(n)));
    }
}

async fn storm_rows(args: &Args, tether: &TetherCmd, rows: &mut Vec<Row>) -> serde_json::Value {
    let ours = storm::run(tether, 2_000, false).await;
    eprintln!("  storm: {} of {} back; per 100 ms: {:?}", ours.back, ours.clients, ours.buckets);
    let peer = storm::run(tether, 2_000, true).await;
    eprintln!("  storm, immediate first retry: {} of {} back; per 100 ms: {:?}", peer.back, peer.clients, peer.buckets);
    let sim = args.storm_sim.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    let (sim_ours, sim_immediate) = storm_sim(&sim);
    let real = format!("{} real clients", ours.clients);
    let naive = "immediate first retry";
    let what = format!("{real}: ms until 99% back");
    rows.push(Row::new("storm", what, "ms", "lower", Some(ours.ms_to_99), naive, Some(peer.ms_to_99)));
    let what = format!("{real}: peak 100 ms bucket / mean");
    rows.push(Row::new("storm", what, "×", "lower", Some(ours.peak_over_mean()), naive, Some(peer.peak_over_mean())));
    let what = "simulated 10,000, down 5 s: peak/mean (full jitter)";
    rows.push(Row::new("storm", what, "×", "lower", sim_ours, naive, sim_immediate));
    serde_json::json!({ "arrivals_per_100ms": ours.buckets, "immediate_first_retry_arrivals_per_100ms": peer.buckets })
}

/// From the simulation's output: peak/mean of "server down for 5 s" and of
/// the immediate-retry comparison (the 2nd and 4th figures).
fn storm_sim(text: &str) -> (Option<f64>, Option<f64>) {
    let figures: Vec<f64> =
        text.lines().filter_map(|l| l.split("peak/mean").nth(1)).filter_map(|v| v.trim().parse().ok()).collect();
    (figures.get(1).copied(), figures.get(3).copied())
}
