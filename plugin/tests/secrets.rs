//! The secrets policy as users meet it: SOPS-encrypted Secrets recognised (keys known, values
//! opaque, never flagged), `--strict-secrets`, and `.connections-allow.yaml`.

use std::path::Path;
use std::process::{Command, Output};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-connections"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// One finding: (check, severity, file, line, message).
type Finding = (String, String, String, u64, String);

/// Findings of `validate --output-format json`, with the exit code.
fn findings(dir: &Path, extra: &[&str]) -> (Option<i32>, Vec<Finding>) {
    let mut args = vec!["validate", ".", "--output-format", "json"];
    args.extend_from_slice(extra);
    let out = run_in(dir, &args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let list = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["check"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (out.status.code(), list)
}

const CONNECTION: &str = "apiVersion: connections.dev/v1alpha1
kind: Connection
metadata: {name: pg, namespace: data}
spec:
  type: postgres
  schema: {host: pg.data.svc, port: 5432}
  secret: {name: pg-cred, items: [username, password]}
";

const SOPS_SECRET: &str = "apiVersion: v1
kind: Secret
metadata: {name: pg-cred, namespace: data}
type: Opaque
stringData:
  username: ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]
  password: ENC[AES256_GCM,data:YmFy,iv:aXY=,tag:dGFn,type:str]
sops:
  age:
  - recipient: age1qqq
    enc: |
      -----BEGIN AGE ENCRYPTED FILE-----
      -----END AGE ENCRYPTED FILE-----
  lastmodified: '2026-11-01T10:00:00Z'
  mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
  encrypted_regex: ^(data|stringData)$
  version: 3.9.0
";

const PLAIN_SECRET: &str = "apiVersion: v1
kind: Secret
metadata: {name: pg-cred, namespace: data}
stringData: {username: app, password: canary-8b1f2c}
";

#[test]
fn sops_secrets_are_declarations_with_known_keys_and_no_plaintext_warning() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "connection.yaml", CONNECTION);
    write(tmp.path(), "secret.sops.yaml", SOPS_SECRET);
    let (code, found) = findings(tmp.path(), &["--strict-secrets"]);
    assert_eq!(code, Some(0), "{found:?}");
    assert!(found.iter().all(|f| f.0 != "plaintext-secret-in-repo"), "{found:?}");

    // Keys are still checked against what the SOPS file declares.
    write(
        tmp.path(),
        "connection.yaml",
        &CONNECTION.replace("[username, password]", "[username, token]"),
    );
    let (code, found) = findings(tmp.path(), &[]);
    assert_eq!(code, Some(1), "{found:?}");
    assert!(found.iter().any(|f| f.4.contains("token") && f.1 == "error"), "{found:?}");
}

#[test]
fn a_value_sops_left_unencrypted_is_flagged_without_showing_it() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "connection.yaml", CONNECTION);
    write(
        tmp.path(),
        "secret.sops.yaml",
        &SOPS_SECRET.replace(
            "password: ENC[AES256_GCM,data:YmFy,iv:aXY=,tag:dGFn,type:str]",
            "password: canary-8b1f2c",
        ),
    );
    let (code, found) = findings(tmp.path(), &[]);
    assert_eq!(code, Some(0), "a warning by default: {found:?}");
    let flagged: Vec<_> = found.iter().filter(|f| f.0 == "plaintext-secret-in-repo").collect();
    assert_eq!(flagged.len(), 1, "{found:?}");
    assert_eq!((flagged[0].1.as_str(), flagged[0].3), ("warning", 7), "{flagged:?}");
    assert!(flagged[0].4.contains("left unencrypted"), "{flagged:?}");
    let human = run_in(tmp.path(), &["validate", "."]);
    let shown = String::from_utf8_lossy(&human.stdout);
    assert!(shown.contains("plaintext-secret-in-repo"), "{shown}");
    assert!(!shown.contains("canary-8b1f2c"), "the value is masked: {shown}");
}

#[test]
fn strict_secrets_makes_plaintext_an_error_and_render_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write(&repo, "connection.yaml", CONNECTION);
    write(&repo, "secret.yaml", PLAIN_SECRET);

    let (code, found) = findings(&repo, &[]);
    assert_eq!(code, Some(0), "a warning by default: {found:?}");
    assert!(found.iter().any(|f| f.0 == "plaintext-secret-in-repo" && f.1 == "warning"));

    let (code, found) = findings(&repo, &["--strict-secrets"]);
    assert_eq!(code, Some(1), "{found:?}");
    let flagged = found.iter().find(|f| f.0 == "plaintext-secret-in-repo").unwrap();
    assert_eq!((flagged.1.as_str(), flagged.2.as_str(), flagged.3), ("error", "secret.yaml", 4));

    let out = tmp.path().join("out");
    let render =
        run_in(&repo, &["render", ".", "--out", out.to_str().unwrap(), "--strict-secrets"]);
    assert_eq!(render.status.code(), Some(1));
    assert!(!out.exists(), "nothing is written");
    let stderr = String::from_utf8_lossy(&render.stderr);
    assert!(stderr.contains(".connections-allow.yaml"), "the help names the way out: {stderr}");
    assert!(!stderr.contains("canary-8b1f2c"), "{stderr}");
}

#[test]
fn the_allow_file_exempts_listed_secrets_and_reports_its_own_mistakes() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "connection.yaml", CONNECTION);
    write(tmp.path(), "secret.yaml", PLAIN_SECRET);
    write(
        tmp.path(),
        ".connections-allow.yaml",
        "plaintextSecrets:\n- name: pg-cred\n  namespace: data\n  reason: demo data\n",
    );
    let (code, found) = findings(tmp.path(), &["--strict-secrets"]);
    assert_eq!(code, Some(0), "{found:?}");
    assert!(found.iter().all(|f| f.0 != "plaintext-secret-in-repo"), "{found:?}");

    // Listed in another namespace: not exempt.
    write(
        tmp.path(),
        ".connections-allow.yaml",
        "plaintextSecrets:\n- name: pg-cred\n  namespace: web\n",
    );
    let (code, _) = findings(tmp.path(), &["--strict-secrets"]);
    assert_eq!(code, Some(1));

    // A typo is a finding in the allow file, at its line, not a silent no-op.
    write(
        tmp.path(),
        ".connections-allow.yaml",
        "plaintextSecrets:\n- nme: pg-cred\n  namespace: data\n",
    );
    let (code, found) = findings(tmp.path(), &["--strict-secrets"]);
    assert_eq!(code, Some(1), "{found:?}");
    let typo = found.iter().find(|f| f.2 == ".connections-allow.yaml" && f.4.contains("`nme`"));
    assert_eq!(typo.map(|f| f.3), Some(2), "{found:?}");
    assert!(found.iter().any(|f| f.0 == "plaintext-secret-in-repo" && f.1 == "error"));
}
