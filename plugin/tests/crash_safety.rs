//! Crash safety of `render --out`, and the offline commands' promise to stay off the network.
//!
//! Each test drives the real binary against real failures: a small tmpfs that fills up mid
//! write, SIGKILL at many points of a write, two renders into one folder at once, files render
//! did not write in every shape, folders that cannot be written, and network namespaces and
//! system-call traces around `render`, `validate` and `diff`. The tests mount filesystems and
//! make namespaces, so they need root (CI runs as root); where a tool or a privilege is missing
//! they fail with a message saying what to install, never skip.

mod common;

use common::{bin, command_in, git, text, write};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Which of two versions of a generated repository: every rendered file differs between them,
/// and each has files the other does not, so an output that mixes them is told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    One,
    Two,
}

/// Writes a repository of `n` connections, each used by a Deployment, over ten namespaces and
/// team folders.
fn generate(repo: &Path, n: usize, version: Version) {
    let (first, port) = match version {
        Version::One => (0, 6379),
        Version::Two => (n / 10, 6380),
    };
    for i in first..first + n {
        let ns = format!("team-{}", i % 10);
        let doc = format!(
            "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: cache-{i}, namespace: {ns}}}\nspec:\n  type: redis\n  description: cache shard {i}\n  schema: {{host: redis-{i}.{ns}.svc, port: {port}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api-{i}\n  namespace: {ns}\n  annotations: {{connections.dev/use: cache-{i}}}\nspec:\n  selector: {{matchLabels: {{app: api-{i}}}}}\n  template:\n    metadata: {{labels: {{app: api-{i}}}}}\n    spec:\n      containers:\n      - {{name: api, image: ghcr.io/acme/api:1.0}}\n"
        );
        write(repo, &format!("{ns}/app-{i}.yaml"), &doc);
    }
}

/// One entry of a folder tree, compared byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Folder,
    File(Vec<u8>),
    Link(PathBuf),
}

/// Every entry under `dir` (folders, files with their bytes, symbolic links with their
/// targets, none followed), by path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            let node = if kind.is_symlink() {
                Node::Link(std::fs::read_link(&path).unwrap())
            } else if kind.is_dir() {
                stack.push(path);
                Node::Folder
            } else {
                Node::File(std::fs::read(&path).unwrap())
            };
            out.insert(rel, node);
        }
    }
    out
}

/// Names in `parent` that look like render's temporary folders for `name`.
fn temporaries(parent: &Path, name: &str) -> Vec<String> {
    let prefix = format!(".{name}.tmp");
    let mut found: Vec<String> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    found.sort();
    found
}

fn render_command(repo: &Path, out: &Path) -> Command {
    command_in(repo, &["render", ".", "--out", out.to_str().unwrap()])
}

fn render(repo: &Path, out: &Path) -> Output {
    render_command(repo, out).output().expect("the binary runs")
}

fn assert_renders(repo: &Path, out: &Path) {
    let result = render(repo, out);
    assert_eq!(
        result.status.code(),
        Some(0),
        "render into {}: {}",
        out.display(),
        text(&result.stderr)
    );
}

