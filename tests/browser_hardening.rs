//! The app's side of hardening, in headless Chromium against the real
//! server: older history loads at the top of the list, a rate-limited
//! message says when it goes out (and does), and refusals show next to the
//! field they concern.

#![cfg(target_arch = "wasm32")]

mod common;

use common::client::client;
use common::dom::*;
use common::*;
use leptos::prelude::GetUntracked;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

fn seqs(root: &HtmlElement) -> Vec<u64> {
    all(root, "[data-testid=message]").iter().filter_map(|m| m.get_attribute("data-seq")?.parse().ok()).collect()
}

fn error_texts(root: &HtmlElement) -> Vec<String> {
    all(root, "[data-testid=message-error]").iter().filter_map(|e| e.text_content()).collect()
}

/// Two writers (each within its post burst) fill `room` with `total`
/// messages big enough that a page of history holds only some of them.
async fn fill_with_big_messages(url: &str, room: &str, total: u64) {
    let writers = [client(url, "w1", room), client(url, "w2", room)];
    for w in &writers {
        w.wait_open().await;
    }
    for i in 0..total {
        let w = &writers[(i % 2) as usize];
        let id = format!("{room}-{i}"); // ids are unique across rooms
        w.post(room, &id, &format!("{i} {}", "x".repeat(3990))).unwrap();
        // Keep the two writers' order deterministic.
        let acked = wait_for(3_000, || w.acked().iter().any(|(acked_id, _)| *acked_id == id)).await;
        assert!(
            acked,
            "post {i} not acked: {:?}, {:?}, last {:?}",
            w.state(),
            w.ws.error.get_untracked(),
            w.inbox.borrow().last()
        );
    }
}

/// The row of message `seq` is at least partly inside the list's viewport.
fn on_screen(root: &HtmlElement, list: &HtmlElement, seq: u64) -> bool {
    let Some(row) = q(root, &format!("[data-testid=message][data-seq='{seq}']")) else { return false };
    let (r, l) = (row.get_bounding_client_rect(), list.get_bounding_client_rect());
    r.bottom() > l.top() && r.top() < l.bottom()
}

/// One more message arrives in `room` (after `last`): the view stays on
/// `seq`'s row, and the pill counts the newcomer.
async fn next_message_keeps_the_view(a: &HtmlElement, list: &HtmlElement, room: &str, last: u64, seq: u64) {
    ctl_post(&format!("/burst?room={room}&n=1")).await;
    assert!(wait_for(5_000, || seqs(a).last() == Some(&(last + 1))).await, "the next message arrives");
    sleep(300).await;
    assert!(on_screen(a, list, seq), "the view stays on the older rows");
    let pill = q(a, "[data-testid=new-messages]").and_then(|p| p.text_content());
    assert_eq!(pill.as_deref(), Some("1 new message"));
}

#[wasm_bindgen_test]
async fn scrolling_to_the_top_loads_older_messages_until_the_start() {
    const TOTAL: u64 = 40;
    let url = ws_url().await;
    let room = unique_room("older");
    fill_with_big_messages(&url, &room, TOTAL).await;
    let (a, h) = mount(url, "reader", &room);
    assert!(wait_for(5_000, || !seqs(&a).is_empty()).await, "the newest page shows");
    let first = seqs(&a);
    assert_eq!(first.last(), Some(&TOTAL));
    assert!(first.len() < TOTAL as usize, "one page, not everything: {first:?}");
    assert!(q(&a, "[data-testid=load-older]").is_some(), "the list says there is more");
    let list = scrolling_list(&a, 200);
    for _ in 0..TOTAL {
        if seqs(&a).len() == TOTAL as usize {
            break;
        }
        let before = seqs(&a).len();
        // The user scrolls to the top of the list.
        user_scrolls_to_top(&list);
        assert!(wait_for(3_000, || seqs(&a).len() > before).await, "scrolling up loaded nothing at {before}");
        // The view stays where the user was reading, below the new rows.
        assert!(wait_for(1_000, || list.scroll_top() > 0).await, "the view jumped to the top of the new page");
    }
    assert_eq!(seqs(&a), (1..=TOTAL).collect::<Vec<_>>(), "every message once, oldest first");
    assert!(wait_for(1_000, || q(&a, "[data-testid=load-older]").is_none()).await, "nothing older is left");
    drop(h);
}

#[wasm_bindgen_test]
async fn rate_limited_messages_say_when_they_go_out_and_then_do() {
    const N: usize = 45;
    let url = ws_url().await;
    let room = unique_room("fast");
    let (a, h) = mount(url, "typist", &room);
    assert!(wait_for(5_000, || state(&a) == "open").await);
    for i in 0..N {
        type_and_enter(&a, "message-input", &format!("quick {i}"));
    }
    // Past the burst the server refuses; the rows say so and when they retry.
    assert!(
        wait_for(3_000, || error_texts(&a).iter().any(|t| t.contains("retry in") && t.contains("sending again"))).await,
        "{:?}",
        error_texts(&a)
    );
    let waiting = all(&a, "[data-testid=message]")
        .into_iter()
        .find(|m| m.query_selector("[data-testid=message-error]").ok().flatten().is_some())
        .expect("a waiting row");
    assert_eq!(waiting.get_attribute("data-status").as_deref(), Some("queued"));
    // They go out by themselves at the server's pace, later ones queued
    // behind them: all acked, in the order typed.
    assert!(
        wait_for(20_000, || messages(&a).len() == N && messages(&a).iter().all(|m| m.2 == "acked")).await,
        "{:?}",
        messages(&a)
    );
    assert!(error_texts(&a).is_empty(), "no refusal left once sent: {:?}", error_texts(&a));
    let bodies: Vec<String> = messages(&a).into_iter().map(|m| m.1).collect();
    let typed: Vec<String> = (0..N).map(|i| format!("quick {i}")).collect();
    assert_eq!(bodies, typed, "each message exactly once, stored in the order typed");
    drop(h);
}

