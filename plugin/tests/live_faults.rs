//! Live faults: the live commands users run (`list`, `list -A`, `get`, `describe`, `check` and
//! `diff --against-cluster`) against API servers that fail, in two ways:
//!
//! - the test API server (tests/apiserver) with fault rules: 500s and 429s that pass after one
//!   or two answers, 5xx that never pass, 4xx, and answers delayed past `--request-timeout`;
//! - a loopback server this file runs (std `TcpListener`, plain HTTP) that answers a list
//!   correctly except for the requests a scenario aims at: it resets the connection in the
//!   middle of the body, closes it early, sends JSON cut short with a matching length, answers
//!   500 in plain text, or never answers.
//!
//! What must hold for every fault: a fault that passes within the bounded retries leaves
//! the output exactly as without it; any other fails with exit code 2, one `error:` naming the
//! server, the context and what happened, and **nothing on standard output** (a partial table
//! or YAML stream could pass for a whole one). Reads are retried only on 5xx, 429 and broken
//! connections, at most `READ_ATTEMPTS` times, within `--request-timeout`: the servers count
//! the requests to prove it.

mod common;

use common::apiserver::ApiServer;
use common::{command_in, text};
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most times the plugin sends one read (`cluster::READ_ATTEMPTS`).
const ATTEMPTS: usize = 3;

/// The Secret value every scenario plants; it must never be printed.
const PASSWORD: &str = "canary-fault-password";

/// The namespace of the connection the commands read.
const NAMESPACE: &str = "apps";

/// The connection every command reads. `port` is a listener the `check` probe reaches. (The
/// test API server sets the creation time, so [`steady`] blanks the AGE column.)
fn connection_yaml(port: u16) -> String {
    format!(
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata:\n  name: db\n  namespace: {NAMESPACE}\nspec:\n  type: custom\n  schema: {{host: 127.0.0.1, port: {port}}}\n  credentials:\n    password:\n      valueFrom: {{secretKeyRef: {{name: db, key: password}}}}\n"
    )
}

/// A repository holding the same connection and its Secret, sealed, for
/// `diff --against-cluster`.
fn repository(port: u16) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let sealed = format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: db, namespace: {NAMESPACE}}}\nspec:\n  encryptedData: {{password: AgB0aGlzIGlzIG5vdCByZWFsbHkgZW5jcnlwdGVk}}\n"
    );
    std::fs::write(repo.path().join("db.yaml"), format!("{}---\n{sealed}", connection_yaml(port)))
        .unwrap();
    repo
}

/// A port that accepts connections and closes them: what `check` probes (a TCP service).
fn probed_service() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    port
}

/// The live commands, by label.
fn commands(repo: &Path) -> Vec<(&'static str, Vec<String>)> {
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        ("list", owned(&["list", "-n", NAMESPACE])),
        ("list -A", owned(&["list", "-A"])),
        ("get", owned(&["get", "connection/db", "-n", NAMESPACE, "-o", "yaml"])),
        ("describe", owned(&["describe", "db", "-n", NAMESPACE])),
        ("check", owned(&["check", "db", "-n", NAMESPACE, "--timeout", "5s"])),
        (
            "diff --against-cluster",
            owned(&["diff", "--against-cluster", repo.to_str().unwrap(), "--color", "never"]),
        ),
    ]
}

/// One run of the binary.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn run(kubeconfig: &Path, args: &[String], extra: &[&str]) -> Ran {
    let dir = kubeconfig.parent().unwrap();
    let started = Instant::now();
    let out = command_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(extra)
        .env_remove("KUBECONFIG")
        .output()
        .expect("the binary runs");
    Ran {
        code: out.status.code(),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
        took: started.elapsed(),
    }
}

