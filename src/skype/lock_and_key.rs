//! The `LockAndKey` header: the old MSN challenge-response, keyed with
//! SHA-256, that the messaging host demands before it registers an endpoint
//! (docs/skype-protocol.md §3, with the test vectors used below).

use sha2::{Digest, Sha256};

/// The application id the MAC is computed for.
pub const APP_ID: &str = "msmsgs@msnmsgr.com";
const PRODUCT_KEY: &str = "Q1P7W2E4J9R8U3S5";
const MODULUS: u64 = 0x7FFF_FFFF;

/// The full header value for the challenge `time` (decimal Unix seconds).
pub fn header_value(time: u64) -> String {
    format!(
        "appId={APP_ID}; time={time}; lockAndKeyResponse={}",
        response(&time.to_string())
    )
}

/// The 32-hex-character `lockAndKeyResponse` for a challenge string.
pub fn response(challenge: &str) -> String {
    let digest = Sha256::digest(format!("{challenge}{PRODUCT_KEY}").as_bytes());
    let hash: [u32; 4] =
        std::array::from_fn(|i| u32::from_le_bytes(digest[4 * i..4 * i + 4].try_into().unwrap()));

    let mut clear = format!("{challenge}{APP_ID}").into_bytes();
    // Always pad, by a full 8 when already aligned (as the reference does).
    let pad = 8 - clear.len() % 8;
    clear.resize(clear.len() + pad, b'0');

    let (mac, sum) = checksum(&clear, hash);
    let out = [hash[0] ^ mac, hash[1] ^ sum, hash[2] ^ mac, hash[3] ^ sum];
    hex::encode(
        out.iter()
            .flat_map(|w| w.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
}

/// The MSN "CS64" checksum over the padded clear text: two running values
/// mixed with the masked hash words.
fn checksum(clear: &[u8], hash: [u32; 4]) -> (u32, u32) {
    let [a, b, c, d] = hash.map(|h| u64::from(h) & MODULUS);
    let words: Vec<u64> = clear
        .chunks_exact(4)
        .map(|w| u64::from(u32::from_le_bytes(w.try_into().unwrap())))
        .collect();
    let (mut mac, mut sum) = (0u64, 0u64);
    for pair in words.chunks_exact(2) {
        mac = ((mac + (pair[0] * 242_854_337) % MODULUS) * a + b) % MODULUS;
        sum += mac;
        mac = ((mac + pair[1]) * c + d) % MODULUS;
        sum += mac;
    }
    mac = (mac + b) % MODULUS;
    sum = (sum + d) % MODULUS;
    (mac as u32, sum as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_every_vector_of_the_protocol_doc() {
        for (challenge, expected) in [
            ("1718093263", "e9a72ea6428574f6a0c38e365dc3d061"),
            ("1451606400", "362420c48750c8e5db6ec9bcdf79e32c"),
            ("1700000000", "abe5fadd8fa2021a9041e263584ea4ab"),
            ("0", "7e30ab8c9305229bc07f71417ab07032"),
            ("12345678901234", "dc9cad7e610b5bc6f722722accd9d46e"),
        ] {
            assert_eq!(response(challenge), expected, "challenge {challenge}");
        }
    }

    #[test]
    fn matches_the_intermediates_of_the_protocol_doc() {
        let digest = Sha256::digest(b"1451606400Q1P7W2E4J9R8U3S5");
        let hash: [u32; 4] = std::array::from_fn(|i| {
            u32::from_le_bytes(digest[4 * i..4 * i + 4].try_into().unwrap())
        });
        assert_eq!(hash, [0xd6ec57be, 0xbcdd2552, 0xae051d53, 0x75f60c0a]);
        let (mac, sum) = checksum(b"1451606400msmsgs@msnmsgr.com0000", hash);
        assert_eq!((mac, sum), (0x12cc7388, 0x591575d5));
    }

    #[test]
    fn header_carries_app_time_and_response() {
        assert_eq!(
            header_value(1718093263),
            "appId=msmsgs@msnmsgr.com; time=1718093263; lockAndKeyResponse=e9a72ea6428574f6a0c38e365dc3d061"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn words(hex_text: &str) -> [u32; 4] {
        let bytes = hex::decode(hex_text).unwrap();
        std::array::from_fn(|i| u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().unwrap()))
    }

    proptest! {
        /// Structure of the algorithm, checked independently of the loop:
        /// words 0 and 2 are the hash XOR the same 31-bit `mac`, words 1 and
        /// 3 the hash XOR the same 31-bit `sum`.
        #[test]
        fn output_is_hash_xor_two_31_bit_values(challenge in "[0-9]{1,20}") {
            let out = response(&challenge);
            prop_assert_eq!(out.len(), 32);
            prop_assert!(out.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            let digest = Sha256::digest(format!("{challenge}Q1P7W2E4J9R8U3S5").as_bytes());
            let hash = words(&hex::encode(&digest[..16]));
            let out = words(&out);
            let mac = out[0] ^ hash[0];
            let sum = out[1] ^ hash[1];
            prop_assert_eq!(out[2] ^ hash[2], mac);
            prop_assert_eq!(out[3] ^ hash[3], sum);
            prop_assert!(mac <= 0x7FFF_FFFF && sum <= 0x7FFF_FFFF);
        }
    }
}
