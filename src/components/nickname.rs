//! Asks for a nickname when neither the URL nor storage has one.

use leptos::prelude::*;
use tether_protocol::validate_nick;

#[component]
pub fn NickPrompt(on_done: impl Fn(String) + 'static) -> impl IntoView {
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let nick = value.get_untracked().trim().to_owned();
        match validate_nick(&nick) {
            Ok(()) => on_done(nick),
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    view! {
        <form class="nick-prompt" on:submit=submit>
            <h1>"Tether"</h1>
            <label for="nick">"Choose a nickname"</label>
            <input id="nick" data-testid="nick-input" autofocus maxlength="32"
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            <button type="submit" data-testid="nick-submit">"Join"</button>
            <p class="error" role="alert">{move || error.get()}</p>
        </form>
    }
}