/// Waits for `child` at most `limit`; kills it and fails the test past that.
fn wait_with_limit(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{what} did not finish within {limit:?} (a lock left behind?): {}",
                text(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

/// A small deterministic generator (xorshift64*) for kill delays; the seed is printed so a
/// failing schedule can be replayed with `CRASH_SAFETY_SEED`.
struct Rng(u64);

impl Rng {
    fn from_env_or_clock() -> Rng {
        let seed = std::env::var("CRASH_SAFETY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("CRASH_SAFETY_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }
}

/// A filesystem the test mounted; unmounted when dropped (before the temporary folder that
/// holds its mount point is removed).
struct Mount(PathBuf);

impl Mount {
    fn new(args: &[&str], at: &Path) -> Mount {
        std::fs::create_dir_all(at).unwrap();
        let out =
            Command::new("mount").args(args).arg(at).output().expect(
                "mount (util-linux) must be installed: these tests mount small filesystems",
            );
        assert!(
            out.status.success(),
            "cannot mount {args:?} at {}: {}\nthese tests need root (CI runs as root) to make a small filesystem that can fill up or be made read-only",
            at.display(),
            text(&out.stderr)
        );
        Mount(at.to_path_buf())
    }

    fn tmpfs(at: &Path, options: &str) -> Mount {
        Mount::new(&["-t", "tmpfs", "-o", options, "tmpfs"], at)
    }

    fn remount(&self, options: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(out.status.success(), "remount {options}: {}", text(&out.stderr));
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem holding `folder`: data blocks with one growing file, or inodes with
/// empty files. Returns what it made.
fn fill(folder: &Path, inodes: bool) -> Vec<PathBuf> {
    use std::io::Write as _;
    std::fs::create_dir_all(folder).unwrap();
    let mut made = Vec::new();
    if inodes {
        for i in 0.. {
            let path = folder.join(format!("f{i}"));
            match std::fs::File::create(&path) {
                Ok(_) => made.push(path),
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling inodes: {e}"),
            }
        }
    } else {
        let path = folder.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0x5a_u8; 64 * 1024];
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        made.push(path);
    }
    made
}

#[test]
fn a_full_disk_mid_write_leaves_the_previous_output_and_a_later_render_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo_one, repo_two) = (tmp.path().join("one"), tmp.path().join("two"));
    generate(&repo_one, 60, Version::One);
    generate(&repo_two, 60, Version::Two);
    let reference = tmp.path().join("reference");
    assert_renders(&repo_two, &reference);

    for (what, inodes) in [("data blocks", false), ("inodes", true)] {
        let disk = Mount::tmpfs(&tmp.path().join("disk"), "size=8m,nr_inodes=2000");
        let out = disk.0.join("rendered");
        assert_renders(&repo_one, &out);
        write(&out, "README.md", "kept by hand\n");
        let before = tree(&out);

        // Fill the disk, then free a little: room for the temporary folder and a few files of
        // the new output, not for all of them.
        let fillers = fill(&disk.0.join("filler"), inodes);
        if inodes {
            for path in &fillers[..12] {
                std::fs::remove_file(path).unwrap();
            }
        } else {
            let file = std::fs::OpenOptions::new().write(true).open(&fillers[0]).unwrap();
            let len = file.metadata().unwrap().len();
            file.set_len(len - 48 * 1024).unwrap();
        }
        let full = render(&repo_two, &out);
        let stderr = text(&full.stderr);
        assert_eq!(full.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains("No space left on device"), "{what}: {stderr}");
        let staging = disk.0.join(".rendered.tmp-");
        assert!(
            stderr.contains(staging.to_str().unwrap()),
            "{what}: the failure names the file being written, inside the temporary folder (the write failed partway, not before it began): {stderr}"
        );
        assert!(stderr.contains(&format!("{} is unchanged", out.display())), "{what}: {stderr}");
        assert!(tree(&out) == before, "{what}: the previous output changed");
        assert_eq!(temporaries(&disk.0, "rendered"), Vec::<String>::new(), "{what}");

        std::fs::remove_dir_all(disk.0.join("filler")).unwrap();
        assert_renders(&repo_two, &out);
        let mut expected = tree(&reference);
        expected.insert("README.md".into(), Node::File(b"kept by hand\n".to_vec()));
        assert!(tree(&out) == expected, "{what}: the render after freeing space differs");
        assert_eq!(temporaries(&disk.0, "rendered"), Vec::<String>::new(), "{what}");
    }
}

/// Files a user added to a rendered folder; every render must keep them.
fn add_user_files(out: &Path) {
    write(out, "README.md", "kept by hand\n");
    write(out, "team-1/notes.txt", "also kept\n");
}

#[test]
fn sigkill_mid_write_leaves_the_old_or_the_new_output_and_a_rerun_cleans_up() {
    const ROUNDS: usize = 12;
    let tmp = tempfile::tempdir().unwrap();
    let repos = [tmp.path().join("one"), tmp.path().join("two")];
    generate(&repos[0], 600, Version::One);
    generate(&repos[1], 600, Version::Two);
    let out = tmp.path().join("out");
    // What the folder holds after a full render of each version over the other.
    assert_renders(&repos[0], &out);
    add_user_files(&out);
    assert_renders(&repos[1], &out);
    let started = Instant::now();
    let expected_two = tree(&out);
    assert_renders(&repos[0], &out);
    let one_render = started.elapsed();
    let expected = [tree(&out), expected_two];
    assert!(expected[0] != expected[1]);

    // Folders and files a user made that look like render's temporary folders: never touched.
    write(tmp.path(), ".out.tmp-99999/keep.txt", "a user's folder\n");
    write(tmp.path(), ".out.tmp-1-0", "a user's file\n");
    let lookalikes = temporaries(tmp.path(), "out");

    let mut rng = Rng::from_env_or_clock();
    let mut current = 0;
    let (mut stayed_old, mut became_new, mut killed_while_staging) = (0, 0, 0);
    for round in 0..ROUNDS {
        let next = 1 - current;
        let before = temporaries(tmp.path(), "out");
        let staging = || temporaries(tmp.path(), "out").into_iter().any(|n| !before.contains(&n));
        let mut child = render_command(&repos[next], &out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if round % 2 == 0 {
            // Wait for the write to begin (a new temporary folder), then kill soon after.
            let deadline = Instant::now() + Duration::from_secs(120);
            while !staging() && child.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "no temporary folder appeared");
                std::thread::sleep(Duration::from_micros(200));
            }
            std::thread::sleep(Duration::from_millis(rng.below(40)));
        } else {
            // Anywhere in the run: loading, checking, writing or swapping.
            let whole = one_render.as_millis() as u64;
            std::thread::sleep(Duration::from_millis(rng.below(whole + whole / 4)));
        }
        if staging() {
            killed_while_staging += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let now = tree(&out);
        if now == expected[current] {
            stayed_old += 1;
        } else if now == expected[next] {
            became_new += 1;
            current = next;
        } else {
            let differing: Vec<_> = now
                .iter()
                .filter(|(path, node)| {
                    expected[current].get(*path) != Some(node)
                        && expected[next].get(*path) != Some(node)
                })
                .map(|(path, _)| path.display().to_string())
                .take(5)
                .collect();
            panic!(
                "round {round}: the output is neither the old nor the new render: {differing:?}"
            );
        }
    }
    eprintln!(
        "{ROUNDS} kills: {stayed_old} left the old output, {became_new} the new one; {killed_while_staging} killed while a temporary folder existed"
    );
    assert!(killed_while_staging >= ROUNDS / 4, "the kills must hit the write");

    // A later render finishes (no lock left behind), is complete, and removes what the killed
    // runs left, and only that.
    let child = render_command(&repos[1], &out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rerun = wait_with_limit(child, Duration::from_secs(120), "the render after the kills");
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun.stderr));
    assert!(tree(&out) == expected[1], "the render after the kills is not the full new output");
    assert_eq!(temporaries(tmp.path(), "out"), lookalikes, "leftover temporary folders");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join(".out.tmp-99999/keep.txt")).unwrap(),
        "a user's folder\n"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join(".out.tmp-1-0")).unwrap(),
        "a user's file\n"
    );
}

