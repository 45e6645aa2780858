//! What people expect of a chat, in real headless Chromium against the real
//! server: a drawer on phones, the list that follows new messages or shows
//! a pill, Enter/Shift+Enter/IME, unread counts, the health panel, and no
//! serious accessibility violation (axe-core).

#![cfg(target_arch = "wasm32")]

mod common;

use common::dom::*;
use common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlIFrameElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

const CSS: &str = include_str!("../style/main.css");

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
        view! { <tether::components::app::ChatView nick room url /> }
    });
    (host, frame, Box::new(handle))
}

/// Whether `el` is on screen inside its own window.
fn on_screen(el: &web_sys::Element) -> bool {
    let win = el.owner_document().and_then(|d| d.default_view()).unwrap();
    let r = el.get_bounding_client_rect();
    let style = win.get_computed_style(el).unwrap().unwrap();
    let visible = style.get_property_value("visibility").unwrap() != "hidden"
        && style.get_property_value("display").unwrap() != "none";
    let width = win.inner_width().unwrap().as_f64().unwrap();
    visible && r.width() > 0.0 && r.right() > 1.0 && r.left() < width - 1.0
}

#[wasm_bindgen_test]
async fn on_a_phone_the_rooms_and_health_open_as_a_drawer_on_a_desktop_they_are_just_there() {
    let url = ws_url().await;
    let room = unique_room("phone");
    let (phone, frame, h) = mount_sized(url.clone(), "pat", &room, 390, 844).await;
    assert!(wait_for(5_000, || state(&phone) == "open").await);
    let sidebar = q(&phone, ".sidebar").unwrap();
    let toggle = q(&phone, "[data-testid=nav-toggle]").unwrap();
    assert!(on_screen(&toggle), "the drawer button shows on a phone");
    assert!(!on_screen(&sidebar), "the drawer starts closed");
    assert_eq!(toggle.get_attribute("aria-expanded").as_deref(), Some("false"));
    click(&phone, "[data-testid=nav-toggle]");
    let (rooms, health) =
        (q(&phone, "[data-testid=room-list]").unwrap(), q(&phone, "[data-testid=health-panel]").unwrap());
    assert!(
        wait_for(2_000, || on_screen(&sidebar) && on_screen(&rooms) && on_screen(&health)).await,
        "the drawer opens, with the rooms and the health panel"
    );
    assert_eq!(toggle.get_attribute("aria-expanded").as_deref(), Some("true"));
    // Picking a room closes it.
    type_and_enter(&phone, "room-input", &unique_room("other"));
    assert!(wait_for(2_000, || !on_screen(&sidebar)).await, "closed after choosing a room");
    drop(h);
    frame.remove();

    let (desk, frame, h) = mount_sized(url, "dee", &room, 1280, 800).await;
    let sidebar = q(&desk, ".sidebar").unwrap();
    assert!(on_screen(&sidebar), "on a desktop the sidebar is always there");
    assert!(!on_screen(&q(&desk, "[data-testid=nav-toggle]").unwrap()), "and there is no drawer button");
    drop(h);
    frame.remove();
}

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

fn key(root: &HtmlElement, text: &str, shift: bool, composing: bool) {
    let input = q(root, "[data-testid=message-input]").unwrap();
    js_sys::Reflect::set(&input, &"value".into(), &text.into()).unwrap();
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    let init = KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_shift_key(shift);
    init.set_is_composing(composing);
    input.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
}

#[wasm_bindgen_test]
async fn enter_sends_shift_enter_and_an_ime_composition_do_not() {
    let url = ws_url().await;
    let (a, h) = mount(url, "ime", &unique_room("ime"));
    assert!(wait_for(5_000, || state(&a) == "open").await);
    key(&a, "にほんご", false, true);
    key(&a, "line one", true, false);
    sleep(300).await;
    assert!(messages(&a).is_empty(), "nothing sent while composing or on Shift+Enter");
    key(&a, "line one\nline two", false, false);
    assert!(wait_for(3_000, || messages(&a).len() == 1).await);
    assert_eq!(messages(&a)[0].1, "line one\nline two", "Shift+Enter's newline is kept");
    drop(h);
}

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

const AXE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/.tools/axe/node_modules/axe-core/axe.min.js"));

