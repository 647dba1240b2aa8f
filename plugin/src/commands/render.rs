//! `render`: check, then write the plan atomically into `--out DIR` or print it (`--stdout`).
//! Nothing is written when a check fails; the exit code says why.

use super::{
    Failure, Outcome, format_findings, has_errors, judge, print_stderr, print_stdout_parts,
};
use crate::cli::RenderArgs;
use crate::settings::{Input, Reporting};
use connections_core::diagnostic::Severity;
use connections_core::render::configmeta;
use connections_loader::write::WriteError;
use std::path::{Path, PathBuf};

/// An absolute, normalised form of a path that may not exist yet.
fn absolute(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let base = std::env::current_dir().unwrap_or_default().join(path);
    // Canonicalise the longest existing ancestor and append the rest.
    let mut existing = base.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or_else(|_| existing.to_path_buf());
    for part in rest.iter().rev() {
        out.push(part);
    }
    out
}

/// Refuses an output folder that is, contains, or lies inside the input.
fn check_out_dir(root: &Path, out: &Path) -> Result<(), Failure> {
    let root_abs = absolute(root);
    let out_abs = absolute(out);
    if out_abs == root_abs {
        return Err(Failure(format!(
            "--out {} is the input folder itself; render into a folder outside PATH",
            out.display()
        )));
    }
    if root_abs.starts_with(&out_abs) {
        return Err(Failure(format!(
            "--out {} contains the input {}; replacing it would delete the input. Render into a folder outside PATH",
            out.display(),
            root.display()
        )));
    }
    if out_abs.starts_with(&root_abs) {
        return Err(Failure(format!(
            "--out {} is inside the input {}; render into a folder outside PATH (for example ../rendered), or point PATH at the folder that holds the sources",
            out.display(),
            root.display()
        )));
    }
    Ok(())
}

/// The variable Argo CD sets for config management plugins.
const ARGOCD_APP_NAME: &str = "ARGOCD_APP_NAME";

/// The Git work tree that holds `path`, if any (a `.git` folder or file in it or above).
fn git_work_tree(path: &Path) -> Option<PathBuf> {
    path.ancestors().find(|dir| dir.join(".git").exists()).map(Path::to_path_buf)
}

/// Where standard output goes: `Ok(None)` unless it is a regular file; the file's path (from
/// `/proc/self/fd/1` on Linux, `F_GETPATH` on macOS); `Err` for a file whose path cannot be
/// told.
fn stdout_file() -> Result<Option<PathBuf>, ()> {
    let stdout = std::io::stdout();
    let Ok(stat) = rustix::fs::fstat(&stdout) else { return Ok(None) };
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return Ok(None);
    }
    if let Ok(path) = std::fs::read_link("/proc/self/fd/1") {
        return Ok(Some(path));
    }
    #[cfg(target_vendor = "apple")]
    if let Ok(path) = rustix::fs::getpath(&stdout) {
        use std::os::unix::ffi::OsStrExt as _;
        return Ok(Some(PathBuf::from(std::ffi::OsStr::from_bytes(path.as_bytes()))));
    }
    Err(())
}

/// `--secrets plaintext` writes readable values: only to standard output, only when asked
/// twice, never into a file in a Git work tree and never under Argo CD (which caches
/// generated manifests unencrypted).
fn refuse_unsafe_plaintext(args: &RenderArgs) -> Result<(), Failure> {
    if std::env::var_os(ARGOCD_APP_NAME).is_some() {
        return Err(Failure(format!(
            "--secrets plaintext is refused under Argo CD ({ARGOCD_APP_NAME} is set): Argo CD caches generated manifests unencrypted. Use --secrets sealed or --secrets external-secret"
        )));
    }
    if args.out.is_some() {
        return Err(Failure(
            "--secrets plaintext writes to standard output only (--stdout): an output folder is what gets committed and applied. Use --secrets sealed or --secrets external-secret with --out".into(),
        ));
    }
    if !args.input.allow_plaintext {
        return Err(Failure(
            "--secrets plaintext puts readable secret values into the output; confirm with --allow-plaintext, and keep the output out of Git and logs".into(),
        ));
    }
    let file = stdout_file().map_err(|()| {
        Failure("--secrets plaintext is refused: standard output is a file whose path cannot be told (it might be in a Git work tree). Pipe it to where it is used (kubectl apply -f -) instead".into())
    })?;
    if let Some(file) = file
        && let Some(tree) = git_work_tree(&file)
    {
        return Err(Failure(format!(
            "--secrets plaintext is refused: standard output is the file {}, inside the Git work tree {}. Pipe it to where it is used (kubectl apply -f -) instead",
            file.display(),
            tree.display()
        )));
    }
    Ok(())
}

