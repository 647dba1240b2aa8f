//! Atomic output: render into a fresh folder beside the target, then swap it in.
//!
//! Either the whole new output is in place or the old one is untouched. While writing,
//! `.NAME.tmp-PID-N/` next to `NAME` holds a marker file ([`STAGING_MARKER`]) and `new/`, the
//! new output; `new/` and `NAME` are exchanged with one `renameat2` (`RENAME_EXCHANGE`) where
//! the filesystem supports it, or two renames where it does not. The temporary folder, which
//! then holds the old output, is removed marker last, so a run killed at any point leaves
//! either the old or the new output, plus at most a temporary folder that the next render
//! recognises (by its name and its marker, never by its name alone) and removes.
//!
//! A bookkeeping file, `.connections/manifest`, lists the files render wrote; a later render
//! removes only those. Every other file in the folder (a README someone added) is carried
//! over into the new folder, and render refuses to overwrite one. Two renders of the same
//! folder at once are serialised by a lock on the parent folder (`flock`, released by the
//! kernel when the process ends, however it ends).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The bookkeeping folder inside the output.
pub const BOOKKEEPING_DIR: &str = ".connections";
/// The list of files render wrote, inside [`BOOKKEEPING_DIR`].
pub const MANIFEST_FILE: &str = "manifest";
const MANIFEST_HEADER: &str =
    "# Files written by kubectl-connections render; it removes only these.";
/// The file that marks a temporary folder as render's own, so that a later render may remove
/// it when the run that made it was killed.
pub const STAGING_MARKER: &str = ".kubectl-connections-staging";
/// The new output inside a temporary folder (after the exchange: the old output).
const STAGED_OUTPUT: &str = "new";
/// The old output inside a temporary folder, between the two renames of the fallback swap.
const MOVED_ASIDE: &str = "old";

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
    /// The output folder is a mount point, which cannot be replaced by a rename.
    #[error("{} is a mount point (a volume mounted there?), which cannot be replaced in one step; render into a folder inside it", .0.display())]
    MountPoint(PathBuf),
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
    /// Temporary folders of earlier, killed renders that were removed.
    pub leftovers: usize,
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

/// One entry of an existing output folder.
struct Existing {
    /// Its path relative to the folder.
    rel: PathBuf,
    /// The same path as `/`-separated text, when it is UTF-8 (every path render writes is).
    text: Option<String>,
    kind: fs::FileType,
}

/// Lists every entry under `dir` except the manifest, links not followed.
fn existing_files(dir: &Path) -> Result<Vec<Existing>, WriteError> {
    let manifest = Path::new(BOOKKEEPING_DIR).join(MANIFEST_FILE);
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(false).sort_by_file_name().min_depth(1) {
        let entry = entry.map_err(|e| WriteError::Io {
            action: "cannot list",
            path: e.path().unwrap_or(dir).to_path_buf(),
            source: e.into_io_error().unwrap_or_else(|| std::io::Error::other("walk error")),
        })?;
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path()).to_path_buf();
        if rel == manifest {
            continue;
        }
        let text = rel.to_str().map(|t| t.replace('\\', "/"));
        out.push(Existing { rel, text, kind: entry.file_type() });
    }
    Ok(out)
}

/// Whether `file_name` is that of a temporary folder for the output `name`:
/// `.NAME.tmp-PID-N`, digits only after the name.
fn is_staging_name(file_name: &str, name: &str) -> bool {
    let Some(rest) = file_name.strip_prefix(&format!(".{name}.tmp-")) else { return false };
    let Some((pid, n)) = rest.split_once('-') else { return false };
    [pid, n].iter().all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes a temporary folder: its content first, the marker last, so that a removal cut
/// short leaves a folder still recognised as render's own.
fn remove_staging(staging: &Path) -> Result<(), WriteError> {
    for entry in fs::read_dir(staging).map_err(io("cannot list", staging))? {
        let entry = entry.map_err(io("cannot list", staging))?;
        if entry.file_name() == STAGING_MARKER {
            continue;
        }
        let path = entry.path();
        let is_dir = entry.file_type().map_err(io("cannot remove", &path))?.is_dir();
        if is_dir { fs::remove_dir_all(&path) } else { fs::remove_file(&path) }
            .map_err(io("cannot remove", &path))?;
    }
    let marker = staging.join(STAGING_MARKER);
    match fs::remove_file(&marker) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("cannot remove", &marker)(e)),
    }
    fs::remove_dir(staging).map_err(io("cannot remove", staging))
}

