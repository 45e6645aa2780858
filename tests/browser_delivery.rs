//! Delivery guarantees through real faults, in headless Chromium against the
//! real server: SIGKILLed restarts, dropped connections, reloads (the chat
//! unmounted and mounted afresh, so only localStorage carries over), lost
//! history. Nothing typed is lost, nothing shows twice, order holds.

#![cfg(target_arch = "wasm32")]

mod common;

use common::dom::*;
use common::*;
use tether::chat::persist;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

async fn reset() {
    ctl_post("/start").await;
    ctl_post("/stall-pongs?on=false").await;
    clear_outbox();
}

fn storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

fn clear_outbox() {
    storage().remove_item(persist::KEY).unwrap();
}

fn stored_outbox() -> Vec<persist::Pending> {
    storage().get_item(persist::KEY).unwrap().map(|t| persist::decode(&t).unwrap()).unwrap_or_default()
}

fn bodies(root: &HtmlElement) -> Vec<String> {
    messages(root).into_iter().map(|m| m.1).collect()
}

fn all_own_acked(root: &HtmlElement, me: &str) -> bool {
    messages(root).iter().filter(|m| m.0 == me).all(|m| m.2 == "acked")
}

#[wasm_bindgen_test]
async fn soak_kills_drops_and_reloads_lose_nothing_and_duplicate_nothing() {
    reset().await;
    let url = ws_url().await;
    let room = unique_room("soak");
    let (mut a, mut ha) = mount(url.clone(), "ann", &room);
    let (b, hb) = mount(url.clone(), "bob", &room);
    assert!(wait_for(5_000, || state(&a) == "open" && state(&b) == "open").await);
    let (mut restarts, mut drops, mut reloads) = (0, 0, 0);
    let mut sent: Vec<(String, String)> = Vec::new();
    for i in 0..60 {
        for (who, root) in [("ann", &a), ("bob", &b)] {
            let body = format!("{who} {i:02}");
            type_and_enter(root, "message-input", &body);
            sent.push((who.into(), body));
        }
        sleep(40).await;
        match i {
            10 | 30 | 50 => {
                ctl_post("/kill").await;
                sleep(300).await; // typing continues while the server is down
                restarts += 1;
            }
            12 | 32 | 52 => {
                ctl_post("/start").await;
            }
            20 => {
                ctl_post("/abort-all").await; // TCP reset, no close frame: 1006
                drops += 1;
            }
            40 => {
                ctl_post("/drop-all?code=1001").await;
                drops += 1;
            }
            25 | 45 => {
                // Reload: everything in memory is gone; only storage stays.
                drop(ha);
                a.remove();
                (a, ha) = mount(url.clone(), "ann", &room);
                reloads += 1;
            }
            _ => {}
        }
    }
    let settled = wait_for(60_000, || {
        all_own_acked(&a, "ann")
            && all_own_acked(&b, "bob")
            && messages(&a).len() >= sent.len()
            && messages(&b).len() >= sent.len()
    })
    .await;

    let seen_a = messages(&a);
    let seen_b = messages(&b);
    let count = |seen: &[(String, String, String)], m: &(String, String)| {
        seen.iter().filter(|s| s.0 == m.0 && s.1 == m.1).count()
    };
    let lost_list: Vec<&(String, String)> =
        sent.iter().filter(|m| count(&seen_a, m) == 0 || count(&seen_b, m) == 0).collect();
    let lost = lost_list.len();
    let duplicated =
        sent.iter().map(|m| count(&seen_a, m).saturating_sub(1) + count(&seen_b, m).saturating_sub(1)).sum::<usize>();
    // Out of order: a user's message shown before one they typed earlier.
    let out_of_order = ["ann", "bob"]
        .iter()
        .map(|who| {
            let mine: Vec<&String> = seen_a.iter().filter(|s| s.0 == *who).map(|s| &s.1).collect();
            mine.windows(2).filter(|w| w[0] > w[1]).count()
        })
        .sum::<usize>();
    let unacked = seen_a.iter().filter(|m| m.0 == "ann" && m.2 != "acked").count()
        + seen_b.iter().filter(|m| m.0 == "bob" && m.2 != "acked").count();
    wasm_bindgen_test::console_log!(
        "SOAK: sent {} lost {lost} duplicated {duplicated} out_of_order {out_of_order} unacked {unacked} restarts {restarts} drops {drops} reloads {reloads}",
        sent.len()
    );
    assert!(lost == 0, "lost: {lost_list:?}");
    assert!(
        settled,
        "did not settle: {} / {} rows, a: {:?}",
        seen_a.len(),
        seen_b.len(),
        seen_a.iter().filter(|m| m.2 != "acked" && m.2 != "delivered").collect::<Vec<_>>()
    );
    if out_of_order > 0 {
        let seqs: Vec<(String, Option<String>)> = all(&a, "[data-testid=message]")
            .iter()
            .map(|r| (r.text_content().unwrap_or_default(), r.get_attribute("data-seq")))
            .collect();
        wasm_bindgen_test::console_log!("SOAK order as shown in a: {seqs:?}");
    }
    assert_eq!((lost, duplicated, out_of_order, unacked), (0, 0, 0, 0));
    let order_a: Vec<_> = seen_a.iter().map(|m| (&m.0, &m.1)).collect();
    let order_b: Vec<_> = seen_b.iter().map(|m| (&m.0, &m.1)).collect();
    assert_eq!(order_a, order_b, "both clients show the same order");
    assert!(stored_outbox().is_empty(), "nothing left pending");
    drop(ha);
    drop(hb);
}