/// Runs `render`.
pub fn run(args: &RenderArgs) -> Result<Outcome, Failure> {
    if args.input.secrets == crate::cli::SecretsMode::Plaintext {
        refuse_unsafe_plaintext(args)?;
    }
    if let Some(out) = &args.out {
        check_out_dir(&args.input.path, out)?;
    }
    let input = Input::from_args(&args.input, args.out.clone())?;
    let reporting = Reporting::from_args(&args.report, Reporting::stderr_is_terminal());
    let need = if args.out.is_some() { super::Need::Plan } else { super::Need::Stream };
    let checked = super::check_with(&input, args.cluster_check.then_some(&args.cluster), need)?;
    let diagnostics = &checked.analysis.diagnostics;
    let outcome = judge(diagnostics, &checked.loaded, &reporting);
    // Render shows warnings and errors; notes (info) are counted, `validate` shows them.
    let shown: Vec<_> =
        diagnostics.iter().filter(|d| d.severity > Severity::Info).cloned().collect();
    let notes = diagnostics.len() - shown.len();
    if !shown.is_empty() {
        print_stderr(&format_findings(&checked, &input, &reporting, &shown).concat());
    }
    if notes > 0 && reporting.format == crate::cli::OutputFormat::Human {
        print_stderr(&format!(
            "{notes} note{} not shown: `kubectl connections validate` lists them\n",
            if notes == 1 { "" } else { "s" }
        ));
    }
    if has_errors(diagnostics) || outcome != Outcome::Success {
        print_stderr(&format!(
            "error: nothing was written{}\n",
            args.out.as_ref().map(|o| format!(" to {}", o.display())).unwrap_or_default()
        ));
        return Ok(if outcome == Outcome::Success { Outcome::Findings } else { outcome });
    }
    crate::timings::phase("report");
    let plan = &checked.plan;
    if args.fail_if_empty && plan.objects.is_empty() {
        print_stderr(&format!(
            "error: {} renders no object; nothing was written (--fail-if-empty: an empty stream would make Argo CD prune every resource of the application)\n",
            args.input.path.display()
        ));
        return Ok(Outcome::Findings);
    }
    match &args.out {
        Some(out) => {
            let files = plan.file_views();
            let report = connections_loader::write::write_output(out, &files).map_err(|e| {
                // A disk that fills up, a read-only filesystem: say what did not change.
                match e {
                    WriteError::Io { .. } => {
                        Failure(format!("{e}; {} is unchanged", out.display()))
                    }
                    _ => Failure(e.to_string()),
                }
            })?;
            let mut line = format!(
                "rendered {} objects from {} files into {}",
                plan.objects.len(),
                checked.loaded.sources.len(),
                out.display()
            );
            if report.removed > 0 {
                line.push_str(&format!(" ({} stale files removed)", report.removed));
            }
            if report.leftovers > 0 {
                line.push_str(&format!(
                    " ({} temporary folder{} of an interrupted render removed)",
                    report.leftovers,
                    if report.leftovers == 1 { "" } else { "s" }
                ));
            }
            if report.kept > 0 {
                line.push_str(&format!(" ({} files not written by render kept)", report.kept));
            }
            print_stderr(&format!("{line}\n"));
        }
        None => {
            print_stdout_parts(plan.stream_parts())?;
            // The stream's plan has no configmeta files (they are not built for it): counted
            // from the model.
            let configmeta = configmeta::clusters(&checked.analysis.model).count();
            if configmeta > 0 && reporting.format == crate::cli::OutputFormat::Human {
                print_stderr(&format!(
                    "{configmeta} KubeDirector configmeta file{} not part of the stream: `--out DIR` writes {}\n",
                    if configmeta == 1 { " is" } else { "s are" },
                    if configmeta == 1 { "it" } else { "them" }
                ));
            }
        }
    }
    crate::timings::phase("write");
    super::release_at_exit(checked);
    Ok(Outcome::Success)
}
