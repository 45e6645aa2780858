//! Tether's app crate: the `use_websocket` hook and the chat UI built on it.
pub mod ws;