#[test]
fn two_renders_into_one_folder_at_once_never_mix() {
    const PAIRS: usize = 20;
    let tmp = tempfile::tempdir().unwrap();
    let repos = [tmp.path().join("one"), tmp.path().join("two")];
    generate(&repos[0], 100, Version::One);
    generate(&repos[1], 100, Version::Two);
    let out = tmp.path().join("out");
    assert_renders(&repos[1], &out);
    add_user_files(&out);
    let expected_two = tree(&out);
    assert_renders(&repos[0], &out);
    let expected = [tree(&out), expected_two];

    let mut winners = [0, 0];
    for pair in 0..PAIRS {
        // Alternate which one starts first.
        let order = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
        let children: Vec<(usize, Child)> = order
            .iter()
            .map(|&v| {
                let child = render_command(&repos[v], &out)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (v, child)
            })
            .collect();
        for (v, child) in children {
            let result = wait_with_limit(child, Duration::from_secs(120), "a concurrent render");
            assert_eq!(
                result.status.code(),
                Some(0),
                "pair {pair}, version {v}: {}",
                text(&result.stderr)
            );
        }
        let now = tree(&out);
        let winner = expected.iter().position(|e| *e == now);
        let Some(winner) = winner else {
            panic!("pair {pair}: the output is neither render's whole output");
        };
        winners[winner] += 1;
        assert_eq!(temporaries(tmp.path(), "out"), Vec::<String>::new(), "pair {pair}");
    }
    eprintln!(
        "{PAIRS} pairs: version one last {} times, version two {} times",
        winners[0], winners[1]
    );
}

