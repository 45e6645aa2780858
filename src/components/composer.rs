//! The message box: Enter sends, Shift+Enter starts a new line, and nothing
//! is sent while an input method (Japanese, Chinese, Korean, ...) is still
//! composing: there Enter confirms the composition. A refused message says why.

use crate::chat::Chat;
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use tether_protocol::MAX_BODY_CHARS;

/// Whether this Enter belongs to an IME composition. `isComposing` is the
/// standard signal; key code 229 covers browsers that send the confirming
/// keydown after `compositionend`.
fn composing(ev: &KeyboardEvent) -> bool {
    #[allow(deprecated)]
    let code = ev.key_code();
    ev.is_composing() || code == 229
}

#[component]
pub fn Composer() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let send = move || {
        let body = value.get_untracked();
        match chat.post(body) {
            Ok(()) => {
                value.set(String::new());
                error.set(None);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let send2 = send.clone();
    let error_id = super::app::unique_id("composer-error");
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !composing(&ev) {
            ev.prevent_default();
            send();
        }
    };
    view! {
        <div class="composer">
            <textarea data-testid="message-input" placeholder="Write a message…" aria-label="Message" rows="1"
                autocomplete="off" maxlength=MAX_BODY_CHARS.to_string()
                aria-describedby=error_id.clone() aria-invalid=move || error.with(Option::is_some).to_string()
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
                on:keydown=on_key></textarea>
            <button data-testid="send-button" on:click=move |_| send2()>"Send"</button>
            <p class="error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}