/// Removes the temporary folders of earlier renders of `dir` that were killed, with the lock
/// held (so none of them belongs to a running render). A folder is removed only when it has
/// render's name and render's marker, or has the name and is empty (a run killed before it
/// wrote the marker). When a run was killed between the two renames of the fallback swap,
/// the old output is moved back first.
fn remove_leftovers(parent: &Path, name: &str, dir: &Path) -> Result<usize, WriteError> {
    let mut removed = 0;
    for entry in fs::read_dir(parent).map_err(io("cannot list", parent))? {
        let entry = entry.map_err(io("cannot list", parent))?;
        let is_ours = entry.file_name().to_str().is_some_and(|n| is_staging_name(n, name))
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_ours {
            continue;
        }
        let staging = entry.path();
        if !staging.join(STAGING_MARKER).is_file() {
            // Only if empty: anything else is not ours to remove.
            if fs::remove_dir(&staging).is_ok() {
                removed += 1;
            }
            continue;
        }
        let moved_aside = staging.join(MOVED_ASIDE);
        if moved_aside.is_dir() && fs::symlink_metadata(dir).is_err() {
            fs::rename(&moved_aside, dir).map_err(io("cannot move the old output back to", dir))?;
        }
        remove_staging(&staging)?;
        removed += 1;
    }
    Ok(removed)
}

/// A temporary folder of this run, removed (marker last) when dropped.
struct Staging(Option<PathBuf>);

impl Staging {
    /// Makes a new temporary folder for the output `name` in `parent`, with its marker.
    fn create(parent: &Path, name: &str) -> Result<Staging, WriteError> {
        let pid = std::process::id();
        for n in 0..1000 {
            let path = parent.join(format!(".{name}.tmp-{pid}-{n}"));
            match fs::create_dir(&path) {
                Ok(()) => {
                    let staging = Staging(Some(path));
                    let marker = staging.path().join(STAGING_MARKER);
                    let note = format!(
                        "kubectl-connections render of {name}; a later render removes this folder if it is left behind\n"
                    );
                    fs::write(&marker, note).map_err(io("cannot create", &marker))?;
                    return Ok(staging);
                }
                // A folder of that name exists (a user's, or a killed run's with our pid):
                // never reuse it.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io("cannot create", &path)(e)),
            }
        }
        Err(WriteError::Io {
            action: "cannot create a temporary folder in",
            path: parent.to_path_buf(),
            source: std::io::Error::other("too many folders of that name exist"),
        })
    }

