//! Walking the repository: which files are read, in which order, and what is skipped and why.
//!
//! The walk is sorted by file name (so order never depends on the filesystem), skips hidden
//! entries (`.git`, `.github`), rendered output folders (they carry `.connections/`) and Helm
//! charts (templates are not YAML), and never follows a symlink out of the repository or into
//! a loop. Every skip that could surprise a user becomes a finding.

use std::path::{Path, PathBuf};

/// A file to read, or a finding about one that will not be read.
#[derive(Debug)]
pub enum Entry {
    /// A YAML or JSON file: its path on disk and its path relative to the root.
    File {
        /// Path on disk.
        path: PathBuf,
        /// Path relative to the root, with `/` separators.
        relative: String,
    },
    /// A path that could not or should not be read.
    Problem {
        /// Path relative to the root.
        relative: String,
        /// Error or deliberate skip.
        kind: ProblemKind,
        /// What happened, as a sentence about "this path".
        detail: String,
    },
}

/// Why a path was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// An error: unreadable, a symlink out of the tree or in a loop.
    Unreadable,
    /// Deliberately skipped (a Helm chart, rendered output).
    Skipped,
}

/// Why a folder of rendered output is skipped.
const RENDERED_OUTPUT: &str = "this folder holds rendered output of kubectl-connections (it has a `.connections/` folder), so it is not read as input";
/// Why a Helm chart is skipped.
const HELM_CHART: &str = "this folder is a Helm chart (it has a Chart.yaml); its templates are not YAML until `helm template` renders them, so it is not read";
/// Folders not read, by what they hold: the entry's name, whether it is a folder, and why.
const SKIPPED_FOLDERS: [(&str, bool, &str); 2] =
    [(".connections", true, RENDERED_OUTPUT), ("Chart.yaml", false, HELM_CHART)];

/// Whether a file name has an extension we read.
pub fn is_manifest(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}

fn relative(root: &Path, path: &Path) -> String {
    // The walk joins names to the root as given, so the relative path is nearly always the
    // text after the root's: taken directly, without splitting both paths into components
    // (a visible share of walking a large repository).
    if let (Some(root_text), Some(path_text)) = (root.to_str(), path.to_str())
        && let Some(rest) = path_text.strip_prefix(root_text)
        && (rest.starts_with('/') || root_text.ends_with('/'))
    {
        let rest = rest.trim_start_matches('/');
        let plain = !rest.is_empty()
            && !rest.ends_with('/')
            && rest.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
        if plain {
            return rest.to_string();
        }
    }
    relative_by_components(root, path)
}

fn relative_by_components(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    for (i, part) in rel.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&part.as_os_str().to_string_lossy());
    }
    if out.is_empty() {
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    } else {
        out
    }
}

/// Lists the files under `root` in sorted order. `exclude` is a folder never to enter (the
/// output folder).
pub fn walk(root: &Path, exclude: Option<&Path>) -> Vec<Entry> {
    let mut out = Vec::new();
    walk_each(root, exclude, |entry| out.push(entry));
    out
}

/// [`walk`], handing each entry to `out` as soon as it is known (so that files can be read
/// while the walk goes on).
pub fn walk_each(root: &Path, exclude: Option<&Path>, mut out: impl FnMut(Entry)) {
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    if root.is_file() {
        out(Entry::File {
            path: root.to_path_buf(),
            relative: relative(root.parent().unwrap_or(root), root),
        });
        return;
    }
    let walker = Walker {
        root,
        canonical_root: &canonical_root,
        excluded: exclude.and_then(|e| e.canonicalize().ok()),
    };
    match list(root) {
        Ok(children) => walker.children(root, children, &mut out),
        Err(error) => out(unreadable(relative(root, root), &error)),
    }
}

/// The depth-first walk, in file-name order, a folder's entry before its contents. Each folder
/// is listed once, whole, and closed before its subfolders are entered (one handle open at a
/// time); whether it is rendered output or a Helm chart is decided from that listing, not by
/// asking for `.connections/` and `Chart.yaml` (two lookups per folder that nearly always
/// failed).
struct Walker<'a> {
    root: &'a Path,
    canonical_root: &'a Path,
    excluded: Option<PathBuf>,
}

