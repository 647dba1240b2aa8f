//! Shell completion end to end: the hidden `__complete` protocol driven through the real
//! binary, connection names from the example repository, an unreachable cluster, the scripts
//! of `completion bash|zsh|fish` run by the real shells, and the kubectl_complete-connections
//! shim run by the real kubectl.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;
use common::{bin, command_in, run, text, workspace};

/// `__complete WORDS` in the workspace root: the candidate lines and the directive.
fn complete(words: &[&str]) -> (Vec<String>, u32) {
    let mut args = vec!["__complete"];
    args.extend(words);
    let out = run(&args);
    parse(&out)
}

fn parse(out: &Output) -> (Vec<String>, u32) {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    let last = lines.pop().unwrap_or_default();
    let directive = last
        .strip_prefix(':')
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no `:<directive>` last line in {stdout:?}"));
    (lines, directive)
}

/// The candidates without their descriptions.
fn values(lines: &[String]) -> Vec<&str> {
    lines.iter().map(|l| l.split('\t').next().unwrap()).collect()
}

const NO_FILE: u32 = 4;
const FILTER_DIRS: u32 = 16;

#[test]
fn subcommands_are_listed_with_descriptions() {
    let (lines, directive) = complete(&[""]);
    assert_eq!(directive, NO_FILE);
    for name in [
        "validate",
        "render",
        "explain",
        "list",
        "get",
        "describe",
        "check",
        "diff",
        "crd",
        "fn",
        "completion",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{name}\t")) && l.len() > name.len() + 5),
            "{name} with a description in {lines:?}"
        );
    }
    assert!(!values(&lines).contains(&"__complete"), "the hidden subcommand is not offered");
    let (lines, _) = complete(&["de"]);
    assert_eq!(values(&lines), ["describe"]);
}

#[test]
fn flags_of_the_current_subcommand() {
    let (lines, directive) = complete(&["validate", "--o"]);
    assert_eq!(values(&lines), ["--output-format"]);
    assert_eq!(directive, NO_FILE);
    assert!(lines[0].contains("\tFormat of findings"), "{lines:?}");
    // Long and short forms, only this subcommand's, and none given already.
    let (lines, _) = complete(&["render", "-"]);
    let flags = values(&lines);
    for flag in ["--out", "--stdout", "--secrets", "-n", "--namespace", "--kubeconfig", "-h"] {
        assert!(flags.contains(&flag), "{flag} in {flags:?}");
    }
    assert!(!flags.contains(&"--against"), "diff's flag is not render's: {flags:?}");
    let (lines, _) = complete(&["render", "--stdout", "--st"]);
    assert!(!values(&lines).contains(&"--stdout"), "{lines:?}");
    assert!(values(&lines).contains(&"--strict-secrets"), "{lines:?}");
}

#[test]
fn values_of_enum_flags() {
    let (lines, directive) = complete(&["validate", "--output-format", ""]);
    assert_eq!(values(&lines), ["human", "json", "github", "sarif"]);
    assert_eq!(directive, NO_FILE);
    let (lines, _) = complete(&["validate", "--output-format=s"]);
    assert_eq!(values(&lines), ["--output-format=sarif"]);
    let (lines, _) = complete(&["render", "deploy", "--secrets", ""]);
    assert_eq!(values(&lines), ["reference", "external-secret", "sealed", "plaintext"]);
    let (lines, _) = complete(&["diff", "--fail-on", "w"]);
    assert_eq!(values(&lines), ["warning"]);
    let (lines, _) = complete(&["completion", ""]);
    assert_eq!(values(&lines), ["bash", "zsh", "fish"]);
    let (lines, _) = complete(&["explain", "dangling-secret"]);
    assert_eq!(values(&lines), ["dangling-secret-ref"]);
}

#[test]
fn output_formats_are_the_ones_each_command_accepts() {
    let (lines, _) = complete(&["list", "-o", ""]);
    assert_eq!(values(&lines), ["wide", "json", "yaml", "name", "jsonpath="]);
    let (lines, _) = complete(&["get", "connection/x", "-o", ""]);
    assert_eq!(values(&lines), ["json", "yaml", "name", "jsonpath="], "get has no wide");
    let (_, directive) = complete(&["list", "-o", "jsonp"]);
    assert_eq!(directive, NO_FILE | 2, "no space after jsonpath=");
}

