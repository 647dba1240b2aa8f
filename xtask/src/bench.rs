//! `cargo xtask bench`: the performance figures of docs/benchmarks.md, measured in one run.
//!
//! For each size N it generates a repository of N connections (the shape of
//! `shared/bench/gen_repo.py`, ported here so that the project needs nothing outside itself:
//! per connection a Connection, a ConfigMap, a SealedSecret and a Deployment that uses it,
//! spread over team folders in single- and multi-document files, plus one KubeDirectorCluster
//! per 10 connections) and the equivalent kustomize workload (configMapGenerator,
//! secretGenerator and Deployments referring to them, as a user would write it without this
//! tool). It then times, in the same run:
//!
//! - `validate`, `render --stdout` and `render --out` of the release binary (median wall time
//!   and peak RSS of several runs, each in a fresh process);
//! - a floor: copying the input tree through a tar pipe (every byte read and written);
//! - `kubectl kustomize` of the equivalent workload, for the sizes where it finishes in
//!   reasonable time.
//!
//! The two commands that only read (`validate`, `render --stdout`) alternate run by run, and so
//! do the two that write the tree (`render --out`, the floor), so that the filesystem work of
//! one writing run does not land in the next reading one. Every writing run writes into a
//! folder of its own, and no output is removed until every measurement is done (see
//! [`TRASH`]).
//!
//! Usage: `cargo xtask bench [--sizes 100,1000,10000] [--runs 5] [--read-runs 15]
//! [--kustomize-sizes 100,1000] [--kustomize-runs 3] [--write docs/benchmarks.md]`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*), for the SealedSecret ciphertext.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn ciphertext(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let body: String =
            (0..340).map(|_| ALPHABET[(self.next() % 64) as usize] as char).collect();
        format!("Ag{body}==")
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn connection(i: usize, ns: &str) -> String {
    format!(
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata:\n  name: conn-{i}\n  namespace: {ns}\n  labels: {{team: t{}}}\nspec:\n  type: postgres\n  description: warehouse shard {i}\n  schema:\n    host: pg-{i}.data.svc.cluster.local\n    port: 5432\n    database: sales_{i}\n  secret:\n    name: conn-{i}-cred\n    items: [username, password]\n  configMap:\n    name: conn-{i}-settings\n    mountPath: /etc/conn-{i}\n  credentials:\n    sslmode: {{value: require}}\n    password:\n      valueFrom:\n        secretKeyRef: {{name: conn-{i}-cred, key: password}}\n",
        i % 17
    )
}

fn configmap(i: usize, ns: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conn-{i}-settings\n  namespace: {ns}\n  labels:\n    kubedirector.hpe.com/cmType: warehouse\ndata:\n  pool_size: \"{}\"\n  statement_timeout: \"{}s\"\n  application_name: app-{i}\n",
        10 + i % 7,
        30 + i % 11
    )
}

fn sealed(i: usize, ns: &str, rng: &mut Rng) -> String {
    format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: conn-{i}-cred\n  namespace: {ns}\nspec:\n  encryptedData:\n    username: {}\n    password: {}\n  template:\n    metadata:\n      labels:\n        kubedirector.hpe.com/secretType: warehouse-cred\n",
        rng.ciphertext(),
        rng.ciphertext()
    )
}

fn deployment(i: usize, ns: &str, env_from: bool) -> String {
    let refs = if env_from {
        format!(
            "        envFrom:\n        - configMapRef: {{name: conn-{i}-settings}}\n        - secretRef: {{name: conn-{i}-cred}}\n"
        )
    } else {
        String::new()
    };
    let annotations = format!("  annotations:\n    connections.dev/use: conn-{i}\n");
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: {ns}\n{annotations}spec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}}}\n    spec:\n      containers:\n      - name: main\n        image: registry.example.com/app:{}.0\n        ports:\n        - containerPort: 8080\n{refs}        resources:\n          requests: {{cpu: 100m, memory: 128Mi}}\n",
        i % 13
    )
}

