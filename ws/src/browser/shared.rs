//! The page's shared connections (`share(true)`): one per URL and message
//! and codec types. The map holds weak references only; the subscribers own
//! the connection, and the last to leave removes it from the map.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// What makes two hooks share a socket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    url: String,
    types: [TypeId; 3],
}

impl Key {
    pub fn new<Tx: 'static, Rx: 'static, C: 'static>(url: &str) -> Self {
        Self { url: url.to_owned(), types: [TypeId::of::<Tx>(), TypeId::of::<Rx>(), TypeId::of::<C>()] }
    }
}

thread_local! {
    static SHARED: RefCell<HashMap<Key, Weak<dyn Any>>> = RefCell::new(HashMap::new());
}

/// The live connection for `key`, or a new one from `create` (then `true`).
pub(crate) fn get_or_create<T: 'static>(key: &Key, create: impl FnOnce() -> Rc<T>) -> (Rc<T>, bool) {
    if let Some(conn) = lookup(key) {
        return (conn, false);
    }
    let conn = create();
    remember(key, &conn);
    (conn, true)
}

/// The live connection for `key`, if any.
pub(crate) fn lookup<T: 'static>(key: &Key) -> Option<Rc<T>> {
    let found = SHARED.with(|m| m.borrow().get(key).and_then(Weak::upgrade));
    found.and_then(|c| c.downcast::<T>().ok())
}

/// `conn` is the connection for `key` from now on.
pub(crate) fn remember<T: 'static>(key: &Key, conn: &Rc<T>) {
    let any: Rc<dyn Any> = conn.clone();
    SHARED.with(|m| m.borrow_mut().insert(key.clone(), Rc::downgrade(&any)));
}

/// The connection for `key` is gone.
pub(crate) fn forget(key: &Key) {
    SHARED.with(|m| m.borrow_mut().remove(key));
}

/// Shared connections alive on this page (for tests).
pub fn live_shared() -> usize {
    SHARED.with(|m| m.borrow().values().filter(|w| w.strong_count() > 0).count())
}
