//! The subcommands, and the pipeline they share: load, lower, check.

pub mod argocd;
pub mod check;
pub mod diff;
pub mod explain;
pub mod krm;
pub mod live;
pub mod render;
pub mod validate;

use crate::report;
use crate::settings::{Input, Reporting};
use connections_core::diagnostic::{self, Diagnostic, Severity};
use connections_core::pipeline;
use connections_core::render::Plan;
use connections_core::{Analysis, validate::Offline};
use connections_loader::Loaded;
use std::io::Write as _;
use std::process::ExitCode;

/// How a command ended, mapped to the exit-code contract (DESIGN.md §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 0: success, nothing at or above the failing severity.
    Success,
    /// 1: findings at or above the failing severity.
    Findings,
    /// 2: usage error, unreadable input, or another operational failure.
    Failure,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        ExitCode::from(match outcome {
            Outcome::Success => 0,
            Outcome::Findings => 1,
            Outcome::Failure => 2,
        })
    }
}

/// An operational failure: printed as `error: ...` on stderr, exit code 2.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// A loaded, checked and rendered repository, with every finding sorted.
pub struct Checked {
    /// What was read.
    pub loaded: Loaded,
    /// The model and its findings (including render's own, so that `validate` reports
    /// everything `render` would refuse on).
    pub analysis: Analysis,
    /// The output render would write (empty when only findings were asked for).
    pub plan: Plan,
}

/// Whether a command needs the rendered output or only what rendering would report.
pub use connections_core::pipeline::Need;

/// Loads, checks and renders the repository (in memory).
pub fn check(input: &Input) -> Result<Checked, Failure> {
    check_with(input, None, Need::Plan)
}

/// Like [`check`]; with a cluster, references the repository does not satisfy may be
/// satisfied by objects in the cluster (`--cluster-check`). With [`Need::Findings`] the plan
/// is left empty.
pub fn check_with(
    input: &Input,
    cluster: Option<&crate::cli::ClusterArgs>,
    need: Need,
) -> Result<Checked, Failure> {
    let mut loaded = connections_loader::load(&input.root, &input.load)?;
    let mut lower = input.lower.clone();
    if let Some(documents) = loaded.read_root_file(&input.root, connections_core::allow::FILE_NAME)
    {
        let (allowed, found) = connections_core::allow::read(&documents, &lower.default_namespace);
        lower.allowed_plaintext = allowed;
        loaded.diagnostics.extend(found);
    }
    crate::timings::phase("load");
    check_loaded(loaded, input, &lower, cluster, need)
}

/// The checks and the render of documents already read (from a repository, or a KRM
/// function's ResourceList), lowered with `lower`.
pub fn check_loaded(
    mut loaded: Loaded,
    input: &Input,
    lower: &connections_core::model::LowerOptions,
    cluster: Option<&crate::cli::ClusterArgs>,
    need: Need,
) -> Result<Checked, Failure> {
    let documents = std::mem::take(&mut loaded.documents);
    let settings = pipeline::Settings {
        lower,
        secrets: input.secrets.pipeline(),
        need,
        threads: connections_loader::threads(),
    };
    let (model, mut diagnostics) = pipeline::lower(documents, &settings, &mut loaded.sources);
    crate::timings::phase("lower");
    let threads = settings.threads;
    let checked = match cluster {
        None => connections_core::validate::check_with(&model, &Offline, threads),
        Some(args) => {
            let namespaces: std::collections::BTreeSet<String> =
                model.references.iter().map(|r| r.namespace.clone()).collect();
            let live = live::block_on(async {
                let cluster = crate::live::cluster::connect(args, None).await?;
                crate::live::cluster::live_objects(&cluster, &namespaces).await
            })??;
            connections_core::validate::check_with(&model, &live, threads)
        }
    };
    diagnostics.extend(checked);
    diagnostics.append(&mut loaded.diagnostics);
    crate::timings::phase("check");
    // Run after the checks, not beside them: at the same time on two cores they saved no
    // measurable time at N = 1,000 and raised `validate`'s peak memory at N = 10,000 to 244
    // or 245 MB, against about 230 to 238 MB, both working sets being alive at once.
    let (plan, render_findings) = pipeline::render(&model, &settings);
    diagnostics.extend(render_findings);
    let mut analysis = Analysis { model, diagnostics };
    diagnostic::sort(&mut analysis.diagnostics);
    if input.load.release_texts {
        loaded.restore_texts(&input.root, &analysis.diagnostics);
    }
    crate::timings::phase(match need {
        Need::Plan | Need::Stream => "render",
        Need::Findings => "render-findings",
    });
    Ok(Checked { loaded, analysis, plan })
}

