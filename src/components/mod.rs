//! The UI, one component per file. Components read the [`crate::chat::Chat`]
//! from context; `data-testid` names follow CONTRACT.md.
pub mod app;
pub mod badge;
pub mod composer;
pub mod health;
pub mod id_picker;
pub mod list_scroll;
pub mod members;
pub mod message_row;
pub mod messages;
pub mod new_rows;
pub mod nickname;
pub mod rooms;
pub mod row_list;
pub mod row_plan;
pub mod sparkline;
pub mod view_rows;
