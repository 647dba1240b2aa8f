//! Turning findings into text: human (miette), JSON, GitHub annotations and SARIF.
//!
//! Every format shows the same findings in the same order (file, position, check). Paths are
//! relative to the repository in JSON (the contract) and joined to the path the user gave in
//! the other formats, so that terminals and GitHub can open them.

mod github;
mod human;
mod json;
mod sarif;

use crate::cli::OutputFormat;
use crate::settings::Reporting;
use connections_core::diagnostic::{Diagnostic, Summary};
use connections_core::source::SourceMap;
use std::path::Path;

/// What a report needs to know besides the findings.
pub struct Context<'a> {
    /// Source files.
    pub sources: &'a SourceMap,
    /// The repository path as given.
    pub root: &'a Path,
    /// Byte ranges holding secret values, masked wherever source lines are shown.
    pub masks: &'a [connections_core::source::Span],
    /// Whether `root` is a single file (asked once: paths are shown for every finding, and a
    /// lookup each was thousands of `stat` calls on large runs).
    root_is_file: bool,
}

impl<'a> Context<'a> {
    /// The context of one report.
    pub fn new(
        sources: &'a SourceMap,
        root: &'a Path,
        masks: &'a [connections_core::source::Span],
    ) -> Context<'a> {
        Context { sources, root, masks, root_is_file: root.is_file() }
    }

    /// The text of a file with every secret value replaced by `*` (byte for byte, so spans
    /// stay valid; line breaks are kept).
    pub fn masked_text(&self, file: connections_core::source::FileId, text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        for span in self.masks.iter().filter(|s| s.file == file) {
            let end = (span.end as usize).min(bytes.len());
            for b in &mut bytes[(span.start as usize).min(end)..end] {
                if *b != b'\n' && *b != b'\r' {
                    *b = b'*';
                }
            }
        }
        // Only whole characters were replaced by ASCII, so this stays valid UTF-8 unless a
        // span cut a character; then fall back to a lossy reading.
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// A file's path joined to the repository path as given (`deploy/apps/x.yaml`); for a
    /// single file given as the repository, that path.
    pub fn display_path(&self, relative: &str) -> String {
        if self.root_is_file {
            let root = self.root.to_string_lossy();
            return root.strip_prefix("./").unwrap_or(&root).to_string();
        }
        if self.root.as_os_str().is_empty() || self.root == Path::new(".") {
            return relative.to_string();
        }
        let root = self.root.to_string_lossy();
        let root = root.trim_end_matches('/');
        format!("{root}/{relative}")
    }

    /// A file's path relative to the top of the Git work tree that holds it, as code scanning
    /// and workflow annotations expect (they resolve paths against the checkout, whatever
    /// folder the command ran in); outside Git, the path as shown, without a leading `./`.
    pub fn repository_path(&self, relative: &str) -> String {
        let shown = self.display_path(relative);
        let full =
            if self.root_is_file { self.root.to_path_buf() } else { self.root.join(relative) };
        if let (Some(top), Ok(full)) = (git_top(self.root), full.canonicalize())
            && let Ok(inside) = full.strip_prefix(&top)
        {
            return inside.to_string_lossy().replace('\\', "/");
        }
        shown.strip_prefix("./").map(str::to_string).unwrap_or(shown)
    }

    /// `(relative path, line, column)` of a finding.
    pub fn location(&self, d: &Diagnostic) -> (String, usize, usize) {
        let path = self.sources.path(d.span).unwrap_or("").to_string();
        let (line, column) = self.sources.line_col(d.span).unwrap_or((1, 1));
        (path, line, column)
    }
}

/// The top of the Git work tree holding `root` (asked once per run).
fn git_top(root: &Path) -> Option<std::path::PathBuf> {
    static TOP: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    TOP.get_or_init(|| {
        let dir = if root.is_file() { root.parent()? } else { root };
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        let out = std::process::Command::new("git")
            .args(["rev-parse", "--show-toplevel"])
            .current_dir(dir)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        let top = String::from_utf8(out.stdout).ok()?;
        (out.status.success() && !top.trim().is_empty())
            .then(|| std::path::PathBuf::from(top.trim()))
            .and_then(|p| p.canonicalize().ok())
    })
    .clone()
}

/// The findings (sorted) in the chosen format, as pieces to print in order: a large human
/// report is rendered in chunks on every core, and is not joined into one string.
pub fn write(ctx: &Context<'_>, settings: &Reporting, diagnostics: &[Diagnostic]) -> Vec<String> {
    let summary = Summary::of(diagnostics);
    let mut whole = String::new();
    match settings.format {
        OutputFormat::Human => return human::write(ctx, settings.color, diagnostics, &summary),
        OutputFormat::Json => json::write(ctx, diagnostics, &summary, &mut whole),
        OutputFormat::Github => github::write(ctx, diagnostics, &mut whole),
        OutputFormat::Sarif => sarif::write(ctx, diagnostics, &mut whole),
    }
    vec![whole]
}

/// Whether `c` must not reach a terminal or a log as it is: control characters (C0, DEL and
/// C1) other than tab and line breaks, which each format handles its own way.
pub(super) fn is_unprintable(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// A message with control characters written as escapes (`\u{1b}`): names quoted in a
/// message come from the input, and an escape sequence in one must not act on the terminal,
/// the CI log (GitHub annotations) or a SARIF viewer that shows it.
pub(super) fn printable(message: &str) -> String {
    replace_unprintable(message, |c, out| out.extend(c.escape_unicode()))
}

/// `text` with each unprintable character replaced by what `with` writes; copied whole when
/// there is none (nearly always).
pub(super) fn replace_unprintable(text: &str, with: impl Fn(char, &mut String)) -> String {
    if !text.chars().any(is_unprintable) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unprintable(c) {
            with(c, &mut out);
        } else {
            out.push(c);
        }
    }
    out
}
