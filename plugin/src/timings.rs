//! Phase timings on stderr, for finding where a slow run spends its time.
//!
//! Set `KUBECTL_CONNECTIONS_TIMINGS=1` and every command prints, after it finishes, how long
//! each phase took (`load`, `lower`, `check`, `render`, `report`, ...), the CPU time all threads spent
//! in it (CPU time well above wall time means the phase ran on several cores), and, on Linux,
//! the resident memory at its end and the peak so far. Off by default: the check is one environment lookup
//! at start-up.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

/// The environment variable that turns timings on.
pub const ENV: &str = "KUBECTL_CONNECTIONS_TIMINGS";

struct Recorder {
    started: Instant,
    last: Instant,
    last_cpu: f64,
    phases: Vec<Phase>,
}

/// A finished phase: its name, wall and CPU seconds, and memory at its end.
struct Phase {
    name: &'static str,
    seconds: f64,
    cpu_seconds: f64,
    memory: Option<Memory>,
}

/// Resident and peak resident memory, MB.
struct Memory {
    resident: u64,
    peak: u64,
}

/// Resident and peak resident memory (`VmRSS`, `VmHWM` of /proc/self/status).
fn memory() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb / 1024)
    };
    Some(Memory { resident: field("VmRSS:")?, peak: field("VmHWM:")? })
}

/// CPU seconds this process has used so far, over all its threads.
fn cpu_seconds() -> f64 {
    let spent = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    spent.tv_sec as f64 + spent.tv_nsec as f64 / 1e9
}

fn recorder() -> Option<&'static Mutex<Recorder>> {
    static RECORDER: OnceLock<Option<Mutex<Recorder>>> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            std::env::var_os(ENV).filter(|v| !v.is_empty() && v != "0").map(|_| {
                let now = Instant::now();
                Mutex::new(Recorder {
                    started: now,
                    last: now,
                    last_cpu: cpu_seconds(),
                    phases: Vec::new(),
                })
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
        let cpu = cpu_seconds();
        let cpu_took = cpu - r.last_cpu;
        r.phases.push(Phase { name, seconds: took, cpu_seconds: cpu_took, memory: memory() });
        r.last = now;
        r.last_cpu = cpu;
    }
}

/// Prints the phases and the total on stderr.
pub fn report() {
    if let Some(recorder) = recorder()
        && let Ok(r) = recorder.lock()
    {
        let mut out = String::from("timings:");
        for phase in &r.phases {
            out.push_str(&format!(
                " {} {:.3}s cpu {:.3}s",
                phase.name, phase.seconds, phase.cpu_seconds
            ));
            if let Some(memory) = &phase.memory {
                out.push_str(&format!(" ({}/{} MB)", memory.resident, memory.peak));
            }
        }
        out.push_str(&format!(
            " total {:.3}s cpu {:.3}s\n",
            r.started.elapsed().as_secs_f64(),
            cpu_seconds()
        ));
        crate::commands::print_stderr(&out);
    }
}
