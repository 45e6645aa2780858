//! Who is in the current room now, as the server reports it.

use crate::chat::Chat;
use leptos::prelude::*;

#[component]
pub fn MemberList() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let (presence, room) = (chat.presence, chat.room);
    let roster = Memo::new(move |_| {
        let r = room.get();
        presence.with(|p| p.roster(&r).map(|r| (r.listed.iter().cloned().collect::<Vec<_>>(), r.total)))
    });
    let names = move || roster.get().map(|r| r.0).unwrap_or_default();
    let more = move || roster.get().map_or(0, |(listed, total)| total.saturating_sub(listed.len()));
    view! {
        <section class="members">
            <h2>"In this room"</h2>
            <ul data-testid="member-list" aria-label="People in this room">
                <For each=names key=|n| n.clone() let:nick>
                    <li data-testid="member" data-nick=nick.clone()>{nick.clone()}</li>
                </For>
            </ul>
            <Show when=move || { more() > 0 }>
                <p class="more">{move || format!("and {} more", more())}</p>
            </Show>
        </section>
    }
}
