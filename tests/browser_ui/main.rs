//! What people expect of a chat, in real headless Chromium against the real
//! server: a drawer on phones, the list that follows new messages or shows
//! a pill, Enter/Shift+Enter/IME, unread counts, the health panel, and no
//! serious accessibility violation (axe-core).

#![cfg(target_arch = "wasm32")]

mod axe;
#[path = "../common/mod.rs"]
mod common;
mod keyboard;
mod layout;
mod list;
mod panels;

use common::dom::*;
use common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlIFrameElement};

wasm_bindgen_test_configure!(run_in_browser);

const CSS: &str = include_str!("../../style/main.css");

fn click(root: &HtmlElement, sel: &str) {
    q(root, sel).unwrap_or_else(|| panic!("no {sel}")).unchecked_into::<HtmlElement>().click();
}

/// Mount the chat inside an iframe of the given size, with the app's
/// stylesheet, so media queries see that viewport.
async fn mount_sized(
    url: String,
    nick: &str,
    room: &str,
    w: u32,
    h: u32,
) -> (HtmlElement, HtmlIFrameElement, Box<dyn std::any::Any>) {
    mount_sized_with(url, nick, room, w, h, None).await
}

/// As [`mount_sized`], with a given outbox deadline.
async fn mount_sized_with(
    url: String,
    nick: &str,
    room: &str,
    w: u32,
    h: u32,
    deadline_ms: Option<f64>,
) -> (HtmlElement, HtmlIFrameElement, Box<dyn std::any::Any>) {
    let doc = web_sys::window().unwrap().document().unwrap();
    let frame: HtmlIFrameElement = doc.create_element("iframe").unwrap().unchecked_into();
    frame.set_width(&w.to_string());
    frame.set_height(&h.to_string());
    doc.body().unwrap().append_child(&frame).unwrap();
    sleep(50).await;
    let inner = frame.content_document().expect("same-origin iframe");
    let style = inner.create_element("style").unwrap();
    style.set_text_content(Some(CSS));
    inner.head().unwrap().append_child(&style).unwrap();
    let host: HtmlElement = inner.create_element("div").unwrap().unchecked_into();
    inner.body().unwrap().append_child(&host).unwrap();
    let (nick, room) = (nick.to_owned(), room.to_owned());
    init();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        use leptos::prelude::*;
        use tether::components::app::ChatView;
        match deadline_ms {
            Some(d) => view! { <ChatView nick room url outbox_deadline_ms=d /> }.into_any(),
            None => view! { <ChatView nick room url /> }.into_any(),
        }
    });
    (host, frame, Box::new(handle))
}
