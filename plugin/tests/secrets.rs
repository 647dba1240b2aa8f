//! The secrets policy as users meet it: SOPS-encrypted Secrets recognised (keys known, values
//! opaque, never flagged), `--strict-secrets`, and `.connections-allow.yaml`.

use std::path::Path;
use std::process::Command;

mod common;
use common::{run_in, write};

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
    let (code, found) = findings(tmp.path(), &["--strict-secrets"]);
    assert_eq!(code, Some(1));
    assert!(found.iter().any(|f| f.0 == "plaintext-secret-in-repo" && f.1 == "error"));

    // Without `namespace`, an entry means the namespace given with -n.
    write(tmp.path(), ".connections-allow.yaml", "plaintextSecrets:\n- name: pg-cred\n");
    let (code, _) = findings(tmp.path(), &["--strict-secrets", "-n", "data"]);
    assert_eq!(code, Some(0));
    let (code, _) = findings(tmp.path(), &["--strict-secrets"]);
    assert_eq!(code, Some(1), "not exempt in namespace `default`");

    // A namespace that is not a name is a finding, never "the default namespace".
    write(
        tmp.path(),
        ".connections-allow.yaml",
        "plaintextSecrets:\n- name: pg-cred\n  namespace: 2024\n",
    );
    let (code, found) = findings(tmp.path(), &["--strict-secrets", "-n", "data"]);
    assert_eq!(code, Some(1), "{found:?}");
    assert!(found.iter().any(|f| f.2 == ".connections-allow.yaml" && f.3 == 3), "{found:?}");

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

const UNDECLARED: &str = "apiVersion: connections.dev/v1alpha1
kind: Connection
metadata: {name: pg, namespace: data}
spec:
  type: postgres
  schema: {host: pg.data.svc, port: 5432, database: sales}
  secret: {name: pg-cred, items: [username, password]}
---
apiVersion: connections.dev/v1alpha1
kind: Connection
metadata:
  name: bucket
  namespace: data
  annotations: {connections.dev/remote-key: prod/s3/bucket}
spec:
  type: s3
  schema: {bucket: models}
  secret: {name: s3-cred}
";

const ESO_FLAGS: &[&str] = &["--secrets", "external-secret", "--secret-store", "vault"];

/// Runs tests/eso-schema (the `external-secrets.io/v1` types generated from the upstream ESO
/// CRD) over ExternalSecrets given as JSON; its exit status and report.
fn eso_schema_check(objects: &[serde_json::Value]) -> (bool, String) {
    let tmp = tempfile::tempdir().unwrap();
    let files: Vec<String> = objects
        .iter()
        .enumerate()
        .map(|(i, object)| {
            let file = tmp.path().join(format!("es-{i}.json"));
            std::fs::write(&file, object.to_string()).unwrap();
            file.display().to_string()
        })
        .collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--quiet", "--locked", "--manifest-path", "tests/eso-schema/Cargo.toml"])
        .args(["--target-dir", "target/eso-schema", "--"])
        .args(&files)
        .current_dir(&root)
        .output()
        .expect("cargo runs");
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), report)
}

/// The fields `external-secrets.io/v1` ExternalSecret accepts at each level we write (from the
/// ESO v1 API types, apis/externalsecrets/v1/externalsecret_types.go, as summarised in
/// shared/spec/ecosystem.md §4.2), and the values we choose; [`eso_schema_check`] checks the
/// same objects against the types generated from the upstream CRD.
fn check_external_secret_shape(object: &serde_json::Value) {
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let allowed = |v: &serde_json::Value, fields: &[&str], at: &str| {
        for key in keys(v) {
            assert!(fields.contains(&key.as_str()), "`{key}` is not a field of {at}");
        }
    };
    assert_eq!(object["apiVersion"], "external-secrets.io/v1");
    let spec = &object["spec"];
    allowed(
        spec,
        &["secretStoreRef", "target", "refreshInterval", "refreshPolicy", "data", "dataFrom"],
        "spec",
    );
    allowed(&spec["secretStoreRef"], &["name", "kind"], "spec.secretStoreRef");
    assert!(
        ["SecretStore", "ClusterSecretStore"]
            .contains(&spec["secretStoreRef"]["kind"].as_str().unwrap())
    );
    let target = &spec["target"];
    allowed(
        target,
        &["name", "creationPolicy", "deletionPolicy", "template", "immutable"],
        "spec.target",
    );
    assert!(
        ["Owner", "Orphan", "Merge", "None"].contains(&target["creationPolicy"].as_str().unwrap())
    );
    if let Some(template) = target.get("template") {
        allowed(
            template,
            &["type", "engineVersion", "metadata", "mergePolicy", "data", "templateFrom"],
            "spec.target.template",
        );
        assert_eq!(template["engineVersion"], "v2");
        assert!(["Replace", "Merge"].contains(&template["mergePolicy"].as_str().unwrap()));
    }
    let listed =
        |field: &str| spec.get(field).map_or(&[][..], |v| v.as_array().unwrap().as_slice());
    for item in listed("data") {
        allowed(item, &["secretKey", "remoteRef", "sourceRef"], "spec.data[]");
        allowed(
            &item["remoteRef"],
            &[
                "key",
                "property",
                "version",
                "conversionStrategy",
                "decodingStrategy",
                "metadataPolicy",
            ],
            "spec.data[].remoteRef",
        );
        assert!(item["secretKey"].is_string() && item["remoteRef"]["key"].is_string());
    }
    for item in listed("dataFrom") {
        allowed(item, &["extract", "find", "rewrite", "sourceRef"], "spec.dataFrom[]");
    }
    assert!(spec.get("data").is_some() || spec.get("dataFrom").is_some());
    // The duration must parse as Go's time.ParseDuration does.
    assert_eq!(spec["refreshInterval"], "1h");
}

