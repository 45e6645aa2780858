//! The outbox survives a reload: own messages not yet stored by the server
//! are written to `localStorage` on every change and restored (and resent;
//! the server deduplicates by id) on start.
//!
//! What is read back is untrusted: another app version, another app on the
//! same origin, or a hand-edited value may be there. Anything that does not
//! decode and validate is discarded with a console warning, never a panic.

use serde::{Deserialize, Serialize};
use tether_protocol::{validate_body, validate_id, validate_nick, validate_room};

pub const KEY: &str = "tether.outbox";
const VERSION: u32 = 1;

/// One own message the server has not stored: waiting to be (re)sent, or
/// failed (with the reason) and waiting for the user to retry it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Pending {
    pub room: String,
    pub id: String,
    pub author: String,
    pub body: String,
    pub created_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    v: u32,
    items: Vec<Pending>,
}

#[derive(thiserror::Error, Debug, PartialEq)]
pub enum PersistError {
    #[error("stored outbox is not readable: {0}")]
    Corrupt(String),
    #[error("stored outbox has version {0}, this app reads version {VERSION}")]
    Version(u32),
    #[error("stored outbox holds an invalid message: {0}")]
    Invalid(String),
}

pub fn encode(items: &[Pending]) -> String {
    serde_json::to_string(&Stored { v: VERSION, items: items.to_vec() }).unwrap_or_default()
}

pub fn decode(text: &str) -> Result<Vec<Pending>, PersistError> {
    let stored: Stored = serde_json::from_str(text).map_err(|e| PersistError::Corrupt(e.to_string()))?;
    if stored.v != VERSION {
        return Err(PersistError::Version(stored.v));
    }
    for p in &stored.items {
        let check = validate_room(&p.room)
            .and_then(|_| validate_id(&p.id))
            .and_then(|_| validate_nick(&p.author))
            .and_then(|_| validate_body(&p.body));
        if let Err(e) = check {
            return Err(PersistError::Invalid(format!("{}: {e}", p.id)));
        }
        if !p.created_ms.is_finite() {
            return Err(PersistError::Invalid(format!("{}: bad timestamp", p.id)));
        }
    }
    Ok(stored.items)
}

/// The page's `localStorage`, if the browser allows it (private modes and
/// sandboxed frames may not).
pub fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Everything pending from earlier visits; a bad value is removed.
pub fn load() -> Vec<Pending> {
    let Some(s) = storage() else { return Vec::new() };
    let Some(text) = s.get_item(KEY).ok().flatten() else { return Vec::new() };
    match decode(&text) {
        Ok(items) => items,
        Err(e) => {
            web_sys::console::warn_1(&format!("tether: discarding stored outbox: {e}").into());
            let _ = s.remove_item(KEY);
            Vec::new()
        }
    }
}

pub fn save(items: &[Pending]) {
    let Some(s) = storage() else { return };
    let r = if items.is_empty() { s.remove_item(KEY) } else { s.set_item(KEY, &encode(items)) };
    if r.is_err() {
        // Quota exceeded or storage disabled: the messages are still in
        // memory and will be sent; only reload-survival is lost. Say so.
        web_sys::console::warn_1(
            &"tether: could not save the outbox; pending messages will not survive a reload".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> Pending {
        Pending {
            room: "general".into(),
            id: id.into(),
            author: "ann".into(),
            body: "hi".into(),
            created_ms: 1.0,
            failed: None,
        }
    }

    #[test]
    fn round_trip() {
        let mut failed = item("b");
        failed.failed = Some("too late".into());
        let items = vec![item("a"), failed];
        assert_eq!(decode(&encode(&items)).unwrap(), items);
    }

    #[test]
    fn corrupt_foreign_or_invalid_values_are_errors_not_panics() {
        assert!(matches!(decode("not json"), Err(PersistError::Corrupt(_))));
        assert!(matches!(decode("{\"something\":\"else\"}"), Err(PersistError::Corrupt(_))));
        assert_eq!(decode(r#"{"v":9,"items":[]}"#).unwrap_err(), PersistError::Version(9));
        let mut bad = item("x");
        bad.room = "no spaces".into();
        assert!(matches!(decode(&encode(&[bad])), Err(PersistError::Invalid(_))));
        let mut bad = item("x");
        bad.body = "   ".into();
        assert!(matches!(decode(&encode(&[bad])), Err(PersistError::Invalid(_))));
    }
}
