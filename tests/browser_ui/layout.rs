//! The layout by viewport: a drawer for the rooms and health on a phone, a
//! sidebar that is always there on a desktop.

use super::{click, mount_sized};
use crate::common::dom::*;
use crate::common::*;
use wasm_bindgen_test::*;

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
