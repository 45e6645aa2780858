//! A burst of chat messages at a page showing the room, in headless Chromium
//! against the real server (`POST /test/burst` through testctl): every
//! message arrives once and in order, the list renders a bounded window with
//! the newest last (older rows on scrolling up), and the page keeps running
//! timers while the burst streams in. Prints messages per second and the
//! longest main-thread task for the report; asserts no timing.

#![cfg(target_arch = "wasm32")]

mod common;

use common::dom::*;
use common::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

/// Records, without the app's help: a timer chain (each tick notes the time
/// and the newest seq shown, then schedules the next, until `n` shows), the
/// page's long tasks, and, until `stop()`, how many frames showed the view
/// part empty once the list had first filled it, and the most rows one
/// update put in once that was laid out (before, the list goes by a guess
/// of the rows' height). Rows are counted as they go in; the view is looked
/// at once per animation frame, before the frame's own updates (looking at
/// it after every update would lay the list out each time, which the list
/// avoids).
const PROBE: &str = r#"
const probe = { ticks: [], longest: 0, longtasks: 0, start: performance.now(), most: 0, full: false, measured: false, emptied: 0, on: true };
const list = root.querySelector('[data-testid=message-list]');
probe.rows = new MutationObserver(records => {
  let added = 0;
  for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1 && n.matches('[data-testid=message]')) added++;
  if (probe.measured) probe.most = Math.max(probe.most, added);
});
probe.rows.observe(list, { childList: true });
const look = () => {
  if (!probe.on) return;
  if (list.scrollHeight > list.clientHeight) {
    if (!probe.full) requestAnimationFrame(() => requestAnimationFrame(() => { probe.measured = true; }));
    probe.full = true;
  } else if (probe.full) probe.emptied++;
  requestAnimationFrame(look);
};
requestAnimationFrame(look);
probe.stop = () => { probe.on = false; probe.rows.disconnect(); };
try {
  probe.obs = new PerformanceObserver(l => {
    for (const e of l.getEntries()) { probe.longtasks++; probe.longest = Math.max(probe.longest, e.duration); }
  });
  probe.obs.observe({ type: 'longtask' });
} catch (e) { probe.longest = -1; }
const tick = () => {
  const last = root.querySelector('[data-testid=message-list]').lastElementChild;
  const seq = last ? Number(last.getAttribute('data-seq') || 0) : 0;
  probe.ticks.push([performance.now(), seq]);
  if (seq < n) { setTimeout(tick, 0); } else { probe.end = performance.now(); probe.obs && probe.obs.disconnect(); }
};
setTimeout(tick, 0);
return probe;
"#;

/// The peer, for the printed ratio: a plain JavaScript `onmessage` loop
/// appending one element per chat message, in its own room, same burst.
const RAW: &str = r#"
const peer = { n: 0, longest: 0, longtasks: 0 };
const ul = document.createElement('ul');
document.body.appendChild(ul);
const obs = new PerformanceObserver(l => {
  for (const e of l.getEntries()) { peer.longtasks++; peer.longest = Math.max(peer.longest, e.duration); }
});
try { obs.observe({ type: 'longtask' }); } catch (e) {}
const ws = new WebSocket(url);
ws.onopen = () => {
  ws.send(JSON.stringify({ type: 'hello', nick: 'rawjs' }));
  ws.send(JSON.stringify({ type: 'join', room }));
};
ws.onmessage = (ev) => {
  const m = JSON.parse(ev.data);
  if (m.type === 'joined') peer.joined = true;
  if (m.type !== 'message') return;
  if (peer.n === 0) peer.start = performance.now();
  const li = document.createElement('li');
  li.textContent = m.message.author + ': ' + m.message.body;
  ul.appendChild(li);
  if (++peer.n === n) { peer.end = performance.now(); obs.disconnect(); ws.close(); ul.remove(); }
};
return peer;
"#;

/// What a user's page may hold for a long room: a window, not everything.
const MAX_ROWS: usize = 500;

fn get(o: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(o, &k.into()).unwrap_or(JsValue::UNDEFINED)
}

fn rows(root: &HtmlElement) -> Vec<(u64, String, String)> {
    all(root, "[data-testid=message]")
        .iter()
        .map(|m| {
            let seq = m.get_attribute("data-seq").and_then(|s| s.parse().ok()).unwrap_or(0);
            let body = m.query_selector("[data-testid=message-body]").ok().flatten().and_then(|b| b.text_content());
            (seq, m.get_attribute("data-author").unwrap_or_default(), body.unwrap_or_default())
        })
        .collect()
}

fn newest(root: &HtmlElement) -> u64 {
    q(root, "[data-testid=message-list]")
        .and_then(|l| l.last_element_child())
        .and_then(|m| m.get_attribute("data-seq")?.parse().ok())
        .unwrap_or(0)
}

