//! Tether's app crate: the `use_websocket` hook (`ws`), the chat state built
//! on it (`chat`), and the Leptos components that show it (`components`).
pub mod chat;
pub mod components;
pub mod ws;

pub use components::app::App;
