//! `cargo xtask bench --live`: the live side of docs/benchmarks.md, measured in one run.
//!
//! It starts the test API server (tests/apiserver, plain HTTP), installs the CRDs, loads N
//! Connections spread over ten namespaces, each with the Secret it names, and for each N
//! (100, then 1,000, the first 100 kept) measures in fresh processes:
//!
//! - `kubectl connections list -A` and `kubectl connections describe` of one connection, the
//!   release binary;
//! - what a user would otherwise run: `kubectl get conn -A` and `kubectl describe conn`, with a
//!   warm discovery cache, as on a workstation. The short name, because `connections` alone is
//!   also the CRDs' category (kubectl would list ConnectionTypes too), and kubectl reads
//!   `connections.connections.dev` first as resource.version.group: the miss makes it drop its
//!   discovery cache and fetch discovery again (about 30 requests) on every run.
//!
//! For each it counts the requests the server received (one run, by method and path pattern)
//! and takes the median wall time and peak RSS of several runs. The requests must not grow
//! with N: one list per kind and namespace, never one request per object.
//!
//! Usage: `cargo xtask bench --live [--runs 5] [--write docs/benchmarks.md]`.

use crate::bench::{Sample, machine, measure, median, secs};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The sizes measured, in the order they are loaded (each adds to the one before).
const SIZES: [usize; 2] = [100, 1000];

/// Namespaces the connections are spread over.
const NAMESPACES: usize = 10;

/// The connection `describe` shows (present at every size).
const DESCRIBED: (&str, &str) = ("conn-50", "ns-0");

/// The test API server, stopped on drop.
struct ApiServer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl ApiServer {
    fn start(root: &Path, dir: &Path) -> Result<ApiServer, String> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let child = Command::new("python3")
            .arg(root.join("tests/apiserver/server.py"))
            .arg("--state-dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("python3 tests/apiserver/server.py: {e}"))?;
        let mut server = ApiServer { child, dir: dir.to_path_buf(), port: 0 };
        let started = Instant::now();
        while !dir.join("port").exists() {
            if started.elapsed() > Duration::from_secs(60) {
                return Err("the test API server did not start (is `pip install -r tests/apiserver/requirements.txt` done?)".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let port = std::fs::read_to_string(dir.join("port")).map_err(|e| e.to_string())?;
        server.port = port.trim().parse().map_err(|_| format!("port file: {port:?}"))?;
        Ok(server)
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// kubectl's arguments for this server, with a discovery cache that stays warm.
    fn kubectl_args(&self) -> Vec<String> {
        vec![
            "--kubeconfig".into(),
            self.kubeconfig().display().to_string(),
            "--cache-dir".into(),
            self.dir.join("cache").display().to_string(),
        ]
    }

    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Result<(), String> {
        let mut child = Command::new("kubectl")
            .args(self.kubectl_args())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("kubectl: {e}"))?;
        let mut input = child.stdin.take().ok_or("kubectl stdin")?;
        input.write_all(stdin.unwrap_or_default().as_bytes()).map_err(|e| e.to_string())?;
        drop(input);
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
    }

    /// One plain HTTP request to the server's test endpoints; the body of the answer.
    fn test_endpoint(&self, method: &str, path: &str) -> Result<String, String> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port))
            .map_err(|e| format!("test API server: {e}"))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).map_err(|e| e.to_string())?;
        let (head, body) = answer.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
        if !head.starts_with("HTTP/1.1 200") {
            return Err(format!("{method} {path}: {}", head.lines().next().unwrap_or_default()));
        }
        Ok(body.to_string())
    }

    /// The requests logged since the last reset, as `(method, path)`.
    fn requests(&self) -> Result<Vec<(String, String)>, String> {
        let log: serde_json::Value =
            serde_json::from_str(&self.test_endpoint("GET", "/_test/requests")?)
                .map_err(|e| format!("request log: {e}"))?;
        Ok(log
            .as_array()
            .ok_or("request log: not a list")?
            .iter()
            .map(|r| {
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                (field("method"), field("path"))
            })
            .collect())
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connections `from..to` and the Secrets they name, as one YAML stream.
fn objects(from: usize, to: usize) -> String {
    let mut yaml = String::new();
    for i in from..to {
        let ns = format!("ns-{}", i % NAMESPACES);
        let _ = write!(
            yaml,
            "---\napiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata:\n  name: conn-{i}\n  namespace: {ns}\n  labels: {{team: t{}}}\nspec:\n  type: postgres\n  description: warehouse shard {i}\n  schema: {{host: pg-{i}.data.svc.cluster.local, port: 5432, database: sales_{i}}}\n  secret: {{name: conn-{i}-cred, items: [username, password]}}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: conn-{i}-cred\n  namespace: {ns}\nstringData: {{username: user{i}, password: bench-{i}}}\n",
            i % 17
        );
    }
    yaml
}

/// A request's path with names generalised: what it reads, not which object.
fn pattern(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (prefix, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => (format!("/api/{version}"), rest),
        ["apis", _, _, rest @ ..] => ("/apis/{group}/{version}".to_string(), rest),
        _ => return format!("{method} {path}"),
    };
    let (shape, what) = match rest {
        [] => (String::new(), "discovery"),
        // All namespaces, or a cluster-scoped kind: the path does not tell them apart.
        [_] => ("/{plural}".to_string(), "list, cluster-wide"),
        ["namespaces", _, _] => ("/namespaces/{ns}/{plural}".to_string(), "list in a namespace"),
        ["namespaces", _, _, _] => ("/namespaces/{ns}/{plural}/{name}".to_string(), "one object"),
        [_, _] => ("/{plural}/{name}".to_string(), "one object"),
        _ => ("/...".to_string(), "other"),
    };
    format!("{method} {prefix}{shape} ({what})")
}

/// One measured command: its label, program and arguments.
struct Measured {
    label: String,
    program: PathBuf,
    args: Vec<String>,
}

/// A row of the table.
struct Row {
    n: usize,
    label: String,
    requests: BTreeMap<String, usize>,
    sample: Sample,
    /// Median CPU time (user and system) of the command itself: the server's share of the
    /// wall time is not in it.
    cpu: Duration,
}

/// CPU time of this process's waited-for descendants so far; the difference around one
/// `measure` is that command's (and its tiny `__measure` helper's).
fn children_cpu() -> Result<Duration, String> {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).map_err(|e| e.to_string())?;
    let time = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec().max(0) as u64)
            + Duration::from_micros(t.tv_usec().max(0) as u64)
    };
    Ok(time(usage.user_time()) + time(usage.system_time()))
}

