//! The read and write side of kubectl-connections: walk a repository, read and parse every
//! YAML/JSON file into spanned documents, and write rendered output atomically.
//!
//! This crate owns the filesystem; the core stays pure. Problems with individual files (a
//! permission error, invalid UTF-8, a file over the size limit, a symlink out of the tree)
//! are findings, not errors: the run goes on and reports them all. Only a root that cannot be
//! read at all is an error.

pub mod walk;
pub mod write;

/// The YAML parser, which lives in the core (it is pure).
pub use connections_core::parse as yaml;

use connections_core::checks::Check;
use connections_core::diagnostic::Diagnostic;
use connections_core::source::{FileId, SourceFile, SourceMap, Span, TextDigest};
use connections_core::syntax::Document;
use std::path::{Path, PathBuf};

/// Default limit on the size of one input file.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// How to read a repository.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Files larger than this are refused with a finding.
    pub max_file_size: u64,
    /// A folder never to read (the output folder).
    pub exclude: Option<PathBuf>,
    /// Parser limits.
    pub limits: yaml::Limits,
    /// Let go of each file's text once it is parsed (keeping its line index and digest), and
    /// read back only the files findings point into ([`Loaded::restore_texts`]): a large
    /// repository's texts are a tenth of a run's memory.
    pub release_texts: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            exclude: None,
            limits: yaml::Limits::default(),
            release_texts: false,
        }
    }
}

/// A read repository.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every file that was read (or tried), with its text.
    pub sources: SourceMap,
    /// Every document, in file order, then document order.
    pub documents: Vec<Document>,
    /// Findings of reading and parsing.
    pub diagnostics: Vec<Diagnostic>,
    /// Bytes read.
    pub bytes: u64,
}

impl Loaded {
    /// Whether some input could not be read at all (the run then exits with code 2).
    pub fn has_unreadable_input(&self) -> bool {
        self.diagnostics.iter().any(|d| d.check == Check::UnreadableInput)
    }
}

