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
    b.iter_custom(|iters| {
        runtime.block_on(async {
            let mut total = std::time::Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let block = left.min(BLOCK);
                let start = std::time::Instant::now();
                for _ in 0..block {
                    std::hint::black_box(mine().await);
                }
                total += start.elapsed();
                for _ in 0..block {
                    std::hint::black_box(other().await);
                }
                left -= block;
            }
            total
        })
    })
}
