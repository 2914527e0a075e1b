//! Row 5 by work done rather than by wall-clock time: a fixed number of
//! GETs of one webhook, or of lists of 100, sent one at a time over one
//! keep-alive connection to the fake or to wiremock answering the same
//! bytes (`common::same_bytes`, row 5's setup). Each server runs on a
//! thread of its own and the load on the main thread, so under callgrind
//! with one output file per thread, every thread but the first (`-01`) is
//! the server side; two counts give its cost per request, start-up
//! excluded:
//!
//! ```sh
//! cargo bench --bench server_instructions --no-run
//! B=$(ls -t $CARGO_TARGET_DIR/release/deps/server_instructions-* | grep -v '\.d$' | head -1)
//! for server in fake wiremock; do for request in get list100; do for n in 1000 3000; do
//!   out=/tmp/srv.$server.$request.$n
//!   valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=$out $B $server $request $n
//!   echo $server $request $n $(ls $out-* | grep -v -- '-01$' | xargs grep -h '^summary' | awk '{s += $2} END {print s}')
//! done; done; done
//! # server instructions per request = (count at 3000 - count at 1000) / 2000
//! ```

mod common;

use common::same_bytes::{Load, SameBytes};

fn main() {
    // `cargo bench` passes `--bench`; only arguments given by hand count.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| {
        args.get(i)
            .filter(|a| !a.starts_with("--"))
            .map_or(default.to_owned(), String::clone)
    };
    let (server, request) = (arg(0, "fake"), arg(1, "get"));
    let requests: usize = arg(2, "10").parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let servers = SameBytes::start(&runtime, "/v2/webhooks?limit=100");
    assert_eq!(servers.listed(&runtime), 100);
    let path = match request.as_str() {
        "get" => servers.get.as_str(),
        "list100" => servers.list.as_str(),
        other => panic!("unknown request {other:?}: get or list100"),
    };
    let base_url = match server.as_str() {
        "fake" => servers.fake.clone(),
        "wiremock" => servers.mock.uri(),
        other => panic!("unknown server {other:?}: fake or wiremock"),
    };
    let load = Load::new(&base_url, &[path]);
    runtime.block_on(load.run(1, requests));
    println!("{requests} requests {request} to {server}");
}