    fn path(&self) -> &Path {
        self.0.as_deref().expect("a live temporary folder")
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = remove_staging(&path);
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
/// core, one folder per thread at a time. Creating a file takes its folder's lock: two
/// threads creating files in the same folder mostly wait for each other, and the waiting
/// thread spins on the lock instead of sleeping (a third to two fifths of the CPU time of
/// writing 52,000 files on ext4, where allocating an inode was slow; docs/benchmarks.md).
/// Folders written whole by one thread each proceed in parallel; see [`work_items`] for
/// where files are shared out one by one instead.
fn write_all<P, C>(root: &Path, files: &[(P, C)]) -> Result<(), WriteError>
where
    P: AsRef<str> + Sync,
    C: AsRef<str> + Sync,
{
    // File indices by folder (the relative path up to its last `/`), in file order.
    let mut by_folder: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (rel, _)) in files.iter().enumerate() {
        let folder = rel.as_ref().rsplit_once('/').map_or("", |(folder, _)| folder);
        by_folder.entry(folder).or_default().push(i);
    }
    for folder in by_folder.keys().filter(|f| !f.is_empty()) {
        let path = root.join(folder);
        fs::create_dir_all(&path).map_err(io("cannot create", &path))?;
    }
    let create = |i: usize| -> Result<(), WriteError> {
        let (rel, content) = &files[i];
        let path = root.join(rel.as_ref());
        let mut file = fs::File::create(&path).map_err(io("cannot create", &path))?;
        file.write_all(content.as_ref().as_bytes()).map_err(io("cannot write", &path))
    };
    let threads = crate::threads();
    let folders = work_items(by_folder.into_values().collect(), files.len(), threads);
    let failures = connections_core::par::map(&folders, threads, |indices| {
        // A folder stops at its first failure (the write fails and nothing is kept).
        indices.iter().filter_map(|&i| create(i).err().map(|e| (i, e))).next()
    });
    // The first failure in file order is reported.
    match failures.into_iter().flatten().min_by_key(|(i, _)| *i) {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

/// What each thread takes at a time when writing `count` files on `threads` threads: whole
/// folders (file indices by folder), the largest first so that the last taken are small; or,
/// where the folders are too few or too uneven to keep every thread busy (one holding more
/// than a thread's share of the files, as in an output of one namespace), single files, the
/// threads then sharing a folder's lock. There that was faster: 51,000 files in one folder
/// took 0.58 to 0.63 s file by file on two threads, 0.97 to 1.07 s on one.
fn work_items(mut folders: Vec<Vec<usize>>, count: usize, threads: usize) -> Vec<Vec<usize>> {
    let largest = folders.iter().map(Vec::len).max().unwrap_or(0);
    if folders.len() < threads || largest.saturating_mul(threads) > count {
        return (0..count).map(|i| vec![i]).collect();
    }
    folders.sort_by_key(|folder| std::cmp::Reverse(folder.len()));
    folders
}

/// Every folder that holds one of `paths` (`a/b/c.yaml`: `a` and `a/b`).
fn folders_of<'p>(paths: impl Iterator<Item = &'p str>) -> BTreeSet<&'p str> {
    paths.flat_map(|path| path.match_indices('/').map(move |(i, _)| &path[..i])).collect()
}

/// The entries of the existing folder that render did not write and would collide with the
/// plan: a file where render writes a file or needs a folder, or a folder where render writes
/// a file.
fn clashes(
    existing: &[Existing],
    previous: &BTreeSet<String>,
    planned: &BTreeSet<&str>,
) -> Vec<String> {
    let planned_folders = folders_of(planned.iter().copied());
    existing
        .iter()
        .filter_map(|entry| {
            let rel = entry.text.as_deref()?;
            let clash = if entry.kind.is_dir() {
                planned.contains(rel)
            } else {
                !previous.contains(rel) && (planned.contains(rel) || planned_folders.contains(rel))
            };
            clash.then(|| rel.to_string())
        })
        .collect()
}

/// Writes `files` (relative path, content) as the whole content of `dir`, atomically.
pub fn write_output<P, C>(dir: &Path, files: &[(P, C)]) -> Result<WriteReport, WriteError>
where
    P: AsRef<str> + Sync,
    C: AsRef<str> + Sync,
{
    for (path, _) in files {
        if !is_safe_relative(path.as_ref()) {
            return Err(WriteError::UnsafePath(path.as_ref().to_string()));
        }
    }
    if let Ok(meta) = fs::symlink_metadata(dir)
        && !meta.is_dir()
    {
        return Err(WriteError::NotADirectory(dir.to_path_buf()));
    }
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Err(WriteError::NotADirectory(dir.to_path_buf()));
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A file where a folder of the path should be fails below as "File exists"; name it.
    if let Some(file) = parent.ancestors().find(|a| a.exists()).filter(|a| !a.is_dir()) {
        return Err(WriteError::NotADirectory(file.to_path_buf()));
    }
    fs::create_dir_all(&parent).map_err(io("cannot create", &parent))?;

    // Renders into the same parent folder are serialised by a lock on that folder itself, so
    // no lock file is left behind.
    let lock = fs::File::open(&parent).map_err(io("cannot open", &parent))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).map_err(|e| {
        WriteError::Io { action: "cannot lock", path: parent.clone(), source: e.into() }
    })?;
    let leftovers = remove_leftovers(&parent, &name, dir)?;

