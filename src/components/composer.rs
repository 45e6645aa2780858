//! The message box: Enter or the button sends; a refused message says why.

use crate::chat::Chat;
use leptos::prelude::*;
use tether_protocol::MAX_BODY_CHARS;

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
    view! {
        <div class="composer">
            <input data-testid="message-input" placeholder="Write a message…" autocomplete="off"
                maxlength=MAX_BODY_CHARS.to_string()
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); send() } />
            <button data-testid="send-button" on:click=move |_| send2()>"Send"</button>
            <p class="error" role="alert">{move || error.get()}</p>
        </div>
    }
}