/// Why a repository could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The root does not exist or cannot be read.
    #[error("cannot read {}: {reason}", path.display())]
    Root {
        /// The root.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

enum FileResult {
    Parsed { source: Parsed, documents: Vec<Document>, diagnostics: Vec<Diagnostic> },
    Problem { text: String, check: Check, message: String, offset: u32, label: &'static str },
}

/// A parsed file's text, or what is left of it once released.
enum Parsed {
    /// The text and its line index (built once, by the reading thread).
    Kept(String, connections_core::source::LineIndex),
    Released {
        lines: connections_core::source::LineIndex,
        digest: TextDigest,
    },
}

/// The most capacity a reading thread's buffer keeps between files, and the most read before
/// a file's size is asked (most manifests are a few KB).
const READ_BUFFER_KEPT: usize = 256 * 1024;

thread_local! {
    /// Each reading thread's buffer, reused from file to file.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn read_one(path: &Path, file: FileId, options: &LoadOptions) -> FileResult {
    let problem = |message: String| FileResult::Problem {
        text: String::new(),
        check: Check::UnreadableInput,
        message,
        offset: 0,
        label: "not read",
    };
    // One open and reads into this thread's buffer, then one copy of exactly the file's
    // length. The size is asked (a `statx`) only of a file that fills the buffer: asking it of
    // every file was measurable over tens of thousands of them, and a file over the limit
    // must still be refused without being read.
    // `Err(Some(size))`: over the limit; `Err(None)`: grew past it while being read.
    let read = || -> std::io::Result<Result<Vec<u8>, Option<u64>>> {
        use std::io::Read as _;
        let mut file = std::fs::File::open(path)?;
        let limit = options.max_file_size.saturating_add(1);
        READ_BUFFER.with_borrow_mut(|buffer| {
            buffer.clear();
            let first = (READ_BUFFER_KEPT as u64).min(limit);
            (&mut file).take(first).read_to_end(buffer)?;
            if buffer.len() as u64 == first {
                // Not known to be at its end: a large file, whose size decides whether the
                // rest is read. At most one byte past the limit is: a file that grows past it
                // while being read is refused as well, not read without bound.
                let size = file.metadata()?.len();
                if size > options.max_file_size {
                    return Ok(Err(Some(size)));
                }
                (&mut file).take(limit - buffer.len() as u64).read_to_end(buffer)?;
                if buffer.len() as u64 > options.max_file_size {
                    return Ok(Err(None));
                }
            }
            let bytes = buffer.to_vec();
            // A buffer grown for an unusually large file is not kept for the rest of the run.
            if buffer.capacity() > READ_BUFFER_KEPT {
                *buffer = Vec::new();
            }
            Ok(Ok(bytes))
        })
    };
    let bytes = match read() {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(Some(size))) => {
            return problem(format!(
                "this file is {size} bytes, over the limit of {} bytes; it is not read (raise it with --max-file-size)",
                options.max_file_size
            ));
        }
        Ok(Err(None)) => {
            return problem(format!(
                "this file grew past the limit of {} bytes while it was read; it is not read (raise it with --max-file-size)",
                options.max_file_size
            ));
        }
        Err(e) => {
            return problem(format!("this file cannot be read: {}", walk::io_reason(Some(&e))));
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // Offsets of the lossy text match the original up to the first bad byte.
            return FileResult::Problem {
                text,
                check: Check::YamlSyntax,
                message: format!(
                    "this file is not valid UTF-8 (invalid byte at offset {at}); YAML must be UTF-8"
                ),
                offset: at as u32,
                label: "invalid UTF-8",
            };
        }
    };
    // YAML allows no control character but tab and line breaks (kubectl: "control characters
    // are not allowed"); saphyr takes a NUL for the end of the stream and would report an
    // unexpected end somewhere before it. Reported where it is, as kubectl refuses the file.
    // Checked by a fold the compiler vectorises first (files nearly never hold one), then
    // found byte by byte.
    let is_control = |b: u8| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f;
    if text.bytes().fold(false, |found, b| found | is_control(b))
        && let Some(at) = text.bytes().position(is_control)
    {
        let byte = text.as_bytes()[at];
        let name = if byte == 0 {
            "a NUL byte".to_string()
        } else {
            format!("the control character {byte:#04x}")
        };
        return FileResult::Problem {
            text,
            check: Check::YamlSyntax,
            message: format!(
                "this file holds {name}, which YAML does not allow (kubectl refuses the file: control characters are not allowed)"
            ),
            offset: at as u32,
            label: "control character",
        };
    }
    // A byte order mark is allowed at the start; saphyr skips it, spans stay byte offsets.
    let lines = connections_core::source::LineIndex::new(&text);
    let (documents, diagnostics) = yaml::parse(file, &text, &lines, options.limits);
    let source = if options.release_texts {
        Parsed::Released { lines, digest: TextDigest::of(&text) }
    } else {
        Parsed::Kept(text, lines)
    };
    FileResult::Parsed { source, documents, diagnostics }
}

/// Reads every manifest under `root`.
pub fn load(root: &Path, options: &LoadOptions) -> Result<Loaded, LoadError> {
    if let Err(e) = std::fs::metadata(root) {
        return Err(LoadError::Root {
            path: root.to_path_buf(),
            reason: walk::io_reason(Some(&e)),
        });
    }
    // Every entry becomes one source, in walk order, so entry `i` is `FileId(i)`: files can be
    // read and parsed on every core and still be numbered, and reported, in a stable order.
    let (entries, results) = walk_and_read(root, options, threads());
    let mut loaded = Loaded::default();
    // Sized once: this runs on one thread while the others wait, and growing by doubling
    // copied the documents (72 bytes each) and sources several times over.
    let documents = results
        .iter()
        .map(|r| match r {
            Some(FileResult::Parsed { documents, .. }) => documents.len(),
            _ => 0,
        })
        .sum();
    loaded.documents.reserve_exact(documents);
    loaded.sources.reserve(entries.len());
    for (entry, result) in entries.into_iter().zip(results) {
        let file = FileId(loaded.sources.len() as u32);
        match (entry, result) {
            (walk::Entry::Problem { relative, kind, detail }, _) => {
                loaded.sources.add(SourceFile::new(relative.clone(), String::new()));
                let check = match kind {
                    walk::ProblemKind::Unreadable => Check::UnreadableInput,
                    walk::ProblemKind::Skipped => Check::SkippedInput,
                };
                loaded
                    .diagnostics
                    .push(Diagnostic::new(check, Span::new(file, 0, 0), detail).label("not read"));
            }
            (
                walk::Entry::File { relative, .. },
                Some(FileResult::Parsed { source, documents, diagnostics }),
            ) => {
                let source = match source {
                    Parsed::Kept(text, lines) => SourceFile::with_lines(relative, text, lines),
                    Parsed::Released { lines, digest } => {
                        SourceFile::released(relative, lines, digest)
                    }
                };
                loaded.bytes += source.len();
                loaded.sources.add(source);
                loaded.documents.extend(documents);
                loaded.diagnostics.extend(diagnostics);
            }
            (
                walk::Entry::File { relative, .. },
                Some(FileResult::Problem { text, check, message, offset, label }),
            ) => {
                loaded.sources.add(SourceFile::new(relative, text));
                loaded.diagnostics.push(
                    Diagnostic::new(check, Span::new(file, offset, offset), message).label(label),
                );
            }
            (walk::Entry::File { relative, .. }, None) => {
                // Unreachable: every file entry gets a result. Reported rather than dropped.
                loaded.sources.add(SourceFile::new(relative, String::new()));
                loaded.diagnostics.push(
                    Diagnostic::new(
                        Check::UnreadableInput,
                        Span::new(file, 0, 0),
                        "this file was not read",
                    )
                    .label("not read"),
                );
            }
        }
    }
    Ok(loaded)
}

/// How many threads to spread work over: one per core. The core takes this as an argument
/// (it does not look at the machine); shells ask here.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Walks `root` and reads and parses its files on every core while the walk goes on: the walk
/// is one thread's work (a tenth of loading a large repository), so the readers start on the
/// first file instead of waiting for the last. Entry `i` is read as `FileId(i)`; results come
/// back in entry order, `None` for entries that are not files.
fn walk_and_read(
    root: &Path,
    options: &LoadOptions,
    threads: usize,
) -> (Vec<walk::Entry>, Vec<Option<FileResult>>) {
    let exclude = options.exclude.as_deref();
    if threads <= 1 {
        let entries = walk::walk(root, exclude);
        let results = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| match entry {
                walk::Entry::File { path, .. } => Some(read_one(path, FileId(i as u32), options)),
                walk::Entry::Problem { .. } => None,
            })
            .collect();
        return (entries, results);
    }
    let (send, receive) = std::sync::mpsc::channel::<(usize, PathBuf)>();
    let receive = std::sync::Mutex::new(receive);
    std::thread::scope(|scope| {
        let read = || {
            let mut done = Vec::new();
            // The lock is held only to take the next file, not while reading it.
            while let Ok(Ok((i, path))) = receive.lock().map(|files| files.recv()) {
                done.push((i, read_one(&path, FileId(i as u32), options)));
            }
            done
        };
        // One reader fewer than cores: this thread walks, then reads what is left.
        let readers: Vec<_> = (1..threads).map(|_| scope.spawn(read)).collect();
        let mut entries = Vec::new();
        walk::walk_each(root, exclude, |entry| {
            if let walk::Entry::File { path, .. } = &entry {
                // The readers outlive the walk, so the channel is open.
                let _ = send.send((entries.len(), path.clone()));
            }
            entries.push(entry);
        });
        drop(send);
        let mut results: Vec<Option<FileResult>> = entries.iter().map(|_| None).collect();
        read().into_iter().for_each(|(i, result)| results[i] = Some(result));
        for reader in readers {
            match reader.join() {
                Ok(done) => done.into_iter().for_each(|(i, result)| results[i] = Some(result)),
                // A panic in a reader is a bug; surface it on this thread unchanged.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (entries, results)
    })
}

impl Loaded {
    /// Reads back the texts of the files `diagnostics` point into, where they were released
    /// ([`LoadOptions::release_texts`]). A file that changed since it was parsed keeps no
    /// text (its findings are shown without the source line) rather than a wrong one.
    pub fn restore_texts(&mut self, root: &Path, diagnostics: &[Diagnostic]) {
        let mut wanted: Vec<FileId> = diagnostics
            .iter()
            .flat_map(|d| std::iter::once(d.span).chain(d.related.iter().map(|r| r.span)))
            .map(|span| span.file)
            .filter(|&file| self.sources.get(file).is_some_and(|f| f.released.is_some()))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let paths: Vec<(FileId, PathBuf)> = wanted
            .into_iter()
            .filter_map(|file| {
                let relative = &self.sources.get(file)?.path;
                // A single-file root is the file itself.
                let path = if root.is_dir() { root.join(relative) } else { root.to_path_buf() };
                Some((file, path))
            })
            .collect();
        let texts = connections_core::par::map(&paths, threads(), |(_, path)| {
            std::fs::read_to_string(path)
        });
        for ((file, _), text) in paths.into_iter().zip(texts) {
            if let (Ok(text), Some(source)) = (text, self.sources.get_mut(file)) {
                source.restore(text);
            }
        }
    }

    /// Reads the settings file `name` at the repository root (a dotfile the walk skips), adds
    /// it to the sources so that findings can point into it, and returns its documents;
    /// `None` when there is no such file (or the root is a single file).
    pub fn read_root_file(&mut self, root: &Path, name: &str) -> Option<Vec<Document>> {
        let path = root.join(name);
        if !root.is_dir() || !path.is_file() {
            return None;
        }
        let file = FileId(self.sources.len() as u32);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (documents, diagnostics) = load_text(&mut self.sources, name, &text);
                self.diagnostics.extend(diagnostics);
                Some(documents)
            }
            Err(e) => {
                self.sources.add(SourceFile::new(name, String::new()));
                self.diagnostics.push(
                    Diagnostic::new(
                        Check::UnreadableInput,
                        Span::new(file, 0, 0),
                        format!("this file cannot be read: {}", walk::io_reason(Some(&e))),
                    )
                    .label("not read"),
                );
                Some(Vec::new())
            }
        }
    }
}

