//! A fixed number of one-call tests (`benches/per_test.rs`'s), for counts
//! of instructions that do not swing with the machine. Every thread
//! counts, the servers' included: run under callgrind without
//! `--separate-threads`, two counts give the cost of one test, start-up
//! (the shared server's, wiremock's pool) excluded:
//!
//! ```sh
//! cargo bench --bench per_test_instructions --no-run
//! B=$(ls -t target/release/deps/per_test_instructions-* | grep -v '\.d$' | head -1)
//! for side in shared wiremock loopback; do for n in 100 300; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/per_test.$side.$n $B $side $n 2>&1 | grep Collected
//! done; done
//! # instructions per test = (count at 300 - count at 100) / 200
//! ```

mod common;

use attio_webhooks::transport::HyperTransport;
use common::one_test::{fake_answer, fake_loopback, fake_shared, wiremock};

fn main() {
    // `cargo bench` passes `--bench`; only a side and a number given by hand count.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let side = args.first().map_or("shared", String::as_str).to_owned();
    let tests: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let transport = HyperTransport::new().unwrap();
    runtime.block_on(async {
        let answer = fake_answer(&transport).await;
        // The shared server starts before the first test, as in a suite.
        assert_eq!(fake_shared().await, 0);
        assert_eq!(wiremock(&transport, &answer).await, 0);
        for _ in 0..tests {
            let listed = match side.as_str() {
                "wiremock" => wiremock(&transport, &answer).await,
                "loopback" => fake_loopback().await,
                _ => fake_shared().await,
            };
            assert_eq!(listed, 0);
        }
    });
    println!("{tests} tests on the {side} side");
}
