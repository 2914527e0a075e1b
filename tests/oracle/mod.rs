//! Oracles the tests compute on their own, sharing no code with the crate.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Lowercase hex HMAC-SHA256 of `body` keyed with `secret`: what Attio puts
/// in `Attio-Signature`, computed with `hmac` + `sha2` directly rather than
/// with the crate's signer.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
