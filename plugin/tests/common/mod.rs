//! Helpers the end-to-end test files share: running the binary the way a user's shell would
//! (without the environment of the developer who runs the tests), and building repositories
//! in temporary folders.

// Each test file uses some of these helpers.
#![allow(dead_code)]

pub mod apiserver;
pub mod bounded;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-connections")
}

/// The workspace root (fixtures, examples).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// Variables that change what the binary prints or refuses; tests set them explicitly.
const ENVIRONMENT_THAT_CHANGES_OUTPUT: &[&str] = &[
    "KUBECTL_EXTERNAL_DIFF",
    "KUBECTL_CONNECTIONS_TIMINGS",
    "KUBECTL_CONNECTIONS_VALUES",
    "CLICOLOR_FORCE",
    "ARGOCD_APP_NAME",
];

/// A command for the binary in `dir`, uncoloured, with none of the variables above.
pub fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(bin());
    command.args(args).current_dir(dir);
    plain_environment(&mut command);
    command
}

/// No colour, and none of the variables above.
pub fn plain_environment(command: &mut Command) {
    command.env("NO_COLOR", "1");
    for name in ENVIRONMENT_THAT_CHANGES_OUTPUT {
        command.env_remove(name);
    }
}

/// Runs the binary in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    command_in(dir, args).output().expect("the binary runs")
}

/// Runs the binary in the workspace root.
pub fn run(args: &[&str]) -> Output {
    run_in(&workspace(), args)
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `content` to `dir/rel`, creating folders.
pub fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Every file under `dir` with its bytes, sorted by path.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    path.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The real `kubectl kustomize` on a folder.
pub fn kubectl_kustomize(dir: &Path) -> Output {
    Command::new("kubectl").args(["kustomize", dir.to_str().unwrap()]).output().expect(
        "kubectl must be installed: these tests run the real kubectl kustomize on rendered output",
    )
}

/// A small clean repository: a Connection and a Deployment that uses it.
pub const GOOD: &str = "apiVersion: connections.dev/v1alpha1
kind: Connection
metadata: {name: cache, namespace: apps}
spec:
  type: redis
  schema: {host: redis.apps.svc, port: 6379}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: apps
  annotations: {connections.dev/use: cache}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: api, image: ghcr.io/acme/api:1.0}
";

/// Runs git in `dir` with a fixed identity and default branch; returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}
