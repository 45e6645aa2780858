//! The errors an emulated-session endpoint answers with: a status and the
//! JSON body `{"error":"<code>","message":"<human text>"}` the spec fixes
//! (ws/README.md, "Emulated connection"). Messages never carry internals.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmuError {
    #[error("no such session; start a new one")]
    UnknownSession,
    #[error("the session has expired or ended; start a new one")]
    ExpiredSession,
    #[error("{0}")]
    TooLarge(String),
    #[error("frame {got} is out of order: the next frame must be {want}")]
    OutOfOrder { got: u64, want: u64 },
    #[error("origin not allowed")]
    OriginNotAllowed,
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    ServerFull(String),
    /// The session may well be alive on another instance that cannot be
    /// reached just now: retry, do not start over.
    #[error("{0}")]
    Unavailable(String),
}

impl EmuError {
    pub fn code(&self) -> &'static str {
        match self {
            EmuError::UnknownSession => "unknown_session",
            EmuError::ExpiredSession => "expired_session",
            EmuError::TooLarge(_) => "too_large",
            EmuError::OutOfOrder { .. } => "out_of_order",
            EmuError::OriginNotAllowed => "origin_not_allowed",
            EmuError::RateLimited(_) => "rate_limited",
            EmuError::BadRequest(_) => "bad_request",
            EmuError::ServerFull(_) => "server_full",
            EmuError::Unavailable(_) => "unavailable",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            EmuError::UnknownSession => StatusCode::NOT_FOUND,
            EmuError::ExpiredSession => StatusCode::GONE,
            EmuError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            EmuError::OutOfOrder { .. } => StatusCode::CONFLICT,
            EmuError::OriginNotAllowed => StatusCode::FORBIDDEN,
            EmuError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            EmuError::BadRequest(_) => StatusCode::BAD_REQUEST,
            EmuError::ServerFull(_) | EmuError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        EmuError::BadRequest(message.into())
    }
}

impl IntoResponse for EmuError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
        let mut resp = (self.status(), [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response();
        if let EmuError::Unavailable(_) = self {
            resp.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        resp
    }
}