/// Runs the live benchmark.
pub fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let mut runs = 5usize;
    let mut write_to = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--runs" => runs = value.parse().map_err(|_| "--runs: a number")?,
            "--write" => write_to = Some(PathBuf::from(value)),
            other => return Err(format!("unknown option {other} (with --live)")),
        }
    }
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let binary = crate::bench::release_binary(root)?;
    let server = ApiServer::start(root, &root.join("target/bench/live-apiserver"))?;
    let crds = [root.join("crds/connections.yaml"), root.join("tests/apiserver/crds")];
    let mut apply = vec!["apply", "--validate=false"];
    for crd in &crds {
        apply.extend(["-f", crd.to_str().ok_or("non-UTF-8 path")?]);
    }
    server.kubectl(&apply, None)?;
    let namespaces: String = (0..NAMESPACES)
        .map(|i| format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ns-{i}}}\n"))
        .collect();
    server.kubectl(&["create", "--validate=false", "-f", "-"], Some(&namespaces))?;
    let kubeconfig = server.kubeconfig().display().to_string();
    let (name, namespace) = DESCRIBED;
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let kubectl = |args: &[&str]| {
        let mut all = server.kubectl_args();
        all.extend(owned(args));
        all
    };
    let commands = [
        Measured {
            label: "`kubectl connections list -A`".into(),
            program: binary.clone(),
            args: owned(&["list", "-A", "--kubeconfig", &kubeconfig]),
        },
        Measured {
            label: format!("`kubectl connections describe {name} -n {namespace}`"),
            program: binary.clone(),
            args: owned(&["describe", name, "-n", namespace, "--kubeconfig", &kubeconfig]),
        },
        Measured {
            label: "`kubectl get conn -A`".into(),
            program: PathBuf::from("kubectl"),
            args: kubectl(&["get", "conn", "-A"]),
        },
        Measured {
            label: format!("`kubectl describe conn {name} -n {namespace}`"),
            program: PathBuf::from("kubectl"),
            args: kubectl(&["describe", "conn", name, "-n", namespace]),
        },
    ];
    let mut rows = Vec::new();
    let mut loaded = 0;
    for n in SIZES {
        eprintln!("bench --live: loading connections {loaded}..{n}");
        server.kubectl(&["create", "--validate=false", "-f", "-"], Some(&objects(loaded, n)))?;
        loaded = n;
        for command in &commands {
            let args: Vec<&str> = command.args.iter().map(String::as_str).collect();
            // One unmeasured run warms kubectl's discovery cache and the page cache; the next
            // one is counted at the server.
            measure(&command.program, &args, root)?;
            server.test_endpoint("POST", "/_test/requests/reset")?;
            measure(&command.program, &args, root)?;
            let mut requests = BTreeMap::new();
            for (method, path) in server.requests()? {
                *requests.entry(pattern(&method, &path)).or_insert(0) += 1;
            }
            let (mut samples, mut cpu) = (Vec::new(), Vec::new());
            for run in 0..runs {
                eprintln!("bench --live: N = {n}, {}, run {}/{runs}", command.label, run + 1);
                let before = children_cpu()?;
                samples.push(measure(&command.program, &args, root)?);
                cpu.push(children_cpu()?.saturating_sub(before));
            }
            cpu.sort();
            rows.push(Row {
                n,
                label: command.label.clone(),
                requests,
                sample: median(samples),
                cpu: cpu[cpu.len() / 2],
            });
        }
    }
    let report = table(&rows, runs, args);
    print!("{report}");
    if let Some(path) = write_to {
        let path = root.join(path);
        let existing =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        const START: &str = "<!-- bench-live:start -->";
        const END: &str = "<!-- bench-live:end -->";
        let (Some(s), Some(e)) = (existing.find(START), existing.find(END)) else {
            return Err(format!("{} has no {START} ... {END} markers", path.display()));
        };
        if s > e {
            return Err(format!("{}: {END} comes before {START}", path.display()));
        }
        let updated = format!("{}{START}\n{report}{}", &existing[..s], &existing[e..]);
        std::fs::write(&path, updated).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("bench --live: wrote {}", path.display());
    }
    Ok(())
}