/// One entry of a folder's listing (its type as the listing gives it: a link is a link).
struct Child {
    name: std::ffi::OsString,
    kind: std::io::Result<std::fs::FileType>,
}

/// The entries of `dir`, sorted by name (byte order, as on disk: the same order on every
/// filesystem); an entry the listing could not read is kept as an error where it fell.
fn list(dir: &Path) -> std::io::Result<Vec<Child>> {
    let mut children = Vec::new();
    for next in std::fs::read_dir(dir)? {
        children.push(match next {
            Ok(entry) => Child { name: entry.file_name(), kind: entry.file_type() },
            // Unnamed: reported with the folder's path.
            Err(error) => Child { name: std::ffi::OsString::new(), kind: Err(error) },
        });
    }
    children.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(children)
}

fn unreadable(relative: String, error: &std::io::Error) -> Entry {
    Entry::Problem {
        relative,
        kind: ProblemKind::Unreadable,
        detail: format!("this path cannot be read: {}", io_reason(Some(error))),
    }
}

impl Walker<'_> {
    /// Walks the listing of `dir`.
    fn children<F: FnMut(Entry)>(&self, dir: &Path, children: Vec<Child>, out: &mut F) {
        for child in children {
            let path = dir.join(&child.name);
            let kind = match child.kind {
                Ok(kind) => kind,
                // An unnamed entry's error is reported at its folder.
                Err(error) => {
                    out(unreadable(relative(self.root, &path), &error));
                    continue;
                }
            };
            let name = child.name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let rel = relative(self.root, &path);
            if kind.is_dir() {
                self.subfolder(&path, rel, out);
            } else if kind.is_symlink() {
                symlink(self.canonical_root, &path, rel, out);
            } else if kind.is_file() && is_manifest(&name) {
                out(Entry::File { path, relative: rel });
            }
        }
    }

    /// A folder below the root: skipped when it is the output folder, rendered output or a
    /// Helm chart, else walked.
    fn subfolder<F: FnMut(Entry)>(&self, path: &Path, rel: String, out: &mut F) {
        // Links are not followed, so a folder's real path is the root's plus its relative
        // path: no lookup per folder.
        let real = path.strip_prefix(self.root).map(|r| self.canonical_root.join(r));
        if self.excluded.as_deref().is_some_and(|e| real.as_deref().ok() == Some(e)) {
            return;
        }
        let children = match list(path) {
            Ok(children) => children,
            Err(error) => return out(unreadable(rel, &error)),
        };
        // What `is_dir()` and `is_file()` of the path would answer: a link is followed.
        let holds = |name: &str, want_dir: bool| {
            let wanted =
                |kind: std::fs::FileType| if want_dir { kind.is_dir() } else { kind.is_file() };
            children.iter().any(|child| {
                child.name == name
                    && match &child.kind {
                        Ok(kind) if kind.is_symlink() => {
                            std::fs::metadata(path.join(name)).is_ok_and(|m| wanted(m.file_type()))
                        }
                        Ok(kind) => wanted(*kind),
                        Err(_) => false,
                    }
            })
        };
        for (marker, is_dir, detail) in SKIPPED_FOLDERS {
            if holds(marker, is_dir) {
                return out(Entry::Problem {
                    relative: rel,
                    kind: ProblemKind::Skipped,
                    detail: detail.into(),
                });
            }
        }
        self.children(path, children, out);
    }
}