/// Mounts a reader, bursts `n` messages at it, checks the window; returns the page.
async fn burst(n: u64) -> (HtmlElement, Box<dyn std::any::Any>) {
    let url = ws_url().await;
    let room = unique_room("burst");
    let (a, h) = mount(url, "reader", &room);
    assert!(wait_for(10_000, || state(&a) == "open").await, "connected");
    scrolling_list(&a, 400);

    let probe =
        js_sys::Function::new_with_args("root, n", PROBE).call2(&JsValue::NULL, &a, &JsValue::from_f64(n as f64));
    let probe = probe.expect("probe installed");
    ctl_post(&format!("/burst?room={room}&n={n}")).await;
    assert!(
        wait_for(600_000, || get(&probe, "end").as_f64().is_some()).await,
        "the newest message never showed: newest {}",
        newest(&a)
    );

    // Figures for the report (printed before any assert can stop the test).
    let ticks: Vec<(f64, u64)> = js_sys::Array::from(&get(&probe, "ticks"))
        .iter()
        .map(|t| {
            let t = js_sys::Array::from(&t);
            (t.get(0).as_f64().unwrap_or(0.0), t.get(1).as_f64().unwrap_or(0.0) as u64)
        })
        .collect();
    let first = ticks.iter().find(|t| t.1 > 0).map_or(0.0, |t| t.0);
    let end = get(&probe, "end").as_f64().unwrap_or(0.0);
    let start = get(&probe, "start").as_f64().unwrap_or(0.0);
    let gap = ticks.windows(2).map(|w| w[1].0 - w[0].0).fold(0.0, f64::max);
    let mid = ticks.iter().filter(|t| t.1 > 0 && t.1 < n).count();
    console_log(&format!(
        "burst {n}: {:.0} messages/s from the burst's start ({:.0} ms), {:.0} ms from the first shown; \
         longest task {:.0} ms ({} long tasks); longest gap between timer ticks {gap:.0} ms; {mid} ticks mid-burst",
        n as f64 / ((end - start) / 1000.0),
        end - start,
        end - first,
        get(&probe, "longest").as_f64().unwrap_or(-1.0),
        get(&probe, "longtasks").as_f64().unwrap_or(0.0),
    ));

    // The page kept running while the messages streamed in.
    assert!(mid >= 1, "timers ran only {mid} times while the burst was arriving");
    // A bounded window of the newest, in order, newest last, each once (the
    // newest show at once, the window fills in above over the next frames).
    assert!(wait_for(5_000, || all(&a, "[data-testid=message]").len() >= 150).await, "the window never filled");
    // Each update, the fill-in above included, put in about a view's worth
    // of new rows (what fills the 400 px view, and a row above and below),
    // and no frame showed the view part empty: more rows per update is
    // layout nobody sees, and long tasks. (The burst's rows are all one
    // line: the shortest shown is the shortest the list saw.)
    sleep(300).await;
    js_sys::Function::new_with_args("p", "p.stop()").call1(&JsValue::NULL, &probe).expect("probe stopped");
    assert!(get(&probe, "measured").as_bool() == Some(true), "the list never filled its view");
    let list = q(&a, "[data-testid=message-list]").expect("the message list");
    let row = all(&a, "[data-testid=message]")
        .iter()
        .map(|m| m.get_bounding_client_rect().height())
        .fold(f64::INFINITY, f64::min);
    let fits = ((f64::from(list.client_height()) / row).ceil() as usize + 2).max(8);
    let most = get(&probe, "most").as_f64().unwrap_or(f64::NAN);
    assert!(most <= fits as f64, "one update put in {most} rows; {fits} fill the view ({row} px rows)");
    let emptied = get(&probe, "emptied").as_f64().unwrap_or(f64::NAN);
    assert!(emptied == 0.0, "{emptied} frames showed the view part empty while following the burst");
    let shown = rows(&a);
    assert!((150..=MAX_ROWS).contains(&shown.len()), "{} rows rendered for {n} messages", shown.len());
    let from = n - shown.len() as u64 + 1;
    let expect: Vec<(u64, String, String)> =
        (from..=n).map(|s| (s, "burst".to_owned(), format!("burst {s}"))).collect();
    assert!(shown == expect, "not the newest in order: first {:?}, last {:?}", shown.first(), shown.last());
    assert!(q(&a, "[data-testid=load-older]").is_some(), "the list says there is more above");
    // Nobody scrolled, so the view followed the burst to its end: the newest
    // in view, no "new messages" pill (a list that lost track mid-burst
    // stops at some earlier row and counts the rest as unseen).
    assert!(
        wait_for(2_000, || at_end(&list) && q(&a, "[data-testid=new-messages]").is_none()).await,
        "stopped following mid-burst: scrolled to {} of {} (view {}), pill {:?}",
        list.scroll_top(),
        list.scroll_height(),
        list.client_height(),
        q(&a, "[data-testid=new-messages]").and_then(|p| p.text_content())
    );
    (a, h)
}

fn console_log(s: &str) {
    web_sys::console::log_1(&s.into());
}

