//! The keyboard: Enter sends, Shift+Enter and an IME composition do not,
//! and every control is reachable and usable without a mouse.

use crate::common::dom::*;
use crate::common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, KeyboardEvent, KeyboardEventInit};

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
