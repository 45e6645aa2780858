//! The close codes the hook sends or reacts to by default. RFC 6455 §7.4
//! defines the 1xxx ones; 4000–4999 are free for applications, and the hook
//! uses two of them for closes it decides on its own.

/// A close the app asked for (`close()`, unmount, URL change).
pub const NORMAL: u16 = 1000;
/// The peer is going away (server restart, page navigating).
pub const GOING_AWAY: u16 = 1001;
/// The peer received data it cannot accept. Terminal by default.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// No close frame arrived (the browser reports this for a dropped TCP connection).
pub const ABNORMAL: u16 = 1006;
/// The peer sent text that is not UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// The peer refuses on policy grounds. Terminal by default.
pub const POLICY: u16 = 1008;
/// A frame was larger than the peer accepts.
pub const TOO_BIG: u16 = 1009;
/// The server hit an unexpected condition.
pub const INTERNAL_ERROR: u16 = 1011;
/// The server is overloaded or the client fell behind; retry later.
pub const TRY_AGAIN_LATER: u16 = 1013;
/// The hook wrote the connection off: no frame arrived within the heartbeat timeout.
pub const HEARTBEAT_TIMEOUT: u16 = 4000;
/// The hook abandoned a handshake slower than the connect timeout.
pub const CONNECT_TIMEOUT: u16 = 4001;
/// Conventional "unauthorized" (HTTP 401 mirrored). Terminal by default.
pub const UNAUTHORIZED: u16 = 4401;
/// Conventional "forbidden" (HTTP 403 mirrored). Terminal by default.
pub const FORBIDDEN: u16 = 4403;
