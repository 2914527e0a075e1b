#![no_main]
//! See `attio_webhooks_fuzz::delivery` for the input layout and the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| attio_webhooks_fuzz::delivery::delivery_parse(data));
