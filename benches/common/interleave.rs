//! Interleaved timing: both sides of a comparison measured in one run,
//! in alternating blocks. Used by the root benches and, by path, by the
//! stores' benches (it needs only criterion and tokio).

/// How many runs of one side go between runs of the other.
const BLOCK: u64 = 32;

/// Times `mine`, running as many calls of `other` (untimed) between timed
/// blocks. Used for both sides of a comparison, so that the slow drifts of
/// a shared machine hit both alike and their ratio holds.
pub fn interleaved<A, B, M: FnMut() -> A, O: FnMut() -> B>(
    b: &mut criterion::Bencher<'_>,
    mut mine: M,
    mut other: O,
) {
    b.iter_custom(|iters| {
        let mut total = std::time::Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let block = left.min(BLOCK);
            let start = std::time::Instant::now();
            for _ in 0..block {
                std::hint::black_box(mine());
            }
            total += start.elapsed();
            for _ in 0..block {
                std::hint::black_box(other());
            }
            left -= block;
        }
        total
    })
}

/// [`interleaved`] for async work on a runtime.
pub fn interleaved_async<A, B, FA, FB, M, O>(
    b: &mut criterion::Bencher<'_>,
    runtime: &tokio::runtime::Runtime,
    mine: M,
    other: O,
) where
    M: Fn() -> FA,
    O: Fn() -> FB,
    FA: std::future::Future<Output = A>,
    FB: std::future::Future<Output = B>,
{
    timed_pairs(b, runtime, None, mine, other)
}

/// [`interleaved_async`] that also times `other`'s blocks and, when
/// `ATTIO_BENCH_PAIRS` names a file, appends each measurement's pair to
/// it as a JSON line `{"id", "iters", "mine_ns", "other_ns"}`, `id` being
/// this bench's criterion id (`group/function`). Both sides of a pair ran
/// in the same window, alternating; `benches/ratios.py` forms the ratio
/// of such rows from the pairs, so that a drift between two bench
/// functions' windows (PostgreSQL's background work, another process)
/// does not count against one side.
pub fn paired_async<A, B, FA, FB, M, O>(
    b: &mut criterion::Bencher<'_>,
    runtime: &tokio::runtime::Runtime,
    id: &str,
    mine: M,
    other: O,
) where
    M: Fn() -> FA,
    O: Fn() -> FB,
    FA: std::future::Future<Output = A>,
    FB: std::future::Future<Output = B>,
{
    timed_pairs(b, runtime, Some(id), mine, other)
}

fn timed_pairs<A, B, FA, FB, M, O>(
    b: &mut criterion::Bencher<'_>,
    runtime: &tokio::runtime::Runtime,
    id: Option<&str>,
    mine: M,
    other: O,
) where
    M: Fn() -> FA,
    O: Fn() -> FB,
    FA: std::future::Future<Output = A>,
    FB: std::future::Future<Output = B>,
{
    let pairs = id.and_then(|id| Some((id, std::env::var_os("ATTIO_BENCH_PAIRS")?)));
    b.iter_custom(|iters| {
        let (total, other_total) = runtime.block_on(async {
            let (mut total, mut other_total) =
                (std::time::Duration::ZERO, std::time::Duration::ZERO);
            let mut left = iters;
            while left > 0 {
                let block = left.min(BLOCK);
                let start = std::time::Instant::now();
                for _ in 0..block {
                    std::hint::black_box(mine().await);
                }
                total += start.elapsed();
                let start = std::time::Instant::now();
                for _ in 0..block {
                    std::hint::black_box(other().await);
                }
                other_total += start.elapsed();
                left -= block;
            }
            (total, other_total)
        });
        if let Some((id, path)) = &pairs {
            use std::io::Write;
            let line = format!(
                "{{\"id\":\"{id}\",\"iters\":{iters},\"mine_ns\":{},\"other_ns\":{}}}\n",
                total.as_nanos(),
                other_total.as_nanos()
            );
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(line.as_bytes()))
                .expect("ATTIO_BENCH_PAIRS names a file that can be appended to");
        }
        total
    })
}
