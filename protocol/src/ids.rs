//! Message ids as the app makes them: UUID version 7 (RFC 9562), text.
//!
//! The id is the server's dedup key, so the store keeps a unique index on
//! it. A random id (version 4) lands each insert on a random page of that
//! index: every post of a group commit dirties a page of its own, which the
//! commit writes to the log and the fsync flushes, and a long-lived database
//! reads those pages back from disk. Version 7 starts with the time in
//! milliseconds, so ids written together sort together and a commit's
//! inserts share the index's last page or two. The 74 random bits keep ids
//! unique and unguessable; nothing relies on their order.
//!
//! What it gives away: everyone in the room receives the id, so they learn
//! the sender's clock to the millisecond when the message was written,
//! which the server's `ts_ms` does not say for a message typed offline and
//! sent later, and how far that clock is off.

/// Formats `random` as a version-7 UUID stamped `unix_ms` (milliseconds
/// since 1970; only the low 48 bits fit, enough until the year 10889).
pub fn uuid_v7(unix_ms: u64, random: [u8; 10]) -> String {
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
    b[6..].copy_from_slice(&random);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        for nibble in [byte >> 4, byte & 0x0f] {
            out.push(char::from(b"0123456789abcdef"[usize::from(nibble)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uuid_v7;
    use crate::validate_id;

    #[test]
    fn formats_a_version_7_variant_1_uuid() {
        assert_eq!(uuid_v7(0, [0; 10]), "00000000-0000-7000-8000-000000000000");
        assert_eq!(uuid_v7(u64::MAX, [0xff; 10]), "ffffffff-ffff-7fff-bfff-ffffffffffff");
        // The RFC's own example (RFC 9562, appendix A.6), version and
        // variant bits set over whatever the random bytes held there.
        assert_eq!(
            uuid_v7(0x017f_22e2_79b0, [0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f]),
            "017f22e2-79b0-7cc3-98c4-dc0c0c07398f"
        );
        let id = uuid_v7(0x0123_4567_89ab, [0xaa; 10]);
        assert_eq!(id, "01234567-89ab-7aaa-aaaa-aaaaaaaaaaaa");
        assert!(validate_id(&id).is_ok());
    }

    #[test]
    fn later_ids_sort_after_earlier_ones_whatever_their_random_bits() {
        let earlier = uuid_v7(1_795_896_000_000, [0xff; 10]);
        let later = uuid_v7(1_795_896_000_001, [0; 10]);
        assert!(earlier < later, "{earlier} < {later}");
    }
}
