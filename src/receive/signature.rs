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
/// use attio_webhooks::{receive::signature, Secret};
/// let sig = signature::sign(&Secret::new("key"), b"The quick brown fox jumps over the lazy dog");
/// assert_eq!(sig, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
/// ```
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    const_hex::encode(mac(secret, body).finalize().into_bytes())
}

/// Checks a hex signature (either case) against `body`, in constant time.
pub fn verify_hex(secret: &Secret, body: &[u8], signature: &str) -> Result<(), SignatureError> {
    let expected = decode_signature(signature.as_bytes())?;
    check(secret, body, &expected)
}

/// Decodes a 64-character hex signature into the 32 bytes of the MAC.
fn decode_signature(signature: &[u8]) -> Result<[u8; 32], SignatureError> {
    if signature.len() != 64 {
        return Err(SignatureError::WrongLength {
            actual: signature.len(),
        });
    }
    let mut expected = [0u8; 32];
    const_hex::decode_to_slice(signature, &mut expected)
        .map_err(|_| SignatureError::MalformedHex)?;
    Ok(expected)
}

/// Compares the MAC of `body` under `secret` with `expected` in constant time.
fn check(secret: &Secret, body: &[u8], expected: &[u8; 32]) -> Result<(), SignatureError> {
    mac(secret, body)
        .verify_slice(expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The raw bytes of the signature header: `Attio-Signature` when present,
/// `X-Attio-Signature` otherwise.
fn header(headers: &http::HeaderMap) -> Result<&[u8], SignatureError> {
    headers
        .get(&SIGNATURE_HEADER)
        .or_else(|| headers.get(&X_SIGNATURE_HEADER))
        .map(http::HeaderValue::as_bytes)
        .ok_or(SignatureError::MissingHeader)
}

/// Checks the signature header of a delivery against its raw `body`.
///
/// `Attio-Signature` is used when present, `X-Attio-Signature` otherwise.
/// The comparison is constant-time (`hmac`'s `verify_slice`).
///
/// ```
/// use attio_webhooks::{receive::signature, Secret};
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
    // Non-ASCII bytes are not hex digits either: MalformedHex.
    let expected = decode_signature(header(headers)?)?;
    check(secret, body, &expected)
}

/// The secrets a receiver accepts: the current one and, while a webhook
/// is being replaced, the ones before it (secret rotation).
///
/// Never empty: it starts from one secret and grows with [`Secrets::and`].
/// `Debug` shows how many there are, never their values.
///
/// ```
/// use attio_webhooks::{Secret, receive::Secrets};
/// let secrets = Secrets::new(Secret::new("new")).and(Secret::new("old"));
/// assert_eq!(format!("{secrets:?}"), "Secrets(2 × <redacted>)");
/// assert_eq!(secrets.iter().count(), 2);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets(Vec<Secret>);

impl Secrets {
    /// A set of one secret.
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self(vec![secret.into()])
    }

    /// Adds another accepted secret (e.g. the previous webhook's). Its
    /// index in [`verify_any`]'s answer is the number added before it.
    pub fn and(mut self, secret: impl Into<Secret>) -> Self {
        self.0.push(secret.into());
        self
    }

    /// The secrets, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &Secret> {
        self.0.iter()
    }
}

impl From<Secret> for Secrets {
    fn from(secret: Secret) -> Self {
        Self::new(secret)
    }
}

impl core::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Secrets({} × <redacted>)", self.0.len())
    }
}

/// Checks the signature header of a delivery against its raw `body` with
/// each of `secrets`, and answers the index of the first that matches.
///
/// Every secret is tried, each with a constant-time comparison, whether or
/// not an earlier one matched, so the time taken does not tell which
/// secret signed the body. The header is read as in [`verify`].
///
/// ```
/// use attio_webhooks::{receive::signature, Secret, receive::Secrets};
/// let (old, new) = (Secret::new("old"), Secret::new("new"));
/// let secrets = Secrets::new(new.clone()).and(old.clone());
/// let body = br#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("attio-signature", signature::sign(&old, body).parse().unwrap());
/// assert_eq!(signature::verify_any(&secrets, body, &headers), Ok(1));
/// headers.insert("attio-signature", signature::sign(&new, body).parse().unwrap());
/// assert_eq!(signature::verify_any(&secrets, body, &headers), Ok(0));
/// assert_eq!(
///     signature::verify_any(&Secrets::new(Secret::new("other")), body, &headers),
///     Err(signature::SignatureError::Mismatch)
/// );
/// ```
pub fn verify_any(
    secrets: &Secrets,
    body: &[u8],
    headers: &http::HeaderMap,
) -> Result<usize, SignatureError> {
    let expected = decode_signature(header(headers)?)?;
    let mut matched = None;
    for (index, secret) in secrets.iter().enumerate() {
        let ok = check(secret, body, &expected).is_ok();
        if ok && matched.is_none() {
            matched = Some(index);
        }
    }
    matched.ok_or(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_of_secrets_debugs_as_a_count_only() {
        let secrets = Secrets::new(Secret::new("current-s3cret")).and(Secret::new("old-s3cret"));
        let shown = format!("{secrets:?}");
        assert_eq!(shown, "Secrets(2 × <redacted>)");
        assert!(!shown.contains("s3cret"));
    }

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
    fn any_of_several_secrets_passes_and_each_failure_is_told_apart() {
        let (a, b) = (Secret::new("a"), Secret::new("b"));
        let both = Secrets::new(a.clone()).and(b.clone());
        let by_b = headers("x-attio-signature", &sign(&b, b"body"));
        assert_eq!(verify_any(&both, b"body", &by_b), Ok(1));
        assert_eq!(
            verify_any(&Secrets::new(a), b"body", &by_b),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_any(&both, b"other body", &by_b),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_any(&both, b"body", &http::HeaderMap::new()),
            Err(SignatureError::MissingHeader)
        );
        assert_eq!(
            verify_any(&both, b"body", &headers("attio-signature", "abc")),
            Err(SignatureError::WrongLength { actual: 3 })
        );
        // The same secret twice: the first index is the answer.
        let twice = Secrets::new(b.clone()).and(b);
        assert_eq!(verify_any(&twice, b"body", &by_b), Ok(0));
    }

    #[test]
    fn the_primary_header_wins() {
        let secret = Secret::new("s");
        let mut both = headers("attio-signature", &sign(&secret, b"body"));
        both.insert(X_SIGNATURE_HEADER, "00".repeat(32).parse().unwrap());
        assert_eq!(verify(&secret, b"body", &both), Ok(()));
    }
}
