//! Running the binary under hard resource limits, and measuring what one run cost.
//!
//! Hostile input must be refused (or processed) quickly in bounded memory. A test states its
//! bound as CPU seconds and address space, which the kernel enforces on the child (through
//! `prlimit`, util-linux, which sets the limits and then becomes the binary), so a regression
//! fails the test however loaded the machine is, rather than making it hang or swap; a
//! wall-clock bound kills a child that blocks without using CPU.
//!
//! The cost is read from `/proc/<pid>` while the child runs, every few milliseconds, until it
//! exits: peak resident memory (`VmHWM`, which only grows) and CPU time (`utime` + `stime`).
//! The last milliseconds of a run can escape the sampling; the kernel's limits cannot.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What a run may use.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// CPU time (user and system), in seconds; the kernel stops the child past it.
    pub cpu_seconds: u64,
    /// Address space beyond the binary's own mapping, in MiB; allocations past it fail in the
    /// child. The binary's file is mapped whole (a debug build is about 48 MiB) and counts
    /// toward the kernel's limit, so the limit set is its size plus this: a bound that
    /// included it shrank each time the binary grew.
    pub address_space_mib: u64,
    /// Wall-clock time; the child is killed past it and the test fails.
    pub wall: Duration,
}

/// What a run used.
#[derive(Debug)]
pub struct Measured {
    /// Exit status and captured output.
    pub output: Output,
    /// Wall-clock time.
    pub wall: Duration,
    /// CPU time, user and system, as last sampled.
    pub cpu: Duration,
    /// Peak resident memory, in MiB, as last sampled.
    pub peak_rss_mib: f64,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}, wall {:.3}s, cpu {:.2}s, peak RSS {:.1} MiB",
            self.output.status.code(),
            self.wall.as_secs_f64(),
            self.cpu.as_secs_f64(),
            self.peak_rss_mib
        )
    }
}

/// Peak resident memory in KiB and CPU time of a running (or exited, unreaped) process.
fn sample(pid: u32) -> Option<(u64, Duration)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    // Fields after the command name (which may hold spaces) of /proc/<pid>/stat: utime and
    // stime are the 12th and 13th, in clock ticks of 1/100 s (USER_HZ).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((peak, Duration::from_millis(ticks * 10)))
}

/// Runs the binary with `args` in `dir`, as [`super::command_in`] does, within `bounds`,
/// and measures it. Panics if the wall-clock bound is passed.
pub fn run_bounded_in(dir: &Path, args: &[&str], bounds: Bounds) -> Measured {
    let binary = std::fs::metadata(super::bin()).expect("the binary is built").len();
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--cpu={}", bounds.cpu_seconds))
        .arg(format!("--as={}", binary + bounds.address_space_mib * 1024 * 1024))
        .arg("--")
        .arg(super::bin())
        .args(args)
        .current_dir(dir);
    super::plain_environment(&mut command);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("prlimit (util-linux) runs the binary");
    let pid = child.id();
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let (mut peak_kib, mut cpu) = (0, Duration::ZERO);
    let mut timed_out = false;
    // Sampled before each `try_wait`, so the pid is never read after it was reaped (and
    // possibly reused).
    let status = loop {
        if let Some((peak, used)) = sample(pid) {
            (peak_kib, cpu) = (peak_kib.max(peak), used);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > bounds.wall && !timed_out {
            child.kill().unwrap();
            timed_out = true;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    assert!(!timed_out, "killed after {wall:?}: over the wall-clock bound of {:?}", bounds.wall);
    let output = Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    Measured { output, wall, cpu, peak_rss_mib: peak_kib as f64 / 1024.0 }
}