/// The output with what legitimately changes between runs blanked: the probe's latency, and
/// a table's AGE column (the test API server sets creation times itself).
fn steady(stdout: &str) -> String {
    let aged = stdout.lines().next().is_some_and(|header| header.ends_with("AGE"));
    let stdout: String = if aged {
        stdout
            .lines()
            .map(|l| format!("{}\n", l.trim_end().rsplit_once(' ').map_or(l, |p| p.0)))
            .collect()
    } else {
        stdout.to_string()
    };
    let mut out = String::new();
    let mut rest = stdout.as_str();
    while let Some(at) = rest.find(" ms)") {
        let digits = rest[..at].trim_end_matches(|c: char| c.is_ascii_digit());
        out.push_str(digits);
        out.push_str("N ms)");
        rest = &rest[at + 4..];
    }
    out.push_str(rest);
    out
}

/// What a command that survived a fault must show: the same as without it.
fn check_survived(label: &str, fault: &str, ran: &Ran, baseline: &Ran) -> Result<(), String> {
    if ran.code != baseline.code || steady(&ran.stdout) != steady(&baseline.stdout) {
        return Err(format!(
            "{label} under {fault}: exit {:?} (without the fault {:?}); stdout:\n{}\nstderr:\n{}",
            ran.code, baseline.code, ran.stdout, ran.stderr
        ));
    }
    no_secret(label, fault, ran)
}

/// What a command that failed must show: exit 2, nothing on stdout, one error naming the
/// server, the context and `what` happened.
fn check_failed(
    label: &str,
    fault: &str,
    ran: &Ran,
    server: &str,
    context: &str,
    what: &[&str],
) -> Result<(), String> {
    let error = ran.stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
    let named = error.contains(server) && error.contains(&format!("context \"{context}\""));
    if ran.code != Some(2)
        || !ran.stdout.is_empty()
        || !named
        || !what.iter().any(|w| error.contains(w))
        || ran.stderr.contains("panicked")
    {
        return Err(format!(
            "{label} under {fault}: exit {:?}, expected 2 with an error naming {server}, context {context:?} and one of {what:?}, and an empty stdout; stdout:\n{}\nstderr:\n{}",
            ran.code, ran.stdout, ran.stderr
        ));
    }
    no_secret(label, fault, ran)
}

fn no_secret(label: &str, fault: &str, ran: &Ran) -> Result<(), String> {
    if ran.stdout.contains(PASSWORD) || ran.stderr.contains(PASSWORD) {
        return Err(format!("{label} under {fault}: the Secret value was printed"));
    }
    Ok(())
}

fn report(failures: &[String]) {
    assert!(failures.is_empty(), "{} failures:\n\n{}", failures.len(), failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// The test API server with fault rules.

/// The paths of the Connection lists the commands make (in the namespace, and `-A`).
fn is_connection_list(path: &str) -> bool {
    path == format!("/apis/connections.dev/v1alpha1/namespaces/{NAMESPACE}/connections")
        || path == "/apis/connections.dev/v1alpha1/connections"
}

/// A fault rule's `path` for those lists (a regex, as JSON text: backslashes doubled).
const CONNECTION_LISTS: &str =
    r"^/apis/connections\\.dev/v1alpha1/(namespaces/apps/)?connections(\\?|$)";

/// An emulator holding the connection and its Secret, the probed service and the repository.
fn emulator() -> (ApiServer, tempfile::TempDir) {
    let server = ApiServer::start(false);
    server.install_crds();
    let port = probed_service();
    server.apply(&format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n"));
    server.apply(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: {NAMESPACE}}}\nstringData: {{password: {PASSWORD}}}\n"
    ));
    server.apply(&connection_yaml(port));
    (server, repository(port))
}

/// Counts from one command under one fault rule.
struct Counted {
    ran: Ran,
    /// Requests to the paths the rule aims at.
    aimed: usize,
    /// Requests a rule answered.
    faults: usize,
}

fn under_rule(server: &ApiServer, args: &[String], rule: &str, aimed: fn(&str) -> bool) -> Counted {
    under_rule_with(server, args, rule, aimed, &[])
}

