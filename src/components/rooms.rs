//! Room list and the box to switch to (or create) a room.

use crate::chat::Chat;
use leptos::prelude::*;

#[component]
pub fn RoomList() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let error = RwSignal::new(None::<String>);
    let value = RwSignal::new(String::new());
    let c = chat.clone();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            match c.switch_room(value.get_untracked().trim()) {
                Ok(()) => {
                    value.set(String::new());
                    error.set(None);
                    c.room_error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    };
    let current = chat.room;
    let room_error = chat.room_error;
    view! {
        <nav class="rooms">
            <h2>"Rooms"</h2>
            <ul data-testid="room-list">
                <For each=move || chat.rooms.get() key=|r| r.clone() let:name>
                    {
                        let c = chat.clone();
                        let n = name.clone();
                        let active = { let n = name.clone(); move || current.get() == n };
                        let unread = { let n = name.clone(); Memo::new(move |_| chat.attention.with(|a| a.unread(&n))) };
                        view! {
                            <li>
                                <a href="#" data-testid="room-link" data-room=name.clone() class:active=active.clone()
                                    data-unread=move || unread.get().to_string()
                                    aria-current=move || active().then_some("page")
                                    on:click=move |ev| { ev.prevent_default(); let _ = c.switch_room(&n); }>
                                    "#" {name.clone()}
                                    <Show when=move || { unread.get() > 0 }>
                                        <span class="unread" aria-hidden="true">{move || unread.get()}</span>
                                        <span class="sr-only">{move || format!(", {} unread", unread.get())}</span>
                                    </Show>
                                </a>
                            </li>
                        }
                    }
                </For>
            </ul>
            <input data-testid="room-input" placeholder="join or create a room" maxlength="64" aria-label="Join or create a room"
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) on:keydown=on_key />
            <p class="error" role="alert" data-testid="room-error">
                {move || error.get().or_else(|| room_error.get())}
            </p>
        </nav>
    }
}