#[wasm_bindgen_test]
async fn a_burst_of_3000_arrives_once_in_order_and_older_rows_show_on_scrolling_up() {
    const N: u64 = 3000;
    let (a, h) = burst(N).await;
    // Everything is there: scrolling up shows it all, each message once.
    let list: HtmlElement = q(&a, "[data-testid=message-list]").unwrap().unchecked_into();
    for _ in 0..N {
        let before = all(&a, "[data-testid=message]").len();
        if before == N as usize {
            break;
        }
        user_scrolls_to_top(&list);
        assert!(
            wait_for(5_000, || all(&a, "[data-testid=message]").len() > before).await,
            "scrolling up showed nothing more at {before} (scroll {} of {})",
            list.scroll_top(),
            list.scroll_height()
        );
        // The view stays on the row the user was reading, below the new ones.
        assert!(wait_for(2_000, || list.scroll_top() > 0).await, "the view jumped to the top at {before}");
    }
    let seqs: Vec<u64> = rows(&a).into_iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=N).collect::<Vec<_>>(), "every message exactly once, oldest first");
    assert!(wait_for(2_000, || q(&a, "[data-testid=load-older]").is_none()).await, "nothing older is left");
    drop(h);
    a.remove();
}

/// The same burst at a plain JavaScript page, printed for comparison.
async fn raw_js(n: u64) {
    let url = ws_url().await;
    let room = unique_room("rawjs");
    let args = "url, room, n";
    let peer = js_sys::Function::new_with_args(args, RAW)
        .call3(&JsValue::NULL, &url.into(), &room.clone().into(), &JsValue::from_f64(n as f64))
        .expect("peer started");
    assert!(wait_for(10_000, || get(&peer, "joined").is_truthy()).await, "raw peer joined");
    let t0 = web_sys::window().unwrap().performance().unwrap().now();
    ctl_post(&format!("/burst?room={room}&n={n}")).await;
    assert!(wait_for(600_000, || get(&peer, "end").as_f64().is_some()).await, "raw peer got all");
    let (start, end) = (get(&peer, "start").as_f64().unwrap_or(0.0), get(&peer, "end").as_f64().unwrap_or(0.0));
    console_log(&format!(
        "raw JS peer, burst {n}: {:.0} messages/s from the burst's start ({:.0} ms), {:.0} ms from the first; \
         longest task {:.0} ms ({} long tasks)",
        n as f64 / ((end - t0) / 1000.0),
        end - t0,
        end - start,
        get(&peer, "longest").as_f64().unwrap_or(-1.0),
        get(&peer, "longtasks").as_f64().unwrap_or(0.0),
    ));
}

#[wasm_bindgen_test]
async fn a_burst_of_10000_keeps_the_page_responsive_and_the_window_bounded() {
    raw_js(10_000).await;
    let (a, h) = burst(10_000).await;
    drop(h);
    a.remove();
}

/// A hidden tab runs no animation frames (here `requestAnimationFrame` is
/// replaced by one that never calls back): each batch then goes out by its
/// timer, in order, while the inbox keeps one frame request outstanding, not
/// one per batch, and drops each batch's timer (clears it) rather than
/// forgetting it, so nothing piles up in a long-hidden busy tab.
#[wasm_bindgen_test]
async fn batches_without_animation_frames_keep_one_frame_request_and_drop_their_timers() {
    use std::cell::RefCell;
    use std::rc::Rc;
    use tether::chat::inbox::Batcher;
    let patch = js_sys::Function::new_no_args(
        "const w = window;
         const p = { frames: 0, cleared: 0, ours: new Set(), raf: w.requestAnimationFrame, clear: w.clearTimeout,
                     set: w.setTimeout };
         w.__inbox = p;
         w.requestAnimationFrame = () => { p.frames++; return 0; };
         // The inbox's timers are the ones of 16 and 100 ms; count clears of those.
         w.setTimeout = (f, ms, ...a) => { const id = p.set.call(w, f, ms, ...a);
                                           if (ms === 16 || ms === 100) p.ours.add(id); return id; };
         w.clearTimeout = (id) => { if (p.ours.has(id)) p.cleared++; return p.clear.call(w, id); };",
    );
    let restore = js_sys::Function::new_no_args(
        "const p = window.__inbox;
         window.requestAnimationFrame = p.raf; window.clearTimeout = p.clear; window.setTimeout = p.set;",
    );
    patch.call0(&JsValue::NULL).unwrap();
    let flushed = Rc::new(RefCell::new(Vec::new()));
    let sink = flushed.clone();
    let batcher = Batcher::new(move |batch: Vec<u32>| sink.borrow_mut().push(batch));
    for i in 0..5 {
        batcher.push(i);
        sleep(250).await;
    }
    let probe = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__inbox".into()).unwrap();
    let (frames, cleared) = (get(&probe, "frames").as_f64(), get(&probe, "cleared").as_f64());
    restore.call0(&JsValue::NULL).unwrap();
    drop(batcher);
    assert_eq!(
        *flushed.borrow(),
        vec![vec![0], vec![1], vec![2], vec![3], vec![4]],
        "each batch went out by its timer"
    );
    assert_eq!(frames, Some(1.0), "one animation frame request outstanding, not one per batch");
    assert!(cleared.unwrap_or(0.0) >= 4.0, "each batch's timer is dropped (cleared), not forgotten: {cleared:?}");
}