/// axe-core's serious and critical violations inside `root`.
async fn axe(root: &HtmlElement) -> Vec<String> {
    if js_sys::Reflect::get(&js_sys::global(), &"axe".into()).unwrap().is_undefined() {
        js_sys::eval(AXE).expect("axe-core loads");
    }
    let axe = js_sys::Reflect::get(&js_sys::global(), &"axe".into()).unwrap();
    let run: js_sys::Function = js_sys::Reflect::get(&axe, &"run".into()).unwrap().unchecked_into();
    let result = JsFuture::from(js_sys::Promise::from(run.call1(&axe, root).unwrap())).await.unwrap();
    let violations: js_sys::Array = js_sys::Reflect::get(&result, &"violations".into()).unwrap().unchecked_into();
    violations
        .iter()
        .filter(|v| {
            let impact = js_sys::Reflect::get(v, &"impact".into()).unwrap().as_string().unwrap_or_default();
            impact == "serious" || impact == "critical"
        })
        .map(|v| js_sys::JSON::stringify(&v).unwrap().as_string().unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
async fn axe_finds_no_serious_or_critical_violation_on_the_main_views() {
    let url = ws_url().await;
    let room = unique_room("axe");
    let (a, h) = mount(url.clone(), "axa", &room);
    let (b, hb) = mount(url, "axb", &room);
    assert!(wait_for(5_000, || state(&a) == "open").await);
    type_and_enter(&b, "message-input", "hello");
    type_and_enter(&a, "message-input", "hi!");
    assert!(wait_for(3_000, || messages(&a).len() == 2).await);
    let details: web_sys::HtmlDetailsElement = q(&a, "[data-testid=health-panel]").unwrap().unchecked_into();
    details.set_open(true);
    details.dispatch_event(&web_sys::Event::new("toggle").unwrap()).unwrap();
    sleep(100).await;
    let v = axe(&a).await;
    assert!(v.is_empty(), "chat view: {v:#?}");
    drop(hb);
    drop(h);

    let doc = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&host).unwrap();
    let h = leptos::mount::mount_to(host.clone(), || {
        use leptos::prelude::*;
        view! { <tether::components::nickname::NickPrompt on_done=|_: String| {} /> }
    });
    let v = axe(&host).await;
    assert!(v.is_empty(), "nickname prompt: {v:#?}");
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

#[wasm_bindgen_test]
async fn every_control_is_reachable_and_usable_from_the_keyboard() {
    let url = ws_url().await;
    let room = unique_room("kbd");
    let (a, h) = mount(url, "kay", &room);
    assert!(wait_for(5_000, || state(&a) == "open").await);
    let doc = web_sys::window().unwrap().document().unwrap();
    // The message list scrolls from the keyboard only if it takes focus.
    let list: HtmlElement = q(&a, "[data-testid=message-list]").unwrap().unchecked_into();
    assert!(list.tab_index() >= 0, "the message list is not in the tab order");
    // Everything one can act on takes the keyboard focus.
    let controls = all(&a, "button, input, textarea, a[href], summary, [tabindex]");
    assert!(controls.len() >= 6, "{} controls", controls.len());
    for el in &controls {
        let el: &HtmlElement = el.unchecked_ref();
        let hidden =
            web_sys::window().unwrap().get_computed_style(el).unwrap().unwrap().get_property_value("display").unwrap()
                == "none";
        if hidden {
            continue; // the drawer button on a wide screen
        }
        el.focus().unwrap();
        assert!(doc.active_element().is_some_and(|f| f.is_same_node(Some(el))), "cannot focus {}", el.outer_html());
        assert!(el.tab_index() >= 0, "not in the tab order: {}", el.outer_html());
    }
    // Typing and Enter send; Enter in the room box switches rooms.
    type_and_enter(&a, "message-input", "typed, not clicked");
    assert!(wait_for(3_000, || messages(&a).iter().any(|m| m.1 == "typed, not clicked" && m.2 == "acked")).await);
    let other = unique_room("kbd2");
    type_and_enter(&a, "room-input", &other);
    assert!(
        wait_for(2_000, || q(&a, ".room-title").and_then(|t| t.text_content()).is_some_and(|t| t.contains(&other)))
            .await
    );
    drop(h);
}