#[wasm_bindgen_test]
async fn a_chat_mounted_again_over_its_open_connection_resends_pending_posts_before_new_ones() {
    reset().await;
    let url = ws_url().await;
    let room = unique_room("remount");
    let (a, ha) = mount(url.clone(), "ann", &room);
    assert!(wait_for(5_000, || state(&a) == "open").await);
    // As in a reload whose old chat is not cleaned up yet: the new one
    // shares its open connection and adopts a post that never reached the server.
    let pending = persist::Pending {
        room: room.clone(),
        id: tether::chat::ids::new_id(),
        author: "ann".into(),
        body: "from before".into(),
        created_ms: js_sys::Date::now(),
        failed: None,
    };
    persist::save(&[pending]);
    let (b, hb) = mount(url, "ann", &room);
    assert!(wait_for(1_000, || state(&b) == "open").await);
    type_and_enter(&b, "message-input", "typed after");
    assert!(wait_for(5_000, || all_own_acked(&b, "ann") && messages(&b).len() == 2).await, "{:?}", messages(&b));
    // The server's order (its seqs), not just the order shown.
    let seqs: Vec<u64> =
        all(&b, "[data-testid=message]").iter().filter_map(|r| r.get_attribute("data-seq")?.parse().ok()).collect();
    assert_eq!(bodies(&b), ["from before", "typed after"]);
    assert!(seqs.len() == 2 && seqs[0] < seqs[1], "stored in the order typed: {seqs:?}");
    drop((ha, hb));
}

#[wasm_bindgen_test]
async fn messages_queued_before_a_reload_are_delivered_after_it_once() {
    reset().await;
    let url = ws_url().await;
    let room = unique_room("reload");
    let (a, ha) = mount(url.clone(), "rae", &room);
    // Another chat sharing the same storage (as another tab would).
    let (b, hb) = mount(url.clone(), "sam", &room);
    assert!(wait_for(5_000, || state(&a) == "open" && state(&b) == "open").await);
    ctl_post("/kill").await;
    assert!(wait_for(5_000, || state(&a) == "reconnecting").await);
    for i in 1..=3 {
        type_and_enter(&a, "message-input", &format!("queued {i}"));
    }
    type_and_enter(&b, "message-input", "from sam");
    assert!(
        wait_for(1_000, || stored_outbox().len() == 4).await,
        "both chats' pending messages persisted: {:?}",
        stored_outbox()
    );
    drop(ha); // the reload
    a.remove();
    ctl_post("/start").await;
    let (a, ha) = mount(url.clone(), "rae", &room);
    assert!(
        wait_for(200, || bodies(&a).starts_with(&["queued 1".into(), "queued 2".into(), "queued 3".into()])).await,
        "restored at once: {:?}",
        messages(&a)
    );
    assert!(
        wait_for(15_000, || all_own_acked(&a, "rae") && all_own_acked(&b, "sam") && messages(&a).len() == 4).await,
        "{:?}",
        messages(&a)
    );
    let (c, hc) = mount(url, "obs", &room);
    assert!(wait_for(5_000, || bodies(&c).len() == 4).await, "{:?}", bodies(&c));
    let mut seen = bodies(&c);
    seen.sort();
    assert_eq!(seen, ["from sam", "queued 1", "queued 2", "queued 3"], "each stored once");
    assert!(wait_for(1_000, || stored_outbox().is_empty()).await);
    drop((ha, hb, hc));
}

