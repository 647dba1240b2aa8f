//! The secrets output modes end to end: `--secrets sealed` (sealed with a throwaway
//! certificate, then decrypted here with its private key by the sealed-secrets algorithm),
//! `--secrets plaintext` and its guard rails, and canary values planted in every
//! secret-bearing input, looked for in everything every mode prints or writes.

mod common;

use base64::Engine as _;
use common::{command_in, git, kubectl_kustomize, run_in, snapshot, text, workspace, write};
use connections_core::syntax::Node;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::{Oaep, RsaPrivateKey};
use std::path::{Path, PathBuf};

/// The throwaway key pair (plugin/tests/data/sealed/README.md).
fn key_file(name: &str) -> PathBuf {
    workspace().join("plugin/tests/data/sealed").join(name)
}

fn private_key() -> RsaPrivateKey {
    let pem = std::fs::read_to_string(key_file("throwaway-key.pem")).unwrap();
    RsaPrivateKey::from_pkcs8_pem(&pem).unwrap()
}

/// Decrypts one `encryptedData` value as the controller does: 2-byte length, RSA-OAEP
/// (SHA-256, `label`) block holding the AES-256-GCM key, GCM output with an all-zero nonce.
fn unseal(key: &RsaPrivateKey, label: &str, ciphertext: &str) -> Result<Vec<u8>, String> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(ciphertext).map_err(|e| e.to_string())?;
    let length = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
    let (block, sealed) = bytes[2..].split_at(length);
    let session = key
        .decrypt(Oaep::new_with_label::<sha2::Sha256, _>(label), block)
        .map_err(|e| format!("RSA-OAEP: {e}"))?;
    let aead =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &session).map_err(|e| e.to_string())?);
    let mut buffer = sealed.to_vec();
    let plain = aead
        .open_in_place(Nonce::assume_unique_for_key([0; 12]), Aad::empty(), &mut buffer)
        .map_err(|e| format!("AES-GCM: {e}"))?;
    Ok(plain.to_vec())
}

/// The documents of a YAML text.
fn documents(yaml: &str) -> Vec<Node> {
    let mut sources = connections_core::source::SourceMap::new();
    let (documents, diagnostics) = connections_loader::load_text(&mut sources, "out.yaml", yaml);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    documents.into_iter().map(|d| d.root).collect()
}

fn str_at<'n>(node: &'n Node, path: &[&str]) -> Option<&'n str> {
    node.path(path).and_then(Node::as_str)
}

/// `encryptedData` of a SealedSecret, decrypted with `label`.
fn unseal_all(sealed: &Node, label: &str) -> Vec<(String, Result<String, String>)> {
    let key = private_key();
    sealed
        .path(&["spec", "encryptedData"])
        .and_then(Node::as_map)
        .expect("encryptedData")
        .iter()
        .map(|(k, v)| {
            let plain = unseal(&key, label, v.as_str().unwrap())
                .map(|bytes| String::from_utf8(bytes).unwrap());
            (k.key_text(), plain)
        })
        .collect()
}

/// Values planted in the inputs; none may appear where the mode does not allow it.
const VALUES_PASSWORD: &str = "p@ss:w/rd canary-values-6f1d";
const VALUES_USER: &str = "app user canary-user-02ab";
const REPO_TOKEN: &str = "canary-repo-token-91c3";
const LOFT_TOKEN: &str = "canary-loft-token-5e77";
const KD_KEY: &str = "canary-kd-key-0c4a";

