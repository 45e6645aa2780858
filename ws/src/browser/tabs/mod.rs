//! Cross-tab sharing in the browser: the Web Locks and BroadcastChannel
//! glue, and [`node::TabNode`], which carries out what the pure
//! [`crate::tabs`] structs decide.

mod channel;
mod locks;
mod node;

pub(crate) use node::TabNode;

use wasm_bindgen::JsValue;

/// Whether this browser has what cross-tab sharing needs; if not, why, in
/// words for the metrics.
pub(crate) fn unavailable() -> Option<String> {
    let window = web_sys::window()?;
    let has = |obj: &JsValue, name: &str| {
        js_sys::Reflect::get(obj, &JsValue::from_str(name)).is_ok_and(|v| !v.is_undefined() && !v.is_null())
    };
    if !has(&window, "BroadcastChannel") {
        return Some("BroadcastChannel is not available".into());
    }
    let locks = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("locks")).ok();
    if !locks.is_some_and(|l| has(&l, "request") && has(&l, "query")) {
        return Some("the Web Locks API (navigator.locks) is not available".into());
    }
    None
}
