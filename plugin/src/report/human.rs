//! Human output through miette: the check id, the message, the source line with the span
//! underlined, related locations and help. Without colour (not a terminal, `NO_COLOR`, or
//! `--color never`) the output is plain Unicode at a fixed width, which the snapshot tests pin.

use super::{Context, printable, replace_unprintable};
use connections_core::diagnostic::{Diagnostic, Severity, Summary};
use connections_core::source::Span;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};
use std::fmt;
use std::sync::Arc;

/// Width of plain output (snapshots depend on it).
pub const PLAIN_WIDTH: usize = 100;

struct Shown<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<NamedSource<Windowed>>,
    heading: String,
}

/// A file's text with its line starts, so that miette reads a span's lines from where they
/// start: its own reading of a text scans it from the first byte, for every finding, which
/// is quadratic for many findings in one large file (a million documents in one file).
#[derive(Clone, Debug)]
struct Windowed {
    text: Arc<str>,
    /// Byte offsets of line starts (after LF, CR LF and a lone CR, as miette splits lines).
    line_starts: Arc<[usize]>,
}

impl Windowed {
    fn new(text: Arc<str>) -> Windowed {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, &byte) in bytes.iter().enumerate() {
            if byte == b'\n' || (byte == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i + 1);
            }
        }
        Windowed { text, line_starts: line_starts.into() }
    }
}

impl miette::SourceCode for Windowed {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // miette's reading of the text from a line start a few lines before the span gives
        // what its reading from the first byte does, shifted by the lines skipped.
        let line = self.line_starts.partition_point(|&start| start <= span.offset()) - 1;
        let first = line.saturating_sub(context_lines_before + 1);
        let base = self.line_starts[first];
        let window = &self.text[base..];
        let shifted = miette::SourceSpan::new((span.offset() - base).into(), span.len());
        let contents = window.read_span(&shifted, context_lines_before, context_lines_after)?;
        let data: &'a [u8] = contents.data();
        let found = *contents.span();
        Ok(Box::new(miette::MietteSpanContents::new(
            data,
            miette::SourceSpan::new((found.offset() + base).into(), found.len()),
            contents.line() + first,
            contents.column(),
            contents.line_count() + first,
        )))
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.heading)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.heading)
    }
}

impl std::error::Error for Shown<'_> {}

fn offset(span: Span) -> miette::SourceSpan {
    (span.start as usize, span.len() as usize).into()
}

impl miette::Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.check.id()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let d = self.diagnostic;
        let mut labels = vec![LabeledSpan::new_primary_with_span(d.label.clone(), offset(d.span))];
        for related in &d.related {
            // miette shows one source per report; related spans in other files go to the help.
            if related.span.file == d.span.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(related.message.clone()),
                    offset(related.span),
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// The reports of every finding in pieces (one per chunk), then the summary line.
pub fn write(
    ctx: &Context<'_>,
    color: bool,
    diagnostics: &[Diagnostic],
    summary: &Summary,
) -> Vec<String> {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let mut handler = GraphicalReportHandler::new_themed(theme).with_links(false);
    if !color {
        handler = handler.with_width(PLAIN_WIDTH);
    }
    // Rendering a report is independent per finding; large runs (thousands of notes) render
    // in contiguous chunks on every core (each chunk reads its own files' sources), in order.
    let threads = connections_loader::threads();
    let chunk = diagnostics.len().div_ceil(threads).max(PARALLEL_FROM);
    let chunks: Vec<&[Diagnostic]> = diagnostics.chunks(chunk).collect();
    // Kept as pieces, printed one after the other: joining them held the report twice at
    // the end of a large run (5 MB of reports at 10,000 notes).
    let mut out =
        connections_core::par::map(&chunks, threads, |part| render_all(ctx, &handler, part));
    let mut parts = Vec::new();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    parts.push(plural(summary.errors, "error"));
    parts.push(plural(summary.warnings, "warning"));
    if summary.infos > 0 {
        parts.push(plural(summary.infos, "note"));
    }
    out.push(parts.join(", ") + "\n");
    out
}

/// `text` with each control character (but tab and line breaks) replaced by as many `?` as
/// it has bytes: a file's escape sequences must not reach the terminal, and spans stay valid.
fn without_controls(text: &str) -> String {
    replace_unprintable(text, |c, out| out.extend(std::iter::repeat_n('?', c.len_utf8())))
}

/// From this many findings on, reports are rendered on several threads.
const PARALLEL_FROM: usize = 512;

/// Whether a file's text may hold a Secret (or a SOPS file, or a kubeconfig).
fn may_hold_secret(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("kind: Secret")
            || line.starts_with("\"kind\": \"Secret\"")
            || line.starts_with("stringData:")
            || line.starts_with("sops:")
            || line.contains("token:")
            || line.contains("client-key-data:")
    })
}

/// Renders each finding of `diagnostics` as a report, in order.
fn render_all(
    ctx: &Context<'_>,
    handler: &GraphicalReportHandler,
    diagnostics: &[Diagnostic],
) -> String {
    let mut out = String::new();
    // Findings come sorted by file, so only the current file's source is kept: keeping every
    // file's held a masked copy of each text with its line starts until the chunk was done
    // (more than the texts themselves at 10,000 notes in as many files). Unsorted findings
    // are shown the same, only building a file's source again when it comes back.
    let mut current: Option<(u32, NamedSource<Windowed>)> = None;
    for d in diagnostics {
        let file = ctx.sources.get(d.span.file);
        // Secret values are masked in the source shown (`Context::masked_text`).
        // A file that did not parse was never lowered, so the secret values in it are not
        // known: a Secret's lines are not shown around a syntax error.
        let unparsed_secret = d.check == connections_core::checks::Check::YamlSyntax
            && file.is_some_and(|f| may_hold_secret(&f.text));
        let source =
            file.filter(|f| !f.text.is_empty() && !unparsed_secret).map(|f| match &current {
                Some((id, source)) if *id == d.span.file.0 => source.clone(),
                _ => {
                    let source = NamedSource::new(
                        ctx.display_path(&f.path),
                        Windowed::new(Arc::<str>::from(without_controls(
                            &ctx.masked_text(d.span.file, &f.text),
                        ))),
                    );
                    current = Some((d.span.file.0, source.clone()));
                    source
                }
            });
        let mut heading = printable(&d.message);
        if source.is_none()
            && let Some(f) = file
        {
            // A text released after parsing and changed since still has its line index.
            heading = if f.text.is_empty() && f.released.is_none() {
                format!("{}: {heading}", ctx.display_path(&f.path))
            } else {
                let (line, col) = ctx.sources.line_col(d.span).unwrap_or((1, 1));
                format!("{}:{line}:{col}: {heading}", ctx.display_path(&f.path))
            };
        }
        let mut shown = Shown { diagnostic: d, source, heading };
        // Related locations in other files are named in words.
        let elsewhere: Vec<String> = d
            .related
            .iter()
            .filter(|r| r.span.file != d.span.file)
            .filter_map(|r| {
                let path = ctx.sources.path(r.span)?;
                let (line, col) = ctx.sources.line_col(r.span)?;
                Some(format!("{}: {}:{line}:{col}", r.message, ctx.display_path(path)))
            })
            .collect();
        if !elsewhere.is_empty() {
            shown.heading = format!("{} ({})", shown.heading, elsewhere.join("; "));
        }
        let _ = handler.render_report(&mut out, &shown);
        out.push('\n');
    }
    out
}
