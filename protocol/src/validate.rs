//! Client-side and server-side checks of user input, so both refuse the
//! same things with the same words.

use crate::{MAX_BODY_CHARS, MAX_ID_CHARS, MAX_NICK_CHARS, MAX_ROOM_CHARS};

/// Why a client-side value cannot be sent. Checked before sending so the UI
/// can say exactly what is wrong.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ValidationError {
    #[error("nickname must be 1 to {MAX_NICK_CHARS} characters")]
    Nick,
    #[error("room name must be 1 to {MAX_ROOM_CHARS} letters, digits, '-' or '_'")]
    Room,
    #[error("message is empty")]
    EmptyBody,
    #[error("message is {0} characters; the limit is {MAX_BODY_CHARS}")]
    BodyTooLong(usize),
    #[error("message id must be 1 to {MAX_ID_CHARS} characters")]
    Id,
    #[error("nickname must not contain invisible or text-direction characters (U+{0:04X})")]
    NickInvisible(u32),
    #[error("message contains a control character (U+{0:04X}); only newline and tab are allowed")]
    BodyControl(u32),
}

/// Characters that are invisible or reorder text (bidi controls, zero-width
/// spaces and joiners, BOM): in a nickname they let one user pose as another.
pub fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}')
}

/// A nickname: trimmed, 1..=32 characters, no control, invisible or
/// text-direction characters.
pub fn validate_nick(nick: &str) -> Result<(), ValidationError> {
    let n = nick.chars().count();
    if n == 0 || n > MAX_NICK_CHARS || nick.trim() != nick || nick.chars().any(char::is_control) {
        return Err(ValidationError::Nick);
    }
    if let Some(c) = nick.chars().find(|&c| is_invisible_or_bidi(c)) {
        return Err(ValidationError::NickInvisible(c.into()));
    }
    Ok(())
}

/// A room name: 1..=64 of `[A-Za-z0-9_-]`, so it is safe in URLs and logs.
pub fn validate_room(room: &str) -> Result<(), ValidationError> {
    let n = room.chars().count();
    if n == 0 || n > MAX_ROOM_CHARS || !room.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ValidationError::Room);
    }
    Ok(())
}

/// A body: not blank, at most [`MAX_BODY_CHARS`] characters, no control
/// characters but newline and tab (they are invisible, and cost six bytes
/// each as JSON).
pub fn validate_body(body: &str) -> Result<(), ValidationError> {
    if body.trim().is_empty() {
        return Err(ValidationError::EmptyBody);
    }
    let n = body.chars().count();
    if n > MAX_BODY_CHARS {
        return Err(ValidationError::BodyTooLong(n));
    }
    if let Some(c) = body.chars().find(|&c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValidationError::BodyControl(c.into()));
    }
    Ok(())
}

/// A client message id: 1..=64 printable ASCII characters.
pub fn validate_id(id: &str) -> Result<(), ValidationError> {
    if id.is_empty() || id.len() > MAX_ID_CHARS || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ValidationError::Id);
    }
    Ok(())
}
