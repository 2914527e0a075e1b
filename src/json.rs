//! JSON decoding that says where it failed.

use serde::de::DeserializeOwned;

/// Where and why a JSON document did not decode.
#[derive(Debug)]
pub(crate) struct JsonFailure {
    /// The path of the failure, e.g. `data[3].id.webhook_id`; `.` for the
    /// document as a whole (bad syntax before any key, trailing bytes).
    pub(crate) path: String,
    /// What the parser said.
    pub(crate) message: String,
    /// Not JSON at all (syntax, end of input, trailing bytes), rather than
    /// JSON of the wrong shape.
    pub(crate) malformed: bool,
}

/// Decodes `bytes` into `T`. The fast path is a plain `serde_json` decode;
/// only when it fails is the document decoded again with path tracking,
/// so success pays nothing for the path.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonFailure> {
    // Checking UTF-8 once for the whole body is much cheaper than
    // serde_json checking every string on its own (`from_slice`).
    let first_error = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str::<T>(text),
        Err(_) => serde_json::from_slice::<T>(bytes),
    };
    let first_error = match first_error {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            Err(JsonFailure {
                path,
                malformed: inner.is_syntax() || inner.is_eof(),
                message: inner.to_string(),
            })
        }
        // The value decoded but the plain decode failed: trailing bytes.
        Ok(_) => Err(JsonFailure {
            path: ".".to_owned(),
            message: first_error.to_string(),
            malformed: true,
        }),
    }
}
