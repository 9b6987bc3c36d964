//! The LockAndKey MAC the messaging host checks on registration: the old
//! MSN challenge algorithm keyed with SHA-256 (protocol doc, "The LockAndKey
//! MAC"). Written from the description, independently of the client's
//! copy, so that a shared misreading cannot make both sides agree.

use sha2::{Digest, Sha256};

/// The application id the MAC is computed for.
pub const APP_ID: &str = "msmsgs@msnmsgr.com";
/// The secret appended to the challenge before hashing.
pub const SECRET: &str = "Q1P7W2E4J9R8U3S5";
/// The modulus of the MAC arithmetic.
const MODULUS: u64 = 0x7FFF_FFFF;
/// The multiplier applied to each first word of a pair.
const MULTIPLIER: u64 = 242_854_337;

/// The padded clear text: challenge + app id, then `'0'` bytes up to the next
/// multiple of 8 (a full 8 when already aligned).
pub fn clear_text(challenge: &str) -> Vec<u8> {
    let mut clear = format!("{challenge}{APP_ID}").into_bytes();
    let padding = 8 - clear.len() % 8;
    clear.resize(clear.len() + padding, b'0');
    clear
}

/// The key: the first 16 bytes of SHA-256(challenge + secret) as four
/// little-endian `u32`.
pub fn key_words(challenge: &str) -> [u32; 4] {
    let digest = Sha256::digest(format!("{challenge}{SECRET}").as_bytes());
    let mut words = [0u32; 4];
    for (i, word) in words.iter_mut().enumerate() {
        *word = u32::from_le_bytes([
            digest[4 * i],
            digest[4 * i + 1],
            digest[4 * i + 2],
            digest[4 * i + 3],
        ]);
    }
    words
}

/// The two accumulators `(mac, sum)` before they are mixed into the key.
pub fn mac_and_sum(challenge: &str) -> (u32, u32) {
    let key = key_words(challenge);
    let [a, b, c, d] = key.map(|k| u64::from(k) & MODULUS);
    let clear = clear_text(challenge);
    let (mut mac, mut sum) = (0u64, 0u64);
    for pair in clear.chunks_exact(8) {
        let first = u64::from(u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]));
        let second = u64::from(u32::from_le_bytes([pair[4], pair[5], pair[6], pair[7]]));
        // Bounds: mac < 2^31, words < 2^32, a..d < 2^31, so every product
        // stays below 2^64 and u64 never overflows.
        mac = ((mac + (first * MULTIPLIER) % MODULUS) * a + b) % MODULUS;
        sum += mac;
        mac = ((mac + second) * c + d) % MODULUS;
        sum += mac;
    }
    mac = (mac + b) % MODULUS;
    sum = (sum + d) % MODULUS;
    // Both are reduced modulo 2^31 - 1 above, so they fit in u32.
    (mac as u32, sum as u32)
}

/// The 32-character lowercase hex `lockAndKeyResponse` for a challenge.
pub fn response(challenge: &str) -> String {
    let key = key_words(challenge);
    let (mac, sum) = mac_and_sum(challenge);
    let mixed = [key[0] ^ mac, key[1] ^ sum, key[2] ^ mac, key[3] ^ sum];
    let bytes: Vec<u8> = mixed.iter().flat_map(|w| w.to_le_bytes()).collect();
    hex::encode(bytes)
}

/// The parts of a `LockAndKey` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockAndKeyHeader {
    /// The `time=` challenge, decimal digits.
    pub time: String,
    /// The `lockAndKeyResponse=` MAC as sent.
    pub response: String,
}

/// Parse `appId=msmsgs@msnmsgr.com; time=<digits>; lockAndKeyResponse=<32 hex>`
/// exactly as SkPy formats it, and check the MAC.
pub fn verify_header(value: &str) -> Result<LockAndKeyHeader, LockAndKeyError> {
    let parts: Vec<&str> = value.split(';').map(str::trim).collect();
    let [app, time, mac] = parts.as_slice() else {
        return Err(LockAndKeyError::Malformed(
            "expected appId=...; time=...; lockAndKeyResponse=...".into(),
        ));
    };
    let app = app.strip_prefix("appId=").ok_or_else(|| {
        LockAndKeyError::Malformed("first part must be appId=msmsgs@msnmsgr.com".into())
    })?;
    if app != APP_ID {
        return Err(LockAndKeyError::Malformed(format!(
            "appId must be {APP_ID}, got {app}"
        )));
    }
    let time = time
        .strip_prefix("time=")
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| LockAndKeyError::Malformed("second part must be time=<digits>".into()))?;
    let mac = mac
        .strip_prefix("lockAndKeyResponse=")
        .filter(|m| m.len() == 32 && m.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .ok_or_else(|| {
            LockAndKeyError::Malformed(
                "third part must be lockAndKeyResponse=<32 lowercase hex>".into(),
            )
        })?;
    let expected = response(time);
    if mac != expected {
        return Err(LockAndKeyError::WrongMac {
            time: time.to_string(),
        });
    }
    Ok(LockAndKeyHeader {
        time: time.to_string(),
        response: mac.to_string(),
    })
}

/// Why a `LockAndKey` header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAndKeyError {
    /// The header does not have SkPy's shape.
    Malformed(String),
    /// The shape is right but the MAC is not the one for `time`.
    WrongMac {
        /// The challenge the MAC was checked against.
        time: String,
    },
}
