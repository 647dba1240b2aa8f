//! The test Kubernetes API server (tests/apiserver, a kmock-based emulator) driven from the
//! end-to-end tests: started in a temporary folder, set up with the real `kubectl`, with its
//! request log and fault rules at hand.

use super::{bin, text, workspace};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running emulator; stopped on drop.
pub struct ApiServer {
    child: Child,
    dir: tempfile::TempDir,
}

impl ApiServer {
    pub fn start(tls: bool) -> ApiServer {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(workspace().join("tests/apiserver/server.py")).arg("--state-dir").arg(dir.path());
        if tls {
            cmd.arg("--tls");
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the test API server");
        let server = ApiServer { child, dir };
        let started = Instant::now();
        while !server.dir.path().join("port").exists() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the test API server did not start (is `pip install -r tests/apiserver/requirements.txt` done?)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The server's state folder (kubeconfig, CA certificate, token).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn url(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("url")).unwrap().trim().to_string()
    }

    /// Runs the real kubectl against the emulator.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args);
        // kubectl finds the plugin on PATH, as users install it.
        let dir = Path::new(bin()).parent().unwrap();
        cmd.env("PATH", format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default()));
        cmd.env_remove("KUBECONFIG");
        match stdin {
            None => cmd.output().unwrap(),
            Some(input) => {
                use std::io::Write as _;
                cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
                let mut child = cmd.spawn().unwrap();
                child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
                child.wait_with_output().unwrap()
            }
        }
    }

    pub fn apply(&self, yaml: &str) {
        let out = self.kubectl(&["apply", "--validate=false", "-f", "-"], Some(yaml));
        assert!(out.status.success(), "kubectl apply failed: {}", text(&out.stderr));
    }

    pub fn apply_files(&self, paths: &[PathBuf]) {
        let mut args = vec!["apply".to_string(), "--validate=false".into()];
        for p in paths {
            args.push("-f".into());
            args.push(p.display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.kubectl(&args, None);
        assert!(out.status.success(), "kubectl apply failed: {}", text(&out.stderr));
    }

    /// The CRDs of every kind the plugin reads.
    pub fn install_crds(&self) {
        self.apply_files(&[
            workspace().join("crds/connections.yaml"),
            workspace().join("tests/apiserver/crds"),
        ]);
    }

    pub fn test_endpoint(&self, method: &str, path: &str, body: Option<&str>) -> String {
        let mut args = vec![
            "-s".to_string(),
            "-k".into(),
            "-X".into(),
            method.into(),
            format!("{}{path}", self.url()),
        ];
        if let Some(body) = body {
            args.extend([
                "-H".into(),
                "Content-Type: application/json".into(),
                "-d".into(),
                body.into(),
            ]);
        }
        let out = Command::new("curl").args(&args).output().expect("curl");
        text(&out.stdout)
    }

    /// API requests received since the last reset: `(method, path)`.
    pub fn requests(&self) -> Vec<(String, String)> {
        let log: serde_json::Value =
            serde_json::from_str(&self.test_endpoint("GET", "/_test/requests", None)).unwrap();
        log.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (r["method"].as_str().unwrap().to_string(), r["path"].as_str().unwrap().to_string())
            })
            .collect()
    }

    pub fn reset_requests(&self) {
        self.test_endpoint("POST", "/_test/requests/reset", None);
    }

    /// Adds a fault rule (see tests/apiserver/README.md); panics if the server refuses it.
    pub fn fault(&self, rule: &str) {
        let answer = self.test_endpoint("POST", "/_test/faults", Some(rule));
        assert!(answer.starts_with('['), "the fault {rule} was refused: {answer}");
    }

    /// Drops every pending fault rule.
    pub fn reset_faults(&self) {
        self.test_endpoint("POST", "/_test/faults/reset", None);
    }

    /// API requests received since the last reset, as the server logs them (method, path,
    /// query, status, and `fault: true` for those a fault rule answered).
    pub fn request_log(&self) -> Vec<serde_json::Value> {
        let log: serde_json::Value =
            serde_json::from_str(&self.test_endpoint("GET", "/_test/requests", None)).unwrap();
        log.as_array().unwrap().clone()
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kubectl connections ARGS --kubeconfig K`: kubectl refuses flags before a plugin's name,
/// so they go after it, where kubectl passes them on as plain arguments.
pub fn connections(server: &ApiServer, args: &[&str]) -> Output {
    let dir = Path::new(bin()).parent().unwrap();
    Command::new("kubectl")
        .arg("connections")
        .args(args)
        .arg("--kubeconfig")
        .arg(server.kubeconfig())
        .env("PATH", format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default()))
        .env_remove("KUBECONFIG")
        .output()
        .unwrap()
}
