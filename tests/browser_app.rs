//! The real chat UI in headless Chromium against the real server, driven
//! through the `data-testid` names of CONTRACT.md as a user would.

#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::prelude::*;
use tether::components::app::ChatView;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

/// Mount the chat into a fresh element; dropping the handle unmounts it.
fn mount(url: String, nick: &str, room: &str) -> (HtmlElement, Box<dyn std::any::Any>) {
    init();
    let doc = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&host).unwrap();
    let (nick, room) = (nick.to_owned(), room.to_owned());
    let handle = leptos::mount::mount_to(host.clone(), move || view! { <ChatView nick room url /> });
    (host, Box::new(handle))
}

fn q(root: &HtmlElement, sel: &str) -> Option<Element> {
    root.query_selector(sel).ok().flatten()
}

fn all(root: &HtmlElement, sel: &str) -> Vec<Element> {
    let list = root.query_selector_all(sel).unwrap();
    (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect()
}

fn state(root: &HtmlElement) -> String {
    q(root, "[data-testid=connection-status]").and_then(|e| e.get_attribute("data-state")).unwrap_or_default()
}

fn type_and_enter(root: &HtmlElement, testid: &str, text: &str) {
    let input: HtmlInputElement = q(root, &format!("[data-testid={testid}]")).unwrap().unchecked_into();
    input.set_value(text);
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    let init = KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    input.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
}

fn messages(root: &HtmlElement) -> Vec<(String, String, String)> {
    all(root, "[data-testid=message]")
        .iter()
        .map(|m| {
            let body = m.query_selector("[data-testid=message-body]").unwrap().unwrap().text_content().unwrap_or_default();
            (m.get_attribute("data-author").unwrap_or_default(), body, m.get_attribute("data-status").unwrap_or_default())
        })
        .collect()
}

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
    assert!(wait_for(3_000, || messages(&a).first().is_some_and(|m| m.2 == "acked")).await, "{:?}", messages(&a));
    let row = q(&a, "[data-testid=message]").unwrap();
    assert_eq!(row.get_attribute("data-seq").as_deref(), Some("1"));
    assert!(row.get_attribute("data-id").is_some_and(|id| id.len() == 36));
    assert!(wait_for(3_000, || messages(&b) == [("ann".into(), "<b>bold?</b> hi ben".into(), "delivered".into())]).await, "{:?}", messages(&b));
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
    assert!(wait_for(3_000, || all(&a, "[data-testid=room-link]").iter().any(|l| l.get_attribute("data-room").as_deref() == Some(second.as_str()))).await);
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
    assert!(wait_for(3_000, || messages(&a).iter().map(|m| m.1.as_str()).collect::<Vec<_>>() == ["in first"]).await, "{:?}", messages(&a));
    type_and_enter(&a, "room-input", "no spaces allowed");
    assert!(wait_for(500, || q(&a, ".rooms .error").unwrap().text_content().unwrap().contains("room name")).await);
    drop(h);
}
