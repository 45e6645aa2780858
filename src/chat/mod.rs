//! Chat state: per-room message logs with delivery status (pure, in `log`),
//! message ids, and the reactive store that connects them to the hook.
pub mod attention;
pub mod flush_size;
pub mod ids;
pub mod inbox;
pub mod log;
pub mod outbox;
pub mod pacing;
pub mod persist;
pub mod presence;
pub mod report;
pub mod server_url;
pub mod store;

pub use store::{Chat, default_ws_url, track_visibility, use_chat};