#[wasm_bindgen_test]
async fn refusals_show_next_to_the_field_they_concern() {
    let url = ws_url().await;
    let room = unique_room("refuse");
    let (a, h) = mount(url, "carol", &room);
    assert!(wait_for(5_000, || state(&a) == "open").await);
    // A control character: refused by the message box, with the reason.
    type_and_enter(&a, "message-input", "ring \u{7}");
    assert!(
        wait_for(500, || q(&a, ".composer .error").unwrap().text_content().unwrap().contains("control character"))
            .await
    );
    assert!(messages(&a).is_empty(), "nothing was sent");
    // Switching rooms faster than allowed: the room box says why.
    for i in 0..25 {
        type_and_enter(&a, "room-input", &unique_room(&format!("hop{i}")));
    }
    let room_error = || q(&a, "[data-testid=room-error]").and_then(|e| e.text_content()).unwrap_or_default();
    assert!(
        wait_for(3_000, || room_error().contains("retry in") || room_error().contains("cannot create room")).await,
        "{:?}",
        room_error()
    );
    drop(h);
}

/// "Load older messages" pressed while following the newest: the older rows
/// show, the view moves up to them, and they stay when the next message
/// arrives (which shows the pill instead of pulling the view back down).
#[wasm_bindgen_test]
async fn load_older_pressed_at_the_bottom_shows_them_and_the_next_message_keeps_them() {
    const N: u64 = 300;
    let url = ws_url().await;
    let room = unique_room("olderbtn");
    let (a, h) = mount(url, "reader", &room);
    assert!(wait_for(10_000, || state(&a) == "open").await, "connected");
    let list = scrolling_list(&a, 300);
    ctl_post(&format!("/burst?room={room}&n={N}")).await;
    // A long room: the newest 200 (the list's window), following them.
    let window = || seqs(&a).len() == 200 && seqs(&a).last() == Some(&N);
    assert!(wait_for(10_000, window).await, "the newest 200 show: {} rows", seqs(&a).len());
    assert!(wait_for(2_000, || at_end(&list)).await, "following the newest");
    // The scroll events of getting there go first (a person's click comes
    // frames after them).
    sleep(100).await;

    q(&a, "[data-testid=load-older]").expect("more above").unchecked_into::<HtmlElement>().click();
    assert!(wait_for(2_000, || seqs(&a).len() > 200).await, "older rows show");
    let shown = seqs(&a).len();
    assert_eq!(seqs(&a), (N + 1 - shown as u64..=N).collect::<Vec<_>>(), "in order, each once");
    assert!(wait_for(2_000, || on_screen(&a, &list, N - 200)).await, "the view moved up to the older rows");

    next_message_keeps_the_view(&a, &list, &room, N, N - 200).await;
    assert_eq!(seqs(&a).len(), shown + 1, "the older rows stay after the next message");
    drop(h);
    a.remove();
}

/// The same with the page coming from the server: a room joined with more
/// history than a page, "Load older messages" pressed at the bottom.
#[wasm_bindgen_test]
async fn load_older_from_the_server_at_the_bottom_shows_that_page_and_keeps_it() {
    const TOTAL: u64 = 40;
    let url = ws_url().await;
    let room = unique_room("olderpage");
    fill_with_big_messages(&url, &room, TOTAL).await;
    let (a, h) = mount(url, "reader", &room);
    assert!(wait_for(5_000, || seqs(&a).last() == Some(&TOTAL)).await, "the newest page shows");
    let list = scrolling_list(&a, 200);
    sleep(100).await;
    list.set_scroll_top(list.scroll_height());
    assert!(wait_for(2_000, || at_end(&list)).await, "following the newest");
    // The scroll events of getting there go first (a person's click comes
    // frames after them).
    sleep(100).await;
    let first = seqs(&a);
    assert!(first.len() < TOTAL as usize, "one page, not everything: {first:?}");
    let oldest = first[0];

    q(&a, "[data-testid=load-older]").expect("more above").unchecked_into::<HtmlElement>().click();
    assert!(wait_for(3_000, || seqs(&a).first().is_some_and(|s| *s < oldest)).await, "the page before arrives");
    let shown = seqs(&a);
    assert_eq!(shown, (shown[0]..=TOTAL).collect::<Vec<_>>(), "in order, each once");
    assert!(wait_for(2_000, || on_screen(&a, &list, oldest - 1)).await, "the view moved up to the page");

    next_message_keeps_the_view(&a, &list, &room, TOTAL, oldest - 1).await;
    assert_eq!(seqs(&a)[0], shown[0], "the page stays after the next message");
    drop(h);
    a.remove();
}