/// Hands a finished run's data to the operating system instead of freeing it piece by piece:
/// the process exits right after, and freeing millions of small nodes one by one took about
/// a twentieth of a large run.
pub fn release_at_exit(checked: Checked) {
    std::mem::forget(checked);
}

/// The outcome the findings call for.
pub fn judge(diagnostics: &[Diagnostic], loaded: &Loaded, settings: &Reporting) -> Outcome {
    if diagnostics.iter().any(|d| d.check == connections_core::checks::Check::UnreadableInput)
        || loaded.has_unreadable_input()
    {
        return Outcome::Failure;
    }
    match settings.fail_on {
        Some(threshold) if diagnostics.iter().any(|d| d.severity >= threshold) => Outcome::Findings,
        _ => Outcome::Success,
    }
}

/// Whether any finding is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

/// Formats findings, in pieces to print in order ([`report::write`]).
pub fn format_findings(
    checked: &Checked,
    input: &Input,
    settings: &Reporting,
    diagnostics: &[Diagnostic],
) -> Vec<String> {
    let ctx = report::Context::new(
        &checked.loaded.sources,
        &input.root,
        &checked.analysis.model.secret_spans,
    );
    report::write(&ctx, settings, diagnostics)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn print_stdout(text: &str) -> Result<(), Failure> {
    print_stdout_parts([text])
}

/// [`print_stdout`] of the pieces in order (a stream need not be assembled in memory first).
pub fn print_stdout_parts<'a>(parts: impl IntoIterator<Item = &'a str>) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    let written = write_parts(&mut stdout, parts).and_then(|()| stdout.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure(format!("cannot write to standard output: {e}"))),
    }
}

/// Writes `parts` in order, up to 1,024 of them (Linux's `IOV_MAX`) per vectored write, so
/// that they go out without being copied into a buffer first: copying a 4.5 MB stream piece by
/// piece took about a millisecond at 1,000 connections, on one thread, at the very end.
fn write_parts<'a>(
    out: &mut impl std::io::Write,
    parts: impl IntoIterator<Item = &'a str>,
) -> std::io::Result<()> {
    use std::io::IoSlice;
    // Empty parts are left out: a write of nothing but empty slices returns 0, which would
    // read as a failure to write.
    let mut parts = parts.into_iter().filter(|part| !part.is_empty()).fuse();
    let mut slices: Vec<IoSlice<'a>> = Vec::with_capacity(1024);
    loop {
        slices.clear();
        slices.extend(parts.by_ref().take(1024).map(|part| IoSlice::new(part.as_bytes())));
        if slices.is_empty() {
            return Ok(());
        }
        let mut left = &mut slices[..];
        while !left.is_empty() {
            match out.write_vectored(left) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(written) => IoSlice::advance_slices(&mut left, written),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Writes to stderr, ignoring failures (there is nowhere left to report them).
pub fn print_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::write_parts;

    /// Takes at most `limit` bytes per write, across slice boundaries, as a pipe may.
    struct Trickle {
        written: Vec<u8>,
        limit: usize,
        calls: usize,
    }

    impl std::io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.write_vectored(&[std::io::IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            self.calls += 1;
            let mut taken = 0;
            for buf in bufs {
                let take = buf.len().min(self.limit - taken);
                self.written.extend_from_slice(&buf[..take]);
                taken += take;
                if taken == self.limit {
                    break;
                }
            }
            Ok(taken)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Every byte arrives once, in order, whatever each write takes, over more parts than
    /// one vectored write holds and with empty parts among them.
    #[test]
    fn parts_arrive_whole_and_in_order_through_partial_writes() {
        let parts: Vec<String> = (0..2_500)
            .map(|i| if i % 7 == 0 { String::new() } else { format!("part {i}\n") })
            .collect();
        let expected = parts.concat();
        for limit in [1, 5, 64, 1 << 20] {
            let mut out = Trickle { written: Vec::new(), limit, calls: 0 };
            write_parts(&mut out, parts.iter().map(String::as_str)).unwrap();
            assert_eq!(String::from_utf8(out.written).unwrap(), expected, "limit {limit}");
            if limit == 1 << 20 {
                // 2,142 non-empty parts: three vectored writes, not one per part.
                assert_eq!(out.calls, 3);
            }
        }
        // Nothing but empty parts (`print_stdout("")`) writes nothing and is no failure.
        let mut out = Trickle { written: Vec::new(), limit: 8, calls: 0 };
        write_parts(&mut out, ["", ""]).unwrap();
        assert!(out.written.is_empty());
    }
}