fn kdcluster(c: usize, ns: &str, members: &[usize]) -> String {
    let cms: String = members.iter().map(|i| format!("    - conn-{i}-settings\n")).collect();
    let secrets: String = members.iter().map(|i| format!("    - conn-{i}-cred\n")).collect();
    format!(
        "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata:\n  name: notebook-{c}\n  namespace: {ns}\nspec:\n  app: jupyter-notebook\n  connections:\n    configmaps:\n{cms}    secrets:\n{secrets}  roles:\n  - id: controller\n    members: 1\n    resources:\n      requests: {{cpu: \"1\", memory: 4Gi}}\n      limits: {{cpu: \"1\", memory: 4Gi}}\n"
    )
}

/// The benchmark repository of `n` connections.
pub fn gen_repo(n: usize, out: &Path) -> Result<(), String> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..n {
        let team = format!("team-{}", i % 10);
        let ns = format!("ns-{}", i % 10);
        let base = out.join("apps").join(&team);
        if i % 2 == 0 {
            let doc =
                [connection(i, &ns), configmap(i, &ns), sealed(i, &ns, &mut rng)].join("---\n");
            write(&base.join(format!("conn-{i}.yaml")), &doc)?;
        } else {
            let dir = base.join(format!("conn-{i}"));
            write(&dir.join("connection.yaml"), &connection(i, &ns))?;
            write(&dir.join("settings.yaml"), &configmap(i, &ns))?;
            write(&dir.join("sealed.yaml"), &sealed(i, &ns, &mut rng))?;
        }
        write(&base.join("workloads").join(format!("app-{i}.yaml")), &deployment(i, &ns, false))?;
    }
    let mut by_ns: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for i in 0..n {
        by_ns.entry(format!("ns-{}", i % 10)).or_default().push(i);
    }
    let mut c = 0;
    for (ns, members) in &by_ns {
        for chunk in members.chunks(10) {
            write(
                &out.join("clusters").join(ns).join(format!("notebook-{c}.yaml")),
                &kdcluster(c, ns, chunk),
            )?;
            c += 1;
        }
    }
    Ok(())
}

/// The same workload as kustomize users write it: generators and name references.
pub fn gen_kustomize(n: usize, out: &Path) -> Result<(), String> {
    let mut k = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deploy.yaml\nconfigMapGenerator:\n",
    );
    for i in 0..n {
        let _ = write!(
            k,
            "- name: conn-{i}-settings\n  literals:\n  - pool_size={}\n  - statement_timeout={}s\n  - application_name=app-{i}\n",
            10 + i % 7,
            30 + i % 11
        );
    }
    k.push_str("secretGenerator:\n");
    for i in 0..n {
        let _ = write!(
            k,
            "- name: conn-{i}-cred\n  literals:\n  - username=user{i}\n  - password=pw{i}\n"
        );
    }
    write(&out.join("kustomization.yaml"), &k)?;
    let docs: Vec<String> = (0..n).map(|i| deployment(i, "default", true)).collect();
    write(&out.join("deploy.yaml"), &docs.join("---\n"))
}

/// Wall time and peak resident memory of one run of a command.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    pub(crate) wall: Duration,
    pub(crate) peak_kib: u64,
}

/// Runs `program args` with stdout to /dev/null and measures it. The run happens in a fresh
/// helper process (`xtask __measure`), so that the peak RSS of its waited-for children is
/// this command's alone.
pub(crate) fn measure(program: &Path, args: &[&str], dir: &Path) -> Result<Sample, String> {
    // Every measured process starts with no writes pending: the previous command's (a render
    // into a folder, the tar copy) would otherwise be flushed by the kernel while this one
    // runs, on the same two cores, and land in its time.
    let _ = Command::new("sync").status();
    measure_now(program, args, dir)
}

