//! Verifying (and making) the signature of a webhook delivery.
//!
//! Attio signs each delivery with HMAC-SHA256, keyed with the webhook's
//! secret (the 64-character string create returned, used as is), over the
//! raw body bytes. The lowercase hex digest is sent twice, in
//! `Attio-Signature` and `X-Attio-Signature`. Nothing else is signed (there
//! is no timestamp), so verify the bytes exactly as received, before any
//! parsing.

use hmac::{Hmac, Mac};
use http::HeaderName;
use sha2::Sha256;

use crate::model::Secret;

/// The signature header, `Attio-Signature`.
pub const SIGNATURE_HEADER: HeaderName = HeaderName::from_static("attio-signature");
/// The same signature under its older name, `X-Attio-Signature`.
pub const X_SIGNATURE_HEADER: HeaderName = HeaderName::from_static("x-attio-signature");

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// Neither `Attio-Signature` nor `X-Attio-Signature` was sent.
    #[error("neither Attio-Signature nor X-Attio-Signature is present")]
    MissingHeader,
    /// The signature has characters other than hex digits.
    #[error("the signature is not hexadecimal")]
    MalformedHex,
    /// The signature is not 64 hex characters (32 bytes).
    #[error("the signature has {actual} characters; an HMAC-SHA256 in hex has 64")]
    WrongLength {
        /// How many characters it had.
        actual: usize,
    },
    /// The signature is well-formed but does not match the body and secret.
    #[error("the signature does not match the body")]
    Mismatch,
}

fn mac(secret: &Secret, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac
}

/// The signature Attio would send for `body`: lowercase hex of
/// HMAC-SHA256 keyed with `secret`.
///
/// ```
/// use attio_webhooks::{signature, Secret};
/// let sig = signature::sign(&Secret::new("key"), b"The quick brown fox jumps over the lazy dog");
/// assert_eq!(sig, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
/// ```
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    const_hex::encode(mac(secret, body).finalize().into_bytes())
}

/// Checks a hex signature (either case) against `body`, in constant time.
pub fn verify_hex(secret: &Secret, body: &[u8], signature: &str) -> Result<(), SignatureError> {
    verify_hex_bytes(secret, body, signature.as_bytes())
}

fn verify_hex_bytes(secret: &Secret, body: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
    if signature.len() != 64 {
        return Err(SignatureError::WrongLength {
            actual: signature.len(),
        });
    }
    let mut expected = [0u8; 32];
    const_hex::decode_to_slice(signature, &mut expected)
        .map_err(|_| SignatureError::MalformedHex)?;
    mac(secret, body)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Checks the signature header of a delivery against its raw `body`.
///
/// `Attio-Signature` is used when present, `X-Attio-Signature` otherwise.
/// The comparison is constant-time (`hmac`'s `verify_slice`).
///
/// ```
/// use attio_webhooks::{signature, Secret};
/// let secret = Secret::new("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
/// let body = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-attio-signature", signature::sign(&secret, body).to_uppercase().parse().unwrap());
/// assert_eq!(signature::verify(&secret, body, &headers), Ok(()));
/// assert_eq!(signature::verify(&secret, b"tampered", &headers), Err(signature::SignatureError::Mismatch));
/// ```
pub fn verify(
    secret: &Secret,
    body: &[u8],
    headers: &http::HeaderMap,
) -> Result<(), SignatureError> {
    let value = headers
        .get(&SIGNATURE_HEADER)
        .or_else(|| headers.get(&X_SIGNATURE_HEADER))
        .ok_or(SignatureError::MissingHeader)?;
    // Non-ASCII bytes are not hex digits either: MalformedHex.
    verify_hex_bytes(secret, body, value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &str, value: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
        headers
    }

    #[test]
    fn each_failure_has_its_own_error() {
        let secret = Secret::new("s");
        let good = sign(&secret, b"body");
        assert_eq!(
            verify(&secret, b"body", &http::HeaderMap::new()),
            Err(SignatureError::MissingHeader)
        );
        assert_eq!(
            verify(&secret, b"body", &headers("attio-signature", &good[..63])),
            Err(SignatureError::WrongLength { actual: 63 })
        );
        let not_hex = format!("{}zz", &good[..62]);
        assert_eq!(
            verify(&secret, b"body", &headers("attio-signature", &not_hex)),
            Err(SignatureError::MalformedHex)
        );
        assert_eq!(
            verify(
                &Secret::new("t"),
                b"body",
                &headers("attio-signature", &good)
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                &secret,
                b"body",
                &headers("Attio-Signature", &good.to_uppercase())
            ),
            Ok(())
        );
    }

    #[test]
    fn the_primary_header_wins() {
        let secret = Secret::new("s");
        let mut both = headers("attio-signature", &sign(&secret, b"body"));
        both.insert(X_SIGNATURE_HEADER, "00".repeat(32).parse().unwrap());
        assert_eq!(verify(&secret, b"body", &both), Ok(()));
    }
}