/// A repository with a Connection whose Secret it does not declare, a committed plaintext
/// Secret, and a Loft ClusterConnect holding a kubeconfig token.
fn repository(root: &Path) {
    write(
        root,
        "connections.yaml",
        "apiVersion: connections.dev/v1alpha1
kind: Connection
metadata: {name: orders, namespace: data}
spec:
  type: postgres
  schema: {host: pg.data.svc, port: 5432, database: orders}
  secret: {name: orders-db, items: [username, password]}
",
    );
    // As `kubectl apply` leaves it: the last-applied annotation holds the values again.
    write(
        root,
        "legacy.yaml",
        &format!(
            "apiVersion: v1
kind: Secret
metadata:
  name: legacy
  namespace: data
  labels: {{team: payments}}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"stringData\":{{\"token\":\"{REPO_TOKEN}\"}}}}
type: Opaque
data:
  unset: null
stringData:
  token: {REPO_TOKEN}
"
        ),
    );
    // A KubeDirector cluster connected to a committed Secret: its configmeta file carries
    // the Secret's values, unless they are sealed.
    write(
        root,
        "notebook.yaml",
        &format!(
            "apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorCluster
metadata: {{name: notebook, namespace: ml}}
spec:
  app: jupyter-notebook
  connections: {{secrets: [git-ssh]}}
  roles:
  - {{id: controller, members: 1}}
---
apiVersion: v1
kind: Secret
metadata:
  name: git-ssh
  namespace: ml
  labels: {{kubedirector.hpe.com/secretType: source-control}}
stringData:
  key: {KD_KEY}
"
        ),
    );
    write(
        root,
        "loft.yaml",
        &format!(
            "apiVersion: management.loft.sh/v1
kind: ClusterConnect
metadata:
  name: prod-eu
spec:
  adminUser: alice
  config: |
    apiVersion: v1
    kind: Config
    current-context: default
    clusters:
    - name: default
      cluster:
        server: https://prod-eu.example.com:6443
    users:
    - name: default
      user:
        token: {LOFT_TOKEN}
    contexts:
    - name: default
      context: {{cluster: default, user: default}}
  clusterTemplate:
    spec:
      displayName: Production EU
"
        ),
    );
}

/// The supplied values, as `kubectl create secret --dry-run=client -o yaml` would write them.
fn values_manifest() -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        "apiVersion: v1
kind: Secret
metadata:
  name: orders-db
  namespace: data
data:
  username: {}
  password: {}
",
        b64(VALUES_USER),
        b64(VALUES_PASSWORD)
    )
}

#[test]
fn sealed_output_decrypts_to_the_supplied_and_committed_values() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(&repo);
    write(tmp.path(), "values.yaml", &values_manifest());
    let cert = key_file("cert.pem");
    let out = run_in(
        &repo,
        &[
            "render",
            ".",
            "--secrets",
            "sealed",
            "--cert",
            cert.to_str().unwrap(),
            "--values",
            "../values.yaml",
            "--out",
            "../out",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files = snapshot(&tmp.path().join("out"));
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "data/sealedsecret-orders-db.yaml",
        "data/sealedsecret-legacy.yaml",
        "loft/sealedsecret-prod-eu-kubeconfig.yaml",
        "ml/sealedsecret-git-ssh.yaml",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.contains("/secret-")),
        "a plaintext Secret was written in sealed mode: {names:?}"
    );

    let read = |path: &str| {
        let (_, bytes) = files.iter().find(|(p, _)| p == path).unwrap();
        let yaml = String::from_utf8(bytes.clone()).unwrap();
        assert!(!yaml.contains("creationTimestamp"), "{yaml}");
        documents(&yaml).remove(0)
    };

    // Supplied values, sealed for strict scope, with the derived URI sealed beside them.
    let generated = read("data/sealedsecret-orders-db.yaml");
    assert_eq!(str_at(&generated, &["apiVersion"]), Some("bitnami.com/v1alpha1"));
    assert_eq!(str_at(&generated, &["spec", "template", "metadata", "name"]), Some("orders-db"));
    let values = unseal_all(&generated, "data/orders-db");
    let encoded_user = "app%20user%20canary-user-02ab";
    let encoded_password = "p%40ss%3Aw%2Frd%20canary-values-6f1d";
    assert_eq!(
        values,
        vec![
            ("password".to_string(), Ok(VALUES_PASSWORD.to_string())),
            (
                "uri".to_string(),
                Ok(format!(
                    "postgresql://{encoded_user}:{encoded_password}@pg.data.svc:5432/orders"
                ))
            ),
            ("username".to_string(), Ok(VALUES_USER.to_string())),
        ]
    );
    // The label binds each value to its name and namespace: another label cannot open it.
    assert!(unseal_all(&generated, "data/other").iter().all(|(_, v)| v.is_err()));

    // The committed plaintext Secret is sealed with its metadata kept in the template.
    let legacy = read("data/sealedsecret-legacy.yaml");
    assert_eq!(
        unseal_all(&legacy, "data/legacy"),
        vec![("token".into(), Ok(REPO_TOKEN.into())), ("unset".into(), Ok(String::new()))]
    );
    assert_eq!(
        str_at(&legacy, &["spec", "template", "metadata", "labels", "team"]),
        Some("payments")
    );

    // The Loft kubeconfig Secret too.
    let loft = read("loft/sealedsecret-prod-eu-kubeconfig.yaml");
    let (_, config) = unseal_all(&loft, "loft/prod-eu-kubeconfig").remove(0);
    assert!(config.unwrap().contains(LOFT_TOKEN));

    let kustomize = kubectl_kustomize(&tmp.path().join("out"));
    assert!(kustomize.status.success(), "{}", text(&kustomize.stderr));
    assert_eq!(text(&kustomize.stdout).matches("kind: SealedSecret").count(), 4);
    // The last-applied copy of the committed Secret stays behind, and configmeta holds no
    // value of a sealed Secret.
    let legacy_yaml = String::from_utf8(
        files.iter().find(|(p, _)| p == "data/sealedsecret-legacy.yaml").unwrap().1.clone(),
    )
    .unwrap();
    assert!(!legacy_yaml.contains("last-applied"), "{legacy_yaml}");
    let configmeta = files.iter().find(|(p, _)| p.starts_with("configmeta/")).expect("configmeta");
    assert!(String::from_utf8_lossy(&configmeta.1).contains("\"data\":null"));
}

