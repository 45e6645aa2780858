//! The fallback remembered per URL for the tab's session (sessionStorage):
//! the selector decides what to remember, this reads and writes it.

use super::Carrier;
use crate::fallback::Remember;
use crate::metrics::Transport;

impl Carrier {
    fn key(url: &str) -> String {
        format!("tether-ws transport {url}")
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.session_storage().ok().flatten()
    }

    /// The fallback remembered for `url` in this tab's session.
    pub(super) fn recall(&self, url: &str) -> Option<Transport> {
        if !(self.cfg.enabled && self.cfg.remember) {
            return None;
        }
        Self::storage()?.get_item(&Self::key(url)).ok().flatten().and_then(|n| Transport::from_name(&n))
    }

    pub(super) fn store(&self, remember: Remember) {
        let Some(s) = Self::storage() else { return };
        let key = Self::key(&self.url.borrow());
        let _ = match remember {
            Remember::Nothing => Ok(()),
            Remember::Keep(t) => s.set_item(&key, t.name()),
            Remember::Forget => s.remove_item(&key),
        };
    }
}