fn under_rule_with(
    server: &ApiServer,
    args: &[String],
    rule: &str,
    aimed: fn(&str) -> bool,
    extra: &[&str],
) -> Counted {
    server.reset_faults();
    server.reset_requests();
    server.fault(rule);
    let ran = run(&server.kubeconfig(), args, extra);
    let log = server.request_log();
    let path = |r: &serde_json::Value| r["path"].as_str().unwrap_or_default().to_string();
    Counted {
        ran,
        aimed: log.iter().filter(|r| aimed(&path(r))).count(),
        faults: log.iter().filter(|r| r["fault"] == true).count(),
    }
}

/// A status rule: its JSON, the requests to the aimed paths it must lead to, and whether the
/// command passes.
type StatusCase = (String, usize, bool);

/// Runs every command under each rule aimed at the Connection lists, and `check` under each
/// rule aimed at its Secret GET.
fn under_status_rules(connection_rules: &[StatusCase], secret_rules: &[StatusCase]) {
    let (server, repo) = emulator();
    let url = server.url();
    let (mut failures, mut runs, mut faults) = (Vec::new(), 0, 0);
    let secret = |path: &str| path == format!("/api/v1/namespaces/{NAMESPACE}/secrets/db");
    for (label, args) in commands(repo.path()) {
        server.reset_faults();
        let baseline = run(&server.kubeconfig(), &args, &[]);
        assert!(
            matches!(baseline.code, Some(0 | 1)) && !baseline.stdout.is_empty(),
            "{label} without faults: {:?}\n{}{}",
            baseline.code,
            baseline.stdout,
            baseline.stderr
        );
        let rules = connection_rules.iter().map(|r| (r, is_connection_list as fn(&str) -> bool));
        let secret_rules = secret_rules.iter().map(|r| (r, secret as fn(&str) -> bool));
        let rules: Vec<_> =
            if label == "check" { rules.chain(secret_rules).collect() } else { rules.collect() };
        for ((rule, requests, passes), aimed) in rules {
            let counted = under_rule(&server, &args, rule, aimed);
            runs += 1;
            faults += counted.faults;
            if counted.aimed != *requests {
                failures.push(format!(
                    "{label} under {rule}: {} requests to the aimed path, expected {requests}",
                    counted.aimed
                ));
            }
            let outcome = if *passes {
                check_survived(label, rule, &counted.ran, &baseline)
            } else {
                let what = [
                    "answered 503 ServiceUnavailable to list connections.connections.dev",
                    "answered 400 BadRequest to list connections.connections.dev",
                    "forbidden (403): the user of context \"test\" may not list connections.connections.dev",
                    "answered 502 Bad Gateway to get secret db",
                ];
                check_failed(label, rule, &counted.ran, &url, "test", &what)
            };
            failures.extend(outcome.err());
        }
    }
    eprintln!("test API server, status faults: {faults} faults injected over {runs} runs");
    report(&failures);
}

