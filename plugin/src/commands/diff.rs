//! `diff`: render PATH in memory and compare it with a rendered folder (`--against`), with the
//! same PATH at another git revision (`--base`, the pull-request case), or with the cluster
//! (`--against-cluster`). Exit 0 no difference, 1 differences, 2 error.
//!
//! `--base` never touches the work tree or the index: the revision's files are read with
//! `git archive` into a temporary folder.

use super::{Failure, Outcome, check, format_findings, has_errors, print_stderr, print_stdout};
use crate::cli::{DiffArgs, DiffFormat};
use crate::settings::{Input, Reporting};
use connections_core::diff::{ChangeKind, Diff};
use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of a rendered folder: those its `.connections/manifest` lists when it has one
/// (files render did not write are not its output), else every file but the bookkeeping.
fn read_dir_files(dir: &Path) -> Result<BTreeMap<String, String>, Failure> {
    if !dir.is_dir() {
        return Err(Failure(format!("--against {}: no such folder", dir.display())));
    }
    let manifest = connections_loader::write::read_manifest(dir);
    let mut out = BTreeMap::new();
    for entry in walkdir_files(dir)? {
        let rel = entry.strip_prefix(dir).unwrap_or(&entry).to_string_lossy().replace('\\', "/");
        if rel.starts_with(".connections/")
            || rel == KUSTOMIZATION
            || (!manifest.is_empty() && !manifest.contains(&rel))
        {
            continue;
        }
        let text = std::fs::read_to_string(&entry)
            .map_err(|e| Failure(format!("cannot read {}: {e}", entry.display())))?;
        out.insert(rel, text);
    }
    Ok(out)
}

/// Every regular file under `dir`, sorted. Symbolic links are not followed (a link could
/// point anywhere, or loop): they are named in a note.
fn walkdir_files(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| Failure(format!("cannot list {}: {e}", d.display())))?;
        for entry in entries {
            let entry = entry.map_err(|e| Failure(format!("cannot list {}: {e}", d.display())))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
            if kind.is_symlink() {
                print_stderr(&format!(
                    "note: {} is a symbolic link; not followed\n",
                    path.display()
                ));
            } else if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, Failure> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| Failure(format!("cannot run git: {e}")))
}

fn create_parent(path: &Path) -> Result<(), Failure> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent)
            .map_err(|e| Failure(format!("cannot create {}: {e}", parent.display()))),
        None => Ok(()),
    }
}

