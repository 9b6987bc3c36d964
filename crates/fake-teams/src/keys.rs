//! Test-only RSA signing keys, made fresh when a fake starts (nothing
//! secret is ever committed), and their public halves as the JWKS shows
//! them.
//!
//! A key stays known to the fake after it is retired from the JWKS, so a
//! test can still sign with it: a token signed by a retired key must be
//! refused exactly like one signed by a key the bot never saw.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use serde_json::{Value, json};

/// The channels a Bot Framework signing key vouches for by default.
pub(crate) const DEFAULT_ENDORSEMENTS: &[&str] = &["msteams", "skype", "webchat", "emulator"];

/// One RSA key pair with its key id and endorsements.
pub(crate) struct SigningKey {
    pub kid: String,
    pub endorsements: Vec<String>,
    /// PKCS#1 `RSAPrivateKey` DER: what the signing library takes.
    pub private_pkcs1: Vec<u8>,
    /// Big-endian modulus, no leading zero.
    pub modulus: Vec<u8>,
    /// Big-endian public exponent.
    pub exponent: Vec<u8>,
    /// `SubjectPublicKeyInfo` DER.
    pub public_der: Vec<u8>,
}

impl SigningKey {
    /// A fresh 2048-bit key (the size the real service publishes).
    pub fn generate(kid: String, endorsements: Vec<String>) -> SigningKey {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let pkcs8: Pkcs8V1Der<'static> = pair.as_der().expect("PKCS#8 export");
        let private_pkcs1 = pkcs1_of_pkcs8(pkcs8.as_ref()).expect("PKCS#8 wraps PKCS#1");
        let public = pair.public_key();
        let public_der: PublicKeyX509Der<'static> = public.as_der().expect("SPKI export");
        SigningKey {
            kid,
            endorsements,
            private_pkcs1,
            modulus: public.modulus().big_endian_without_leading_zero().to_vec(),
            exponent: public.exponent().big_endian_without_leading_zero().to_vec(),
            public_der: public_der.as_ref().to_vec(),
        }
    }

    /// The JWKS entry, in the real document's field set (less `x5c`: the
    /// fake has no certificate; `n` and `e` are what a verifier needs).
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": b64url(&self.modulus),
            "e": b64url(&self.exponent),
            "endorsements": self.endorsements,
        })
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`): the bytes a
    /// confused verifier would use as an HMAC secret.
    pub fn public_pem(&self) -> String {
        let body = base64::engine::general_purpose::STANDARD.encode(&self.public_der);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or(""));
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }
}

/// Unpadded base64url, as JOSE uses everywhere.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A key id shaped like the real ones (27 base64url characters).
pub(crate) fn new_kid() -> String {
    let bytes: Vec<u8> = std::iter::repeat_with(|| fastrand::u8(..))
        .take(20)
        .collect();
    b64url(&bytes)
}

/// The `privateKey` OCTET STRING of a PKCS#8 `PrivateKeyInfo`:
/// `SEQUENCE { INTEGER version, SEQUENCE algorithm, OCTET STRING key, ... }`.
fn pkcs1_of_pkcs8(der: &[u8]) -> Option<Vec<u8>> {
    let (tag, outer, _) = der_item(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, _, rest) = der_item(outer)?;
    if tag != 0x02 {
        return None;
    }
    let (tag, _, rest) = der_item(rest)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, key, _) = der_item(rest)?;
    (tag == 0x04).then(|| key.to_vec())
}

/// One DER item: its tag, its contents and what follows it.
fn der_item(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_what_its_public_half_verifies() {
        let start = std::time::Instant::now();
        let key = SigningKey::generate(new_kid(), vec!["msteams".into()]);
        eprintln!("key generation took {:?}", start.elapsed());
        let encoding = jsonwebtoken::EncodingKey::from_rsa_der(&key.private_pkcs1);
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        let token = jsonwebtoken::encode(&header, &json!({"a": 1}), &encoding).unwrap();
        let decoding =
            jsonwebtoken::DecodingKey::from_rsa_raw_components(&key.modulus, &key.exponent);
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
        assert!(
            key.public_pem()
                .starts_with("-----BEGIN PUBLIC KEY-----\nMII")
        );
    }
}
