//! Tether's app crate: the chat state (`chat`) built on the `tether-ws`
//! hook, and the Leptos components that show it (`components`).
pub mod chat;
pub mod components;

pub use components::app::App;
