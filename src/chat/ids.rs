//! Client message ids: UUID v7 text (`tether_protocol::ids`: time first, so
//! the server's dedup index takes a commit's ids on one page instead of one
//! page each). The random part must come from a real random source
//! (`crypto.getRandomValues`, which, unlike `crypto.randomUUID`, also works
//! on plain-http origins).

use tether_protocol::ids::uuid_v7;

/// A fresh id: the browser's clock and its CSPRNG; `Math.random` only if
/// there is no `crypto` at all (then ids are still unique in practice, just
/// guessable).
pub fn new_id() -> String {
    let mut bytes = [0u8; 10];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    // A clock before 1970 (or NaN) still gives a valid, random id.
    uuid_v7(js_sys::Date::now().max(0.0) as u64, bytes)
}
