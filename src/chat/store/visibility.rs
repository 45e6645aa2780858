//! The page's visibility: a hidden tab counts messages in the current room
//! as unread too, and shows the unread total in its title.

use super::Chat;
use crate::chat::attention::Attention;
use leptos::prelude::*;

/// Keep `chat.hidden` in step with the page, clear the current room's count
/// when the user looks again, and put the unread total in the tab's title
/// while hidden.
pub fn track_visibility(chat: &Chat) {
    let (hidden, attention, room) = (chat.hidden, chat.attention, chat.room);
    let read = move || web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
    hidden.set(read());
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let listener = gloo_events::EventListener::new(&doc, "visibilitychange", move |_| {
        let h = read();
        hidden.set(h);
        if !h {
            room.with_untracked(|r| attention.update(|a| a.seen(r)));
        }
    });
    let listener = send_wrapper::SendWrapper::new(listener);
    on_cleanup(move || drop(listener));
    Effect::new(move |_| {
        // `try_`: an effect already notified may run once more after unmount.
        let (Some(n), Some(hidden)) = (attention.try_with(Attention::total), hidden.try_get()) else { return };
        let title = if hidden && n > 0 { format!("({n}) Tether") } else { "Tether".to_owned() };
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            d.set_title(&title);
        }
    });
}