/// [`measure`] without the `sync` before it, for a command that follows one that wrote
/// nothing: right after a `sync`, `render --stdout` at N = 1,000 took 58 ms (median of 12)
/// against 54.5 ms without it, the flush's own aftermath landing in its time.
fn measure_now(program: &Path, args: &[&str], dir: &Path) -> Result<Sample, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(me)
        .arg("__measure")
        .arg(program)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    match (out.status.success(), words.next(), words.next()) {
        (true, Some(nanos), Some(kib)) => Ok(Sample {
            wall: Duration::from_nanos(nanos.parse().map_err(|_| "bad measurement")?),
            peak_kib: kib.parse().map_err(|_| "bad measurement")?,
        }),
        _ => Err(format!(
            "{} {args:?} failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// `xtask __measure PROGRAM ARGS...`: runs the program (stdout and stderr discarded) and
/// prints its wall time in nanoseconds and its peak RSS in KiB. Exit codes 0 and 1 (findings,
/// differences) count as success.
pub fn measure_child(args: &[String]) -> Result<(), String> {
    let (program, rest) = args.split_first().ok_or("__measure needs a program")?;
    let started = Instant::now();
    let status = Command::new(program)
        .args(rest)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("{program}: {e}"))?;
    let wall = started.elapsed();
    if !matches!(status.code(), Some(0 | 1)) {
        return Err(format!("{program} exited with {status}"));
    }
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map_err(|e| e.to_string())?;
    println!("{} {}", wall.as_nanos(), usage.max_rss());
    Ok(())
}

pub(crate) fn median(mut samples: Vec<Sample>) -> Sample {
    samples.sort_by_key(|s| s.wall);
    let wall = samples[samples.len() / 2].wall;
    let mut peaks: Vec<u64> = samples.iter().map(|s| s.peak_kib).collect();
    peaks.sort_unstable();
    Sample { wall, peak_kib: peaks[peaks.len() / 2] }
}

fn best(samples: &[Sample]) -> Sample {
    *samples.iter().min_by_key(|s| s.wall).expect("at least one run")
}

fn tree_size(dir: &Path) -> (u64, u64) {
    let (mut files, mut bytes) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => {
                    files += 1;
                    bytes += entry.metadata().map_or(0, |m| m.len());
                }
                _ => {}
            }
        }
    }
    (files, bytes)
}

struct Options {
    sizes: Vec<usize>,
    /// Runs of the commands that write a tree (`render --out`, the floor).
    runs: usize,
    /// Runs of the commands that only read (`validate`, `render --stdout`): cheap, and at
    /// N = 1,000 a few tens of milliseconds, where the machine's noise moves a median of five.
    read_runs: usize,
    kustomize_sizes: Vec<usize>,
    kustomize_runs: usize,
    write_to: Option<PathBuf>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        sizes: vec![100, 1000, 10_000],
        runs: 5,
        read_runs: 15,
        kustomize_sizes: vec![100, 1000],
        kustomize_runs: 3,
        write_to: None,
    };
    let list = |v: &str| -> Result<Vec<usize>, String> {
        v.split(',')
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.trim().parse().map_err(|_| format!("not a size: {n}")))
            .collect()
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => options.sizes = list(value)?,
            "--runs" => options.runs = value.parse().map_err(|_| "--runs: a number")?,
            "--read-runs" => {
                options.read_runs = value.parse().map_err(|_| "--read-runs: a number")?
            }
            "--kustomize-sizes" => options.kustomize_sizes = list(value)?,
            "--kustomize-runs" => {
                options.kustomize_runs = value.parse().map_err(|_| "--kustomize-runs: a number")?
            }
            "--write" => options.write_to = Some(PathBuf::from(value)),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if options.sizes.is_empty() {
        return Err("--sizes: at least one size".into());
    }
    if options.runs == 0 || options.read_runs == 0 || options.kustomize_runs == 0 {
        return Err("runs must be at least 1".into());
    }
    Ok(options)
}

pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split_once(':').map_or("", |(_, v)| v).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or_else(String::new, |kib| format!(", {} GiB", kib / 1024 / 1024));
    let kubectl = Command::new("kubectl")
        .args(["version", "--client", "-o", "json"])
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            text.split("\"gitVersion\": \"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "not found".into());
    format!("{cpu}, {cores} cores{memory}; kubectl {kubectl}")
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Builds the release binary and returns its path.
pub(crate) fn release_binary(root: &Path) -> Result<PathBuf, String> {
    eprintln!("bench: building the release binary");
    let mut build = Command::new("cargo");
    build.args(["build", "--release", "--locked", "-p", "kubectl-connections"]).current_dir(root);
    // `cargo xtask` runs us with the package variables of xtask set; passed on, they change
    // build-script fingerprints and make cargo rebuild half the dependency tree.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || matches!(&*key, "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE")
        {
            build.env_remove(&*key);
        }
    }
    let status = build.status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("cargo build --release failed".into());
    }
    Ok(root.join("target/release/kubectl-connections"))
}

/// Where earlier runs' outputs (and a half-generated repository) are moved at the start (a
/// rename frees no inode), to be removed with this run's at the end.
///
/// No output is removed while the bench measures. ext4 without a journal (the root
/// filesystem of the machine in docs/benchmarks.md) does not reuse an inode freed in the last
/// 60 seconds, or 360 while its inode table block is unwritten (`RECENTCY_MIN` plus
/// `RECENTCY_DIRTY` in the kernel's `fs/ext4/ialloc.c`; writing new inodes dirties those
/// blocks again), and it reads the inode of every such free one it passes while looking for
/// one to allocate. Removing the last run's output right before the next run made that run
/// several times slower: `render --out` at N = 10,000 took 5 to 29 s right after the removal
/// of the previous output, against 1.6 to 2.1 s into fresh folders with nothing removed (same
/// build, same hour); `perf` put most of the time in the kernel's `recently_deleted` and
/// `find_inode_bit`. What earlier rounds took for disk stalls was this.
const TRASH: &str = "trash";

/// When the last run removed its outputs (seconds since the epoch), in a file of this name
/// under the bench's folder.
const REMOVED_AT: &str = "removed-at";

/// How long after a removal a run waits before its first writing run (the 360 s of an
/// unwritten inode table block, see [`TRASH`], and a margin).
const FREED_INODES_HELD: Duration = Duration::from_secs(370);

/// Time since the epoch (zero on a clock set before it).
fn since_epoch() -> Duration {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
}

/// When the last run removed its outputs, if it left a note of it.
fn last_removal(work: &Path) -> Option<u64> {
    std::fs::read_to_string(work.join(REMOVED_AT)).ok().and_then(|text| text.trim().parse().ok())
}

/// How much of [`FREED_INODES_HELD`] is left at `now` (seconds since the epoch) after a
/// removal at `removed_at`, and how long ago that was; `None` once it has passed (or with no
/// removal noted).
fn left_to_wait(removed_at: Option<u64>, now: u64) -> Option<(Duration, Duration)> {
    let since = Duration::from_secs(now.saturating_sub(removed_at?));
    Some((FREED_INODES_HELD.checked_sub(since).filter(|w| !w.is_zero())?, since))
}

/// Waits until [`FREED_INODES_HELD`] has passed since `removed_at`: a bench whose writing
/// runs came about five minutes after another's removal measured them at N = 1,000 at about
/// five times their time (`render --out` 0.72 s against 0.15 s).
fn wait_for_freed_inodes(removed_at: Option<u64>) {
    if let Some((wait, since)) = left_to_wait(removed_at, since_epoch().as_secs()) {
        eprintln!(
            "bench: waiting {} s: the last run removed its outputs {} s ago, and the filesystem may not reuse their inodes yet (docs/benchmarks.md)",
            wait.as_secs(),
            since.as_secs()
        );
        std::thread::sleep(wait);
    }
}

