//! The message list: it follows new messages at the bottom, shows a pill
//! when scrolled up, and keeps following through early scroll events.

use super::{click, mount_sized, mount_sized_with};
use crate::common::dom::*;
use crate::common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlIFrameElement};

fn list(root: &HtmlElement) -> web_sys::Element {
    q(root, "[data-testid=message-list]").unwrap()
}

/// A reader (in an 800×400 frame, with the app's stylesheet) and a writer in
/// one room, after 40 messages: the reader's list overflows and follows.
struct Following {
    reader: HtmlElement,
    frame: HtmlIFrameElement,
    h: Box<dyn std::any::Any>,
    writer: HtmlElement,
    hw: Box<dyn std::any::Any>,
    list: web_sys::Element,
}

async fn following_40(prefix: &str) -> Following {
    let url = ws_url().await;
    let room = unique_room(prefix);
    let (reader, frame, h) = mount_sized(url.clone(), "rea", &room, 800, 400).await;
    let (writer, hw) = mount(url, "wri", &room);
    assert!(wait_for(5_000, || state(&reader) == "open" && state(&writer) == "open").await);
    for i in 0..40 {
        type_and_enter(&writer, "message-input", &format!("line {i}"));
    }
    assert!(wait_for(5_000, || messages(&reader).len() == 40).await);
    let list = list(&reader);
    assert!(list.scroll_height() > list.client_height(), "the list overflows");
    assert!(wait_for(1_000, || at_end(&list)).await, "at the bottom, new messages stay in view");
    Following { reader, frame, h, writer, hw, list }
}

#[wasm_bindgen_test]
async fn the_list_follows_new_messages_at_the_bottom_and_shows_a_pill_when_scrolled_up() {
    let Following { reader, frame: _frame, h, writer, hw, list: l } = following_40("pill").await;
    assert!(q(&reader, "[data-testid=new-messages]").is_none());

    user_scrolls_to_top(&l);
    sleep(50).await;
    for i in 0..3 {
        type_and_enter(&writer, "message-input", &format!("more {i}"));
    }
    assert!(wait_for(5_000, || messages(&reader).len() == 43).await);
    let pill = || q(&reader, "[data-testid=new-messages]").and_then(|p| p.text_content());
    assert!(wait_for(1_000, || pill().as_deref() == Some("3 new messages")).await, "{:?}", pill());
    assert_eq!(l.scroll_top(), 0, "scrolled up: the view is not yanked");
    click(&reader, "[data-testid=new-messages]");
    assert!(wait_for(1_000, || at_end(&l) && pill().is_none()).await);
    drop(h);
    drop(hw);
}

/// Rows can go in from a timer, between frames, while the browser still
/// owes the scroll event of the list's last move to the end: that event then
/// finds the view above the new rows without anyone having scrolled. The
/// list must keep following (it used to stop and count them as unseen).
#[wasm_bindgen_test]
async fn a_scroll_event_before_new_rows_are_laid_out_does_not_stop_the_following() {
    let Following { reader, frame, h, writer, hw, list: l } = following_40("follow").await;
    // A scroll event right after each insertion, before any layout; with
    // `user` set, the user's wheel moving the view to the top first.
    let probe = js_sys::Function::new_with_args(
        "list",
        "const p = { n: 0, user: false };
         p.mo = new MutationObserver(() => {
           p.n++;
           if (p.user) { list.dispatchEvent(new WheelEvent('wheel', { deltaY: -120 })); list.scrollTop = 0; }
           list.dispatchEvent(new Event('scroll'));
         });
         p.mo.observe(list, { childList: true });
         p.stop = () => p.mo.disconnect();
         return p;",
    )
    .call1(&wasm_bindgen::JsValue::NULL, &l)
    .expect("probe installed");
    // Two lines each: a row well over the list's slack for "at the bottom".
    for i in 0..3 {
        type_and_enter(&writer, "message-input", &format!("more {i}\nsecond line"));
        assert!(wait_for(5_000, || messages(&reader).len() == 41 + i).await);
    }
    let got = |k: &str| js_sys::Reflect::get(&probe, &k.into()).unwrap();
    assert!(got("n").as_f64().unwrap_or(0.0) >= 3.0, "the scroll events were sent");
    let pill = || q(&reader, "[data-testid=new-messages]").and_then(|p| p.text_content());
    assert!(
        wait_for(1_000, || at_end(&l) && pill().is_none()).await,
        "stopped following: scrolled to {} of {} (view {}), pill {:?}",
        l.scroll_top(),
        l.scroll_height(),
        l.client_height(),
        pill()
    );
    // The user's own scroll at that moment is theirs: the view stays up.
    js_sys::Reflect::set(&probe, &"user".into(), &true.into()).unwrap();
    type_and_enter(&writer, "message-input", "up\nsecond line");
    assert!(wait_for(5_000, || messages(&reader).len() == 44).await);
    got("stop").unchecked_into::<js_sys::Function>().call0(&wasm_bindgen::JsValue::NULL).expect("stopped");
    // (The pill may not count it: it went in while the list still followed.)
    sleep(300).await;
    assert!(
        l.scroll_top() < 50 && !at_end(&l),
        "pulled back down: scrolled to {} of {}",
        l.scroll_top(),
        l.scroll_height()
    );
    drop(h);
    drop(hw);
    frame.remove();
}