/// Symlinks are not followed: a link out of the repository is reported, a link inside it is
/// skipped because its target is read where it is (unless the target sits in a hidden folder
/// the walk skips; then it is read through the link). Links to folders are never entered, so
/// loops cannot happen.
fn symlink<F: FnMut(Entry)>(canonical_root: &Path, path: &Path, rel: String, out: &mut F) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match path.canonicalize() {
        Err(error) => {
            let detail = if error.raw_os_error() == Some(40) {
                "this symlink is a loop; it is not followed".to_string()
            } else {
                format!("this symlink cannot be followed: {}", io_reason(Some(&error)))
            };
            if is_manifest(&name) || error.raw_os_error() == Some(40) {
                out(Entry::Problem { relative: rel, kind: ProblemKind::Unreadable, detail });
            }
        }
        Ok(target) if !target.starts_with(canonical_root) => {
            let written =
                std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
            out(Entry::Problem {
                relative: rel,
                kind: ProblemKind::Unreadable,
                detail: format!(
                    "this symlink points to `{written}`, outside the repository; it is not followed"
                ),
            });
        }
        Ok(target) if target.is_file() => {
            // The target is read in its own place unless the walk skips it (a hidden folder);
            // reading it twice would declare every object in it twice.
            let hidden = target
                .strip_prefix(canonical_root)
                .map(|t| t.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.')))
                .unwrap_or(false);
            if is_manifest(&name) && hidden {
                out(Entry::File { path: path.to_path_buf(), relative: rel });
            }
        }
        Ok(_) => {}
    }
}

