//! Phase timings on stderr, for finding where a slow run spends its time.
//!
//! Set `KUBECTL_CONNECTIONS_TIMINGS=1` and every command prints, after it finishes, how long
//! each phase took (`load`, `analyse`, `render`, `report`, ...). Off by default: the check is
//! one environment lookup at start-up.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

/// The environment variable that turns timings on.
pub const ENV: &str = "KUBECTL_CONNECTIONS_TIMINGS";

struct Recorder {
    started: Instant,
    last: Instant,
    phases: Vec<(&'static str, f64)>,
}

fn recorder() -> Option<&'static Mutex<Recorder>> {
    static RECORDER: OnceLock<Option<Mutex<Recorder>>> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            std::env::var_os(ENV).filter(|v| !v.is_empty() && v != "0").map(|_| {
                let now = Instant::now();
                Mutex::new(Recorder { started: now, last: now, phases: Vec::new() })
            })
        })
        .as_ref()
}

/// Starts the clock (call first thing in `main`).
pub fn start() {
    let _ = recorder();
}

/// Ends the phase `name`: the time since the previous phase ended is booked to it.
pub fn phase(name: &'static str) {
    if let Some(recorder) = recorder()
        && let Ok(mut r) = recorder.lock()
    {
        let now = Instant::now();
        let took = now.duration_since(r.last).as_secs_f64();
        r.phases.push((name, took));
        r.last = now;
    }
}

/// Prints the phases and the total on stderr.
pub fn report() {
    if let Some(recorder) = recorder()
        && let Ok(r) = recorder.lock()
    {
        let mut out = String::from("timings:");
        for (name, took) in &r.phases {
            out.push_str(&format!(" {name} {took:.3}s"));
        }
        out.push_str(&format!(" total {:.3}s\n", r.started.elapsed().as_secs_f64()));
        crate::commands::print_stderr(&out);
    }
}
