//! Deterministic data parallelism: work is spread over scoped threads and the results come
//! back in input order, so output never depends on the number of threads.
//!
//! The core takes the thread count as an argument (the shell knows the machine; the core
//! does not look). One thread runs everything on the caller's thread.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Most items handed to a thread at a time: large enough that the shared counter is not
/// contended, small enough that uneven items still spread evenly. Few items go one by one
/// (a handful of large chunks of work must still spread over the cores).
const BATCH: usize = 64;

/// `items.iter().map(f).collect()`, on up to `threads` threads.
pub fn map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let batch = (items.len() / (threads * 8)).clamp(1, BATCH);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let start = next.fetch_add(batch, Ordering::Relaxed);
            if start >= items.len() {
                break;
            }
            let end = (start + batch).min(items.len());
            done.push((start, items[start..end].iter().map(&f).collect()));
        }
        done
    };
    let mut batches: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            match helper.join() {
                Ok(part) => all.extend(part),
                // A panic in a helper is a bug; surface it on the caller's thread unchanged.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    batches.sort_unstable_by_key(|(start, _)| *start);
    let mut out = Vec::with_capacity(items.len());
    for (_, batch) in batches {
        out.extend(batch);
    }
    out
}

/// Splits `items` into at most `threads` contiguous runs of nearly equal length, applies `f`
/// to each run on its own thread, and returns the results in run order. For work whose runs
/// are then joined (lowering documents into partial models).
pub fn map_runs<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(Vec<T>) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().div_ceil(BATCH).max(1));
    if threads == 1 {
        return vec![f(items)];
    }
    let run_len = items.len().div_ceil(threads);
    let mut runs = Vec::with_capacity(threads);
    let mut rest = items;
    while rest.len() > run_len {
        let tail = rest.split_off(run_len);
        runs.push(rest);
        rest = tail;
    }
    runs.push(rest);
    let f = &f;
    std::thread::scope(|scope| {
        let mut runs = runs.into_iter();
        let first = runs.next().unwrap_or_default();
        let helpers: Vec<_> = runs.map(|run| scope.spawn(move || f(run))).collect();
        let mut out = vec![f(first)];
        for helper in helpers {
            match helper.join() {
                Ok(result) => out.push(result),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// Runs `a` and `b` at the same time when there are `threads` of at least 2 (`b` on a thread
/// of its own, `a` on the caller's), else one after the other. For a step on one thread that
/// can overlap independent work: `b` gets `threads - 1` to share out itself.
pub fn join<A: Send, B: Send>(
    threads: usize,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce(usize) -> B + Send,
) -> (A, B) {
    if threads <= 1 {
        return (a(), b(1));
    }
    std::thread::scope(|scope| {
        let helper = scope.spawn(move || b(threads - 1));
        let a = a();
        match helper.join() {
            Ok(b) => (a, b),
            // A panic in the helper is a bug; surface it on the caller's thread unchanged.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::map;

    #[test]
    fn join_gives_both_results_and_the_helper_the_threads_left() {
        for threads in [0, 1, 2, 5] {
            let (a, b) = super::join(threads, || "a", |left| left);
            assert_eq!(a, "a");
            assert_eq!(b, threads.saturating_sub(1).max(1), "threads = {threads}");
        }
    }

    #[test]
    fn results_keep_input_order_for_any_thread_count() {
        let items: Vec<u64> = (0..1000).collect();
        let serial: Vec<u64> = items.iter().map(|x| x * x + 1).collect();
        for threads in [0, 1, 2, 3, 8] {
            assert_eq!(map(&items, threads, |x| x * x + 1), serial, "threads = {threads}");
        }
    }

    #[test]
    fn runs_are_contiguous_and_in_order() {
        let items: Vec<u32> = (0..1000).collect();
        for threads in [0, 1, 2, 3, 7] {
            let runs = super::map_runs(items.clone(), threads, |run| run);
            assert!(runs.len() <= threads.max(1), "threads = {threads}");
            assert_eq!(runs.concat(), items, "threads = {threads}");
        }
        assert_eq!(super::map_runs(Vec::<u8>::new(), 4, |run| run.len()), vec![0]);
    }

    #[test]
    fn short_inputs_and_empty_inputs_work() {
        assert_eq!(map(&[] as &[u8], 4, |x| *x), Vec::<u8>::new());
        assert_eq!(map(&[1, 2, 3], 4, |x| x * 2), vec![2, 4, 6]);
    }
}
