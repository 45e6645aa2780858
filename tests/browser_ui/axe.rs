//! Accessibility: no serious or critical axe-core violation on the chat
//! view or the nickname prompt.

use crate::common::dom::*;
use crate::common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

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
