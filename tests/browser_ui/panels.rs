//! The side panels: unread counts per room and in the title, the health
//! panel's values and outbox, and presence as people come and go.

use super::click;
use crate::common::dom::*;
use crate::common::{self, *};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

fn unread(root: &HtmlElement, room: &str) -> String {
    q(root, &format!("[data-testid=room-link][data-room='{room}']"))
        .and_then(|e| e.get_attribute("data-unread"))
        .unwrap_or_else(|| "missing".into())
}

#[wasm_bindgen_test]
async fn unread_counts_move_per_room_and_in_the_title_while_hidden() {
    let url = ws_url().await;
    let (r1, r2) = (unique_room("un1"), unique_room("un2"));
    // One chat on the page (it owns the title); the other user is a bare client.
    let (a, ha) = mount(url.clone(), "una", &r1);
    let b = common::client::client(&url, "unb", &r1);
    assert!(wait_for(5_000, || state(&a) == "open").await);
    b.wait_open().await;
    type_and_enter(&a, "room-input", &r2);
    assert!(wait_for(2_000, || unread(&a, &r2) == "0").await);
    b.post(&r1, "un-1", "are you there?").unwrap();
    b.post(&r1, "un-2", "hello?").unwrap();
    assert!(wait_for(3_000, || unread(&a, &r1) == "2").await, "{}", unread(&a, &r1));
    assert_eq!(unread(&a, &r2), "0");
    click(&a, &format!("[data-testid=room-link][data-room='{r1}']"));
    assert!(wait_for(2_000, || unread(&a, &r1) == "0").await);
    assert_eq!(messages(&a).len(), 2, "both arrived while away");

    let title = || web_sys::window().unwrap().document().unwrap().title();
    set_page_hidden(true);
    b.post(&r1, "un-3", "ping").unwrap();
    let shown = wait_for(3_000, || title() == "(1) Tether").await;
    set_page_hidden(false);
    assert!(shown, "{}", title());
    assert!(wait_for(1_000, || title() == "Tether" && unread(&a, &r1) == "0").await, "{}", title());
    drop(ha);
    b.owner.cleanup();
}

#[wasm_bindgen_test]
async fn the_health_panel_shows_every_value_and_the_outbox() {
    let url = ws_url().await;
    let (a, h) = mount(url, "hp", &unique_room("hp"));
    assert!(wait_for(5_000, || state(&a) == "open").await);
    type_and_enter(&a, "message-input", "counted");
    let metric = |name: &str| {
        q(&a, &format!("[data-testid=health-panel] [data-metric={name}] dd")).and_then(|d| d.text_content())
    };
    for name in [
        "state",
        "transport",
        "uptime",
        "attempt",
        "connects",
        "reconnects",
        "reconnect_ms",
        "rtt_ms",
        "frames_in",
        "frames_out",
        "bytes_in",
        "bytes_out",
        "queued",
        "malformed_in",
        "heartbeat_timeouts",
        "outbox_queued",
        "outbox_sent",
        "outbox_acked",
        "outbox_failed",
    ] {
        assert!(metric(name).is_some(), "no {name}");
    }
    assert_eq!(metric("transport").as_deref(), Some("websocket"));
    let details: web_sys::HtmlDetailsElement = q(&a, "[data-testid=health-panel]").unwrap().unchecked_into();
    details.set_open(true);
    details.dispatch_event(&web_sys::Event::new("toggle").unwrap()).unwrap();
    assert!(wait_for(3_000, || metric("outbox_acked").as_deref() == Some("1")).await, "{:?}", metric("outbox_acked"));
    assert!(q(&a, "[data-metric=rtt_sparkline]").is_some() && q(&a, "[data-metric=state_strip] rect").is_some());
    assert!(wait_for(2_000, || metric("uptime").is_some_and(|u| u.ends_with('s'))).await);
    drop(h);
}

#[wasm_bindgen_test]
async fn presence_shows_who_is_in_the_room_as_people_come_and_go() {
    let url = ws_url().await;
    let room = unique_room("who");
    let (a, h) = mount(url.clone(), "ann", &room);
    assert!(wait_for(5_000, || state(&a) == "open").await);
    let nicks = |root: &HtmlElement| -> Vec<String> {
        all(root, "[data-testid=member-list] [data-testid=member]")
            .iter()
            .filter_map(|m| m.get_attribute("data-nick"))
            .collect()
    };
    assert!(wait_for(3_000, || nicks(&a) == ["ann"]).await, "{:?}", nicks(&a));
    let bob = common::client::client(&url, "bob", &room);
    bob.wait_open().await;
    assert!(wait_for(3_000, || nicks(&a) == ["ann", "bob"]).await, "bob came: {:?}", nicks(&a));
    bob.owner.cleanup();
    assert!(wait_for(5_000, || nicks(&a) == ["ann"]).await, "bob left: {:?}", nicks(&a));
    drop(h);
}