/// The report: requests and times by size and command, the requests by pattern, and the
/// ratios with kubectl.
fn table(rows: &[Row], runs: usize, args: &[String]) -> String {
    let mut out = format!(
        "Machine: {}\n\nCommand: `cargo xtask bench --live{}{}` (medians of {runs} runs, each in a fresh process; requests counted at the server in one more run)\n\n",
        machine(),
        if args.is_empty() { "" } else { " " },
        args.join(" ")
    );
    out.push_str("| N | command | requests | of which lists | per-object GETs | median wall | median CPU | peak RSS |\n|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        let count = |needle: &str| -> usize {
            row.requests.iter().filter(|(p, _)| p.contains(needle)).map(|(_, n)| n).sum()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} MB |",
            row.n,
            row.label,
            row.requests.values().sum::<usize>(),
            count("(list"),
            count("(one object)"),
            secs(row.sample.wall),
            secs(row.cpu),
            row.sample.peak_kib / 1024
        );
    }
    let largest = rows.iter().map(|r| r.n).max().unwrap_or_default();
    let _ = write!(
        out,
        "\nRequests by pattern at N = {largest}:\n\n| command | requests |\n|---|---|\n"
    );
    for row in rows.iter().filter(|r| r.n == largest) {
        let patterns: Vec<String> =
            row.requests.iter().map(|(p, n)| format!("{n} × `{p}`")).collect();
        let _ = writeln!(out, "| {} | {} |", row.label, patterns.join("<br>"));
    }
    out.push('\n');
    for n in SIZES {
        let at = |prefix: &str| rows.iter().find(|r| r.n == n && r.label.starts_with(prefix));
        let ratio = |ours: Option<&Row>, theirs: Option<&Row>| match (ours, theirs) {
            (Some(a), Some(b)) => format!(
                "{:.2} in wall time, {:.2} in CPU time",
                a.sample.wall.as_secs_f64() / b.sample.wall.as_secs_f64().max(1e-9),
                a.cpu.as_secs_f64() / b.cpu.as_secs_f64().max(1e-9)
            ),
            _ => "?".into(),
        };
        let _ = writeln!(
            out,
            "- N = {n}: `list -A` / `kubectl get` = {}; `describe` / `kubectl describe` = {}",
            ratio(at("`kubectl connections list"), at("`kubectl get")),
            ratio(at("`kubectl connections describe"), at("`kubectl describe"))
        );
    }
    out
}