    let old = fs::symlink_metadata(dir).ok();
    let exists = old.is_some();
    let previous = if exists { read_manifest(dir) } else { BTreeSet::new() };
    let existing = if exists { existing_files(dir)? } else { Vec::new() };
    let planned: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_ref()).collect();
    let clashes = clashes(&existing, &previous, &planned);
    if !clashes.is_empty() {
        return Err(WriteError::Foreign { dir: dir.to_path_buf(), files: clashes });
    }

    let staging = Staging::create(&parent, &name)?;
    let new = staging.path().join(STAGED_OUTPUT);
    fs::create_dir(&new).map_err(io("cannot create", &new))?;
    if let Some(old) = &old {
        fs::set_permissions(&new, old.permissions())
            .map_err(io("cannot set permissions of", &new))?;
    }

    write_all(&new, files)?;
    let mut manifest = String::from(MANIFEST_HEADER);
    manifest.push('\n');
    for path in &planned {
        manifest.push_str(path);
        manifest.push('\n');
    }
    write_file(&new.join(BOOKKEEPING_DIR).join(MANIFEST_FILE), manifest.as_bytes())?;

    // Carry over what render did not write, and empty folders someone made.
    let mut kept = 0;
    let previous_folders = folders_of(previous.iter().map(String::as_str));
    for entry in &existing {
        let written_by_render = entry.text.as_ref().is_some_and(|t| previous.contains(t));
        let from = dir.join(&entry.rel);
        let to = new.join(&entry.rel);
        if entry.kind.is_dir() {
            let holds_render_files =
                entry.text.as_deref().is_some_and(|t| previous_folders.contains(t));
            if !holds_render_files {
                fs::create_dir_all(&to).map_err(io("cannot create", &to))?;
            }
            continue;
        }
        if written_by_render {
            continue;
        }
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
        }
        if entry.kind.is_symlink() {
            let target = fs::read_link(&from).map_err(io("cannot read link", &from))?;
            std::os::unix::fs::symlink(target, &to).map_err(io("cannot create link", &to))?;
        } else if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to).map_err(io("cannot copy", &from))?;
        }
        kept += 1;
    }

    let removed = previous.iter().filter(|p| !planned.contains(p.as_str())).count();
    if exists {
        swap(&new, dir, staging.path())?;
        // The temporary folder now holds the old output; dropping it removes it.
    } else {
        fs::rename(&new, dir).map_err(io("cannot move output into place at", dir))?;
    }
    drop(staging);
    drop(lock);
    Ok(WriteReport { written: files.len(), removed, kept, leftovers })
}

