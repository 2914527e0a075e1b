//! The delivery payload parser.

use attio_webhooks::{receive::Delivery, Filter};

/// The input is a delivery body, any bytes.
///
/// Properties of [`Delivery::parse`]:
/// - it never panics, and it accepts exactly what plain `serde_json` does,
///   with the same result;
/// - a parsed delivery serializes and parses back equal, every unknown
///   key and value kept;
/// - every event's fields can be looked up by dot path, and the `null`
///   filter passes every event.
pub fn delivery_parse(data: &[u8]) {
    // The crate's parser (a fast path, then a second pass for the error's
    // path) accepts exactly what plain serde_json accepts.
    let plain = serde_json::from_slice::<Delivery>(data);
    let delivery = match Delivery::parse(data) {
        Ok(delivery) => delivery,
        Err(error) => {
            assert!(
                plain.is_err(),
                "serde_json reads what parse refused: {error}"
            );
            super::format_error(&error);
            return;
        }
    };
    assert_eq!(
        plain.ok().as_ref(),
        Some(&delivery),
        "serde_json reads it alike"
    );
    let json = serde_json::to_vec(&delivery).expect("a parsed delivery serializes");
    let again = Delivery::parse(&json).expect("a serialized delivery parses");
    assert_eq!(
        again,
        delivery,
        "round trip through {}",
        String::from_utf8_lossy(&json)
    );
    for event in &delivery.events {
        assert!(Filter::passes(None, event));
        for path in event.fields.keys().chain(event.id.ids.keys()) {
            let _ = event.field(path);
        }
        let _ = (event.field("actor.type"), event.field("id.workspace_id"));
    }
}
