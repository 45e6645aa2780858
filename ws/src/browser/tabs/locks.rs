//! Web Locks (`navigator.locks`), called through `js_sys` because web-sys
//! marks the API unstable. One lock per epoch: `<base>#<epoch>`.
//!
//! The grant callback goes through a small JS function and a `box` object the
//! Rust side owns: on drop the box is marked dead first, so a grant that races
//! with our going away releases the lock at once instead of calling freed Rust.

use js_sys::{Function, Object, Reflect};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::AbortController;

// A module function, not `new Function(…)`: the app runs under a
// Content-Security-Policy without 'unsafe-eval'.
#[wasm_bindgen(inline_js = "export function requestLock(locks, name, signal, epoch, box) { \
    return locks.request(name, { signal }, () => box.dead ? null : \
    new Promise((release) => box.f(epoch, release))).catch(() => {}); }")]
extern "C" {
    #[wasm_bindgen(catch, js_name = requestLock)]
    fn request_lock(
        locks: &JsValue,
        name: &str,
        signal: &web_sys::AbortSignal,
        epoch: f64,
        boxed: &Object,
    ) -> Result<JsValue, JsValue>;
}

pub(crate) struct Locks {
    locks: JsValue,
    base: String,
    boxed: Object,
    _on_grant: Closure<dyn FnMut(f64, Function)>,
    waiting: RefCell<HashMap<u64, AbortController>>,
    held: RefCell<HashMap<u64, Function>>,
}

impl Locks {
    /// `on_grant(epoch)` runs when the lock of `epoch` is granted.
    pub fn new(base: String, on_grant: impl Fn(u64) + 'static) -> Result<std::rc::Rc<Self>, JsValue> {
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let locks = Reflect::get(&window.navigator(), &JsValue::from_str("locks"))?;
        let boxed = Object::new();
        let me = std::rc::Rc::new_cyclic(|weak: &std::rc::Weak<Self>| {
            let weak = weak.clone();
            let on_grant = Closure::<dyn FnMut(f64, Function)>::new(move |epoch: f64, release: Function| {
                let epoch = epoch as u64;
                match weak.upgrade() {
                    Some(me) => {
                        me.waiting.borrow_mut().remove(&epoch);
                        me.held.borrow_mut().insert(epoch, release);
                        on_grant(epoch);
                    }
                    None => {
                        let _ = release.call0(&JsValue::NULL);
                    }
                }
            });
            let _ = Reflect::set(&boxed, &"f".into(), on_grant.as_ref());
            let _ = Reflect::set(&boxed, &"dead".into(), &JsValue::FALSE);
            Self {
                locks,
                base,
                boxed,
                _on_grant: on_grant,
                waiting: RefCell::new(HashMap::new()),
                held: RefCell::new(HashMap::new()),
            }
        });
        Ok(me)
    }

    fn name(&self, epoch: u64) -> String {
        format!("{}#{epoch}", self.base)
    }

    /// The highest epoch whose lock is held or wanted now (0 if none), to `done`.
    pub fn highest_epoch(&self, done: impl FnOnce(u64) + 'static) {
        let prefix = format!("{}#", self.base);
        let query = Reflect::get(&self.locks, &"query".into()).ok().and_then(|f| f.dyn_into::<Function>().ok());
        let promise = query.and_then(|q| q.call0(&self.locks).ok());
        let then = promise.as_ref().and_then(|p| Reflect::get(p, &"then".into()).ok()?.dyn_into::<Function>().ok());
        let (Some(promise), Some(then)) = (promise, then) else { return done(0) };
        let cb = Closure::once_into_js(move |snapshot: JsValue| {
            let mut highest = 0;
            for list in ["held", "pending"] {
                let Ok(items) = Reflect::get(&snapshot, &list.into()) else { continue };
                for item in js_sys::Array::from(&items).iter() {
                    let name = Reflect::get(&item, &"name".into()).ok().and_then(|n| n.as_string());
                    if let Some(e) = name.and_then(|n| n.strip_prefix(&prefix).and_then(|e| e.parse::<u64>().ok())) {
                        highest = highest.max(e);
                    }
                }
            }
            done(highest);
        });
        let _ = then.call1(&promise, &cb);
    }

    /// Queue for the lock of `epoch`.
    pub fn request(&self, epoch: u64) {
        let Ok(ctl) = AbortController::new() else { return };
        if request_lock(&self.locks, &self.name(epoch), &ctl.signal(), epoch as f64, &self.boxed).is_ok() {
            self.waiting.borrow_mut().insert(epoch, ctl);
        }
    }

    /// Leave the queue of `epoch`'s lock.
    pub fn abort(&self, epoch: u64) {
        // The borrow ends before the call into the browser: aborting may
        // grant another queued lock of ours at once (the grant callback takes
        // `waiting` too), and a borrow held across a call that throws stays
        // held for good. Both were seen in WebKit as "already borrowed" here.
        let ctl = self.waiting.borrow_mut().remove(&epoch);
        if let Some(ctl) = ctl {
            ctl.abort();
        }
    }

    /// Release `epoch`'s lock.
    pub fn release(&self, epoch: u64) {
        let release = self.held.borrow_mut().remove(&epoch);
        if let Some(f) = release {
            let _ = f.call0(&JsValue::NULL);
        }
    }
}

impl Drop for Locks {
    fn drop(&mut self) {
        let _ = Reflect::set(&self.boxed, &"dead".into(), &JsValue::TRUE);
        let _ = Reflect::set(&self.boxed, &"f".into(), &JsValue::NULL);
        for (_, ctl) in self.waiting.borrow_mut().drain() {
            ctl.abort();
        }
        for (_, f) in self.held.borrow_mut().drain() {
            let _ = f.call0(&JsValue::NULL);
        }
    }
}
