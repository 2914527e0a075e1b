//! A fixed number of GETs over loopback, through the client or through a
//! hand-written hyper-util request decoding the same typed `Webhook` (row
//! 1's pair), against the fake served from a thread of its own. Run under
//! callgrind with one output file per thread, the calling thread's count
//! is the cost of the calling side alone, whatever the machine is doing;
//! two counts give the cost per GET, start-up excluded:
//!
//! ```sh
//! cargo bench --bench get_instructions --no-run
//! B=$(ls -t target/release/deps/get_instructions-* | grep -v '\.d$' | head -1)
//! for side in client raw; do for n in 1000 3000; do
//!   valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=/tmp/get.$side.$n $B $side $n
//!   grep -m1 summary /tmp/get.$side.$n-01   # the calling thread
//! done; done
//! # instructions per GET = (count at 3000 - count at 1000) / 2000
//! ```

mod common;

fn main() {
    // `cargo bench` passes `--bench`; only a side and a number given by hand count.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let side = args.first().map_or("client", String::as_str).to_owned();
    let gets: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let pair = common::GetPair::new(0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for _ in 0..gets {
            let webhook = if side == "raw" {
                pair.raw().await
            } else {
                pair.client().await
            };
            assert_eq!(webhook.webhook_id(), pair.id);
        }
    });
    println!("{gets} GETs through the {side} side");
}
