//! Client message ids: UUID v4 text. The id is the server's dedup key, so it
//! must come from a real random source (`crypto.getRandomValues`, which,
//! unlike `crypto.randomUUID`, also works on plain-http origins).

/// Format 16 random bytes as a version-4, variant-1 UUID.
pub fn uuid_v4_from(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A fresh id from the browser's CSPRNG; `Math.random` only if there is no
/// `crypto` at all (then ids are still unique in practice, just guessable).
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    uuid_v4_from(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_a_valid_v4_uuid() {
        let id = uuid_v4_from([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = uuid_v4_from([0; 16]);
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
        assert!(tether_protocol::validate_id(&id).is_ok());
    }
}