/// Parses one in-memory text as a file (for tests and the KRM function).
pub fn load_text(
    sources: &mut SourceMap,
    relative: &str,
    text: &str,
) -> (Vec<Document>, Vec<Diagnostic>) {
    let file = sources.add(SourceFile::new(relative, text));
    let source = sources.get(file).expect("just added");
    yaml::parse(file, &source.text, &source.lines, yaml::Limits::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a load found, thread count aside: each entry's path and, for files, the
    /// documents' kinds and the findings' messages.
    fn summary(root: &Path, threads: usize) -> Vec<(String, Vec<String>)> {
        let (entries, results) = walk_and_read(root, &LoadOptions::default(), threads);
        assert_eq!(entries.len(), results.len());
        entries
            .iter()
            .zip(results)
            .enumerate()
            .map(|(i, (entry, result))| match (entry, result) {
                (
                    walk::Entry::File { relative, .. },
                    Some(FileResult::Parsed { documents, diagnostics, .. }),
                ) => {
                    let mut seen: Vec<String> =
                        documents.iter().map(|d| format!("{:?}", d.root.get("kind"))).collect();
                    seen.extend(diagnostics.iter().map(|d| d.message.clone()));
                    // Spans name the file by its entry index.
                    assert!(diagnostics.iter().all(|d| d.span.file == FileId(i as u32)));
                    (relative.clone(), seen)
                }
                (walk::Entry::File { relative, .. }, Some(FileResult::Problem { message, .. })) => {
                    (relative.clone(), vec![message])
                }
                (walk::Entry::File { relative, .. }, None) => {
                    (relative.clone(), vec!["unread".into()])
                }
                (walk::Entry::Problem { relative, detail, .. }, _) => {
                    (relative.clone(), vec![detail.clone()])
                }
            })
            .collect()
    }

    /// Reading while the walk goes on gives the entries in walk order with their own results,
    /// whatever the number of reading threads (one thread takes the plain path).
    #[test]
    fn the_pipelined_walk_matches_the_sequential_one() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..40 {
            let folder = dir.path().join(format!("team-{}/apps-{}", i % 3, i % 5));
            std::fs::create_dir_all(&folder).unwrap();
            let text = format!("apiVersion: v1\nkind: ConfigMap{i}\nmetadata:\n  name: c{i}\n");
            std::fs::write(folder.join(format!("cm-{i}.yaml")), text).unwrap();
        }
        std::fs::write(dir.path().join("team-0/broken.yaml"), "a: [\n").unwrap();
        std::fs::write(dir.path().join("team-1/bytes.yaml"), b"a: \xff\n").unwrap();
        std::fs::write(dir.path().join("team-2/notes.txt"), "not read").unwrap();
        std::fs::create_dir_all(dir.path().join("chart")).unwrap();
        std::fs::write(dir.path().join("chart/Chart.yaml"), "name: x\n").unwrap();
        let one = summary(dir.path(), 1);
        assert_eq!(one.len(), 43, "{one:?}");
        assert!(one.windows(2).all(|w| w[0].0 < w[1].0), "walk order is sorted: {one:?}");
        for threads in [2, 3, 8] {
            assert_eq!(summary(dir.path(), threads), one, "{threads} threads");
        }
    }
}
