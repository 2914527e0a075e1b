//! The fuzz targets' checks, run in the ordinary test suite on every input
//! committed under `fuzz/corpus/<target>/` (the minimized corpus) and
//! `fuzz/regressions/<target>/` (every input that ever crashed a target).
//! The checks are the very functions the `cargo fuzz` targets call
//! (`fuzz/src/`), so a property that held while fuzzing keeps holding on
//! what the fuzzer found, without nightly or libFuzzer.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use std::path::Path;

/// Runs `check` on every file of the target's corpus and regressions;
/// returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(
                outcome.is_ok(),
                "{} fails its target's checks",
                path.display()
            );
            count += 1;
        }
    }
    count
}

#[test]
fn decode_responses() {
    assert!(replay("decode_responses", harness::decode::decode_responses) > 0);
}

#[test]
fn delivery_parse() {
    assert!(replay("delivery_parse", harness::delivery::delivery_parse) > 0);
}

#[test]
fn signature() {
    assert!(replay("signature", harness::signature::signature) > 0);
}

#[test]
fn filter_matches() {
    assert!(replay("filter_matches", harness::filter::filter_matches) > 0);
}

#[test]
fn fake_dispatcher() {
    assert!(replay("fake_dispatcher", harness::dispatcher::fake_dispatcher) > 0);
}