#[test]
fn files_render_did_not_write_are_never_deleted() {
    use std::os::unix::ffi::OsStrExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let repos = [tmp.path().join("one"), tmp.path().join("two")];
    generate(&repos[0], 20, Version::One);
    generate(&repos[1], 20, Version::Two);
    let out = tmp.path().join("out");
    assert_renders(&repos[0], &out);
    let rendered = tree(&out);
    for path in ["team-1/connection-cache-1.yaml", "team-1/connection-cache-11.yaml"] {
        assert!(
            rendered.contains_key(Path::new(path)),
            "{path} is rendered: {:?}",
            rendered.keys()
        );
    }
    // Files of every shape render does not write.
    write(&out, "README.md", "top\n");
    write(&out, "team-1/notes.txt", "in a folder render writes into\n");
    write(&out, "team-1/Connection-Cache-11.yaml", "a rendered file's name, other case\n");
    write(&out, "team-1/CONNECTION-CACHE-1.YAML", "a stale file's name, other case\n");
    write(&out, ".hidden", "hidden\n");
    write(&out, "team-1/.hidden", "hidden in a render folder\n");
    write(&out, "team-0/.keep", "");
    write(&out, ".connections/notes", "a user's note beside the manifest\n");
    std::fs::create_dir_all(out.join("empty-folder")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", out.join("link-out")).unwrap();
    std::os::unix::fs::symlink("team-1", out.join("link-to-folder")).unwrap();
    std::os::unix::fs::symlink("nowhere", out.join("team-2/dangling")).unwrap();
    let odd_name = std::ffi::OsStr::from_bytes(b"not-utf8-\xff.yaml");
    std::fs::write(out.join(odd_name), "bytes\n").unwrap();
    let user_files: BTreeMap<PathBuf, Node> =
        tree(&out).into_iter().filter(|(p, _)| !rendered.contains_key(p)).collect();
    assert_eq!(user_files.len(), 13, "{user_files:?}");

    // The next render moves to version two (every rendered file changes or goes), twice.
    for round in 0..2 {
        let result = render(&repos[1], &out);
        assert_eq!(result.status.code(), Some(0), "round {round}: {}", text(&result.stderr));
        let now = tree(&out);
        for (path, node) in &user_files {
            assert_eq!(now.get(path), Some(node), "round {round}: {} was not kept", path.display());
        }
    }
    // A file named like one render is about to write, that it did not write, is refused.
    let clash = "team-0/connection-cache-0.yaml";
    assert!(!out.join(clash).exists());
    write(&out, clash, "mine\n");
    let before_clash = tree(&out);
    let refused = render(&repos[0], &out);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains(clash), "{}", text(&refused.stderr));
    assert!(tree(&out) == before_clash, "a refused render changed the folder");
    assert_eq!(temporaries(tmp.path(), "out"), Vec::<String>::new());
}

/// Asserts a render into `out` failed with exit 2 and `message`, leaving `before` and no
/// temporary folder.
fn assert_refused_unchanged(
    result: &Output,
    message: &str,
    out: &Path,
    before: &BTreeMap<PathBuf, Node>,
    what: &str,
) {
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{what}: {stderr}");
    assert!(stderr.contains(message), "{what}: expected {message:?} in: {stderr}");
    assert!(tree(out) == *before, "{what}: the output changed");
    let name = out.file_name().unwrap().to_str().unwrap();
    assert_eq!(temporaries(out.parent().unwrap(), name), Vec::<String>::new(), "{what}");
}