fn connection_rule(status: u16, count: i32) -> String {
    format!(r#"{{"status": {status}, "count": {count}, "path": "{CONNECTION_LISTS}"}}"#)
}

fn secret_rule(status: u16, count: i32) -> String {
    format!(r#"{{"status": {status}, "count": {count}, "path": "/secrets/db$", "method": "GET"}}"#)
}

#[test]
fn the_api_server_s_passing_500s_and_429s_are_retried() {
    under_status_rules(
        &[(connection_rule(500, 2), 3, true), (connection_rule(429, 2), 3, true)],
        &[(secret_rule(500, 2), 3, true)],
    );
}

#[test]
fn the_api_server_s_lasting_5xx_fail_after_the_bound_and_4xx_at_once() {
    under_status_rules(
        &[
            (connection_rule(503, -1), ATTEMPTS, false),
            (connection_rule(400, -1), 1, false),
            (connection_rule(403, -1), 1, false),
        ],
        &[(secret_rule(502, -1), ATTEMPTS, false)],
    );
}

#[test]
fn a_slow_api_server_fails_within_the_request_timeout_retries_included() {
    let (server, repo) = emulator();
    let url = server.url();
    let (mut failures, mut runs, mut faults) = (Vec::new(), 0, 0);
    for (label, args) in commands(repo.path()) {
        server.reset_faults();
        let baseline = run(&server.kubeconfig(), &args, &[]);
        // Slow, but within the timeout: as without the delay.
        let rule = format!(r#"{{"delay_seconds": 0.3, "count": 1, "path": "{CONNECTION_LISTS}"}}"#);
        let counted = under_rule_with(
            &server,
            &args,
            &rule,
            is_connection_list,
            &["--request-timeout", "5s"],
        );
        faults += counted.faults;
        failures.extend(check_survived(label, &rule, &counted.ran, &baseline).err());
        // Past the timeout, slow answers, 500s included: the command fails with a message
        // naming the timeout in about the timeout, and retries stop where the timeout ends
        // (a lasting delay gets no second attempt at all).
        let past_the_timeout = [
            (
                format!(r#"{{"delay_seconds": 4, "count": -1, "path": "{CONNECTION_LISTS}"}}"#),
                &["did not answer within 1s while trying to list connections.connections.dev"][..],
                1..=1,
            ),
            (
                format!(
                    r#"{{"status": 500, "delay_seconds": 0.45, "count": -1, "path": "{CONNECTION_LISTS}"}}"#
                ),
                &["did not answer within 1s while trying to list", "answered 500 InternalError"][..],
                1..=ATTEMPTS - 1,
            ),
        ];
        for (rule, messages, requests) in past_the_timeout {
            let counted = under_rule_with(
                &server,
                &args,
                &rule,
                is_connection_list,
                &["--request-timeout", "1s"],
            );
            failures.extend(check_failed(label, &rule, &counted.ran, &url, "test", messages).err());
            faults += counted.faults;
            if !requests.contains(&counted.aimed) || counted.ran.took > Duration::from_millis(2500)
            {
                failures.push(format!(
                    "{label} under {rule}: {} requests in {:?}, expected {requests:?} within the 1s timeout",
                    counted.aimed, counted.ran.took
                ));
            }
        }
        runs += 3;
    }
    eprintln!("test API server, delays: {faults} answers delayed over {runs} runs");
    report(&failures);
}

// ---------------------------------------------------------------------------------------------
// A loopback server that breaks HTTP itself.

/// What the loopback server does to the requests a scenario aims at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Misbehaviour {
    /// `500 Internal Server Error` with a plain-text body (not a Kubernetes Status).
    PlainServerError,
    /// The headers and half the body, then a reset (RST: closed with the request unread).
    ResetMidBody,
    /// The headers (with the whole Content-Length) and half the body, then a close (FIN).
    CloseMidBody,
    /// A complete response whose JSON is cut in half, with a Content-Length to match.
    TruncatedJson,
    /// The request is read and never answered.
    Silent,
    /// The headers and half the body, then nothing.
    StallMidBody,
}

/// What the server has seen: each request's path and whether it misbehaved on it.
type Log = Arc<Mutex<Vec<(String, bool)>>>;

/// A plain-HTTP API server on 127.0.0.1 serving one connection, its Secret and empty lists
/// of every other kind; `misbehaviour` applies to the first `times` requests (all with `None`)
/// whose path `aimed` accepts.
struct Loopback {
    port: u16,
    log: Log,
    stop: Arc<AtomicBool>,
    dir: tempfile::TempDir,
}

struct Plan {
    aimed: fn(&str) -> bool,
    misbehaviour: Option<Misbehaviour>,
    times: Option<usize>,
    probed_port: u16,
}

impl Loopback {
    fn start(plan: Plan) -> Loopback {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log: Log = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kubeconfig"),
            format!("apiVersion: v1\nkind: Config\ncurrent-context: faulty\nclusters:\n- name: faulty\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\nusers:\n- name: u\n  user: {{token: canary-fault-token}}\ncontexts:\n- name: faulty\n  context: {{cluster: faulty, user: u, namespace: {NAMESPACE}}}\n"),
        )
        .unwrap();
        let (server_log, server_stop) = (log.clone(), stop.clone());
        let plan = Arc::new(plan);
        let misbehaved = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if server_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (log, plan, misbehaved) =
                    (server_log.clone(), plan.clone(), misbehaved.clone());
                std::thread::spawn(move || serve(stream, &plan, &log, &misbehaved));
            }
        });
        Loopback { port, log, stop, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Requests to the paths `aimed` accepts, and how many of those it misbehaved on.
    fn counts(&self, aimed: fn(&str) -> bool) -> (usize, usize) {
        let log = self.log.lock().unwrap();
        let hits = log.iter().filter(|(p, _)| aimed(p)).count();
        (hits, log.iter().filter(|(_, m)| *m).count())
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one request head without consuming it (so that closing leaves it unread, which
/// makes the kernel reset the connection); returns the head's length and the path.
fn peek_request(stream: &TcpStream) -> Option<(usize, String)> {
    let mut buffer = vec![0u8; 64 * 1024];
    let started = Instant::now();
    loop {
        let n = stream.peek(&mut buffer).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(end) = buffer[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            let target = head.split_whitespace().nth(1)?.to_string();
            let path = target.split('?').next().unwrap_or_default().to_string();
            return Some((end + 4, path));
        }
        if started.elapsed() > Duration::from_secs(5) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn serve(mut stream: TcpStream, plan: &Plan, log: &Log, misbehaved: &AtomicUsize) {
    let Some((head_length, path)) = peek_request(&stream) else { return };
    let aimed = (plan.aimed)(&path);
    let misbehaviour = plan.misbehaviour.filter(|_| {
        aimed
            && plan.times.is_none_or(|times| {
                misbehaved
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        (n < times).then_some(n + 1)
                    })
                    .is_ok()
            })
    });
    log.lock().unwrap().push((path.clone(), misbehaviour.is_some()));
    let (status, body) = answer(&path, plan.probed_port);
    let head = |length: usize, content_type: &str, status: &str| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        )
    };
    if misbehaviour != Some(Misbehaviour::ResetMidBody) {
        let mut request = vec![0u8; head_length];
        if stream.read_exact(&mut request).is_err() {
            return;
        }
    }
    let half = &body[..body.len() / 2];
    let _ = match misbehaviour {
        None => stream
            .write_all(head(body.len(), "application/json", status).as_bytes())
            .and_then(|_| stream.write_all(body.as_bytes())),
        Some(Misbehaviour::PlainServerError) => {
            let text = "upstream database unavailable\n";
            stream.write_all(
                format!("{}{text}", head(text.len(), "text/plain", "500 Internal Server Error"))
                    .as_bytes(),
            )
        }
        Some(
            Misbehaviour::ResetMidBody | Misbehaviour::CloseMidBody | Misbehaviour::StallMidBody,
        ) => {
            let sent = stream
                .write_all(head(body.len(), "application/json", status).as_bytes())
                .and_then(|_| stream.write_all(half.as_bytes()))
                .and_then(|_| stream.flush());
            // Let the client read what was sent before the connection goes.
            std::thread::sleep(Duration::from_millis(150));
            if misbehaviour == Some(Misbehaviour::StallMidBody) {
                std::thread::sleep(Duration::from_secs(10));
            }
            sent
        }
        Some(Misbehaviour::TruncatedJson) => stream
            .write_all(head(half.len(), "application/json", status).as_bytes())
            .and_then(|_| stream.write_all(half.as_bytes())),
        Some(Misbehaviour::Silent) => {
            std::thread::sleep(Duration::from_secs(10));
            Ok(())
        }
    };
    if misbehaviour == Some(Misbehaviour::CloseMidBody) {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
}

/// The server's answer to a path: discovery for the two group versions `diff` asks about,
/// the connection, its Secret, and an empty list of everything else.
fn answer(path: &str, probed_port: u16) -> (&'static str, String) {
    let meta = |name: &str| {
        format!(
            r#"{{"name":"{name}","namespace":"{NAMESPACE}","uid":"00000000-0000-0000-0000-00000000000{}","resourceVersion":"7","creationTimestamp":"2020-01-01T00:00:00Z"}}"#,
            name.len() % 10
        )
    };
    let resources = |group_version: &str, kinds: &[(&str, &str)]| {
        let list: Vec<String> = kinds
            .iter()
            .map(|(plural, kind)| {
                format!(
                    r#"{{"name":"{plural}","singularName":"","namespaced":true,"kind":"{kind}","verbs":["get","list"]}}"#
                )
            })
            .collect();
        format!(
            r#"{{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"{group_version}","resources":[{}]}}"#,
            list.join(",")
        )
    };
    let connection = format!(
        r#"{{"apiVersion":"connections.dev/v1alpha1","kind":"Connection","metadata":{},"spec":{{"type":"custom","schema":{{"host":"127.0.0.1","port":{probed_port}}},"credentials":{{"password":{{"valueFrom":{{"secretKeyRef":{{"name":"db","key":"password"}}}}}}}}}}}}"#,
        meta("db")
    );
    let list = |items: &str| {
        format!(
            r#"{{"kind":"List","apiVersion":"v1","metadata":{{"resourceVersion":"7"}},"items":[{items}]}}"#
        )
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["api", "v1"] => ("200 OK", resources("v1", &[("configmaps", "ConfigMap"), ("secrets", "Secret")])),
        ["apis", "connections.dev", "v1alpha1"] => (
            "200 OK",
            resources(
                "connections.dev/v1alpha1",
                &[("connections", "Connection"), ("connectiontypes", "ConnectionType")],
            ),
        ),
        ["api", "v1", "namespaces", NAMESPACE, "secrets", "db"] => (
            "200 OK",
            format!(
                r#"{{"apiVersion":"v1","kind":"Secret","metadata":{},"type":"Opaque","data":{{"password":"{}"}}}}"#,
                meta("db"),
                base64(PASSWORD)
            ),
        ),
        ["apis", "connections.dev", "v1alpha1", "namespaces", NAMESPACE, "connections"]
        | ["apis", "connections.dev", "v1alpha1", "connections"] => ("200 OK", list(&connection)),
        ["api", "v1", _]
        | ["api", "v1", "namespaces", _, _]
        | ["apis", _, _, _]
        | ["apis", _, _, "namespaces", _, _] => ("200 OK", list("")),
        _ => (
            "404 Not Found",
            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"the server could not find the requested resource"}"#.to_string(),
        ),
    }
}

fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One scenario: a misbehaviour aimed at some paths, `times` times, and what must follow.
struct Scenario {
    name: &'static str,
    aimed: fn(&str) -> bool,
    misbehaviour: Misbehaviour,
    times: Option<usize>,
    /// Requests to the aimed paths the command must make.
    requests: usize,
    /// `None`: the command survives; else words one of which the error must hold.
    error: Option<&'static [&'static str]>,
    extra: &'static [&'static str],
}

