//! What can go wrong, in words a user can be shown.

use crate::queue::QueueFull;

/// An error the hook reports: returned by `send`, published in the `error`
/// signal and passed to `on_error`.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum WsError {
    /// The URL cannot be used: the text says which URL and why.
    #[error("invalid WebSocket URL {0}")]
    InvalidUrl(String),
    /// `send` while the queue is full; the message was not accepted.
    #[error(transparent)]
    QueueFull(#[from] QueueFull),
    /// `try_send` while the connection is not open; the message was not sent
    /// and stays the caller's to keep.
    #[error("not connected: the message was not sent")]
    NotOpen,
    /// Queued frames that waited longer than the queue's time limit and were
    /// dropped instead of being sent late.
    #[error("{0} queued message(s) expired before the connection opened and were not sent")]
    Expired(usize),
    /// The codec could not encode the message.
    #[error("could not encode the message: {0}")]
    Encode(String),
    /// The codec could not decode a received frame.
    #[error("received a frame that could not be read: {0}")]
    Decode(String),
    /// The browser reported a connection error (it gives no detail; a close
    /// event with the code follows).
    #[error("the connection failed")]
    Connection,
    /// A command on a hook whose component is gone.
    #[error("the connection was closed with its component")]
    Disposed,
    /// Not running in a browser (server-side rendering, native tests): the
    /// hook is inert there.
    #[error("WebSocket is not available outside the browser")]
    NotInBrowser,
}