/// Exchanges the folders `new` and `dir` atomically where the filesystem can; where it
/// cannot, moves `dir` aside into `staging` and `new` into its place (a run killed between the
/// two renames leaves the old output in `staging`, which the next render moves back).
fn swap(new: &Path, dir: &Path, staging: &Path) -> Result<(), WriteError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    let failed = |source: std::io::Error| {
        if source.raw_os_error() == Some(Errno::BUSY.raw_os_error()) {
            WriteError::MountPoint(dir.to_path_buf())
        } else {
            WriteError::Io {
                action: "cannot move output into place at",
                path: dir.to_path_buf(),
                source,
            }
        }
    };
    match renameat_with(CWD, new, CWD, dir, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        // Filesystems without the exchange: two renames.
        Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => {
            let aside = staging.join(MOVED_ASIDE);
            fs::rename(dir, &aside).map_err(failed)?;
            if let Err(source) = fs::rename(new, dir) {
                let _ = fs::rename(&aside, dir);
                return Err(failed(source));
            }
            Ok(())
        }
        Err(e) => Err(failed(e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect()
    }

    /// Whole folders where they can keep every thread busy, largest first; single files where
    /// one folder holds more than a thread's share or the folders are fewer than the threads.
    #[test]
    fn files_are_shared_out_by_folder_only_where_the_folders_balance() {
        let folders = || vec![vec![0, 1], vec![2, 3, 4], vec![5]];
        assert_eq!(work_items(folders(), 6, 2), vec![vec![2, 3, 4], vec![0, 1], vec![5]]);
        let singles: Vec<Vec<usize>> = (0..6).map(|i| vec![i]).collect();
        // Three of six files in one folder is more than a third: on three threads, files.
        assert_eq!(work_items(folders(), 6, 3), singles);
        assert_eq!(work_items(folders(), 6, 4), singles);
        assert_eq!(work_items(vec![vec![0, 1, 2, 3, 4], vec![5]], 6, 2), singles);
        assert_eq!(work_items(Vec::new(), 0, 2), Vec::<Vec<usize>>::new());
    }

    /// Folders are written by different threads in any order; the failure reported is still
    /// the first in file order (here a file where a folder of the plan had to be made).
    #[test]
    fn the_first_failure_in_file_order_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let plan = files(&[
            ("b/z.yaml", "1"),
            ("b/z.yaml/w", "2"),
            ("a/x.yaml", "3"),
            ("a/x.yaml/y", "4"),
        ]);
        for _ in 0..10 {
            match write_all(tmp.path(), &plan) {
                Err(WriteError::Io { action: "cannot create", path, .. }) => {
                    assert_eq!(path, tmp.path().join("b/z.yaml"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn later_render_removes_only_its_own_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rendered");
        write_output(&out, &files(&[("a/x.yaml", "1"), ("b.yaml", "2")])).unwrap();
        fs::write(out.join("README.md"), "mine").unwrap();
        let report = write_output(&out, &files(&[("b.yaml", "3")])).unwrap();
        assert_eq!(report, WriteReport { written: 1, removed: 1, kept: 1, leftovers: 0 });
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
    fn keeps_every_file_it_did_not_write_whatever_its_name() {
        use std::os::unix::ffi::OsStrExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rendered");
        write_output(&out, &files(&[("apps/a.yaml", "1")])).unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"apps/not-utf8-\xff.yaml");
        fs::write(out.join(odd), "bytes").unwrap();
        fs::write(out.join(".connections/notes"), "beside the manifest").unwrap();
        fs::write(out.join("apps/A.yaml"), "other case").unwrap();
        let report = write_output(&out, &files(&[("apps/b.yaml", "2")])).unwrap();
        assert_eq!((report.removed, report.kept), (1, 3));
        assert_eq!(fs::read(out.join(odd)).unwrap(), b"bytes");
        assert_eq!(
            fs::read_to_string(out.join(".connections/notes")).unwrap(),
            "beside the manifest"
        );
        assert_eq!(fs::read_to_string(out.join("apps/A.yaml")).unwrap(), "other case");
        assert!(!out.join("apps/a.yaml").exists());
        assert_eq!(read_manifest(&out), BTreeSet::from(["apps/b.yaml".to_string()]));
    }

    #[test]
    fn refuses_a_file_where_it_needs_a_folder_and_a_folder_where_it_writes_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rendered");
        fs::create_dir_all(out.join("b.yaml")).unwrap();
        fs::write(out.join("b.yaml/notes"), "mine").unwrap();
        fs::write(out.join("apps"), "a file named like a folder render writes into").unwrap();
        std::os::unix::fs::symlink("/tmp", out.join("teams")).unwrap();
        let err = write_output(
            &out,
            &files(&[("apps/a.yaml", "1"), ("b.yaml", "2"), ("teams/x/c.yaml", "3")]),
        )
        .unwrap_err();
        let WriteError::Foreign { files, .. } = err else { panic!("{err}") };
        assert_eq!(files, ["apps", "b.yaml", "teams"]);
        assert_eq!(fs::read_to_string(out.join("b.yaml/notes")).unwrap(), "mine");
        assert_eq!(fs::read_link(out.join("teams")).unwrap(), Path::new("/tmp"));
        assert_eq!(names(tmp.path()), ["rendered"]);
    }

    /// A temporary folder as a run killed mid-write leaves it.
    fn leftover(parent: &Path, name: &str, pid: u32, aside: bool) -> PathBuf {
        let staging = parent.join(format!(".{name}.tmp-{pid}-0"));
        fs::create_dir_all(staging.join(STAGED_OUTPUT).join("apps")).unwrap();
        fs::write(staging.join(STAGED_OUTPUT).join("apps/half.yaml"), "half written").unwrap();
        fs::write(staging.join(STAGING_MARKER), "").unwrap();
        if aside {
            fs::create_dir_all(staging.join(MOVED_ASIDE)).unwrap();
            fs::write(staging.join(MOVED_ASIDE).join("README.md"), "mine").unwrap();
        }
        staging
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn removes_temporary_folders_of_killed_runs_and_nothing_that_only_looks_like_one() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rendered");
        write_output(&out, &files(&[("a.yaml", "1")])).unwrap();
        leftover(tmp.path(), "rendered", 1, false);
        fs::create_dir(tmp.path().join(".rendered.tmp-2-0")).unwrap(); // killed before its marker
        // Look-alikes: no marker, another name, not a folder, and this process's own pid.
        let pid = std::process::id();
        for user in [
            ".rendered.tmp-3-0".to_string(),
            ".rendered.tmp-x-0".into(),
            ".other.tmp-4-0".into(),
            format!(".rendered.tmp-{pid}"),
            format!(".rendered.tmp-{pid}-0"),
        ] {
            fs::create_dir(tmp.path().join(&user)).unwrap();
            fs::write(tmp.path().join(&user).join("keep.txt"), "a user's").unwrap();
        }
        fs::write(tmp.path().join(".rendered.tmp-5-0"), "a user's file").unwrap();
        let before = names(tmp.path());

        let report = write_output(&out, &files(&[("a.yaml", "2")])).unwrap();
        assert_eq!(report.leftovers, 2);
        let after = names(tmp.path());
        let gone: Vec<&String> = before.iter().filter(|n| !after.contains(n)).collect();
        assert_eq!(gone, [".rendered.tmp-1-0", ".rendered.tmp-2-0"]);
        assert_eq!(after.len(), before.len() - 2, "{after:?}");
        assert_eq!(
            fs::read_to_string(tmp.path().join(format!(".rendered.tmp-{pid}-0/keep.txt"))).unwrap(),
            "a user's"
        );
        assert_eq!(fs::read_to_string(out.join("a.yaml")).unwrap(), "2");
    }

    #[test]
    fn a_run_killed_between_the_two_renames_of_the_fallback_gets_its_old_output_back() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rendered");
        // The old output (a README someone added, and no manifest) was moved aside, the new one
        // not yet moved in.
        leftover(tmp.path(), "rendered", 1, true);
        let report = write_output(&out, &files(&[("a.yaml", "new")])).unwrap();
        assert_eq!((report.leftovers, report.kept), (1, 1));
        assert_eq!(fs::read_to_string(out.join("README.md")).unwrap(), "mine");
        assert_eq!(names(tmp.path()), ["rendered"]);
    }

    #[test]
    fn a_removal_cut_short_leaves_a_folder_still_recognised() {
        let tmp = tempfile::tempdir().unwrap();
        let staging = leftover(tmp.path(), "rendered", 1, true);
        remove_staging(&staging).unwrap();
        assert!(!staging.exists());
        // The marker goes last: with everything but the marker gone, it is still render's.
        let staging = leftover(tmp.path(), "rendered", 1, false);
        fs::remove_dir_all(staging.join(STAGED_OUTPUT)).unwrap();
        assert_eq!(
            remove_leftovers(tmp.path(), "rendered", &tmp.path().join("rendered")).unwrap(),
            1
        );
        assert!(!staging.exists());
    }

    #[test]
    fn names_the_file_that_stands_where_a_folder_of_the_path_should_be() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("a-file"), "x").unwrap();
        let err = write_output(&tmp.path().join("a-file/sub/out"), &files(&[("a.yaml", "1")]))
            .unwrap_err();
        assert_eq!(err.to_string(), format!("{}/a-file is not a folder", tmp.path().display()));
        assert_eq!(names(tmp.path()), ["a-file"]);
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
