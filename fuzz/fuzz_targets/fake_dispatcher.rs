#![no_main]
//! See `attio_webhooks_fuzz::dispatcher` for the input layout and the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| attio_webhooks_fuzz::dispatcher::fake_dispatcher(data));
