//! The delivery payload parser.

use attio_webhooks::{Delivery, Filter};

/// The input is a delivery body, any bytes.
///
/// Properties of [`Delivery::parse`]:
/// - it never panics;
/// - a parsed delivery serializes and parses back equal, every unknown
///   key and value kept;
/// - every event's fields can be looked up by dot path, and the `null`
///   filter passes every event.
pub fn delivery_parse(data: &[u8]) {
    let delivery = match Delivery::parse(data) {
        Ok(delivery) => delivery,
        Err(error) => {
            super::format_error(&error);
            return;
        }
    };
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
