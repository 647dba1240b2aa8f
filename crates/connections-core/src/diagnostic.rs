//! Findings as data.
//!
//! Every stage returns its output plus a list of [`Diagnostic`]s and keeps going, so one run
//! shows every problem. A diagnostic names its check, severity, message, primary span, field
//! path and help; turning it into text (miette, JSON, GitHub annotations) is the plugin's job.

use crate::checks::Check;
use crate::source::Span;
use std::fmt;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; never fails a run.
    Info,
    /// Probably wrong; fails a run only with `--fail-on warning`.
    Warning,
    /// Wrong; render refuses to write.
    Error,
}

impl Severity {
    /// The lower-case name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary location that explains the finding (for example the first of two duplicates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// Where.
    pub span: Span,
    /// What is there.
    pub message: String,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The check that produced it.
    pub check: Check,
    /// Its severity (the check's default unless a setting changed it).
    pub severity: Severity,
    /// One sentence, lower-case start, no trailing period; never contains a secret value.
    pub message: String,
    /// The primary location.
    pub span: Span,
    /// A short label shown under the primary location.
    pub label: Option<String>,
    /// The field path inside the object, e.g. `spec.secret.items[1]` (empty for a whole file).
    pub path: String,
    /// Other locations worth showing.
    pub related: Vec<Related>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A finding of `check` at `span` with the check's default severity.
    pub fn new(check: Check, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            check,
            severity: check.severity(),
            message: message.into(),
            span,
            label: None,
            path: String::new(),
            related: Vec::new(),
            help: None,
        }
    }

    /// Sets the field path.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the label under the primary span.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the help text.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a related location.
    pub fn related(mut self, span: Span, message: impl Into<String>) -> Self {
        if span.is_real() {
            self.related.push(Related { span, message: message.into() });
        }
        self
    }

    /// Overrides the severity.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

/// Sorts diagnostics into the stable order every output uses: by file, position, check, message.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.span.file, a.span.start, a.check.id(), &a.message, &a.path).cmp(&(
            b.span.file,
            b.span.start,
            b.check.id(),
            &b.message,
            &b.path,
        ))
    });
}

/// Counts by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Error-level findings.
    pub errors: usize,
    /// Warning-level findings.
    pub warnings: usize,
    /// Info-level findings.
    pub infos: usize,
}

impl Summary {
    /// Counts the findings.
    pub fn of(diagnostics: &[Diagnostic]) -> Summary {
        let mut summary = Summary::default();
        for d in diagnostics {
            match d.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
        }
        summary
    }
}
