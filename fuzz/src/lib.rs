//! What the fuzz targets share: how an input's bytes become files, and the invariants every
//! run must keep beyond "no panic, no hang, bounded memory" (which libFuzzer itself watches).
//!
//! - Every finding points into a file the run read, at a byte range inside its text, on
//!   character boundaries: the reporters cut source lines by these spans.
//! - Every YAML document the renderer writes (a clean plan's files, the KRM function's
//!   output) reads back as exactly one document without an error: what we write, kubectl and
//!   we must be able to read.

use connections_core::diagnostic::{Diagnostic, Severity};
use connections_core::source::SourceMap;
use connections_core::syntax::Document;

/// Separates the files of one input: a NUL byte, which YAML text cannot hold anyway.
pub const FILE_SEPARATOR: char = '\0';

/// At most this many files per input (more adds nothing the fuzzer cannot reach with fewer).
pub const MAX_FILES: usize = 16;

/// The input's files as the loader would read them: `f0.yaml`, `f1.yaml`, ... Invalid UTF-8
/// is replaced (the loader refuses such a file with a finding before parsing it).
pub fn read_files(sources: &mut SourceMap, bytes: &[u8]) -> (Vec<Document>, Vec<Diagnostic>) {
    let text = String::from_utf8_lossy(bytes);
    let mut documents = Vec::new();
    let mut diagnostics = Vec::new();
    for (i, part) in text.split(FILE_SEPARATOR).take(MAX_FILES).enumerate() {
        let (found, problems) = connections_loader::load_text(sources, &format!("f{i}.yaml"), part);
        documents.extend(found);
        diagnostics.extend(problems);
    }
    (documents, diagnostics)
}

/// Panics unless every finding's span (and related span) lies inside a file of `sources`, on
/// character boundaries of its text.
pub fn assert_spans_in_bounds(sources: &SourceMap, diagnostics: &[Diagnostic]) {
    for diagnostic in diagnostics {
        let spans =
            std::iter::once(diagnostic.span).chain(diagnostic.related.iter().map(|r| r.span));
        for span in spans.filter(|s| s.is_real()) {
            let file = sources.get(span.file).unwrap_or_else(|| {
                panic!("{:?} points into an unknown file: {diagnostic:?}", span)
            });
            let text = &file.text;
            let (start, end) = (span.start as usize, span.end as usize);
            assert!(
                start <= end && end <= text.len(),
                "{span:?} lies outside {} ({} bytes): {diagnostic:?}",
                file.path,
                text.len()
            );
            assert!(
                text.is_char_boundary(start) && text.is_char_boundary(end),
                "{span:?} cuts a character of {}: {diagnostic:?}",
                file.path
            );
        }
    }
}

/// Panics unless `yaml` (one emitted document) reads back as one document without an error.
pub fn assert_reads_back(what: &str, yaml: &str) {
    let mut scratch = SourceMap::new();
    let (documents, problems) = connections_loader::load_text(&mut scratch, what, yaml);
    let errors: Vec<&Diagnostic> =
        problems.iter().filter(|d| d.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{what} does not read back: {errors:?}\n{yaml}");
    assert_eq!(documents.len(), 1, "{what} reads back as {} documents:\n{yaml}", documents.len());
}
