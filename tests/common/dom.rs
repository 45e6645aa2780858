//! Driving the real chat UI through its `data-testid` names, as a user would.

use super::init;
use leptos::prelude::*;
use tether::components::app::ChatView;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, KeyboardEvent, KeyboardEventInit};

/// The message list of the chat mounted at `root`, made a scrolling box
/// `px` high as the app's stylesheet makes it (the tests mount it bare).
pub fn scrolling_list(root: &HtmlElement, px: u32) -> HtmlElement {
    let list: HtmlElement = q(root, "[data-testid=message-list]").expect("the message list").unchecked_into();
    list.set_attribute("style", &format!("height: {px}px; overflow: auto")).expect("style set");
    list
}

/// Whether `list` shows its end (within 30 px, a row's height).
pub fn at_end(list: &Element) -> bool {
    list.scroll_top() + list.client_height() >= list.scroll_height() - 30
}

/// The user scrolls `list` to the top with the wheel: the wheel event the
/// list listens for, then the move and its scroll event (the list ignores
/// a bare scroll event while it owes a scroll to new rows).
pub fn user_scrolls_to_top(list: &Element) {
    js_sys::Function::new_with_args(
        "list",
        "list.dispatchEvent(new WheelEvent('wheel', { deltaY: -100 }));
         list.scrollTop = 0;
         list.dispatchEvent(new Event('scroll'));",
    )
    .call1(&wasm_bindgen::JsValue::NULL, list)
    .expect("scrolled");
}

/// Mount the chat into a fresh element; dropping the handle unmounts it.
pub fn mount(url: String, nick: &str, room: &str) -> (HtmlElement, Box<dyn std::any::Any>) {
    mount_with(url, nick, room, None)
}

/// As [`mount`], with a given outbox deadline.
pub fn mount_with(
    url: String,
    nick: &str,
    room: &str,
    deadline_ms: Option<f64>,
) -> (HtmlElement, Box<dyn std::any::Any>) {
    init();
    let doc = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&host).unwrap();
    let (nick, room) = (nick.to_owned(), room.to_owned());
    let handle = leptos::mount::mount_to(host.clone(), move || match deadline_ms {
        Some(d) => view! { <ChatView nick room url outbox_deadline_ms=d /> }.into_any(),
        None => view! { <ChatView nick room url /> }.into_any(),
    });
    (host, Box::new(handle))
}

pub fn q(root: &HtmlElement, sel: &str) -> Option<Element> {
    root.query_selector(sel).ok().flatten()
}

pub fn all(root: &HtmlElement, sel: &str) -> Vec<Element> {
    let list = root.query_selector_all(sel).unwrap();
    (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect()
}

pub fn state(root: &HtmlElement) -> String {
    q(root, "[data-testid=connection-status]").and_then(|e| e.get_attribute("data-state")).unwrap_or_default()
}

pub fn type_and_enter(root: &HtmlElement, testid: &str, text: &str) {
    let input: HtmlInputElement = q(root, &format!("[data-testid={testid}]")).unwrap().unchecked_into();
    input.set_value(text);
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    let init = KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    input.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
}

pub fn messages(root: &HtmlElement) -> Vec<(String, String, String)> {
    all(root, "[data-testid=message]")
        .iter()
        .map(|m| {
            let body =
                m.query_selector("[data-testid=message-body]").unwrap().unwrap().text_content().unwrap_or_default();
            (
                m.get_attribute("data-author").unwrap_or_default(),
                body,
                m.get_attribute("data-status").unwrap_or_default(),
            )
        })
        .collect()
}

/// Pretend the tab is hidden or shown (the real properties are read-only):
/// `document.visibilityState` and `document.hidden`, then `visibilitychange`.
pub fn set_page_hidden(hidden: bool) {
    let doc = web_sys::window().unwrap().document().unwrap();
    let state = if hidden { "hidden" } else { "visible" };
    for (prop, value) in [("visibilityState", wasm_bindgen::JsValue::from_str(state)), ("hidden", hidden.into())] {
        let desc = js_sys::Object::new();
        js_sys::Reflect::set(&desc, &"value".into(), &value).unwrap();
        js_sys::Reflect::set(&desc, &"configurable".into(), &true.into()).unwrap();
        js_sys::Object::define_property(doc.unchecked_ref::<js_sys::Object>(), &prop.into(), &desc);
    }
    doc.dispatch_event(&web_sys::Event::new("visibilitychange").unwrap()).unwrap();
}