const BROKE: &[&str] = &["broke before the whole answer"];

fn scenarios() -> Vec<Scenario> {
    use Misbehaviour::*;
    let s = |name, misbehaviour, times, requests, error, extra| Scenario {
        name,
        aimed: is_connection_list,
        misbehaviour,
        times,
        requests,
        error,
        extra,
    };
    vec![
        s("a reset in the middle of the list, once", ResetMidBody, Some(1), 2, None, &[]),
        s(
            "a reset in the middle of the list, always",
            ResetMidBody,
            None,
            ATTEMPTS,
            Some(BROKE),
            &[],
        ),
        s("the list closed early, twice", CloseMidBody, Some(2), 3, None, &[]),
        s("the list closed early, always", CloseMidBody, None, ATTEMPTS, Some(BROKE), &[]),
        s(
            "truncated JSON with a matching length",
            TruncatedJson,
            None,
            1,
            Some(&["sent an invalid response to list connections.connections.dev"]),
            &[],
        ),
        s("a plain-text 500, twice", PlainServerError, Some(2), 3, None, &[]),
        s(
            "a plain-text 500, always",
            PlainServerError,
            None,
            ATTEMPTS,
            Some(&["answered 500 Internal Server Error to list connections.connections.dev"]),
            &[],
        ),
        s(
            "no answer past --request-timeout",
            Silent,
            None,
            1,
            Some(&["did not answer within 1s while trying to list connections.connections.dev"]),
            &["--request-timeout", "1s"],
        ),
        s(
            "half a list, then nothing, past --request-timeout",
            StallMidBody,
            None,
            1,
            Some(&["did not answer within 1s while trying to list connections.connections.dev"]),
            &["--request-timeout", "1s"],
        ),
    ]
}