#[test]
fn wider_scopes_seal_with_their_label_and_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    repository(tmp.path());
    let key = key_file("public-key.pem");
    for (scope, annotation) in [
        ("namespace-wide", "sealedsecrets.bitnami.com/namespace-wide"),
        ("cluster-wide", "sealedsecrets.bitnami.com/cluster-wide"),
    ] {
        let out = command_in(
            tmp.path(),
            &["render", ".", "--stdout", "--secrets", "sealed", "--cert", key.to_str().unwrap()],
        )
        .args(["--scope", scope])
        .env("KUBECTL_CONNECTIONS_VALUES", values_manifest())
        .output()
        .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stream = text(&out.stdout);
        let sealed: Vec<Node> = documents(&stream)
            .into_iter()
            .filter(|d| str_at(d, &["kind"]) == Some("SealedSecret"))
            .collect();
        assert_eq!(sealed.len(), 4, "{stream}");
        for secret in &sealed {
            assert_eq!(str_at(secret, &["metadata", "annotations", annotation]), Some("true"));
            let namespace = str_at(secret, &["metadata", "namespace"]).unwrap();
            let name = str_at(secret, &["metadata", "name"]).unwrap();
            let label = if scope == "namespace-wide" { namespace } else { "" };
            assert!(unseal_all(secret, label).iter().all(|(_, v)| v.is_ok()), "{scope} {name}");
            let strict = format!("{namespace}/{name}");
            assert!(unseal_all(secret, &strict).iter().all(|(_, v)| v.is_err()), "{scope} {name}");
        }
    }
}

#[test]
fn sealed_mode_reports_missing_values_at_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(&repo);
    // Only the user name is supplied: the password the Connection needs is missing.
    write(
        tmp.path(),
        "values.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: orders-db, namespace: data}\nstringData: {username: app}\n",
    );
    let cert = key_file("cert.pem");
    let args = ["validate", ".", "--secrets", "sealed", "--cert", cert.to_str().unwrap()];
    let out = command_in(&repo, &args).args(["--values", "../values.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = text(&out.stdout) + &text(&out.stderr);
    assert!(report.contains("missing-secret-key"), "{report}");
    assert!(report.contains("connections.yaml:7"), "{report}");
    // Nothing supplied: the Secret is simply not declared.
    let out = run_in(&repo, &args);
    let report = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("dangling-secret-ref"), "{report}");
}

