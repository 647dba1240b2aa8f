//! Atomic output: render into a fresh folder beside the target, then swap it in.
//!
//! Either the whole new output is in place or the old one is untouched: files are written to
//! `.NAME.tmp-*` next to `NAME`, then the two folders are exchanged with one `renameat2`
//! (`RENAME_EXCHANGE`) where the filesystem supports it, or two renames where it does not.
//! A bookkeeping file, `.connections/manifest`, lists the files render wrote; a later render
//! removes only those. Every other file in the folder (a README someone added) is carried
//! over into the new folder, and render refuses to overwrite one. Two renders of the same
//! folder at once are serialised by a lock on the parent folder.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The bookkeeping folder inside the output.
pub const BOOKKEEPING_DIR: &str = ".connections";
/// The list of files render wrote, inside [`BOOKKEEPING_DIR`].
pub const MANIFEST_FILE: &str = "manifest";
const MANIFEST_HEADER: &str =
    "# Files written by kubectl-connections render; it removes only these.";

/// Why output could not be written. The target folder is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An I/O operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The output would overwrite files render did not write.
    #[error("{} holds files that kubectl-connections did not write and would overwrite: {}; move them away or choose another --out folder", dir.display(), files.join(", "))]
    Foreign {
        /// The output folder.
        dir: PathBuf,
        /// The files.
        files: Vec<String>,
    },
    /// The output path is not a plain folder.
    #[error("{} is not a folder", .0.display())]
    NotADirectory(PathBuf),
    /// A planned path would leave the output folder.
    #[error("refusing to write {0:?}: output paths must stay inside the output folder")]
    UnsafePath(String),
}

fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> WriteError + 'p {
    move |source| WriteError::Io { action, path: path.to_path_buf(), source }
}

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files written.
    pub written: usize,
    /// Files of an earlier render that are gone now.
    pub removed: usize,
    /// Files render did not write, carried over.
    pub kept: usize,
}

/// Whether a relative output path is plain: no `..`, no absolute path, no empty parts.
fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'))
}

/// Reads the manifest of an earlier render (empty if there is none).
pub fn read_manifest(dir: &Path) -> BTreeSet<String> {
    let path = dir.join(BOOKKEEPING_DIR).join(MANIFEST_FILE);
    fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Lists every file under `dir` except the bookkeeping folder, as relative paths.
fn existing_files(dir: &Path) -> Result<Vec<(String, fs::FileType)>, WriteError> {
    let mut out = Vec::new();
    let mut walker = walkdir::WalkDir::new(dir).follow_links(false).sort_by_file_name().into_iter();
    while let Some(entry) = walker.next() {
        let entry = entry.map_err(|e| WriteError::Io {
            action: "cannot list",
            path: e.path().unwrap_or(dir).to_path_buf(),
            source: e.into_io_error().unwrap_or_else(|| std::io::Error::other("walk error")),
        })?;
        if entry.depth() == 0 {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if entry.depth() == 1 && rel == BOOKKEEPING_DIR {
            walker.skip_current_dir();
            continue;
        }
        out.push((rel, entry.file_type()));
    }
    Ok(out)
}

struct TempDir(Option<PathBuf>);

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_dir_all(path);
        }
    }
}

fn write_file(path: &Path, content: &[u8]) -> Result<(), WriteError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
    }
    let mut file = fs::File::create(path).map_err(io("cannot create", path))?;
    file.write_all(content).map_err(io("cannot write", path))?;
    Ok(())
}

/// Writes every file under `root`: the folders first, once each, then the files on every
/// core (creating tens of thousands of small files is bound by the filesystem's per-file
/// work, which proceeds in parallel).
fn write_all(root: &Path, files: &[(String, String)]) -> Result<(), WriteError> {
    let folders: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|(rel, _)| root.join(rel).parent().map(Path::to_path_buf))
        .collect();
    for folder in &folders {
        fs::create_dir_all(folder).map_err(io("cannot create", folder))?;
    }
    let create = |(rel, content): &(String, String)| -> Result<(), WriteError> {
        let path = root.join(rel);
        let mut file = fs::File::create(&path).map_err(io("cannot create", &path))?;
        file.write_all(content.as_bytes()).map_err(io("cannot write", &path))
    };
    // The first failure in file order is reported.
    connections_core::par::map(files, crate::threads(), create).into_iter().collect()
}

