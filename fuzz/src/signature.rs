//! The signature header parser and verifier.

use attio_webhooks::receive::signature::{
    self, SignatureError, SIGNATURE_HEADER, X_SIGNATURE_HEADER,
};
use attio_webhooks::{receive::Secrets, Secret};

use super::Message;

/// The input is a delivery as the receiver sees it: the first line holds
/// the secrets the receiver accepts, separated by spaces (none means the
/// one secret `""`), then the request's headers and its body.
///
/// The oracle for [`signature::verify`] and [`signature::verify_any`] is
/// the definition, computed here without their parsing: the header used is
/// `Attio-Signature` if present, else `X-Attio-Signature`; it passes for a
/// secret exactly when it is, ignoring ASCII case, the lowercase hex that
/// [`signature::sign`] gives. Each failure must be the right
/// [`SignatureError`] for why.
pub fn signature(data: &[u8]) {
    let message = Message::parse(data);
    let secrets: Vec<Secret> = String::from_utf8_lossy(message.first_line)
        .split(' ')
        .map(Secret::new)
        .collect();
    let body = message.body;
    let headers = &message.headers;

    let sent = headers
        .get(&SIGNATURE_HEADER)
        .or_else(|| headers.get(&X_SIGNATURE_HEADER))
        .map(|v| v.as_bytes());
    let expected_failure = match sent {
        None => Some(SignatureError::MissingHeader),
        Some(s) if s.len() != 64 => Some(SignatureError::WrongLength { actual: s.len() }),
        Some(s) if !s.iter().all(u8::is_ascii_hexdigit) => Some(SignatureError::MalformedHex),
        Some(_) => None,
    };
    let signed_by = |secret: &Secret| {
        sent.is_some_and(|s| s.eq_ignore_ascii_case(signature::sign(secret, body).as_bytes()))
    };

    for secret in &secrets {
        let want = match &expected_failure {
            Some(failure) => Err(failure.clone()),
            None if signed_by(secret) => Ok(()),
            None => Err(SignatureError::Mismatch),
        };
        assert_eq!(signature::verify(secret, body, headers), want);
        if let Some(sent) = sent.and_then(|s| std::str::from_utf8(s).ok()) {
            let hex = signature::verify_hex(secret, body, sent);
            assert_eq!(hex, want, "verify_hex agrees with verify");
        }
    }

    let mut all = Secrets::new(secrets[0].clone());
    for secret in &secrets[1..] {
        all = all.and(secret.clone());
    }
    let want = match expected_failure {
        Some(failure) => Err(failure),
        None => secrets
            .iter()
            .position(signed_by)
            .ok_or(SignatureError::Mismatch),
    };
    let got = signature::verify_any(&all, body, headers);
    assert_eq!(got, want);
    if let Err(error) = got {
        super::format_error(&error);
    }
}