/// Moves `path` into [`TRASH`] under `work`, in a folder of a name no earlier run's trash
/// holds (process id and time).
fn move_aside(work: &Path, path: &Path) -> Result<(), String> {
    let folder =
        work.join(TRASH).join(format!("{}-{}", std::process::id(), since_epoch().as_nanos()));
    std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let name = path.file_name().unwrap_or_default();
    std::fs::rename(path, folder.join(name)).map_err(|e| format!("{}: {e}", path.display()))
}

/// The output folders (`out-*`, `copy-*`) under `work`.
fn outputs(work: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(work) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("out-") || name.starts_with("copy-")
        })
        .map(|e| e.path())
        .collect()
}

/// Moves the output folders of earlier runs under `work` into [`TRASH`].
fn move_outputs_aside(work: &Path) -> Result<(), String> {
    outputs(work).iter().try_for_each(|path| move_aside(work, path))
}

/// Removes this run's outputs and the trash, and notes when (see [`REMOVED_AT`]). A failure
/// is a warning: the figures are already out.
fn remove_outputs(work: &Path) {
    let mut folders = outputs(work);
    folders.push(work.join(TRASH));
    let mut removed = false;
    for folder in folders {
        match std::fs::remove_dir_all(&folder) {
            Ok(()) => removed = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("bench: warning: cannot remove {}: {e}", folder.display()),
        }
    }
    let now = since_epoch().as_secs().to_string();
    if removed && let Err(e) = std::fs::write(work.join(REMOVED_AT), now) {
        eprintln!("bench: warning: cannot note the removal in {}: {e}", work.display());
    }
}

/// What one size's runs come to, for the ratios between sizes.
struct Figures {
    validate: Duration,
    render_stdout: Duration,
    render_out: Duration,
    /// `render --out`'s best run, beside the floor's (the floor is compared by best runs).
    render_out_best: Duration,
    /// The floor is its best run (the filesystem's hiccups are not the floor).
    floor_best: Duration,
}