#[test]
fn unusable_certificates_and_values_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(&repo);
    let cert = key_file("cert.pem");
    let cert = cert.to_str().unwrap();
    let sealed = |extra: &[&str]| {
        let mut args = vec!["render", ".", "--stdout", "--secrets", "sealed"];
        args.extend_from_slice(extra);
        let out = run_in(&repo, &args);
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, stdout, stderr) = sealed(&[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--cert"), "{stderr}");
    assert!(stdout.is_empty());

    write(tmp.path(), "not-a-cert.pem", "hello\n");
    let (code, _, stderr) = sealed(&["--cert", "../not-a-cert.pem"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no PEM certificate or public key"), "{stderr}");

    // Values inside the repository would be read as input and committed.
    write(&repo, "private/values.yaml", &values_manifest());
    let (code, _, stderr) = sealed(&["--cert", cert, "--values", "private/values.yaml"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("lies inside the repository"), "{stderr}");
    std::fs::remove_dir_all(repo.join("private")).unwrap();

    // A values file Git tracks, even outside the repository that is rendered.
    let tracked = tmp.path().join("tracked");
    write(&tracked, "values.yaml", &values_manifest());
    for args in [&["init", "-q"][..], &["add", "values.yaml"]] {
        let git =
            std::process::Command::new("git").args(args).current_dir(&tracked).output().unwrap();
        assert!(git.status.success(), "{}", text(&git.stderr));
    }
    let (code, _, stderr) = sealed(&["--cert", cert, "--values", "../tracked/values.yaml"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is tracked by Git"), "{stderr}");

    write(
        tmp.path(),
        "bad-values.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: orders-db, namespace: data}\ndata:\n  password: not base64 canary-bad-7a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    let (code, stdout, stderr) = sealed(&["--cert", cert, "--values", "../bad-values.yaml"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("../bad-values.yaml:5: the value of `password`"), "{stderr}");
    assert!(
        stderr.contains("../bad-values.yaml:8: a values file holds Secret manifests only"),
        "{stderr}"
    );
    assert!(!stderr.contains("canary-bad-7a"), "a value was printed: {stderr}");
}

#[test]
fn plaintext_mode_needs_stdout_consent_and_a_safe_destination() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(&repo);
    let plaintext = |extra: &[&str]| {
        let mut args = vec!["render", ".", "--secrets", "plaintext"];
        args.extend_from_slice(extra);
        let mut command = command_in(&repo, &args);
        command.env("KUBECTL_CONNECTIONS_VALUES", values_manifest());
        command
    };
    let refused = |mut command: std::process::Command, why: &str| {
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(why), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
    };
    refused(plaintext(&["--stdout"]), "confirm with --allow-plaintext");
    refused(plaintext(&["--out", "../out", "--allow-plaintext"]), "standard output only");
    assert!(!tmp.path().join("out").exists());
    let mut argo = plaintext(&["--stdout", "--allow-plaintext"]);
    argo.env("ARGOCD_APP_NAME", "orders");
    refused(argo, "refused under Argo CD");

    // Into a file inside a Git work tree: refused, and the file stays empty.
    std::fs::create_dir_all(tmp.path().join("work/.git")).unwrap();
    let inside = tmp.path().join("work/secrets.yaml");
    let out = plaintext(&["--stdout", "--allow-plaintext"])
        .stdout(std::fs::File::create(&inside).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("inside the Git work tree"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&inside).unwrap(), b"");

    // Piped, with consent: plain Secrets with the supplied values, the URI derived.
    let out = plaintext(&["--stdout", "--allow-plaintext"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stream = text(&out.stdout);
    let secret = documents(&stream)
        .into_iter()
        .find(|d| str_at(d, &["metadata", "name"]) == Some("orders-db"))
        .expect("the generated Secret");
    assert_eq!(str_at(&secret, &["kind"]), Some("Secret"));
    let decoded = |key: &str| {
        let value = str_at(&secret, &["data", key]).unwrap();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(value).unwrap()).unwrap()
    };
    assert_eq!(decoded("password"), VALUES_PASSWORD);
    assert!(decoded("uri").starts_with("postgresql://app%20user"));
}

/// Every form a planted value could take in output: as written, and base64 (Secret `data`).
fn forms(value: &str) -> [String; 2] {
    [value.to_string(), base64::engine::general_purpose::STANDARD.encode(value)]
}

#[test]
fn no_secret_value_escapes_in_any_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(&repo);
    // A previous render to diff against, where the committed token had another value.
    let before = tmp.path().join("before");
    let old = tempfile::tempdir().unwrap();
    repository(old.path());
    let legacy = std::fs::read_to_string(old.path().join("legacy.yaml")).unwrap();
    write(old.path(), "legacy.yaml", &legacy.replace(REPO_TOKEN, "canary-old-token-33d0"));
    let out = run_in(
        old.path(),
        &[
            "render",
            ".",
            "--out",
            before.to_str().unwrap(),
            "--secrets",
            "external-secret",
            "--secret-store",
            "vault",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let cert = key_file("cert.pem");
    let cert = cert.to_str().unwrap();
    let supplied = [VALUES_PASSWORD, VALUES_USER];
    let committed = [REPO_TOKEN, LOFT_TOKEN, KD_KEY, "canary-old-token-33d0"];
    let modes: [(&str, &[&str]); 4] = [
        ("reference", &[]),
        ("external-secret", &["--secret-store", "vault"]),
        ("sealed", &["--cert", cert]),
        ("plaintext", &["--allow-plaintext"]),
    ];
    let mut checked = 0;
    for (mode, flags) in modes {
        let mut runs: Vec<(String, Vec<String>)> = vec![
            ("validate".into(), vec!["validate".into(), ".".into()]),
            (
                "validate json".into(),
                vec!["validate".into(), ".".into(), "--output-format".into(), "json".into()],
            ),
            ("render --stdout".into(), vec!["render".into(), ".".into(), "--stdout".into()]),
            (
                "diff".into(),
                vec!["diff".into(), ".".into(), "--against".into(), before.display().to_string()],
            ),
        ];
        if mode != "plaintext" {
            let out_dir = tmp.path().join(format!("out-{mode}"));
            runs.push((
                "render --out".into(),
                vec!["render".into(), ".".into(), "--out".into(), out_dir.display().to_string()],
            ));
        }
        for (what, mut args) in runs {
            args.extend(["--secrets".to_string(), mode.to_string()]);
            args.extend(flags.iter().map(|f| f.to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = command_in(&repo, &args)
                .env("KUBECTL_CONNECTIONS_VALUES", values_manifest())
                .output()
                .unwrap();
            let stdout = text(&out.stdout);
            let stderr = text(&out.stderr);
            // Plaintext mode prints the supplied values to standard output: that it is found
            // there shows that this test would see a leak.
            let plaintext_stream = mode == "plaintext" && what == "render --stdout";
            for value in supplied {
                for form in forms(value) {
                    assert!(!stderr.contains(&form), "{mode} {what}: stderr holds {value}");
                    assert_eq!(
                        stdout.contains(&form),
                        plaintext_stream && form != value,
                        "{mode} {what}: stdout and {value} ({form})"
                    );
                }
            }
            // Values committed in plaintext are carried where rendering needs them (with a
            // warning) in reference, external-secret and plaintext mode; never in findings,
            // diffs or sealed output.
            let carries_committed = what.starts_with("render") && mode != "sealed";
            for value in committed {
                for form in forms(value) {
                    assert!(!stderr.contains(&form), "{mode} {what}: stderr holds {value}");
                    if !carries_committed {
                        assert!(!stdout.contains(&form), "{mode} {what}: stdout holds {value}");
                    }
                }
            }
            checked += 1;
        }
        let out_dir = tmp.path().join(format!("out-{mode}"));
        if out_dir.exists() {
            for (path, bytes) in snapshot(&out_dir) {
                let content = String::from_utf8_lossy(&bytes);
                for value in
                    supplied.iter().chain(if mode == "sealed" { &committed[..] } else { &[] })
                {
                    for form in forms(value) {
                        assert!(!content.contains(&form), "{mode}: {path} holds {value}");
                    }
                }
            }
        }
    }
    assert_eq!(checked, 19);
    // The reference-mode render failed (the Connection's Secret is not declared) and wrote
    // nothing; the others wrote their output.
    assert!(!tmp.path().join("out-reference").exists());
    assert!(tmp.path().join("out-sealed/kustomization.yaml").exists());
    assert!(tmp.path().join("out-external-secret/kustomization.yaml").exists());
}

/// Where a canary is planted, and so where it may legitimately show up.
#[derive(Clone, Copy, PartialEq)]
enum Planted {
    /// Given to the run (`--values`): readable only in plaintext mode's stream.
    Supplied,
    /// Committed in plaintext in a Secret (or a kubeconfig that becomes one): carried by
    /// render where the mode leaves Secrets readable (not sealed), never shown anywhere else.
    Committed,
    /// In the revision `diff --base` and `diff --against` compare with: never shown (diffs
    /// mask Secret values).
    Before,
}

/// Canaries, each in its own secret-bearing input.
const CANARIES: &[(&str, Planted, &str)] = &[
    ("canary-supplied-password-41d2", Planted::Supplied, "--values: the Connection's password"),
    ("canary-supplied-username-7b10", Planted::Supplied, "--values: the Connection's username"),
    ("canary-string-data-a3f7", Planted::Committed, "Secret stringData"),
    ("canary-data-b19c", Planted::Committed, "Secret data (base64)"),
    ("canary-applied-c0de", Planted::Committed, "the last-applied annotation of a Secret"),
    ("canary-loft-token-d4e1", Planted::Committed, "Loft kubeconfig token"),
    ("canary-loft-client-key-e5f2", Planted::Committed, "Loft kubeconfig client key"),
    ("canary-loft-password-f6a3", Planted::Committed, "Loft kubeconfig basic-auth password"),
    ("canary-kubedirector-0a4b", Planted::Committed, "KubeDirector cluster Secret"),
    ("canary-polyaxon-committed-1b5c", Planted::Committed, "a Polyaxon connection's Secret"),
    ("canary-before-2c6d", Planted::Before, "the compared revision's Secret"),
];

fn canary(label: &str) -> &'static str {
    CANARIES.iter().find(|(_, _, l)| *l == label).unwrap().0
}

/// Whether `haystack` reveals `value`: as written, base64-encoded on its own, or inside any
/// base64 text (a whole kubeconfig or configmeta value encoded at once).
fn reveals(haystack: &str, value: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    if haystack.contains(value) || haystack.contains(&b64.encode(value)) {
        return true;
    }
    haystack
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
        .filter(|run| run.len() >= 16)
        .filter_map(|run| {
            b64.decode(run.trim_end_matches('=')).ok().or_else(|| b64.decode(run).ok())
        })
        .any(|bytes| String::from_utf8_lossy(&bytes).contains(value))
}

/// A repository with a canary in every secret-bearing input (`before` plants the compared
/// revision's value instead of the current one).
fn canary_repository(root: &Path, before: bool) {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let string_data =
        if before { canary("the compared revision's Secret") } else { canary("Secret stringData") };
    write(
        root,
        "data/connections.yaml",
        "apiVersion: connections.dev/v1alpha1
kind: Connection
metadata: {name: orders, namespace: data}
spec:
  type: postgres
  schema: {host: pg.data.svc, port: 5432, database: orders}
  secret: {name: orders-db, items: [username, password]}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: data
  annotations: {connections.dev/use: orders}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: \"ghcr.io/acme/api:1.0\"}]
",
    );
    write(
        root,
        "data/committed.yaml",
        &format!(
            "apiVersion: v1
kind: Secret
metadata:
  name: app
  namespace: data
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{{\"kind\":\"Secret\",\"stringData\":{{\"old\":\"{applied}\"}}}}'
stringData:
  pin: {string_data}
data:
  token: {data}
",
            applied = canary("the last-applied annotation of a Secret"),
            data = b64(canary("Secret data (base64)")),
        ),
    );
    let client_key = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        canary("Loft kubeconfig client key")
    );
    write(
        root,
        "loft.yaml",
        &format!(
            "apiVersion: management.loft.sh/v1
kind: ClusterConnect
metadata: {{name: prod-eu}}
spec:
  adminUser: alice
  config: |
    apiVersion: v1
    kind: Config
    current-context: token
    clusters:
    - {{name: eu, cluster: {{server: \"https://prod-eu.example.com:6443\"}}}}
    users:
    - {{name: token, user: {{token: {token}}}}}
    - {{name: cert, user: {{client-certificate-data: {cert}, client-key-data: {key}}}}}
    - {{name: basic, user: {{username: admin, password: {password}}}}}
    contexts:
    - {{name: token, context: {{cluster: eu, user: token}}}}
    - {{name: cert, context: {{cluster: eu, user: cert}}}}
    - {{name: basic, context: {{cluster: eu, user: basic}}}}
",
            token = canary("Loft kubeconfig token"),
            cert = b64("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
            key = b64(&client_key),
            password = canary("Loft kubeconfig basic-auth password"),
        ),
    );
    write(
        root,
        "ml/notebook.yaml",
        &format!(
            "apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorCluster
metadata: {{name: notebook, namespace: ml}}
spec:
  app: jupyter-notebook
  connections: {{secrets: [git-ssh]}}
  roles:
  - {{id: controller, members: 1}}
---
apiVersion: v1
kind: Secret
metadata:
  name: git-ssh
  namespace: ml
  labels: {{kubedirector.hpe.com/secretType: source-control}}
data:
  key: {}
",
            b64(canary("KubeDirector cluster Secret"))
        ),
    );
    // Polyaxon connections live in the default namespace. (The secrets modes generate no
    // Secret for them, so --values cannot supply one.)
    write(
        root,
        "polyaxon/agent.yaml",
        "connections:
- name: lake
  kind: s3
  schema: {bucket: \"s3://lake\"}
  secret: {name: aws-lake, items: [AWS_SECRET_ACCESS_KEY]}
",
    );
    write(
        root,
        "polyaxon/objects.yaml",
        &format!(
            "apiVersion: v1
kind: Secret
metadata: {{name: aws-lake}}
stringData: {{AWS_SECRET_ACCESS_KEY: {}}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: train
  annotations: {{connections.dev/use: lake}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: train, image: \"ghcr.io/acme/train:1.0\"}}]
",
            canary("a Polyaxon connection's Secret")
        ),
    );
}

/// The values `--values` supplies, with a canary in each.
fn canary_values() -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        "apiVersion: v1
kind: Secret
metadata: {{name: orders-db, namespace: data}}
data:
  username: {}
  password: {}
",
        b64(canary("--values: the Connection's username")),
        b64(canary("--values: the Connection's password")),
    )
}

/// Every canary, in every secret-bearing input (Secret `stringData`, `data` and last-applied
/// copy; Loft kubeconfig token, client key and password; a KubeDirector cluster's Secret;
/// a Polyaxon connection's Secret; `--values`), looked for in
/// everything each command prints or writes, in every format and at every verbosity
/// (`KUBECTL_CONNECTIONS_TIMINGS` is the only extra output there is), in every mode. Only
/// plaintext mode's stream may show a supplied value, and only render output outside sealed
/// mode may carry a committed one (the repository already shows it).
#[test]
fn canaries_in_every_secret_bearing_input_never_leak() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    // The compared revision: committed in git (for --base) and rendered (for --against).
    canary_repository(&repo, true);
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "before"]);
    let before = tmp.path().join("before");
    let out = run_in(
        &repo,
        &[
            "render",
            ".",
            "--out",
            before.to_str().unwrap(),
            "--secrets",
            "external-secret",
            "--secret-store",
            "vault",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    canary_repository(&repo, false);
    write(tmp.path(), "values.yaml", &canary_values());
    let values = tmp.path().join("values.yaml");
    let values = values.to_str().unwrap();

    let cert = key_file("cert.pem");
    let cert = cert.to_str().unwrap();
    let modes: [(&str, &[&str]); 4] = [
        ("reference", &[]),
        ("external-secret", &["--secret-store", "vault"]),
        ("sealed", &["--cert", cert, "--values", values]),
        ("plaintext", &["--allow-plaintext", "--values", values]),
    ];
    let before = before.to_str().unwrap().to_string();
    let mut commands: Vec<Vec<String>> = Vec::new();
    for format in ["human", "json", "github", "sarif"] {
        commands.push(vec!["validate".into(), ".".into(), "--output-format".into(), format.into()]);
    }
    commands.push(vec!["validate".into(), ".".into(), "--color".into(), "always".into()]);
    commands.push(vec!["render".into(), ".".into(), "--stdout".into()]);
    commands.push(vec!["render".into(), ".".into(), "--out".into(), "OUT".into()]);
    for format in ["unified", "markdown", "json"] {
        for baseline in [["--against", before.as_str()], ["--base", "main"]] {
            let mut command: Vec<String> = vec!["diff".into(), ".".into()];
            command.extend(baseline.iter().map(|s| s.to_string()));
            command.extend(["--format".into(), format.into()]);
            commands.push(command);
        }
    }
    let (mut runs, mut productive, mut files_checked) = (0, 0, 0);
    for (mode, flags) in modes {
        for command in &commands {
            for timings in [false, true] {
                let what = format!(
                    "{mode}: {}{}",
                    command.join(" "),
                    if timings { " (timings)" } else { "" }
                );
                let out_dir = tmp.path().join(format!("out-{mode}-{runs}"));
                let mut args: Vec<String> = command
                    .iter()
                    .map(|a| if a == "OUT" { out_dir.display().to_string() } else { a.clone() })
                    .collect();
                args.extend(["--secrets".into(), mode.into()]);
                args.extend(flags.iter().map(|f| f.to_string()));
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let mut run = command_in(&repo, &args);
                if timings {
                    run.env("KUBECTL_CONNECTIONS_TIMINGS", "1");
                }
                let out = run.output().unwrap();
                let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
                assert!(matches!(out.status.code(), Some(0..=2)), "{what}: {stderr}");
                if timings {
                    assert!(stderr.contains("timings:"), "{what}: {stderr}");
                }
                let stream = command[0] == "render" && command[2] == "--stdout";
                for &(value, planted, label) in CANARIES {
                    assert!(!reveals(&stderr, value), "{what}: stderr shows {label}:\n{stderr}");
                    let allowed_on_stdout = match planted {
                        Planted::Supplied => mode == "plaintext" && stream,
                        Planted::Committed => stream && mode != "sealed",
                        Planted::Before => false,
                    };
                    if !allowed_on_stdout {
                        assert!(
                            !reveals(&stdout, value),
                            "{what}: stdout shows {label}:\n{stdout}"
                        );
                    }
                }
                // Plaintext mode does show the supplied values in its stream: the check above
                // would see a leak.
                if mode == "plaintext" && stream {
                    assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
                    assert!(reveals(&stdout, canary("--values: the Connection's password")));
                }
                if out_dir.exists() {
                    for (path, bytes) in snapshot(&out_dir) {
                        let content = String::from_utf8_lossy(&bytes);
                        for &(value, planted, label) in CANARIES {
                            let allowed = planted == Planted::Committed && mode != "sealed";
                            assert!(
                                allowed || !reveals(&content, value),
                                "{what}: {path} holds {label}"
                            );
                        }
                        files_checked += 1;
                    }
                }
                if matches!(out.status.code(), Some(0 | 1))
                    && (!stdout.is_empty() || out_dir.exists())
                {
                    productive += 1;
                } else {
                    println!("no output: {what}: {}", stderr.lines().last().unwrap_or(""));
                }
                runs += 1;
            }
        }
    }
    println!(
        "{} canaries x {} commands x {} modes x 2 verbosities: {runs} runs ({productive} with output), {files_checked} files searched",
        CANARIES.len(),
        commands.len(),
        modes.len()
    );
    assert_eq!(runs, 4 * 13 * 2);
    // All but the refusals: reference mode's renders and diffs (the Connection's Secret is
    // only supplied, 16 runs) and plaintext mode into a folder (2).
    assert_eq!(productive, runs - 18);
    assert!(files_checked > 20, "{files_checked} files");
}