#[test]
fn connection_names_from_the_example_repository() {
    let repo = ["--repo", "examples/gitops-repo"];
    let (lines, directive) = complete(&["describe", repo[0], repo[1], "-n", "team-data", ""]);
    assert_eq!(directive, NO_FILE);
    assert_eq!(lines, ["lake\ts3", "warehouse\tpostgres"]);
    let (lines, _) = complete(&["describe", repo[0], repo[1], "--namespace=team-ml", "m"]);
    assert_eq!(values(&lines), ["models-repo"]);
    let (lines, _) = complete(&["check", "-n", "team-data", repo[0], repo[1], "w"]);
    assert_eq!(values(&lines), ["warehouse"]);
    let (lines, _) = complete(&["get", repo[0], repo[1], "-n", "team-data", ""]);
    assert_eq!(values(&lines), ["connection/lake", "connection/warehouse"]);
    let (lines, _) = complete(&["get", repo[0], repo[1], "-n", "team-data", "connection/w"]);
    assert_eq!(values(&lines), ["connection/warehouse"]);
    // Nothing in a namespace without connections.
    let (lines, _) = complete(&["describe", repo[0], repo[1], ""]);
    assert_eq!(lines, Vec::<String>::new());
    // Namespaces for -n come from the repository too.
    let (lines, _) = complete(&["describe", repo[0], repo[1], "-n", "team-"]);
    assert_eq!(values(&lines), ["team-data", "team-ml"]);
}

#[test]
fn paths_are_left_to_the_shell() {
    assert_eq!(complete(&["validate", ""]).1, 0, "PATH: files and folders");
    assert_eq!(complete(&["render", ".", "--out", ""]).1, FILTER_DIRS);
    assert_eq!(complete(&["diff", "--against", ""]).1, FILTER_DIRS);
    assert_eq!(complete(&["describe", "--repo", ""]).1, 0);
    assert_eq!(complete(&["validate", "--kubeconfig", ""]).1, 0);
    assert_eq!(complete(&["check", "x", "--timeout", ""]), (vec![], NO_FILE));
}

/// A kubeconfig with contexts `a` (current) and `b` whose server is `server`.
fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context: {{cluster: c, user: u, namespace: apps}}\n- name: b\n  context: {{cluster: c, user: u}}\nclusters:\n- name: c\n  cluster: {{server: \"{server}\"}}\nusers:\n- name: u\n  user: {{token: t}}\n"
        ),
    )
    .unwrap();
    path
}

/// `__complete` with only `kubeconfig` in reach (no user kubeconfig, no KUBECONFIG).
fn complete_with(home: &Path, words: &[&str]) -> (Output, Duration) {
    let mut args = vec!["__complete"];
    args.extend(words);
    let mut command = command_in(&workspace(), &args);
    command.env("HOME", home).env_remove("KUBECONFIG");
    let started = Instant::now();
    let out = command.output().unwrap();
    (out, started.elapsed())
}

#[test]
fn an_unreachable_cluster_gives_no_candidates_quickly_and_no_error_on_stdout() {
    let home = tempfile::tempdir().unwrap();
    // A server that accepts connections and never answers: only our time limit ends it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("https://{}", silent.local_addr().unwrap());
    // A port nobody listens on: refused at once.
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_url = format!("https://{}", refused.local_addr().unwrap());
    drop(refused);
    for (url, limit) in [(silent_url, 6), (refused_url, 6)] {
        let config = kubeconfig(home.path(), &url);
        for words in [
            vec!["describe", "--kubeconfig", config.to_str().unwrap(), ""],
            vec!["get", "--kubeconfig", config.to_str().unwrap(), "connection/"],
            vec!["check", "--kubeconfig", config.to_str().unwrap(), "--request-timeout", "0", ""],
            vec!["list", "--kubeconfig", config.to_str().unwrap(), "-n", ""],
        ] {
            let (out, took) = complete_with(home.path(), &words);
            assert_eq!(text(&out.stdout), ":4\n", "{words:?} against {url}");
            assert!(took < Duration::from_secs(limit), "{words:?} against {url} took {took:?}");
            assert!(text(&out.stderr).contains("completion:"), "the reason, on stderr");
        }
    }
    drop(silent);
}