/// Writes `files` (relative path, content) as the whole content of `dir`, atomically.
pub fn write_output(dir: &Path, files: &[(String, String)]) -> Result<WriteReport, WriteError> {
    for (path, _) in files {
        if !is_safe_relative(path) {
            return Err(WriteError::UnsafePath(path.clone()));
        }
    }
    if let Ok(meta) = fs::symlink_metadata(dir)
        && !meta.is_dir()
    {
        return Err(WriteError::NotADirectory(dir.to_path_buf()));
    }
    let name =
        dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io("cannot create", &parent))?;

    // Renders into the same parent folder are serialised by a lock on that folder itself, so
    // no lock file is left behind.
    let lock = fs::File::open(&parent).map_err(io("cannot open", &parent))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).map_err(|e| {
        WriteError::Io { action: "cannot lock", path: parent.clone(), source: e.into() }
    })?;

    let exists = dir.is_dir();
    let previous = if exists { read_manifest(dir) } else { BTreeSet::new() };
    let existing = if exists { existing_files(dir)? } else { Vec::new() };
    let planned: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let foreign: Vec<&(String, fs::FileType)> =
        existing.iter().filter(|(rel, kind)| !kind.is_dir() && !previous.contains(rel)).collect();
    let clashes: Vec<String> = foreign
        .iter()
        .filter(|(rel, _)| planned.contains(rel.as_str()))
        .map(|(rel, _)| rel.clone())
        .collect();
    if !clashes.is_empty() {
        return Err(WriteError::Foreign { dir: dir.to_path_buf(), files: clashes });
    }

    let temp_path = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if temp_path.exists() {
        fs::remove_dir_all(&temp_path).map_err(io("cannot remove", &temp_path))?;
    }
    fs::create_dir(&temp_path).map_err(io("cannot create", &temp_path))?;
    let mut temp = TempDir(Some(temp_path.clone()));

    write_all(&temp_path, files)?;
    let mut manifest = String::from(MANIFEST_HEADER);
    manifest.push('\n');
    for path in &planned {
        manifest.push_str(path);
        manifest.push('\n');
    }
    write_file(&temp_path.join(BOOKKEEPING_DIR).join(MANIFEST_FILE), manifest.as_bytes())?;

    // Carry over what render did not write, and empty folders someone made.
    for (rel, kind) in &existing {
        let from = dir.join(rel);
        let to = temp_path.join(rel);
        if kind.is_dir() {
            if !previous.iter().any(|p| p.starts_with(&format!("{rel}/"))) {
                fs::create_dir_all(&to).map_err(io("cannot create", &to))?;
            }
            continue;
        }
        if previous.contains(rel) {
            continue;
        }
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
        }
        if kind.is_symlink() {
            let target = fs::read_link(&from).map_err(io("cannot read link", &from))?;
            std::os::unix::fs::symlink(target, &to).map_err(io("cannot create link", &to))?;
        } else if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to).map_err(io("cannot copy", &from))?;
        }
    }

    let removed = previous.iter().filter(|p| !planned.contains(p.as_str())).count();
    if exists {
        swap(&temp_path, dir)?;
        // `temp_path` now holds the old output; the guard removes it.
    } else {
        fs::rename(&temp_path, dir).map_err(io("cannot move output into place at", dir))?;
        temp.0 = None;
    }
    drop(temp);
    drop(lock);
    Ok(WriteReport { written: files.len(), removed, kept: foreign.len() })
}

/// Exchanges two folders atomically where the filesystem can, else with two renames.
fn swap(new: &Path, dir: &Path) -> Result<(), WriteError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, new, CWD, dir, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        Err(_) => {
            let backup = new.with_extension("old");
            fs::rename(dir, &backup).map_err(io("cannot move old output aside at", dir))?;
            if let Err(source) = fs::rename(new, dir) {
                let _ = fs::rename(&backup, dir);
                return Err(WriteError::Io {
                    action: "cannot move output into place at",
                    path: dir.to_path_buf(),
                    source,
                });
            }
            fs::rename(&backup, new).map_err(io("cannot clean up", &backup))?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect()
    }

    #[test]
    fn later_render_removes_only_its_own_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rendered");
        write_output(&out, &files(&[("a/x.yaml", "1"), ("b.yaml", "2")])).unwrap();
        fs::write(out.join("README.md"), "mine").unwrap();
        let report = write_output(&out, &files(&[("b.yaml", "3")])).unwrap();
        assert_eq!(report, WriteReport { written: 1, removed: 1, kept: 1 });
        assert!(!out.join("a/x.yaml").exists());
        assert_eq!(fs::read_to_string(out.join("b.yaml")).unwrap(), "3");
        assert_eq!(fs::read_to_string(out.join("README.md")).unwrap(), "mine");
        let leftovers: Vec<_> =
            fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 1, "only the output, no temporary or lock file: {leftovers:?}");
    }

    #[test]
    fn refuses_to_overwrite_foreign_files_and_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rendered");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("b.yaml"), "someone else's").unwrap();
        let err = write_output(&out, &files(&[("b.yaml", "x")])).unwrap_err();
        assert!(matches!(err, WriteError::Foreign { .. }), "{err}");
        assert_eq!(fs::read_to_string(out.join("b.yaml")).unwrap(), "someone else's");
    }

    #[test]
    fn a_failure_mid_write_leaves_the_old_output_and_no_temporary_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rendered");
        write_output(&out, &files(&[("a.yaml", "old")])).unwrap();
        // `x/y.yaml` makes `x` a folder, then `x` cannot be created as a file: the write fails
        // after the folders, and possibly some files, are in the temporary folder.
        let err =
            write_output(&out, &files(&[("a.yaml", "new"), ("x", "file"), ("x/y.yaml", "z")]))
                .unwrap_err();
        assert!(matches!(err, WriteError::Io { .. }), "{err}");
        assert_eq!(fs::read_to_string(out.join("a.yaml")).unwrap(), "old");
        assert!(!out.join("x").exists());
        let leftovers: Vec<_> =
            fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("rendered")]);
    }

    #[test]
    fn refuses_paths_that_leave_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rendered");
        for bad in ["../x.yaml", "/etc/x", "a//b", "a/./b", ""] {
            assert!(
                matches!(write_output(&out, &files(&[(bad, "x")])), Err(WriteError::UnsafePath(_))),
                "{bad}"
            );
        }
        assert!(!out.exists());
    }
}
