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

/// How many of the `left` items a thread takes at once: a quarter of each thread's share of
/// them, at most [`BATCH`], at least one.
fn batch_of(left: usize, threads: usize) -> usize {
    (left / (threads * 4)).clamp(1, BATCH)
}

/// `items.iter().map(f).collect()`, on up to `threads` threads.
pub fn map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    // The next batch to take. Batches shrink as the items run out (a share of what is left,
    // down to single items), so the threads finish together: with fixed batches of 64, the
    // last one (64 workloads to project, say) ran alone for milliseconds while the other
    // threads waited.
    let claim = || -> Option<(usize, usize)> {
        let mut start = next.load(Ordering::Relaxed);
        loop {
            if start >= items.len() {
                return None;
            }
            let batch = batch_of(items.len() - start, threads);
            match next.compare_exchange_weak(
                start,
                start + batch,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some((start, start + batch)),
                Err(now) => start = now,
            }
        }
    };
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        while let Some((start, end)) = claim() {
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

/// Runs handed out per thread by [`map_runs`]: several, so that a thread the machine slows
/// (another process, page faults) takes fewer of them instead of holding up the rest. With
/// one run per thread, lowering 4,100 documents on two threads took 4 to 9 ms where each
/// half took under 4 ms on its own.
const RUNS_PER_THREAD: usize = 4;

/// Splits `items` into contiguous runs of nearly equal length (at most `threads` times
/// [`RUNS_PER_THREAD`], and at most one per [`BATCH`] items), applies `f` to each run on one
/// of up to `threads` threads, which take the runs in turn, and returns the results in run
/// order. For work whose runs are then joined (lowering documents into partial models).
pub fn map_runs<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(Vec<T>) -> R + Sync,
) -> Vec<R> {
    let most_runs = items.len().div_ceil(BATCH).max(1);
    let threads = threads.clamp(1, most_runs);
    if threads == 1 {
        return vec![f(items)];
    }
    let run_len = items.len().div_ceil((threads * RUNS_PER_THREAD).min(most_runs));
    // Each run in a slot of its own, so that [`map`] can hand the slots out one by one (with
    // so few items its batches are single items) and keep the results in run order.
    let mut runs = Vec::new();
    let mut rest = items;
    while rest.len() > run_len {
        let tail = rest.split_off(run_len);
        runs.push(std::sync::Mutex::new(Some(rest)));
        rest = tail;
    }
    runs.push(std::sync::Mutex::new(Some(rest)));
    map(&runs, threads, |slot| {
        // `map` takes each slot once, and nothing panics while a slot is locked: a run
        // missing here would be a bug, not an input to skip.
        let run = slot.lock().ok().and_then(|mut run| run.take());
        f(run.expect("each run is taken exactly once"))
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
    use super::{BATCH, batch_of, map};

    /// Batches are full while much is left and shrink to single items at the end, so no
    /// thread is left with a large last batch while the others wait.
    #[test]
    fn batches_shrink_as_the_items_run_out() {
        assert_eq!(batch_of(4_100, 2), BATCH);
        assert_eq!(batch_of(400, 2), 50);
        assert_eq!(batch_of(40, 2), 5);
        assert_eq!(batch_of(7, 2), 1);
        assert_eq!(batch_of(1, 8), 1);
        // Taking batches until nothing is left ends with single items.
        let (mut left, mut last) = (4_100, 0);
        while left > 0 {
            last = batch_of(left, 2);
            left -= last;
        }
        assert_eq!(last, 1);
    }

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
            let most = threads.max(1) * super::RUNS_PER_THREAD;
            assert!(runs.len() <= most, "threads = {threads}: {} runs", runs.len());
            assert!(runs.iter().all(|run| !run.is_empty()), "threads = {threads}");
            assert_eq!(runs.concat(), items, "threads = {threads}");
        }
        assert_eq!(super::map_runs(Vec::<u8>::new(), 4, |run| run.len()), vec![0]);
        // At most one run per batch: 100 items on 8 threads make 2 runs, not 32.
        let runs = super::map_runs((0..100).collect::<Vec<u8>>(), 8, |run| run.len());
        assert_eq!(runs, vec![50, 50]);
    }

    #[test]
    fn short_inputs_and_empty_inputs_work() {
        assert_eq!(map(&[] as &[u8], 4, |x| *x), Vec::<u8>::new());
        assert_eq!(map(&[1, 2, 3], 4, |x| x * 2), vec![2, 4, 6]);
    }
}
