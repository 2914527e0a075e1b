#![no_main]
//! See `attio_webhooks_fuzz::filter` for the input layout and the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| attio_webhooks_fuzz::filter::filter_matches(data));