#[wasm_bindgen_test]
async fn a_corrupt_stored_outbox_is_discarded_without_harm() {
    reset().await;
    storage().set_item(persist::KEY, "{this is not json").unwrap();
    let (a, h) = mount(ws_url().await, "cat", &unique_room("corrupt"));
    assert!(wait_for(5_000, || state(&a) == "open").await);
    assert_eq!(storage().get_item(persist::KEY).unwrap(), None, "bad value removed");
    type_and_enter(&a, "message-input", "still works");
    assert!(wait_for(3_000, || all_own_acked(&a, "cat") && messages(&a).len() == 1).await);
    drop(h);
}

#[wasm_bindgen_test]
async fn lost_server_history_replaces_the_view_with_a_clean_window() {
    reset().await;
    let url = ws_url().await;
    let room = unique_room("wipe");
    let (a, ha) = mount(url.clone(), "old", &room);
    assert!(wait_for(5_000, || state(&a) == "open").await);
    for i in 1..=3 {
        type_and_enter(&a, "message-input", &format!("before {i}"));
    }
    assert!(wait_for(3_000, || messages(&a).len() == 3 && all_own_acked(&a, "old")).await);
    ctl_post("/wipe").await; // history lost: the room comes back with a new epoch
    let (b, hb) = mount(url, "new", &room);
    assert!(wait_for(5_000, || state(&b) == "open").await);
    type_and_enter(&b, "message-input", "after wipe");
    assert!(wait_for(15_000, || state(&a) == "open" && bodies(&a) == ["after wipe"]).await, "{:?}", messages(&a));
    let seqs: Vec<_> = all(&a, "[data-testid=message]").iter().filter_map(|m| m.get_attribute("data-seq")).collect();
    assert_eq!(seqs, ["1"], "no stale rows, no holes");
    drop(ha);
    drop(hb);
}

#[wasm_bindgen_test]
async fn an_expired_message_survives_a_reload_as_failed_and_retry_delivers_it_once() {
    reset().await;
    let url = ws_url().await;
    let room = unique_room("expire");
    let (a, h) = mount_with(url.clone(), "exp", &room, Some(1_000.0));
    assert!(wait_for(5_000, || state(&a) == "open").await);
    ctl_post("/kill").await;
    assert!(wait_for(5_000, || state(&a) == "reconnecting").await);
    type_and_enter(&a, "message-input", "too late?");
    assert!(wait_for(4_000, || messages(&a).first().is_some_and(|m| m.2 == "failed")).await, "{:?}", messages(&a));
    assert!(wait_for(1_000, || stored_outbox().first().is_some_and(|p| p.failed.is_some())).await, "kept as failed");
    // Reload while still down: the message is still there, still failed.
    drop(h);
    a.remove();
    let (a, h) = mount_with(url.clone(), "exp", &room, Some(1_000.0));
    assert!(
        wait_for(500, || messages(&a) == [("exp".into(), "too late?".into(), "failed".into())]).await,
        "{:?}",
        messages(&a)
    );
    ctl_post("/start").await;
    assert!(wait_for(15_000, || state(&a) == "open").await);
    sleep(300).await;
    assert_eq!(messages(&a)[0].2, "failed", "an expired message is not sent behind the user's back");
    let retry: HtmlElement = q(&a, "[data-testid=message-retry]").expect("retry button").unchecked_into();
    retry.click();
    assert!(wait_for(3_000, || messages(&a).first().is_some_and(|m| m.2 == "acked")).await, "{:?}", messages(&a));
    let (b, hb) = mount(url, "obs2", &room);
    assert!(wait_for(5_000, || bodies(&b) == ["too late?"]).await, "{:?}", bodies(&b));
    assert!(wait_for(1_000, || stored_outbox().is_empty()).await);
    drop(h);
    drop(hb);
}