#[test]
fn a_loopback_server_that_resets_cuts_and_stalls_responses() {
    let port = probed_service();
    let repo = repository(port);
    let secret_get = |path: &str| path == format!("/api/v1/namespaces/{NAMESPACE}/secrets/db");
    // (command label, its arguments, scenario)
    let mut jobs: Vec<(&'static str, Vec<String>, Scenario)> = Vec::new();
    for (label, args) in commands(repo.path()) {
        for scenario in scenarios() {
            jobs.push((label, args.clone(), scenario));
        }
    }
    let check = commands(repo.path()).into_iter().find(|(l, _)| *l == "check").unwrap().1;
    for (name, times, requests, error) in [
        ("a reset in the middle of the Secret, once", Some(1), 2, None),
        ("a reset in the middle of the Secret, always", None, ATTEMPTS, Some(BROKE)),
    ] {
        jobs.push((
            "check",
            check.clone(),
            Scenario {
                name,
                aimed: secret_get,
                misbehaviour: Misbehaviour::ResetMidBody,
                times,
                requests,
                error,
                extra: &[],
            },
        ));
    }
    // Without faults, once per command: what a survived fault must print.
    let baselines: Vec<(&str, Ran)> = commands(repo.path())
        .into_iter()
        .map(|(label, args)| {
            let server = Loopback::start(Plan {
                aimed: |_| false,
                misbehaviour: None,
                times: None,
                probed_port: port,
            });
            let ran = run(&server.kubeconfig(), &args, &[]);
            assert!(
                matches!(ran.code, Some(0 | 1)) && !ran.stdout.is_empty(),
                "{label} against the loopback server without faults: {:?}\n{}{}",
                ran.code,
                ran.stdout,
                ran.stderr
            );
            (label, ran)
        })
        .collect();
    let total = jobs.len();
    let jobs = Mutex::new(jobs);
    let failures = Mutex::new(Vec::new());
    let injected = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let Some((label, args, scenario)) = jobs.lock().unwrap().pop() else { break };
                    let server = Loopback::start(Plan {
                        aimed: scenario.aimed,
                        misbehaviour: Some(scenario.misbehaviour),
                        times: scenario.times,
                        probed_port: port,
                    });
                    let ran = run(&server.kubeconfig(), &args, scenario.extra);
                    let (requests, misbehaved) = server.counts(scenario.aimed);
                    injected.fetch_add(misbehaved, Ordering::SeqCst);
                    let mut found = Vec::new();
                    if requests != scenario.requests {
                        found.push(format!(
                            "{label} under {}: {requests} requests to the aimed path, expected {}",
                            scenario.name, scenario.requests
                        ));
                    }
                    let outcome = match scenario.error {
                        None => {
                            let baseline = &baselines.iter().find(|(l, _)| *l == label).unwrap().1;
                            check_survived(label, scenario.name, &ran, baseline)
                        }
                        Some(what) => {
                            check_failed(label, scenario.name, &ran, &server.url(), "faulty", what)
                        }
                    };
                    found.extend(outcome.err());
                    if ran.took > Duration::from_secs(4) {
                        found.push(format!("{label} under {}: took {:?}", scenario.name, ran.took));
                    }
                    if ran.stderr.contains("canary-fault-token") {
                        found.push(format!(
                            "{label} under {}: the token was printed",
                            scenario.name
                        ));
                    }
                    failures.lock().unwrap().extend(found);
                }
            });
        }
    });
    eprintln!(
        "loopback server: {} misbehaving answers over {total} runs",
        injected.load(Ordering::SeqCst)
    );
    report(&failures.into_inner().unwrap());
}