#[test]
fn external_secret_mode_renders_an_external_secret_for_each_undeclared_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write(&repo, "connections.yaml", UNDECLARED);

    // Reference mode: the Secrets must exist.
    let (code, found) = findings(&repo, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(found.iter().filter(|f| f.0 == "dangling-secret-ref").count(), 2, "{found:?}");

    // A store is required.
    let out = run_in(&repo, &["render", ".", "--stdout", "--secrets", "external-secret"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--secret-store"));

    let (code, found) = findings(&repo, ESO_FLAGS);
    assert_eq!(code, Some(0), "{found:?}");

    let rendered = tmp.path().join("out");
    let mut args = vec!["render", ".", "--out", rendered.to_str().unwrap()];
    args.extend_from_slice(ESO_FLAGS);
    let out = run_in(&repo, &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let built = Command::new("kubectl").args(["kustomize"]).arg(&rendered).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let objects: Vec<serde_json::Value> = String::from_utf8(built.stdout)
        .unwrap()
        .split("\n---\n")
        .map(|doc| {
            let (docs, _) = connections_loader::load_text(
                &mut connections_core::source::SourceMap::default(),
                "x.yaml",
                doc,
            );
            connections_core::render::emit::node_to_json(&docs[0].root)
        })
        .collect();
    let external: Vec<&serde_json::Value> =
        objects.iter().filter(|o| o["kind"] == "ExternalSecret").collect();
    assert_eq!(external.len(), 2, "{objects:?}");
    for object in &external {
        check_external_secret_shape(object);
    }
    let owned: Vec<serde_json::Value> = external.iter().map(|o| (*o).clone()).collect();
    let (valid, report) = eso_schema_check(&owned);
    assert!(valid, "{report}");
    // The check can fail: an unknown field and a store kind the CRD does not allow.
    let mut broken = owned[0].clone();
    broken["spec"]["refreshIntervall"] = serde_json::json!("1h");
    broken["spec"]["secretStoreRef"]["kind"] = serde_json::json!("VaultStore");
    let (valid, report) = eso_schema_check(&[broken]);
    assert!(!valid, "{report}");
    assert!(report.contains("VaultStore") || report.contains("refreshIntervall"), "{report}");

    let pg = external.iter().find(|o| o["metadata"]["name"] == "pg-cred").unwrap();
    assert_eq!(pg["metadata"]["namespace"], "data");
    assert_eq!(pg["spec"]["secretStoreRef"]["name"], "vault");
    assert_eq!(pg["spec"]["secretStoreRef"]["kind"], "SecretStore");
    let data: Vec<(String, String, String)> = pg["spec"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["secretKey"].as_str().unwrap().into(),
                d["remoteRef"]["key"].as_str().unwrap().into(),
                d["remoteRef"]["property"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        data,
        [
            ("password".into(), "data/pg-cred".into(), "password".into()),
            ("username".into(), "data/pg-cred".into(), "username".into())
        ],
        "remote key `<namespace>/<secret>`, one property per key"
    );
    assert_eq!(
        pg["spec"]["target"]["template"]["data"]["uri"],
        "postgresql://{{ .username | urlquery | replace \"+\" \"%20\" }}:{{ .password | urlquery | replace \"+\" \"%20\" }}@pg.data.svc:5432/sales"
    );

    // A Secret needed whole is extracted; the Connection's annotation overrides the key.
    let s3 = external.iter().find(|o| o["metadata"]["name"] == "s3-cred").unwrap();
    assert_eq!(s3["spec"]["dataFrom"][0]["extract"]["key"], "prod/s3/bucket");
    assert!(s3["spec"].get("data").is_none() && s3["spec"]["target"].get("template").is_none());

    // Rendering the output again with the same flags changes nothing: the ExternalSecrets are
    // now declared by the input and pass through.
    let again = tmp.path().join("again");
    let mut args = vec!["render", ".", "--out", again.to_str().unwrap()];
    args.extend_from_slice(ESO_FLAGS);
    let out = run_in(&rendered, &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let strip = |dir: &Path| {
        let out = Command::new("kubectl").args(["kustomize"]).arg(dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(strip(&again), strip(&rendered));
}

#[test]
fn declared_secrets_get_no_external_secret() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "connection.yaml", CONNECTION);
    write(tmp.path(), "secret.sops.yaml", SOPS_SECRET);
    let mut args = vec!["render", ".", "--stdout"];
    args.extend_from_slice(ESO_FLAGS);
    let out = run_in(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stream = String::from_utf8(out.stdout).unwrap();
    assert!(!stream.contains("kind: ExternalSecret"), "{stream}");
}

#[test]
fn sops_files_pass_through_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "connection.yaml",
        &CONNECTION.replace("namespace: data", "namespace: default"),
    );
    // No namespace written: adding one would break the SOPS MAC.
    write(tmp.path(), "secret.sops.yaml", &SOPS_SECRET.replace(", namespace: data", ""));
    let out = run_in(tmp.path(), &["render", ".", "--stdout"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stream = String::from_utf8(out.stdout).unwrap();
    let secret = stream.split("\n---\n").find(|d| d.contains("kind: Secret")).unwrap();
    assert!(!secret.contains("namespace:"), "{secret}");
    assert!(secret.contains("mac: ENC[AES256_GCM,data:bWFj"), "{secret}");
}

#[test]
fn remote_key_annotation_applies_to_the_connections_own_secret_and_taken_names_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let with_ca = UNDECLARED.replace(
        "  secret: {name: s3-cred}\n",
        "  secret: {name: s3-cred}\n  credentials:\n    ca: {valueFrom: {secretKeyRef: {name: ca, key: ca.crt}}}\n",
    );
    write(tmp.path(), "connections.yaml", &with_ca);
    let mut args = vec!["render", ".", "--stdout"];
    args.extend_from_slice(ESO_FLAGS);
    let out = run_in(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stream = String::from_utf8(out.stdout).unwrap();
    let ca = stream
        .split("\n---\n")
        .find(|d| d.contains("kind: ExternalSecret") && d.contains("  name: ca\n"))
        .unwrap();
    assert!(ca.contains("key: data/ca") && ca.contains("property: ca.crt"), "{ca}");

    // An ExternalSecret named like the Secret, creating another one, takes the name.
    write(
        tmp.path(),
        "other.yaml",
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: pg-cred, namespace: data}\nspec:\n  secretStoreRef: {name: vault, kind: SecretStore}\n  target: {name: pg-app}\n  data:\n  - secretKey: password\n    remoteRef: {key: app, property: password}\n",
    );
    let (code, found) = findings(tmp.path(), ESO_FLAGS);
    assert_eq!(code, Some(1), "{found:?}");
    let taken = found.iter().find(|f| f.0 == "duplicate-object").unwrap();
    assert_eq!((taken.2.as_str(), taken.3), ("connections.yaml", 7), "{taken:?}");
}

#[test]
fn snippets_never_show_a_last_applied_copy_or_an_unparsed_secret() {
    let tmp = tempfile::tempdir().unwrap();
    // The finding is at `stringData`, right under the annotation holding the values again.
    write(
        tmp.path(),
        "applied/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"stringData\":{\"password\":\"canary-applied-5f\"}}'\nstringData:\n  password: canary-applied-5f\n",
    );
    // A Secret that does not parse is never lowered: its lines stay hidden.
    write(
        tmp.path(),
        "broken/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: canary-broken-6a\n  user: [oops\n",
    );
    for (dir, canary) in [("applied", "canary-applied-5f"), ("broken", "canary-broken-6a")] {
        let out = run_in(&tmp.path().join(dir), &["validate", "."]);
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(shown.contains(".yaml"), "{dir}: {shown}");
        assert!(!shown.contains(canary), "{dir}: {shown}");
    }
}
