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
}

impl Context<'_> {
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

    /// A file's path joined to the repository path as given (`deploy/apps/x.yaml`).
    pub fn display_path(&self, relative: &str) -> String {
        if self.root.is_file() || self.root.as_os_str().is_empty() || self.root == Path::new(".") {
            return relative.to_string();
        }
        let root = self.root.to_string_lossy();
        let root = root.trim_end_matches('/');
        format!("{root}/{relative}")
    }

    /// `(relative path, line, column)` of a finding.
    pub fn location(&self, d: &Diagnostic) -> (String, usize, usize) {
        let path = self.sources.path(d.span).unwrap_or("").to_string();
        let (line, column) = self.sources.line_col(d.span).unwrap_or((1, 1));
        (path, line, column)
    }
}

/// Writes the findings (sorted) in the chosen format.
pub fn write(
    ctx: &Context<'_>,
    settings: &Reporting,
    diagnostics: &[Diagnostic],
    out: &mut String,
) {
    let summary = Summary::of(diagnostics);
    match settings.format {
        OutputFormat::Human => human::write(ctx, settings.color, diagnostics, &summary, out),
        OutputFormat::Json => json::write(ctx, diagnostics, &summary, out),
        OutputFormat::Github => github::write(ctx, diagnostics, out),
        OutputFormat::Sarif => sarif::write(ctx, diagnostics, out),
    }
}
