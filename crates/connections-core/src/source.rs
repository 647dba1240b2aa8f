//! Source files and positions.
//!
//! Spans are `(FileId, byte range)` everywhere in the core; line and column are computed only
//! when a diagnostic is shown, from a [`LineIndex`]. The text itself lives in a [`SourceMap`]
//! that the loader fills and the reporters read: the core never reads a file.

use std::fmt;

/// Identifies one source file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

impl FileId {
    /// The file id of nodes the renderer made itself (they have no source).
    pub const SYNTHETIC: FileId = FileId(u32::MAX);
}

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span for generated nodes, which point nowhere.
    pub const SYNTHETIC: Span = Span { file: FileId::SYNTHETIC, start: 0, end: 0 };

    /// Makes a span; `end` is clamped so that the range is never inverted.
    pub fn new(file: FileId, start: u32, end: u32) -> Span {
        Span { file, start, end: end.max(start) }
    }

    /// Whether the span points into a real file.
    pub fn is_real(&self) -> bool {
        self.file != FileId::SYNTHETIC
    }

    /// The length in bytes.
    pub fn len(&self) -> u32 {
        self.end - self.start
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where the value was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// Byte offsets of line starts, to turn a byte offset into a 1-based line and column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        // YAML line breaks: LF, CR LF, and a lone CR. Every file is indexed, so the search is
        // vectorised (memchr).
        let bytes = text.as_bytes();
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n') {
                line_starts.push(i as u32 + 1);
            }
        }
        LineIndex { line_starts }
    }

    /// The byte offset where 1-based `line` starts, if the line exists.
    pub fn line_start(&self, line: usize) -> Option<u32> {
        line.checked_sub(1).and_then(|i| self.line_starts.get(i).copied())
    }

    /// The 1-based line and 1-based column (in characters) of a byte offset.
    /// Without the text (released, see [`SourceFile::released`]) the column counts bytes.
    pub fn line_col(&self, text: &str, offset: u32) -> (usize, usize) {
        let offset = if text.is_empty() { offset } else { offset.min(text.len() as u32) };
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let end = (offset as usize).max(start);
        let column = text.get(start..end).map_or(end - start, |s| s.chars().count());
        (line + 1, column + 1)
    }
}

/// One file of the repository: its path relative to the repository root and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the repository root, with `/` separators.
    pub path: String,
    /// The whole text; empty while [`SourceFile::released`] says it was let go.
    pub text: String,
    /// Line starts of the text.
    pub lines: LineIndex,
    /// Set when the text was let go after parsing to save memory (a large repository's
    /// texts are only needed for the few files findings point into): what the text was, so
    /// that the one read again for a report can be checked to be the same.
    pub released: Option<TextDigest>,
}

/// The length and a 64-bit hash of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextDigest {
    /// Length in bytes.
    pub len: u64,
    /// A hash of the bytes.
    pub hash: u64,
}

impl TextDigest {
    /// The digest of `text`.
    pub fn of(text: &str) -> TextDigest {
        use std::hash::{BuildHasher as _, Hasher as _};
        // A check that a file did not change between two reads, not a defence: foldhash's
        // quality variant is several times faster than SipHash over whole files.
        let mut hasher = foldhash::quality::FixedState::with_seed(0).build_hasher();
        hasher.write(text.as_bytes());
        TextDigest { len: text.len() as u64, hash: hasher.finish() }
    }
}

impl SourceFile {
    /// Makes a source file and indexes its lines.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let lines = LineIndex::new(&text);
        SourceFile { path: path.into(), text, lines, released: None }
    }

    /// [`SourceFile::new`] with the text's line index already built (`lines` must be
    /// `LineIndex::new(&text)`: the loader builds it to parse the file, on its reading thread).
    pub fn with_lines(path: impl Into<String>, text: String, lines: LineIndex) -> SourceFile {
        debug_assert!(lines == LineIndex::new(&text), "the line index of another text");
        SourceFile { path: path.into(), text, lines, released: None }
    }

    /// A source file whose text was let go after parsing (see [`SourceFile::released`]).
    pub fn released(path: impl Into<String>, lines: LineIndex, digest: TextDigest) -> SourceFile {
        SourceFile { path: path.into(), text: String::new(), lines, released: Some(digest) }
    }

    /// The length of the text as read, whether or not it is still held.
    pub fn len(&self) -> u64 {
        self.released.map_or(self.text.len() as u64, |d| d.len)
    }

    /// Whether the text as read was empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts back a text read again after [`SourceFile::released`]; `false` (and nothing
    /// changes) when it is not the text that was parsed, so that spans never point into
    /// different bytes.
    pub fn restore(&mut self, text: String) -> bool {
        match self.released {
            Some(digest) if TextDigest::of(&text) == digest => {
                self.text = text;
                self.released = None;
                true
            }
            _ => false,
        }
    }
}

/// Every source file of one run, addressed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Makes room for `more` files, so that adding thousands of them does not copy the map as
    /// it grows.
    pub fn reserve(&mut self, more: usize) {
        self.files.reserve_exact(more);
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    /// The file with this id; `None` for synthetic spans.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// All files in id order.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The file with this id, to change.
    pub fn get_mut(&mut self, id: FileId) -> Option<&mut SourceFile> {
        self.files.get_mut(id.0 as usize)
    }

    /// The 1-based line and column where a span starts.
    pub fn line_col(&self, span: Span) -> Option<(usize, usize)> {
        let file = self.get(span.file)?;
        Some(file.lines.line_col(&file.text, span.start))
    }

    /// The relative path of the file a span is in.
    pub fn path(&self, span: Span) -> Option<&str> {
        self.get(span.file).map(|f| f.path.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "a: 1\nnäme: x\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), (1, 1));
        let x = text.find('x').unwrap() as u32;
        assert_eq!(index.line_col(text, x), (2, 7));
        assert_eq!(index.line_col(text, text.len() as u32), (3, 1));
    }

    #[test]
    fn only_the_same_text_is_restored() {
        let text = "a: 1\nb: 2\n";
        let mut file = SourceFile::released("a.yaml", LineIndex::new(text), TextDigest::of(text));
        assert_eq!(file.len(), 10);
        assert!(!file.restore("a: 1\nb: 3\n".into()));
        assert!(file.text.is_empty() && file.released.is_some());
        assert_eq!(file.lines.line_col(&file.text, 7), (2, 3));
        assert!(file.restore(text.into()));
        assert_eq!((file.text.as_str(), file.released, file.len()), (text, None, 10));
    }
}