/// Runs git in `dir`, failing with git's own message.
fn git_ok(dir: &Path, args: &[&str], what: &str) -> Result<Vec<u8>, Failure> {
    let out = git(dir, args)?;
    if !out.status.success() {
        return Err(Failure(format!(
            "{what}: git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// PATH as it is at `rev`, written into `into`; returns the path to read there (which does not
/// exist when PATH did not exist at `rev`: everything is then new). Reads the tree with
/// `git ls-tree` and `git cat-file`, so the work tree and the index are never touched and
/// `export-ignore` attributes do not apply.
fn checkout_base(
    path: &Path,
    rev: &str,
    into: &Path,
    max_file_size: u64,
) -> Result<PathBuf, Failure> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
    };
    let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        return Err(Failure(format!(
            "--base needs a git repository, and {} is not in one ({})",
            path.display(),
            String::from_utf8_lossy(&top.stderr).trim()
        )));
    }
    let top = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
    let verify = git(&top, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])?;
    if !verify.status.success() {
        // A plain `git fetch origin main` in a single-branch clone updates FETCH_HEAD only.
        let fetch = match rev.strip_prefix("origin/") {
            Some(branch) => format!(
                "git fetch --depth=1 origin +refs/heads/{branch}:refs/remotes/origin/{branch}"
            ),
            None => format!("git fetch --depth=1 origin {rev}"),
        };
        return Err(Failure(format!(
            "revision {rev} is not in this clone (a shallow or single-branch checkout?); fetch it with `{fetch}`"
        )));
    }
    let commit = String::from_utf8_lossy(&verify.stdout).trim().to_string();
    let absolute =
        path.canonicalize().map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
    let top_abs = top.canonicalize().unwrap_or(top.clone());
    let prefix = absolute
        .strip_prefix(&top_abs)
        .map_err(|_| {
            Failure(format!("{} is outside the git work tree {}", path.display(), top.display()))
        })?
        .to_string_lossy()
        .replace('\\', "/");
    let mut args = vec!["ls-tree", "-r", "-z", "-l", "--full-tree", commit.as_str()];
    if !prefix.is_empty() {
        args.extend(["--", prefix.as_str()]);
    }
    let listing = git_ok(&top, &args, &format!("cannot list {rev}"))?;
    let mut blobs: Vec<(String, String)> = Vec::new();
    std::fs::create_dir_all(into)
        .map_err(|e| Failure(format!("cannot create {}: {e}", into.display())))?;
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, file)) = entry.split_once('\t') else { continue };
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let &[mode, kind, sha, size] = fields.as_slice() else { continue };
        // Git refuses to check such paths out; a crafted tree could otherwise write outside
        // the temporary folder.
        if file.starts_with('/')
            || file
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == ".." || c.eq_ignore_ascii_case(".git"))
        {
            return Err(Failure(format!(
                "{rev} holds a path git would refuse to check out ({file:?}); not reading it"
            )));
        }
        // What the walk reads, and the markers that make it skip a folder.
        let wanted = connections_loader::walk::is_manifest(file)
            || file.split('/').any(|c| c == ".connections");
        if !wanted {
            continue;
        }
        match (mode, kind) {
            ("100644" | "100755", "blob") => {
                let size: u64 = size.parse().unwrap_or(0);
                if size > max_file_size {
                    // The loader reports it as it would in the work tree; its bytes are not read.
                    let target = into.join(file);
                    create_parent(&target)?;
                    std::fs::File::create(&target)
                        .and_then(|f| f.set_len(size))
                        .map_err(|e| Failure(format!("cannot write {}: {e}", target.display())))?;
                } else {
                    blobs.push((sha.to_string(), file.to_string()));
                }
            }
            // Symbolic links and submodules are not read from a revision.
            _ => print_stderr(&format!("note: {file} at {rev} is not a regular file; left out\n")),
        }
    }
    if blobs.is_empty() {
        return Ok(into.join(&prefix));
    }
    let mut cat = Command::new("git")
        .arg("-C")
        .arg(&top)
        .args(["cat-file", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Failure(format!("cannot run git cat-file: {e}")))?;
    let request: String = blobs.iter().map(|(sha, _)| format!("{sha}\n")).collect();
    let mut stdin = cat.stdin.take().ok_or_else(|| Failure("git cat-file: no stdin".into()))?;
    // Write from a thread: git answers while it reads, and both pipes have limited room.
    let writer = std::thread::spawn(move || {
        use std::io::Write as _;
        stdin.write_all(request.as_bytes())
    });
    let output = cat.wait_with_output().map_err(|e| Failure(format!("git cat-file: {e}")))?;
    writer
        .join()
        .map_err(|_| Failure("git cat-file: writer failed".into()))?
        .map_err(|e| Failure(format!("git cat-file: {e}")))?;
    let mut rest = output.stdout.as_slice();
    for (_, file) in &blobs {
        let header_end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| Failure(format!("git cat-file: truncated output at {file}")))?;
        let header = String::from_utf8_lossy(&rest[..header_end]).to_string();
        let size: usize =
            header.rsplit(' ').next().and_then(|n| n.parse().ok()).ok_or_else(|| {
                Failure(format!("git cat-file: unexpected answer {header:?} for {file}"))
            })?;
        let body_start = header_end + 1;
        let body = rest
            .get(body_start..body_start + size)
            .ok_or_else(|| Failure(format!("git cat-file: truncated output at {file}")))?;
        let target = into.join(file);
        create_parent(&target)?;
        std::fs::write(&target, body)
            .map_err(|e| Failure(format!("cannot write {}: {e}", target.display())))?;
        rest = rest.get(body_start + size + 1..).unwrap_or(&[]);
    }
    Ok(into.join(&prefix))
}

/// Renders a repository into its files (path to content), with its findings. The
/// kustomization is left out: it only lists the objects, whose changes show themselves.
fn render_files(input: &Input) -> Result<(BTreeMap<String, String>, super::Checked), Failure> {
    let checked = check(input)?;
    let files: BTreeMap<String, String> =
        checked.plan.files().into_iter().filter(|(path, _)| path != KUSTOMIZATION).collect();
    Ok((files, checked))
}

/// The file render writes beside the objects, listing them.
const KUSTOMIZATION: &str = "kustomization.yaml";