/// An I/O error in a few words, without the path (the finding names the file).
pub fn io_reason(error: Option<&std::io::Error>) -> String {
    match error {
        None => "unknown error".into(),
        Some(e) => match e.kind() {
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            std::io::ErrorKind::NotFound => "not found".into(),
            _ => {
                let text = e.to_string();
                text.split(" (os error").next().unwrap_or(&text).to_lowercase()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk as it was written with walkdir (before the walker of this module), kept as the
    /// reference that [`walk_each`] must match entry for entry. A root that is a file is left to
    /// walkdir, which gives it as its one entry: the reference does not copy the walker's case.
    fn walk_with_walkdir(root: &Path, exclude: Option<&Path>, mut out: impl FnMut(Entry)) {
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let excluded = exclude.and_then(|e| e.canonicalize().ok());
        let mut walker =
            walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name().into_iter();
        while let Some(next) = walker.next() {
            let entry = match next {
                Ok(entry) => entry,
                Err(error) => {
                    let rel = error.path().map(|p| relative(root, p)).unwrap_or_default();
                    out(Entry::Problem {
                        relative: rel,
                        kind: ProblemKind::Unreadable,
                        detail: format!(
                            "this path cannot be read: {}",
                            io_reason(error.io_error())
                        ),
                    });
                    continue;
                }
            };
            let path = entry.path();
            let name = entry.file_name().to_string_lossy();
            if entry.depth() > 0 && name.starts_with('.') {
                if entry.file_type().is_dir() {
                    walker.skip_current_dir();
                }
                continue;
            }
            let rel = relative(root, path);
            if entry.file_type().is_dir() {
                if entry.depth() == 0 {
                    continue;
                }
                // Links are not followed, so a folder's real path is the root's plus its relative
                // path: no lookup per folder.
                let real = path.strip_prefix(root).map(|r| canonical_root.join(r));
                if excluded.as_deref().is_some_and(|e| real.as_deref().ok() == Some(e)) {
                    walker.skip_current_dir();
                    continue;
                }
                for (marker, is_dir, detail) in SKIPPED_FOLDERS {
                    let marker = path.join(marker);
                    let present = if is_dir { marker.is_dir() } else { marker.is_file() };
                    if present {
                        out(Entry::Problem {
                            relative: rel,
                            kind: ProblemKind::Skipped,
                            detail: detail.into(),
                        });
                        walker.skip_current_dir();
                        break;
                    }
                }
                continue;
            }
            if entry.file_type().is_symlink() {
                symlink(&canonical_root, path, rel, &mut out);
                continue;
            }
            if entry.file_type().is_file() && is_manifest(&name) {
                out(Entry::File { path: path.to_path_buf(), relative: rel });
            }
        }
    }

    /// The walker gives walkdir's walk, entry for entry, on a tree with everything it treats
    /// specially: hidden entries, rendered output and Helm charts (also behind links), links
    /// inside, outside, dangling and in a loop, a folder named like a chart file, the output
    /// folder, names whose byte order differs from their case-insensitive order.
    #[test]
    fn matches_the_walkdir_walk() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        let write = |rel: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "kind: ConfigMap\n").unwrap();
        };
        for rel in [
            "a.yaml",
            "B.yaml",
            "b.yml",
            "c.json",
            "notes.txt",
            ".hidden.yaml",
            ".git/config.yaml",
            "apps/x.yaml",
            "apps/Z/z.yaml",
            "apps/a-b/y.yaml",
            "apps/a_b/y.yaml",
            "apps/a.b/y.yaml",
            "rendered/.connections/manifest",
            "rendered/apps/configmap-x.yaml",
            "chart/Chart.yaml",
            "chart/templates/t.yaml",
            "not-a-chart/Chart.yaml/inside.yaml",
            "not-a-chart/ok.yaml",
            "linked-chart/templates/t.yaml",
            "linked-output/apps/o.yaml",
            "out/apps/o.yaml",
            "deep/1/2/3/4/5/6/7/8/9/10/11/12/d.yaml",
        ] {
            write(rel);
        }
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::create_dir_all(tmp.path().join("elsewhere")).unwrap();
        std::fs::write(tmp.path().join("elsewhere/e.yaml"), "kind: ConfigMap\n").unwrap();
        let link =
            |target: &Path, at: &str| std::os::unix::fs::symlink(target, root.join(at)).unwrap();
        link(&root.join("chart/Chart.yaml"), "linked-chart/Chart.yaml");
        link(&root.join("rendered/.connections"), "linked-output/.connections");
        link(&root.join("a.yaml"), "apps/inside-link.yaml");
        link(&tmp.path().join("elsewhere/e.yaml"), "apps/outside-link.yaml");
        link(&tmp.path().join("elsewhere"), "apps/outside-folder");
        link(&root.join("missing.yaml"), "apps/dangling.yaml");
        link(&root.join("apps/loop-b.yaml"), "apps/loop-a.yaml");
        link(&root.join("apps/loop-a.yaml"), "apps/loop-b.yaml");
        link(&root.join(".git/config.yaml"), "apps/into-hidden.yaml");
        type Walk<'a> = &'a dyn Fn(&mut dyn FnMut(Entry));
        let summary = |walk: Walk| {
            let mut entries = Vec::new();
            walk(&mut |entry| entries.push(format!("{entry:?}")));
            entries
        };
        for (root, exclude) in [
            (root.clone(), None),
            (root.clone(), Some(root.join("out"))),
            (root.join("apps"), None),
            (root.join("a.yaml"), None),
        ] {
            let exclude = exclude.as_deref();
            let ours = summary(&|found| walk_each(&root, exclude, found));
            let reference = summary(&|found| walk_with_walkdir(&root, exclude, found));
            assert_eq!(ours, reference, "{} without {exclude:?}", root.display());
            assert!(!ours.is_empty());
        }
    }

    /// The direct path of `relative` must give what splitting into components gives.
    #[test]
    fn relative_paths_match_the_component_walk() {
        let cases = [
            ("repo", "repo/apps/a.yaml"),
            ("repo/", "repo/apps/a.yaml"),
            ("repo//", "repo//apps/a.yaml"),
            ("./repo", "./repo/apps/b.yml"),
            (".", "./apps/a.yaml"),
            ("/abs/repo", "/abs/repo/x.yaml"),
            ("a/./b", "a/./b/c/d.yaml"),
            ("repo", "repo"),
            ("repo", "repo/./x.yaml"),
            ("repo", "repo/a//x.yaml"),
            ("repo", "repository/x.yaml"),
            ("repo", "other/x.yaml"),
            ("", "apps/x.yaml"),
        ];
        for (root, path) in cases {
            let (root, path) = (Path::new(root), Path::new(path));
            assert_eq!(
                relative(root, path),
                relative_by_components(root, path),
                "{} in {}",
                path.display(),
                root.display()
            );
        }
    }
}
