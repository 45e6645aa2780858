//! Hostile text renders as text: message bodies and nicknames that look like
//! HTML, script, `javascript:` links or bidi overrides reach other users'
//! screens (and the author's own) exactly as typed, in real headless
//! Chromium against the real server. No element is created from them and no
//! script runs (each payload would set `window.__xss` if it ever executed).

#![cfg(target_arch = "wasm32")]

mod common;

use common::dom::*;
use common::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

const BODIES: &[&str] = &[
    "<script>window.__xss = 'script'</script>",
    "<img src=x onerror=\"window.__xss = 'img'\">",
    "<a href=\"javascript:window.__xss = 'link'\">click me</a>",
    "javascript:window.__xss = 'bare link'",
    "<svg onload=\"window.__xss = 'svg'\"></svg><iframe src=\"javascript:1\"></iframe>",
    "&lt;b&gt; entities stay literal &amp; &#x3C;i&#x3E;",
    // RIGHT-TO-LEFT OVERRIDE: shown as typed (it may reorder what follows,
    // but it must not be dropped or turned into markup).
    "invoice\u{202E}fdp.exe <b>x</b>",
];

/// Nicknames the server accepts (no bidi characters there): HTML-ish only.
const NICKS: &[&str] = &["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href=javascript:alert(1)>"];

/// Markup that must never appear inside the message list.
const FORBIDDEN: &str = "script, img, a, svg, iframe, b, i";

fn element_children(e: &Element) -> u32 {
    e.children().length()
}

fn author_of(row: &Element) -> Element {
    row.query_selector(".author").unwrap().expect("an author element")
}

fn body_of(row: &Element) -> Element {
    row.query_selector("[data-testid=message-body]").unwrap().expect("a message-body element")
}

/// Every message in `root` shows its author and body exactly as sent, as
/// plain text; returns the (author, body) pairs seen.
fn check_rendered_as_text(root: &HtmlElement) -> Vec<(String, String)> {
    let list = q(root, "[data-testid=message-list]").expect("message-list");
    let markup = list.query_selector_all(FORBIDDEN).unwrap().length();
    assert_eq!(markup, 0, "elements created from message text: {}", list.inner_html());
    all(root, "[data-testid=message]")
        .iter()
        .map(|row| {
            let (author, body) = (author_of(row), body_of(row));
            assert_eq!(element_children(&body), 0, "body has child elements: {}", body.inner_html());
            assert_eq!(element_children(&author), 0, "author has child elements: {}", author.inner_html());
            let author_text = author.text_content().unwrap_or_default();
            assert_eq!(Some(&author_text), row.get_attribute("data-author").as_ref(), "author as attribute too");
            (author_text, body.text_content().unwrap_or_default())
        })
        .collect()
}

fn xss_flag() -> JsValue {
    js_sys::Reflect::get(&web_sys::window().unwrap(), &"__xss".into()).unwrap()
}

async fn send_and_wait_acked(root: &HtmlElement, body: &str) {
    type_and_enter(root, "message-input", body);
    // By content, not by position: the room's history may still be arriving.
    assert!(
        wait_for(3_000, || messages(root).iter().any(|m| m.1 == body && m.2 == "acked")).await,
        "{body:?} not acked: {:?}",
        messages(root)
    );
}

#[wasm_bindgen_test]
async fn hostile_bodies_and_nicknames_render_as_text() {
    let url = ws_url().await;
    let room = unique_room("xss");
    let (watcher, hw) = mount(url.clone(), "watcher", &room);
    let mut expected: Vec<(String, String)> = Vec::new();

    let (eve, he) = mount(url.clone(), "eve", &room);
    assert!(wait_for(5_000, || state(&watcher) == "open" && state(&eve) == "open").await);
    for body in BODIES {
        send_and_wait_acked(&eve, body).await;
        expected.push(("eve".into(), (*body).into()));
    }
    // An onerror or onload handler would run asynchronously: give it time.
    sleep(300).await;
    assert!(xss_flag().is_undefined(), "a payload ran: window.__xss = {:?}", xss_flag());
    assert_eq!(check_rendered_as_text(&eve), expected, "the author's own view");
    drop(he);

    for (i, nick) in NICKS.iter().enumerate() {
        let (poster, hp) = mount(url.clone(), nick, &room);
        assert!(wait_for(5_000, || state(&poster) == "open").await, "{nick:?} could not connect: {}", state(&poster));
        let body = format!("hello from nick {i}");
        send_and_wait_acked(&poster, &body).await;
        expected.push(((*nick).into(), body));
        let own = check_rendered_as_text(&poster);
        assert_eq!(own.last(), expected.last(), "{nick:?} in its own view");
        drop(hp);
    }

    assert!(
        wait_for(5_000, || messages(&watcher).len() == expected.len()).await,
        "the watcher got {:?}",
        messages(&watcher)
    );
    assert_eq!(check_rendered_as_text(&watcher), expected, "another user's view");
    sleep(300).await;
    assert!(xss_flag().is_undefined(), "a payload ran: window.__xss = {:?}", xss_flag());
    drop(hw);
}