/// A room opened again shows its newest message, also when all its rows go
/// in at once (more than a view, fewer than the list puts in per update):
/// the view goes to the end after those rows are in, not before.
#[wasm_bindgen_test]
async fn a_room_opened_again_shows_its_newest_message() {
    let url = ws_url().await;
    let (busy, quiet) = (unique_room("busy"), unique_room("quiet"));
    let (reader, _frame, h) = mount_sized(url.clone(), "rea", &busy, 800, 400).await;
    let (writer, hw) = mount(url, "wri", &busy);
    assert!(wait_for(5_000, || state(&reader) == "open" && state(&writer) == "open").await);
    type_and_enter(&writer, "message-input", "line 0");
    assert!(wait_for(5_000, || messages(&reader).len() == 1).await);
    let l = list(&reader);
    let row = q(&reader, "[data-testid=message]").unwrap().get_bounding_client_rect().height();
    // Two rows past the view: it overflows, yet the list (which puts in what
    // fills the view and a row each side) shows them all in one update.
    let n = (f64::from(l.client_height()) / row).floor() as usize + 2;
    for i in 1..n {
        type_and_enter(&writer, "message-input", &format!("line {i}"));
    }
    assert!(wait_for(5_000, || messages(&reader).len() == n).await);
    type_and_enter(&reader, "room-input", &quiet);
    assert!(wait_for(5_000, || messages(&reader).is_empty()).await, "in the quiet room");
    click(&reader, &format!("[data-testid=room-link][data-room='{busy}']"));
    assert!(wait_for(5_000, || messages(&reader).len() == n).await, "back in the busy room");
    let l = list(&reader);
    assert!(l.scroll_height() > l.client_height(), "{n} rows overflow the view");
    assert!(
        wait_for(1_000, || at_end(&l)).await,
        "opened at {} of {} (view {}): the newest is out of view",
        l.scroll_top(),
        l.scroll_height(),
        l.client_height()
    );
    drop(h);
    drop(hw);
}

/// One's own failed messages in the test below: more than the list puts in
/// per update (a view's worth, 9 rows in its frame).
const MINE: usize = 12;

/// One's own messages that failed stay last in the log, and others' new
/// messages go in above them: the list's last row does not change. At the
/// bottom the view must still follow them, and scrolled up the pill must
/// count them (it used to do neither). More of them than the list puts in
/// per update must not crowd the others' messages out.
#[wasm_bindgen_test]
async fn new_messages_above_ones_own_failed_messages_are_followed_and_counted() {
    let url = ws_url().await;
    let room = unique_room("stuck");
    let (reader, _frame, h) = mount_sized_with(url.clone(), "rea", &room, 800, 400, Some(1_000.0)).await;
    let (writer, hw) = mount(url, "wri", &room);
    assert!(wait_for(5_000, || state(&reader) == "open" && state(&writer) == "open").await);
    ctl_post("/kill").await;
    let down = wait_for(5_000, || state(&reader) == "reconnecting").await;
    for i in 0..MINE {
        type_and_enter(&reader, "message-input", &format!("mine {i}"));
    }
    let failed_count = |r: &HtmlElement| messages(r).iter().filter(|m| m.2 == "failed").count();
    let last = |r: &HtmlElement| messages(r).last().map(|m| (m.1.clone(), m.2.clone()));
    let failed = wait_for(4_000, || failed_count(&reader) == MINE).await;
    // Started again before asserting: the server is shared with later tests.
    ctl_post("/start").await;
    assert!(down && failed, "down: {down}, the message failed: {failed}: {:?}", last(&reader));
    assert!(wait_for(15_000, || state(&reader) == "open" && state(&writer) == "open").await);
    for i in 0..40 {
        type_and_enter(&writer, "message-input", &format!("line {i}"));
    }
    assert!(wait_for(5_000, || messages(&reader).len() == 40 + MINE).await, "{}", messages(&reader).len());
    let mine_last = Some((format!("mine {}", MINE - 1), "failed".to_owned()));
    assert_eq!(last(&reader), mine_last, "the failed messages stay last");
    let l = list(&reader);
    assert!(l.scroll_height() > l.client_height(), "the list overflows");
    assert!(wait_for(1_000, || at_end(&l)).await, "at the bottom");

    let probe = rows_probe(&l);
    for i in 0..3 {
        type_and_enter(&writer, "message-input", &format!("more {i}"));
    }
    assert!(wait_for(5_000, || messages(&reader).len() == 43 + MINE).await, "{}", messages(&reader).len());
    sleep(100).await;
    // Only the new rows went in: no row was taken out, neither one's own
    // (put back, a screen reader would announce it again) nor the oldest.
    assert_eq!(probe_stop(&probe, "removed"), 0.0, "rows were taken out of the list");
    assert!(
        wait_for(1_000, || at_end(&l)).await,
        "at {} of {} (view {}): the new messages above one's own went out of view",
        l.scroll_top(),
        l.scroll_height(),
        l.client_height()
    );

    user_scrolls_to_top(&l);
    sleep(50).await;
    for i in 0..3 {
        type_and_enter(&writer, "message-input", &format!("later {i}"));
    }
    assert!(wait_for(5_000, || messages(&reader).len() == 46 + MINE).await);
    let pill = || q(&reader, "[data-testid=new-messages]").and_then(|p| p.text_content());
    assert!(wait_for(1_000, || pill().as_deref() == Some("3 new messages")).await, "{:?}", pill());
    assert_eq!(l.scroll_top(), 0, "scrolled up: the view is not yanked");
    drop(h);
    drop(hw);
}