/// Runs the benchmark.
pub fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let options = parse_options(args)?;
    let binary = release_binary(root)?;
    let work = root.join("target/bench");
    let mut table = String::from(
        "| N | files | MB | command | median wall | peak RSS | files/s | MB/s |\n|---:|---:|---:|---|---:|---:|---:|---:|\n",
    );
    let mut summary = Vec::new();
    let mut figures: std::collections::BTreeMap<usize, Figures> = Default::default();
    move_outputs_aside(&work)?;
    let removed_at = last_removal(&work);
    for &n in &options.sizes {
        let repo = work.join(format!("repo-{n}"));
        if !repo.join("apps").is_dir() {
            eprintln!("bench: generating {n} connections");
            // A half-generated tree is moved aside, not removed (see [`TRASH`]).
            if repo.exists() {
                move_aside(&work, &repo)?;
            }
            gen_repo(n, &repo)?;
        }
        let (files, bytes) = tree_size(&repo);
        let mb = bytes as f64 / 1e6;
        let repo_arg = repo.to_string_lossy().to_string();
        let mut rows: Vec<(&str, Vec<Sample>)> = vec![
            ("validate", Vec::new()),
            ("render --stdout", Vec::new()),
            ("render --out", Vec::new()),
            ("floor: tar pipe copy of the input", Vec::new()),
        ];
        // The commands that only read alternate with each other, then the two that write
        // tens of thousands of files alternate with each other. In the old order, right after
        // a 31,000-file write and delete, `validate` at N = 10,000 took 0.74 s; five runs on
        // their own right after, same build, 0.41 to 0.57 s (median 0.42 s): the filesystem's
        // work on what the writing run left outlived `sync` and ran on the same two cores.
        // What earlier sizes wrote is flushed once, and then left to settle.
        let _ = Command::new("sync").status();
        std::thread::sleep(Duration::from_secs(1));
        for run in 0..options.read_runs {
            eprintln!("bench: N = {n}, read-only commands, run {}/{}", run + 1, options.read_runs);
            rows[0].1.push(measure_now(&binary, &["validate", &repo_arg], root)?);
            rows[1].1.push(measure_now(&binary, &["render", &repo_arg, "--stdout"], root)?);
        }
        wait_for_freed_inodes(removed_at);
        for run in 0..options.runs {
            eprintln!("bench: N = {n}, writing commands, run {}/{}", run + 1, options.runs);
            // A folder of its own per run, removed after the last measurement.
            let out = work.join(format!("out-{n}-{run}"));
            let copy = work.join(format!("copy-{n}-{run}"));
            let out_arg = out.to_string_lossy().to_string();
            rows[2].1.push(measure(&binary, &["render", &repo_arg, "--out", &out_arg], root)?);
            std::fs::create_dir_all(&copy).map_err(|e| e.to_string())?;
            let pipe =
                format!("tar -C '{}' -cf - . | tar -C '{}' -xf -", repo.display(), copy.display());
            rows[3].1.push(measure(Path::new("sh"), &["-c", &pipe], root)?);
        }
        let size = Figures {
            validate: median(rows[0].1.clone()).wall,
            render_stdout: median(rows[1].1.clone()).wall,
            render_out: median(rows[2].1.clone()).wall,
            render_out_best: best(&rows[2].1).wall,
            floor_best: best(&rows[3].1).wall,
        };
        for (name, samples) in &rows {
            let m = median(samples.clone());
            let per_s = m.wall.as_secs_f64().max(1e-9);
            let _ = writeln!(
                table,
                "| {n} | {files} | {mb:.1} | {name} | {} | {} MB | {:.0} | {:.1} |",
                secs(m.wall),
                m.peak_kib / 1024,
                files as f64 / per_s,
                mb / per_s
            );
        }
        summary.push(format!(
            "N = {n}: render --out best {} against a floor (tar pipe) of {}: {:.2} times the floor",
            secs(size.render_out_best),
            secs(size.floor_best),
            size.render_out_best.as_secs_f64() / size.floor_best.as_secs_f64()
        ));
        figures.insert(n, size);
        if options.kustomize_sizes.contains(&n) {
            let kdir = work.join(format!("kustomize-{n}"));
            if !kdir.join("kustomization.yaml").is_file() {
                gen_kustomize(n, &kdir)?;
            }
            let kdir_arg = kdir.to_string_lossy().to_string();
            let mut samples = Vec::new();
            for run in 0..options.kustomize_runs {
                eprintln!(
                    "bench: kubectl kustomize, N = {n}, run {}/{}",
                    run + 1,
                    options.kustomize_runs
                );
                samples.push(measure(Path::new("kubectl"), &["kustomize", &kdir_arg], root)?);
            }
            let k = median(samples);
            let (stream, out) = (figures[&n].render_stdout, figures[&n].render_out);
            let _ = writeln!(
                table,
                "| {n} | | | kubectl kustomize (equivalent workload) | {} | {} MB | | |",
                secs(k.wall),
                k.peak_kib / 1024
            );
            let ratio = |ours: Duration| k.wall.as_secs_f64() / ours.as_secs_f64().max(1e-9);
            summary.push(format!(
                "N = {n}: kubectl kustomize {}; render --stdout (the same job: print the stream) {}, {:.0} times faster; render --out {}, {:.0} times faster",
                secs(k.wall),
                secs(stream),
                ratio(stream),
                secs(out),
                ratio(out)
            ));
        }
    }
    for (a, b) in [(1000, 10_000), (100, 1000)] {
        if let (Some(small), Some(large)) = (figures.get(&a), figures.get(&b)) {
            let growth =
                |of: fn(&Figures) -> Duration| of(large).as_secs_f64() / of(small).as_secs_f64();
            summary.push(format!(
                "linearity, time({b}) / time({a}) of the medians: render --out {:.1}, render --stdout {:.1}, validate {:.1}; the floor (tar pipe, best runs) itself {:.1}",
                growth(|f| f.render_out),
                growth(|f| f.render_stdout),
                growth(|f| f.validate),
                growth(|f| f.floor_best)
            ));
            summary.push(format!(
                "linearity of the best runs, time({b}) / time({a}), as the floor is compared: render --out {:.1} (the floor {:.1})",
                growth(|f| f.render_out_best),
                growth(|f| f.floor_best)
            ));
        }
    }
    let report = format!(
        "Machine: {}\n\nCommand: `cargo xtask bench {}` (medians of {} run{}, {} for the commands that only read; kubectl kustomize: {} run{})\n\n{table}\n{}\n",
        machine(),
        args.join(" "),
        options.runs,
        if options.runs == 1 { "" } else { "s" },
        options.read_runs,
        options.kustomize_runs,
        if options.kustomize_runs == 1 { "" } else { "s" },
        summary.iter().map(|s| format!("- {s}\n")).collect::<String>()
    );
    print!("{report}");
    if let Some(path) = options.write_to {
        let path = root.join(path);
        let existing = std::fs::read_to_string(&path).unwrap_or_default();
        const START: &str = "<!-- bench:start -->";
        const END: &str = "<!-- bench:end -->";
        let updated = match (existing.find(START), existing.find(END)) {
            (Some(s), Some(e)) if s < e => {
                format!("{}{START}\n{report}{}", &existing[..s], &existing[e..])
            }
            _ => format!("{existing}\n{START}\n{report}{END}\n"),
        };
        std::fs::write(&path, updated).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    // Removed once every figure is out (see [`TRASH`]): on such a filesystem, a write in the
    // next few minutes pays for it.
    eprintln!("bench: removing the outputs");
    remove_outputs(&work);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outputs of earlier runs go into the trash (other folders stay), and leave nothing the
    /// next move could collide with; removing empties the trash and this run's outputs and
    /// notes when, so that the next bench waits.
    #[test]
    fn outputs_are_moved_aside_then_removed_with_a_note_of_when() {
        let work = tempfile::tempdir().unwrap();
        let work = work.path();
        for folder in ["out-100-0", "copy-100-0", "repo-100"] {
            std::fs::create_dir_all(work.join(folder).join("ns")).unwrap();
        }
        move_outputs_aside(work).unwrap();
        assert!(outputs(work).is_empty());
        assert!(work.join("repo-100/ns").is_dir());
        // Each in a trash folder of its own, whole.
        let mut moved: Vec<String> = std::fs::read_dir(work.join(TRASH))
            .unwrap()
            .flatten()
            .flat_map(|folder| std::fs::read_dir(folder.path()).unwrap().flatten())
            .filter(|entry| entry.path().join("ns").is_dir())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        moved.sort();
        assert_eq!(moved, ["copy-100-0", "out-100-0"]);
        // The same names again (an interrupted run left them) move aside without a clash.
        std::fs::create_dir_all(work.join("out-100-0/ns")).unwrap();
        move_outputs_aside(work).unwrap();
        assert!(outputs(work).is_empty());
        assert_eq!(last_removal(work), None);
        std::fs::create_dir_all(work.join("out-1000-0")).unwrap();
        remove_outputs(work);
        assert!(outputs(work).is_empty() && !work.join(TRASH).exists());
        assert!(work.join("repo-100/ns").is_dir());
        let noted = last_removal(work).expect("the removal is noted");
        assert!(since_epoch().as_secs().abs_diff(noted) < 60, "{noted}");
    }

    /// The wait is what is left of [`FREED_INODES_HELD`] since the noted removal.
    #[test]
    fn the_wait_is_what_is_left_since_the_last_removal() {
        let held = FREED_INODES_HELD.as_secs();
        assert_eq!(left_to_wait(None, 1_000), None);
        let at = 1_000_000;
        let left = |now| left_to_wait(Some(at), now).map(|(w, s)| (w.as_secs(), s.as_secs()));
        assert_eq!(left(at), Some((held, 0)));
        assert_eq!(left(at + 100), Some((held - 100, 100)));
        assert_eq!(left(at + held), None);
        assert_eq!(left(at + held + 1), None);
        // A clock set back: the whole wait, not a panic.
        assert_eq!(left(at - 5), Some((held, 0)));
    }
}