#[test]
fn every_write_failure_leaves_the_target_unchanged_with_exit_2() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    generate(&repo, 20, Version::One);
    let other = tmp.path().join("other");
    generate(&other, 20, Version::Two);

    // The output path is a file, or below one.
    write(tmp.path(), "a-file", "not a folder\n");
    let file = tmp.path().join("a-file");
    let result = render(&repo, &file);
    assert_eq!(result.status.code(), Some(2), "{}", text(&result.stderr));
    assert!(text(&result.stderr).contains("is not a folder"), "{}", text(&result.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder\n");
    let below = file.join("out");
    let result = render(&repo, &below);
    assert_eq!(result.status.code(), Some(2), "{}", text(&result.stderr));
    assert!(
        text(&result.stderr).contains(&format!("{} is not a folder", file.display())),
        "{}",
        text(&result.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder\n");
    assert_eq!(temporaries(tmp.path(), "a-file"), Vec::<String>::new());

    // A parent folder the user may not write (root may write anywhere: run as `nobody`).
    let locked = tmp.path().join("locked");
    let out = locked.join("out");
    assert_renders(&repo, &out);
    let before = tree(&out);
    for dir in [tmp.path(), repo.as_path(), other.as_path(), locked.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let result = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", bin(), "render", ".", "--out"])
        .arg(&out)
        .current_dir(&other)
        .output()
        .expect("setpriv (util-linux) runs the binary as nobody");
    assert_refused_unchanged(&result, "Permission denied", &out, &before, "unwritable parent");

    // A read-only filesystem.
    let disk = Mount::tmpfs(&tmp.path().join("ro"), "size=8m");
    let out = disk.0.join("rendered");
    assert_renders(&repo, &out);
    let before = tree(&out);
    disk.remount("ro");
    let result = render(&other, &out);
    disk.remount("rw");
    assert_refused_unchanged(
        &result,
        "Read-only file system",
        &out,
        &before,
        "read-only filesystem",
    );

    // The output folder is a mount point (a volume mounted there): it cannot be swapped.
    let volume = Mount::new(&["--bind", out.to_str().unwrap()], &out);
    let result = render(&other, &out);
    assert_refused_unchanged(&result, "mount point", &out, &before, "mount point");
    drop(volume);
    drop(disk);
}

/// A kubeconfig naming a server that answers (`server`) and a user whose credentials come
/// from an exec plugin that leaves `marker` when it runs.
fn tempting_kubeconfig(dir: &Path, server: &str, marker: &Path) -> PathBuf {
    let plugin = dir.join("credential-plugin.sh");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho ran >> {}\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"t0ken\"}}}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts:\n- name: prod\n  context: {{cluster: prod, user: prod, namespace: team-1}}\nclusters:\n- name: prod\n  cluster: {{server: \"{server}\", insecure-skip-tls-verify: true}}\nusers:\n- name: prod\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
            plugin.display()
        ),
    )
    .unwrap();
    path
}

/// A TCP server on the loopback interface that accepts connections, counts them and closes
/// them at once.
struct Listener {
    address: std::net::SocketAddr,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Listener {
    fn start() -> Listener {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = socket.local_addr().unwrap();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            for stream in socket.incoming() {
                if stream.is_ok() {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
        });
        Listener { address, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// How a command is run to catch network use.
#[derive(Clone, Copy, Debug)]
enum Harness {
    /// In a new network namespace with no interface up (`unshare --net`).
    NoNetwork,
    /// Under `strace -f`, recording every socket, connect and open.
    Traced,
}

/// Runs the binary with `args` in `dir` under `harness`, with `kubeconfig` in the environment;
/// returns its output and, when traced, the trace.
fn run_harnessed(
    harness: Harness,
    dir: &Path,
    args: &[&str],
    kubeconfig: &Path,
    trace: &Path,
) -> (Output, String) {
    let mut command = match harness {
        Harness::NoNetwork => {
            let mut c = Command::new("unshare");
            c.args(["--net", "--"]);
            c
        }
        Harness::Traced => {
            let mut c = Command::new("strace");
            c.args(["-f", "-qq", "-e", "trace=socket,connect,openat,open", "-o"])
                .arg(trace)
                .arg("--");
            c
        }
    };
    let plain = command_in(dir, args);
    command.arg(bin()).args(args).current_dir(dir).env("NO_COLOR", "1");
    for (name, value) in plain.get_envs() {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    command.env("KUBECONFIG", kubeconfig);
    let tool = match harness {
        Harness::NoNetwork => {
            "unshare (util-linux) must be installed and the tests run as root (CI does): they run offline commands in a network namespace with no interface"
        }
        Harness::Traced => {
            "strace must be installed (.ci/run installs it): the tests trace the offline commands' system calls"
        }
    };
    let output = command.output().expect(tool);
    if let Harness::NoNetwork = harness {
        assert!(!text(&output.stderr).starts_with("unshare:"), "{tool}: {}", text(&output.stderr));
    }
    let trace = match harness {
        Harness::Traced => std::fs::read_to_string(trace).expect("strace wrote its trace"),
        Harness::NoNetwork => String::new(),
    };
    (output, trace)
}

/// The lines of a trace that open or connect a socket.
fn socket_calls(trace: &str) -> Vec<&str> {
    trace.lines().filter(|l| l.contains(" socket(") || l.contains(" connect(")).collect()
}

#[test]
fn offline_commands_open_no_socket_and_never_read_the_kubeconfig() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    generate(&work.join("deploy"), 20, Version::One);
    git(&work, &["init", "-q"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "one"]);
    std::fs::remove_dir_all(work.join("deploy")).unwrap();
    generate(&work.join("deploy"), 20, Version::Two);
    let against = tmp.path().join("against");
    assert_renders(&work.join("deploy"), &against);
    generate(&work.join("deploy"), 1, Version::One);

    let server = Listener::start();
    let marker = tmp.path().join("credential-plugin-ran");
    let kubeconfig =
        tempting_kubeconfig(tmp.path(), &format!("https://{}", server.address), &marker);
    let trace = tmp.path().join("trace");
    let rendered = tmp.path().join("rendered");
    let offline: Vec<(Vec<&str>, i32)> = vec![
        (vec!["render", "deploy", "--out", rendered.to_str().unwrap()], 0),
        (vec!["render", "deploy", "--stdout"], 0),
        (vec!["validate", "deploy"], 0),
        (vec!["diff", "deploy", "--against", against.to_str().unwrap()], 1),
        (vec!["diff", "deploy", "--base", "HEAD"], 1),
    ];
    let mut checked = 0;
    for harness in [Harness::NoNetwork, Harness::Traced] {
        for (args, code) in &offline {
            let _ = std::fs::remove_dir_all(&rendered);
            let (output, trace) = run_harnessed(harness, &work, args, &kubeconfig, &trace);
            assert_eq!(
                output.status.code(),
                Some(*code),
                "{harness:?} {args:?}: {}",
                text(&output.stderr)
            );
            assert_eq!(socket_calls(&trace), Vec::<&str>::new(), "{args:?} opened a socket");
            assert!(
                !trace.contains(kubeconfig.to_str().unwrap()),
                "{args:?} opened the kubeconfig"
            );
            assert!(
                !marker.exists(),
                "{harness:?} {args:?} ran the kubeconfig's credential plugin"
            );
            checked += 1;
        }
    }
    assert_eq!(server.accepted(), 0, "an offline command connected to the kubeconfig's server");
    eprintln!("{checked} offline runs: no socket, no kubeconfig read, no credential plugin");

    // The same harnesses catch a command that does go to the cluster.
    let list = ["list", "--request-timeout", "5s"];
    let (output, _) = run_harnessed(Harness::NoNetwork, &work, &list, &kubeconfig, &trace);
    assert_eq!(output.status.code(), Some(2), "list without a network: {}", text(&output.stderr));
    let _ = std::fs::remove_file(&marker);
    let (_, traced) = run_harnessed(Harness::Traced, &work, &list, &kubeconfig, &trace);
    assert!(!socket_calls(&traced).is_empty(), "the trace shows list's connection");
    assert!(
        traced.contains(kubeconfig.to_str().unwrap()),
        "the trace shows list reading the kubeconfig"
    );
    assert!(marker.exists(), "list ran the credential plugin");
    assert!(server.accepted() > 0, "list reached the server");
}