/// Counts, from now until `stop()`, the most message rows one update put
/// into the list (the rows one synchronous update puts in reach one
/// MutationObserver callback) and the rows taken out.
const ROWS: &str = r#"
const probe = { most: 0, removed: 0 };
const row = n => n.nodeType === 1 && n.matches('[data-testid=message]');
probe.obs = new MutationObserver(records => {
  let added = 0;
  for (const r of records) {
    for (const n of r.addedNodes) if (row(n)) added++;
    for (const n of r.removedNodes) if (row(n)) probe.removed++;
  }
  probe.most = Math.max(probe.most, added);
});
probe.obs.observe(list, { childList: true });
probe.stop = () => probe.obs.disconnect();
return probe;
"#;

/// A room left while scrolled up had its window grown (here to 300 rows):
/// the next room opens with a view's worth of rows, then fills in above,
/// instead of building that many rows at once and cutting them down.
#[wasm_bindgen_test]
async fn a_room_opened_after_reading_up_in_another_builds_a_view_first() {
    let url = ws_url().await;
    let (long, other) = (unique_room("long"), unique_room("other"));
    let (reader, _frame, h) = mount_sized(url, "rea", &other, 800, 400).await;
    assert!(wait_for(5_000, || state(&reader) == "open").await);
    ctl_post(&format!("/burst?room={other}&n=400")).await;
    assert!(wait_for(10_000, || messages(&reader).len() >= 150).await, "the other room shows its window");
    type_and_enter(&reader, "room-input", &long);
    assert!(wait_for(5_000, || messages(&reader).is_empty()).await, "in the long room");
    ctl_post(&format!("/burst?room={long}&n=400")).await;
    assert!(wait_for(10_000, || messages(&reader).len() == 200).await, "the long room shows its window");
    let l = list(&reader);
    user_scrolls_to_top(&l);
    assert!(wait_for(5_000, || messages(&reader).len() == 300).await, "older rows on reading up");

    let probe = rows_probe(&l);
    // The wheel turned up just before: the user's input in the room left
    // must not stop the next one following.
    js_sys::Function::new_with_args("list", "list.dispatchEvent(new WheelEvent('wheel', { deltaY: -100 }))")
        .call1(&wasm_bindgen::JsValue::NULL, &l)
        .expect("wheel");
    click(&reader, &format!("[data-testid=room-link][data-room='{other}']"));
    assert!(wait_for(5_000, || messages(&reader).len() == 200).await, "back in the other room, its window");
    assert!(
        wait_for(1_000, || at_end(&l)).await,
        "opened at {} of {} (view {}), {} rows: the newest is out of view",
        l.scroll_top(),
        l.scroll_height(),
        l.client_height(),
        messages(&reader).len()
    );
    let most = probe_stop(&probe, "most");
    let row = q(&reader, "[data-testid=message]").unwrap().get_bounding_client_rect().height();
    let fits = ((f64::from(l.client_height()) / row).ceil() as usize + 2).max(8);
    assert!(most <= fits as f64, "one update put in {most} rows; {fits} fill the view ({row} px rows)");
    drop(h);
}

fn rows_probe(list: &web_sys::Element) -> wasm_bindgen::JsValue {
    js_sys::Function::new_with_args("list", ROWS).call1(&wasm_bindgen::JsValue::NULL, list).expect("probe installed")
}

/// Stops `probe` and reads its figure `what`.
fn probe_stop(probe: &wasm_bindgen::JsValue, what: &str) -> f64 {
    js_sys::Function::new_with_args("p", "p.stop()").call1(&wasm_bindgen::JsValue::NULL, probe).expect("stopped");
    js_sys::Reflect::get(probe, &what.into()).ok().and_then(|v| v.as_f64()).unwrap_or(f64::NAN)
}
