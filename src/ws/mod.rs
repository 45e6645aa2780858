//! `use_websocket`: a Leptos hook that holds one live WebSocket connection.
pub mod backoff;
pub mod config;
pub mod driver;
pub mod metrics;
pub mod queue;
pub mod state;