/// Runs `diff`.
pub fn run(args: &DiffArgs) -> Result<Outcome, Failure> {
    let input = Input::from_args(&args.input, args.against.clone())?;
    let reporting = Reporting::from_args(&args.report, Reporting::stderr_is_terminal());
    let (mut after, checked) = render_files(&input)?;
    if has_errors(&checked.analysis.diagnostics) || checked.loaded.has_unreadable_input() {
        print_stderr(
            &format_findings(&checked, &input, &reporting, &checked.analysis.diagnostics).concat(),
        );
        return Err(Failure(format!(
            "{} does not validate, so there is nothing to compare; fix the errors above",
            input.root.display()
        )));
    }
    let before = if let Some(dir) = &args.against {
        read_dir_files(dir)?
    } else if let Some(rev) = &args.base {
        let tmp = tempdir()?;
        let base_root = checkout_base(&input.root, rev, &tmp.0, args.input.max_file_size)?;
        if base_root.exists() {
            let base_input = Input {
                root: base_root,
                lower: input.lower.clone(),
                load: connections_loader::LoadOptions { exclude: None, ..input.load.clone() },
                secrets: input.secrets.clone(),
            };
            let (files, base_checked) = render_files(&base_input)?;
            // What does not validate is not masked reliably (a password inline in a
            // Connection is only known to be one by the check that rejects it).
            let errors = base_checked
                .analysis
                .diagnostics
                .iter()
                .filter(|d| d.severity == connections_core::diagnostic::Severity::Error)
                .count();
            if errors > 0 || base_checked.loaded.has_unreadable_input() {
                return Err(Failure(format!(
                    "{} at {rev} does not validate ({errors} error{}), so it cannot be shown safely; run `kubectl connections validate` on a checkout of {rev}, or compare with its rendered output (--against)",
                    input.root.display(),
                    if errors == 1 { "" } else { "s" }
                )));
            }
            files
        } else {
            BTreeMap::new()
        }
    } else {
        let sides = crate::commands::live::block_on(async {
            let cluster = crate::live::cluster::connect(&args.cluster, None).await?;
            crate::live::compare::cluster_sides(&cluster, &after).await
        })??;
        for note in &sides.notes {
            print_stderr(&format!("note: {note}\n"));
        }
        after = sides.rendered;
        sides.live
    };
    let diff = connections_core::diff::diff(&before, &after);
    let colour = args.format == DiffFormat::Unified
        && match args.report.color {
            crate::cli::ColorChoice::Always => true,
            crate::cli::ColorChoice::Never => false,
            crate::cli::ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
    let external = std::env::var("KUBECTL_EXTERNAL_DIFF").ok().filter(|v| !v.trim().is_empty());
    match (args.format, external) {
        (DiffFormat::Unified, Some(program)) => external_diff(&program, &diff)?,
        (DiffFormat::Unified, None) => print_stdout(&unified(&diff, colour))?,
        (DiffFormat::Markdown, _) => print_stdout(&markdown(&diff, args.markdown_limit as usize))?,
        (DiffFormat::Json, _) => print_stdout(&json(&diff))?,
    }
    if args.format == DiffFormat::Unified {
        print_stderr(&format!("{}\n", summary_line(&diff)));
    }
    Ok(if diff.summary.has_differences() { Outcome::Findings } else { Outcome::Success })
}

/// Runs the program `KUBECTL_EXTERNAL_DIFF` names (with its arguments, as kubectl splits
/// them) on two folders, `before` and `after`, holding the changed files as the unified diff
/// shows them: masked. They live in a private temporary folder, removed afterwards.
fn external_diff(program: &str, diff: &Diff) -> Result<(), Failure> {
    let tmp = tempdir()?;
    for change in &diff.changes {
        for (side, text, present) in [
            ("before", &change.before, change.kind != ChangeKind::Created),
            ("after", &change.after, change.kind != ChangeKind::Deleted),
        ] {
            if present {
                let target = tmp.0.join(side).join(&change.path);
                create_parent(&target)?;
                std::fs::write(&target, text)
                    .map_err(|e| Failure(format!("cannot write {}: {e}", target.display())))?;
            }
        }
    }
    for side in ["before", "after"] {
        let _ = std::fs::create_dir_all(tmp.0.join(side));
    }
    let mut words = program.split_whitespace();
    let name = words.next().unwrap_or("diff");
    let status = Command::new(name)
        .args(words)
        .arg(tmp.0.join("before"))
        .arg(tmp.0.join("after"))
        .status()
        .map_err(|e| Failure(format!("KUBECTL_EXTERNAL_DIFF: cannot run {name}: {e}")))?;
    // diff(1) answers 1 for differences; more is an error.
    match status.code() {
        Some(0 | 1) => Ok(()),
        code => Err(Failure(format!("KUBECTL_EXTERNAL_DIFF: {name} failed ({code:?})"))),
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A private folder for the base revision's files (removed on drop).
fn tempdir() -> Result<TempDir, Failure> {
    use std::os::unix::fs::DirBuilderExt as _;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let path = std::env::temp_dir()
        .join(format!("kubectl-connections-diff-{}-{nanos}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&path)
        .map_err(|e| Failure(format!("cannot create {}: {e}", path.display())))?;
    Ok(TempDir(path))
}

/// `2 changed, 1 created, 0 deleted, 17 unchanged`.
pub fn summary_line(diff: &Diff) -> String {
    let s = diff.summary;
    format!(
        "{} changed, {} created, {} deleted, {} unchanged",
        s.changed, s.created, s.deleted, s.unchanged
    )
}

/// Unified diffs, coloured on a terminal.
pub fn unified(diff: &Diff, colour: bool) -> String {
    let mut out = String::new();
    for change in &diff.changes {
        for line in change.unified(3).lines() {
            let paint = match line.as_bytes().first() {
                _ if !colour => None,
                Some(b'+') if !line.starts_with("+++") => Some("\x1b[32m"),
                Some(b'-') if !line.starts_with("---") => Some("\x1b[31m"),
                Some(b'@') => Some("\x1b[36m"),
                _ => None,
            };
            match paint {
                Some(code) => out.push_str(&format!("{code}{line}\x1b[0m\n")),
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// A pull-request comment, in the shape diff-preview bots have made familiar: a title, a
/// `Summary` block grouping objects as added, modified and deleted with their line counts,
/// then one collapsed section per changed object holding a fenced diff with 5 context lines.
/// Cut at `limit` characters (GitHub's comment limit) with a visible notice, never silently.
pub fn markdown(diff: &Diff, limit: usize) -> String {
    let s = diff.summary;
    let mut out = String::from("## kubectl connections diff\n\n");
    if !s.has_differences() {
        out.push_str(&format!(
            "No changes to the rendered output ({} file{} unchanged).\n",
            s.unchanged,
            if s.unchanged == 1 { "" } else { "s" }
        ));
        return out;
    }
    let mut summary = String::from("Summary:\n```yaml\n");
    for (kind, label, sign) in [
        (ChangeKind::Created, "Added", '+'),
        (ChangeKind::Changed, "Modified", '±'),
        (ChangeKind::Deleted, "Deleted", '-'),
    ] {
        let changes: Vec<_> = diff.changes.iter().filter(|c| c.kind == kind).collect();
        if changes.is_empty() {
            continue;
        }
        summary.push_str(&format!("{label} ({}):\n", changes.len()));
        for change in changes {
            let (added, removed) = change.counts();
            let counts = match kind {
                ChangeKind::Created => format!("+{added}"),
                ChangeKind::Deleted => format!("-{removed}"),
                _ => format!("+{added}|-{removed}"),
            };
            summary.push_str(&format!("{sign} {} ({counts})\n", change.title));
        }
    }
    summary.push_str(&format!("```\n{} unchanged. Secret values are masked (`***`; a changed value shows as `*** (before)` / `*** (after)`).\n\n", s.unchanged));
    let notice = |shown: usize| {
        format!(
            "\n> [!WARNING]\n> This comment is cut at {limit} characters: {} of {} changed objects are shown. Run `kubectl connections diff` for the whole diff.\n",
            shown,
            diff.changes.len()
        )
    };
    let reserve = notice(diff.changes.len()).len();
    if out.len() + summary.len() + reserve > limit {
        // Even the summary is too long: cut it at a line.
        let room = limit.saturating_sub(out.len() + reserve + "```\n".len());
        let mut end = room.min(summary.len());
        while !summary.is_char_boundary(end) {
            end -= 1;
        }
        let cut = summary[..end].rfind('\n').unwrap_or(0);
        out.push_str(&summary[..cut]);
        out.push_str("\n```\n");
        out.push_str(&notice(0));
        return out;
    }
    out.push_str(&summary);
    for (i, change) in diff.changes.iter().enumerate() {
        let body: String = change.unified(5).lines().skip(2).map(|l| format!("{l}\n")).collect();
        let fence = "`".repeat(longest_run(&body, '`').max(2) + 1);
        let section = format!(
            "<details>\n<summary>{} {} (<code>{}</code>)</summary>\n<br>\n\n#### {}\n{fence}diff\n{body}{fence}\n</details>\n\n",
            change.kind.as_str(),
            html_escape(&change.title),
            html_escape(&change.path),
            html_escape(&change.title.replacen(' ', ": ", 1)),
        );
        if out.len() + section.len() + reserve > limit {
            out.push_str(&notice(i));
            return out;
        }
        out.push_str(&section);
    }
    out
}

/// The longest run of `c` in `text` (a code fence must be longer than any run inside it).
fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The machine-readable form.
pub fn json(diff: &Diff) -> String {
    let changes: Vec<serde_json::Value> = diff
        .changes
        .iter()
        .map(|c| {
            let (added, removed) = c.counts();
            serde_json::json!({
                "path": c.path,
                "object": c.title,
                "change": c.kind.as_str(),
                "added": added,
                "removed": removed,
                "diff": c.unified(3),
            })
        })
        .collect();
    let s = diff.summary;
    let value = serde_json::json!({
        "changes": changes,
        "summary": {"created": s.created, "deleted": s.deleted, "changed": s.changed, "unchanged": s.unchanged},
    });
    format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `count` new ConfigMaps, but for those below 10, which change (a `±` line each).
    fn many_changes(count: usize) -> Diff {
        let before: BTreeMap<String, String> = (0..count.min(10))
            .map(|i| {
                (
                    format!("apps/configmap-c{i:02}.yaml"),
                    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i:02}, namespace: apps}}\ndata: {{k: old}}\n"),
                )
            })
            .collect();
        let after: BTreeMap<String, String> = (0..count)
            .map(|i| {
                (
                    format!("apps/configmap-c{i:02}.yaml"),
                    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i:02}, namespace: apps}}\ndata: {{k: v}}\n"),
                )
            })
            .collect();
        connections_core::diff::diff(&before, &after)
    }

    #[test]
    fn markdown_is_cut_at_the_limit_with_a_visible_notice() {
        let diff = many_changes(30);
        let whole = markdown(&diff, crate::cli::GITHUB_COMMENT_LIMIT as usize);
        assert_eq!(whole.matches("<details>").count(), 30);
        assert!(!whole.contains("[!WARNING]"));

        let cut = markdown(&diff, 3000);
        assert!(cut.len() <= 3000, "{} characters", cut.len());
        let shown = cut.matches("<details>").count();
        assert!(shown > 0 && shown < 30, "{shown} sections");
        assert!(
            cut.contains("+ ConfigMap apps/c29 (+7)"),
            "the summary lists every object:\n{cut}"
        );
        assert!(
            cut.ends_with(&format!("> This comment is cut at 3000 characters: {shown} of 30 changed objects are shown. Run `kubectl connections diff` for the whole diff.\n")),
            "{cut}"
        );
        // Every section that is shown is whole.
        assert_eq!(cut.matches("</details>").count(), shown);

        // Even the summary does not fit: it is cut at a line, and says so.
        let tiny = markdown(&diff, 700);
        assert!(tiny.len() <= 700, "{}", tiny.len());
        assert!(tiny.contains("0 of 30 changed objects are shown"), "{tiny}");
        assert_eq!(tiny.matches("```").count(), 2, "the summary block is closed:\n{tiny}");
    }

    #[test]
    fn markdown_never_exceeds_the_limit_nor_splits_a_character() {
        // `±` and `−` take two and three bytes: every cut must land between characters.
        let diff = many_changes(40);
        for limit in (200..6000).step_by(37) {
            let text = markdown(&diff, limit);
            assert!(text.len() <= limit, "{limit}: {}", text.len());
        }
    }

    #[test]
    fn fences_are_longer_than_any_backtick_run_inside() {
        assert_eq!(longest_run("a ``` b ```` c", '`'), 4);
        let after: BTreeMap<String, String> = [(
            "c.yaml".to_string(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: \"````\"}\n"
                .to_string(),
        )]
        .into();
        let text = markdown(
            &connections_core::diff::diff(&BTreeMap::new(), &after),
            crate::cli::GITHUB_COMMENT_LIMIT as usize,
        );
        assert!(text.contains("\n`````diff\n"), "{text}");
    }

    #[test]
    fn markdown_escapes_html_in_titles() {
        let after: BTreeMap<String, String> =
            [("x.json".to_string(), "{\"connections\": {}}".to_string())].into();
        let diff = connections_core::diff::diff(&BTreeMap::new(), &after);
        let text = markdown(&diff, crate::cli::GITHUB_COMMENT_LIMIT as usize);
        assert!(text.contains("<summary>created x.json (<code>x.json</code>)</summary>"), "{text}");
        assert_eq!(html_escape("<b>&"), "&lt;b&gt;&amp;");
    }
}
