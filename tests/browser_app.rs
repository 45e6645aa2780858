//! The real chat UI in headless Chromium against the real server, driven
//! through the `data-testid` names of CONTRACT.md as a user would.

#![cfg(target_arch = "wasm32")]

mod common;

use common::dom::*;
use common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn two_users_chat_with_statuses_and_text_never_becomes_html() {
    let url = ws_url().await;
    let room = unique_room("ui");
    let (a, ha) = mount(url.clone(), "ann", &room);
    let (b, hb) = mount(url, "ben", &room);
    assert!(wait_for(5_000, || state(&a) == "open" && state(&b) == "open").await, "{} {}", state(&a), state(&b));

    type_and_enter(&a, "message-input", "<b>bold?</b> hi ben");
    // Shown immediately for the author, then acked with a seq.
    assert!(wait_for(200, || !messages(&a).is_empty()).await, "the author sees the message at once");
    // Keyed rows: the status change and later messages update this row in
    // place and append others; it is never re-rendered.
    let first_row = q(&a, "[data-testid=message]").unwrap();
    assert!(wait_for(3_000, || messages(&a).first().is_some_and(|m| m.2 == "acked")).await, "{:?}", messages(&a));
    let row = q(&a, "[data-testid=message]").unwrap();
    assert_eq!(row.get_attribute("data-seq").as_deref(), Some("1"));
    assert!(row.get_attribute("data-id").is_some_and(|id| id.len() == 36));
    assert!(
        wait_for(3_000, || messages(&b) == [("ann".into(), "<b>bold?</b> hi ben".into(), "delivered".into())]).await,
        "{:?}",
        messages(&b)
    );
    assert!(q(&b, "[data-testid=message-body] b").is_none(), "message text must not be parsed as HTML");
    let input: HtmlInputElement = q(&a, "[data-testid=message-input]").unwrap().unchecked_into();
    assert_eq!(input.value(), "", "input cleared after sending");

    // The send button works too, and an empty message is refused with a reason.
    type_and_enter(&b, "message-input", "   ");
    assert!(wait_for(500, || q(&b, ".composer .error").unwrap().text_content().unwrap().contains("empty")).await);
    let input: HtmlInputElement = q(&b, "[data-testid=message-input]").unwrap().unchecked_into();
    input.set_value("hi ann");
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    let btn: HtmlElement = q(&b, "[data-testid=send-button]").unwrap().unchecked_into();
    btn.click();
    assert!(wait_for(3_000, || messages(&a).len() == 2).await);
    assert_eq!(messages(&a)[1], ("ben".into(), "hi ann".into(), "delivered".into()));
    assert!(
        first_row.is_same_node(q(&a, "[data-testid=message]").as_ref().map(|e| e.as_ref())),
        "old row kept, not re-rendered"
    );
    drop(ha);
    drop(hb);
    assert!(wait_for_server_connections(5_000, 0).await);
}

#[wasm_bindgen_test]
async fn switching_rooms_creates_them_and_shows_only_that_rooms_messages() {
    let url = ws_url().await;
    let first = unique_room("r1");
    let second = unique_room("r2");
    let (a, h) = mount(url, "rita", &first);
    assert!(wait_for(5_000, || state(&a) == "open").await);
    type_and_enter(&a, "message-input", "in first");
    assert!(wait_for(3_000, || messages(&a).len() == 1 && messages(&a)[0].2 == "acked").await);
    type_and_enter(&a, "room-input", &second);
    assert!(
        wait_for(3_000, || all(&a, "[data-testid=room-link]")
            .iter()
            .any(|l| l.get_attribute("data-room").as_deref() == Some(second.as_str())))
        .await
    );
    assert!(wait_for(3_000, || messages(&a).is_empty()).await, "the new room starts empty");
    type_and_enter(&a, "message-input", "in second");
    assert!(wait_for(3_000, || messages(&a).len() == 1 && messages(&a)[0].2 == "acked").await, "{:?}", messages(&a));
    // Back to the first room: its history is there, and only it.
    let link: HtmlElement = all(&a, "[data-testid=room-link]")
        .into_iter()
        .find(|l| l.get_attribute("data-room").as_deref() == Some(first.as_str()))
        .unwrap()
        .unchecked_into();
    link.click();
    assert!(
        wait_for(3_000, || messages(&a).iter().map(|m| m.1.as_str()).collect::<Vec<_>>() == ["in first"]).await,
        "{:?}",
        messages(&a)
    );
    type_and_enter(&a, "room-input", "no spaces allowed");
    assert!(wait_for(500, || q(&a, ".rooms .error").unwrap().text_content().unwrap().contains("room name")).await);
    drop(h);
}

/// Ids are the server's dedup key and its index's sort order: version 7,
/// stamped with the browser's clock (so a commit's ids share index pages),
/// random after that.
#[wasm_bindgen_test]
fn message_ids_are_time_ordered_random_uuids() {
    let before = js_sys::Date::now() as u64;
    let (a, b) = (tether::chat::ids::new_id(), tether::chat::ids::new_id());
    let after = js_sys::Date::now() as u64;
    assert_ne!(a, b);
    for id in [&a, &b] {
        assert!(tether_protocol::validate_id(id).is_ok(), "{id}");
        let hex: String = id.chars().filter(|c| *c != '-').collect();
        assert_eq!(hex.len(), 32, "{id}");
        assert_eq!(&hex[12..13], "7", "version 7: {id}");
        assert!(matches!(&hex[16..17], "8" | "9" | "a" | "b"), "variant 1: {id}");
        let ms = u64::from_str_radix(&hex[..12], 16).unwrap();
        assert!((before..=after).contains(&ms), "{id} stamped {ms}, not in {before}..={after}");
    }
}