#[test]
fn contexts_clusters_and_users_come_from_the_kubeconfig() {
    let home = tempfile::tempdir().unwrap();
    let config = kubeconfig(home.path(), "https://127.0.0.1:1");
    let config = config.to_str().unwrap();
    let (out, _) = complete_with(home.path(), &["list", "--kubeconfig", config, "--context", ""]);
    assert_eq!(parse(&out), (vec!["a".to_string(), "b".to_string()], NO_FILE));
    let (out, _) = complete_with(home.path(), &["validate", "--kubeconfig", config, "--user="]);
    assert_eq!(parse(&out).0, ["--user=u"]);
    // KUBECONFIG is read as the command would read it.
    let mut command = command_in(&workspace(), &["__complete", "describe", "--cluster", ""]);
    command.env("HOME", home.path()).env("KUBECONFIG", config);
    assert_eq!(parse(&command.output().unwrap()).0, ["c"]);
}

#[test]
fn completion_help_says_how_to_install() {
    let out = run(&["completion", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in [
        "source <(kubectl-connections completion bash)",
        "completion zsh",
        "completion fish",
        "kubectl_complete-connections",
    ] {
        assert!(help.contains(needle), "{needle} in {help}");
    }
    assert_eq!(run(&["completion", "tcsh"]).status.code(), Some(2));
}

/// The script for `shell`, in a file.
fn script(shell: &str, dir: &Path) -> PathBuf {
    let out = run(&["completion", shell]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let path = dir.join(format!("completion.{shell}"));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// Whether `shell` is installed; prints a note when it is not.
fn installed(shell: &str) -> bool {
    let found = Command::new(shell).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("note: {shell} is not installed; its completion script was not checked");
    }
    found
}

/// PATH with the binary under test first.
fn path_with_binary(extra: Option<&Path>) -> String {
    let bin_dir = Path::new(bin()).parent().unwrap();
    let mut dirs: Vec<PathBuf> = extra.into_iter().map(Path::to_path_buf).collect();
    dirs.push(bin_dir.to_path_buf());
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

/// Runs the bash completion function for `line` (the cursor at its end); COMPREPLY.
fn bash_complete(script: &Path, line: &str) -> Vec<String> {
    let program = format!(
        "source {script}\nCOMP_LINE={line:?}\nCOMP_POINT=${{#COMP_LINE}}\n__kubectl_connections_complete\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script = script.display(),
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &program])
        .current_dir(workspace())
        .env("PATH", path_with_binary(None))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

#[test]
fn bash_script_is_valid_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let script = script("bash", dir.path());
    let out = Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(out.status.success(), "bash -n: {}", text(&out.stderr));
    assert_eq!(bash_complete(&script, "kubectl-connections val"), ["validate"]);
    assert_eq!(
        bash_complete(&script, "kubectl-connections validate --output-format g"),
        ["github"]
    );
    // After `=`, bash replaces only the part after it.
    assert_eq!(bash_complete(&script, "kubectl-connections validate --output-format=j"), ["json"]);
    assert_eq!(
        bash_complete(
            &script,
            "kubectl-connections describe --repo examples/gitops-repo -n team-data w"
        ),
        ["warehouse"]
    );
    assert_eq!(bash_complete(&script, "kubectl-connections render . --out plug"), ["plugin"]);
    // The registration itself.
    let program = format!("source {}; complete -p kubectl-connections", script.display());
    let out = Command::new("bash").args(["--norc", "-c", &program]).output().unwrap();
    assert!(text(&out.stdout).contains("-F __kubectl_connections_complete"), "{out:?}");
}

#[test]
fn zsh_script_is_valid_and_registers() {
    if !installed("zsh") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = script("zsh", dir.path());
    let out = Command::new("zsh").arg("-n").arg(&script).output().unwrap();
    assert!(out.status.success(), "zsh -n: {}", text(&out.stderr));
    let program = format!(
        "autoload -U compinit && compinit -u -D -d {dump}; source {script}; print -r -- $_comps[kubectl-connections]",
        dump = dir.path().join("zcompdump").display(),
        script = script.display(),
    );
    let out = Command::new("zsh").args(["-f", "-c", &program]).output().unwrap();
    assert_eq!(text(&out.stdout).trim(), "_kubectl-connections", "{}", text(&out.stderr));
}

#[test]
fn fish_script_is_valid_and_completes() {
    if !installed("fish") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = script("fish", dir.path());
    let out = Command::new("fish").arg("-n").arg(&script).output().unwrap();
    assert!(out.status.success(), "fish -n: {}", text(&out.stderr));
    let fish_complete = |line: &str| -> Vec<String> {
        let program = format!("source {}; complete -C {line:?}", script.display());
        let out = Command::new("fish")
            .args(["--no-config", "-c", &program])
            .current_dir(workspace())
            .env("PATH", path_with_binary(None))
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).lines().map(str::to_string).collect()
    };
    let lines = fish_complete("kubectl-connections des");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("describe\tShow a connection"), "{lines:?}");
    let lines =
        fish_complete("kubectl-connections get --repo examples/gitops-repo -n team-ml connection/");
    assert_eq!(values(&lines), ["connection/models-repo", "connection/registry"]);
}

#[test]
fn kubectl_runs_the_shim() {
    let Ok(version) = Command::new("kubectl").args(["version", "--client"]).output() else {
        eprintln!("note: kubectl is not installed; the shim was not checked through it");
        return;
    };
    assert!(version.status.success());
    let dir = tempfile::tempdir().unwrap();
    let shim = dir.path().join("kubectl_complete-connections");
    std::fs::copy(workspace().join("plugin/completion/kubectl_complete-connections"), &shim)
        .unwrap();
    let kubectl = |words: &[&str]| -> (Vec<String>, u32) {
        let out = Command::new("kubectl")
            .arg("__complete")
            .arg("connections")
            .args(words)
            .current_dir(workspace())
            .env("PATH", path_with_binary(Some(dir.path())))
            .output()
            .unwrap();
        parse(&out)
    };
    let (lines, directive) = kubectl(&[""]);
    assert_eq!(directive, NO_FILE);
    for name in ["validate", "render", "describe", "completion"] {
        assert!(values(&lines).contains(&name), "{name} in {lines:?}");
    }
    let (lines, _) =
        kubectl(&["describe", "--repo", "examples/gitops-repo", "-n", "team-data", ""]);
    assert_eq!(values(&lines), ["lake", "warehouse"]);
    let (lines, _) = kubectl(&["validate", "--fail-on", ""]);
    assert_eq!(values(&lines), ["error", "warning", "never"]);
}

/// The test API server (tests/apiserver, as in tests/live.rs) with our CRDs, namespace `apps`
/// and the Connection `cache`; stopped on drop.
struct ApiServer(std::process::Child, tempfile::TempDir);

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn connection_names_and_namespaces_from_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new("python3")
        .arg(workspace().join("tests/apiserver/server.py"))
        .arg("--state-dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 runs the test API server");
    let server = ApiServer(child, dir);
    let started = Instant::now();
    while !server.1.path().join("port").exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "the test API server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let config = server.1.path().join("kubeconfig");
    let config = config.to_str().unwrap();
    let kubectl_apply = |file: &str, stdin: Option<&str>| {
        use std::io::Write as _;
        let mut child = Command::new("kubectl")
            .args(["--kubeconfig", config, "apply", "--validate=false", "-f", file])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl sets up the test API server");
        child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    kubectl_apply(workspace().join("crds/connections.yaml").to_str().unwrap(), None);
    kubectl_apply(
        "-",
        Some(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n---\napiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: cache, namespace: apps}\nspec:\n  type: redis\n  schema: {host: redis.apps.svc, port: 6379}\n",
        ),
    );
    let home = server.1.path();
    let (out, _) = complete_with(home, &["describe", "--kubeconfig", config, "-n", "apps", ""]);
    assert_eq!(parse(&out), (vec!["cache\tredis".to_string()], NO_FILE));
    let (out, _) = complete_with(home, &["get", "--kubeconfig", config, "-n", "apps", "c"]);
    // A bare name is a connection for `get` too, once something is typed.
    assert_eq!(parse(&out).0, ["cache\tredis", "connection/cache\tredis"]);
    let (out, _) = complete_with(home, &["check", "--kubeconfig", config, ""]);
    assert_eq!(parse(&out), (vec![], NO_FILE), "nothing in the context's namespace");
    let (out, _) = complete_with(home, &["list", "--kubeconfig", config, "--namespace", "a"]);
    assert_eq!(parse(&out).0, ["apps"]);
}

#[test]
fn a_credential_plugin_that_never_returns_does_not_hold_completion() {
    let home = tempfile::tempdir().unwrap();
    // kube runs exec credential plugins inside the request future, beyond a timer's reach.
    let config = home.path().join("kubeconfig");
    std::fs::write(
        &config,
        "apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [-c, \"sleep 30\"]\n      interactiveMode: Never\n",
    )
    .unwrap();
    let (out, took) =
        complete_with(home.path(), &["describe", "--kubeconfig", config.to_str().unwrap(), ""]);
    assert_eq!(text(&out.stdout), ":4\n");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
