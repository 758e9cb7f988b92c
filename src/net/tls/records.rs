//! The sizes of the TLS records rustls writes, so that a piece of
//! plaintext cut short on the wire can be credited with exactly the records
//! that went out whole (the only ones the peer can decrypt): the two-thread
//! TLS bridge counts `bytesWritten` with it.

/// How rustls turns plaintext into records on this connection: pieces of
/// at most [`FRAGMENT`] bytes (rustls's default; we never set
/// `max_fragment_size`), each with a fixed overhead for the suite. The
/// one exception, a KeyUpdate that rustls slips in at the key's usage
/// limit (after 2^24 records, 256 GiB), could make a cut-short piece
/// count a record less or more; nothing else could.
#[derive(Clone, Copy, Debug)]
pub(super) struct RecordSizes {
    overhead: usize,
}

/// The most plaintext rustls puts in one record.
const FRAGMENT: usize = 16 * 1024;

impl RecordSizes {
    pub(super) fn of(conn: &rustls::Connection) -> RecordSizes {
        use rustls::{CipherSuite, ProtocolVersion};
        // 5: the record header; 16: the AEAD tag (every suite rustls has).
        let overhead = match conn.protocol_version() {
            // 1: the inner content type (rustls adds no padding).
            Some(ProtocolVersion::TLSv1_3) => 5 + 1 + 16,
            _ => match conn.negotiated_cipher_suite().map(|s| s.suite()) {
                Some(
                    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                    | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                ) => 5 + 16,
                // AES-GCM under TLS 1.2: 8 bytes of explicit nonce.
                _ => 5 + 8 + 16,
            },
        };
        RecordSizes { overhead }
    }

    /// How much of a `plain`-byte piece reached the wire in whole records,
    /// after `wire` of its bytes were written.
    pub(super) fn whole(self, plain: usize, wire: u64) -> usize {
        let records = plain.div_ceil(FRAGMENT);
        let total = (plain + records * self.overhead) as u64;
        if wire >= total {
            return plain;
        }
        let full = (wire / (FRAGMENT + self.overhead) as u64) as usize;
        (full * FRAGMENT).min(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TLS13: RecordSizes = RecordSizes { overhead: 22 };

    #[test]
    fn a_piece_is_credited_with_its_whole_records_only() {
        let rec = FRAGMENT + 22;
        assert_eq!(TLS13.whole(100_000, 0), 0);
        assert_eq!(TLS13.whole(100_000, rec as u64 - 1), 0);
        assert_eq!(TLS13.whole(100_000, rec as u64), FRAGMENT);
        assert_eq!(TLS13.whole(100_000, 3 * rec as u64 + 7), 3 * FRAGMENT);
        // 100,000 bytes are six full records and one of 1,696.
        let total = 100_000 + 7 * 22;
        assert_eq!(TLS13.whole(100_000, total as u64 - 1), 6 * FRAGMENT);
        assert_eq!(TLS13.whole(100_000, total as u64), 100_000);
        assert_eq!(TLS13.whole(2 * FRAGMENT, 2 * rec as u64), 2 * FRAGMENT);
        assert_eq!(TLS13.whole(0, 0), 0);
    }
}
