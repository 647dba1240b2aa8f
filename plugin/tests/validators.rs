//! Our output through third-party validators (tests/validators/requirements.txt, installed by
//! .ci/run): SARIF logs against the OASIS SARIF 2.1.0 JSON schema, and rendered manifests
//! through `kubernetes-validate --strict` (the Kubernetes OpenAPI schemas, unknown fields
//! rejected). Each validator is first shown to reject a broken input, so that a pass means
//! something.

mod common;

use common::{run_in, text, workspace, write};
use std::path::Path;
use std::process::{Command, Output};

fn python(args: &[&str]) -> Output {
    Command::new("python3").args(args).output().expect("python3 runs")
}

fn validate_sarif(log: &Path) -> Output {
    let script = workspace().join("tests/validators/validate_sarif.py");
    python(&[script.to_str().unwrap(), log.to_str().unwrap()])
}

fn kubernetes_validate(files: &[std::path::PathBuf]) -> Output {
    let mut command = Command::new("kubernetes-validate");
    command.args(["--strict", "--no-warn", "-k", "1.32.0"]).args(files);
    command.output().expect(
        "kubernetes-validate must be installed: pip install -r tests/validators/requirements.txt",
    )
}

/// Every file of `dir` named `*.yaml` but the kustomization.
fn manifests(dir: &Path) -> Vec<std::path::PathBuf> {
    common::snapshot(dir)
        .into_iter()
        .map(|(path, _)| dir.join(path))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| p.file_name().is_some_and(|n| n != "kustomization.yaml"))
        .collect()
}

#[test]
fn sarif_logs_are_valid_sarif_2_1_0_and_hold_every_finding() {
    let tmp = tempfile::tempdir().unwrap();
    // The schema check can fail: a result without a message is rejected.
    let broken = tmp.path().join("broken.sarif");
    std::fs::write(
        &broken,
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"a"}]}]}"#,
    )
    .unwrap();
    let out = validate_sarif(&broken);
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("'message' is a required property"));

    let cases =
        ["dangling-secret-ref", "invalid-binding-entry", "duplicate-key", "invalid-kubeconfig"];
    for case in cases {
        let input = workspace().join("fixtures/checks").join(case).join("input");
        let sarif = run_in(&input, &["validate", ".", "--output-format", "sarif"]);
        let json = run_in(&input, &["validate", ".", "--output-format", "json"]);
        assert_eq!(sarif.status.code(), json.status.code(), "{case}");
        let log = tmp.path().join(format!("{case}.sarif"));
        std::fs::write(&log, &sarif.stdout).unwrap();
        let out = validate_sarif(&log);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{case}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );

        // The same findings as the JSON report, at the same places.
        let sarif: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        let findings = json["diagnostics"].as_array().unwrap();
        assert!(!results.is_empty(), "{case}: no findings to compare");
        assert_eq!(results.len(), findings.len(), "{case}");
        let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        for (result, finding) in results.iter().zip(findings) {
            assert_eq!(result["ruleId"], finding["check"], "{case}");
            let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], result["ruleId"], "{case}: ruleIndex");
            let location = &result["locations"][0]["physicalLocation"];
            // Relative to the top of the Git work tree (the checkout), wherever it ran.
            let in_checkout =
                format!("fixtures/checks/{case}/input/{}", finding["file"].as_str().unwrap());
            assert_eq!(location["artifactLocation"]["uri"], in_checkout.as_str(), "{case}");
            assert_eq!(location["region"]["startLine"], finding["line"], "{case}");
            assert!(
                result["message"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with(finding["message"].as_str().unwrap()),
                "{case}"
            );
        }
    }
}

#[test]
fn rendered_manifests_pass_kubernetes_validate_strict() {
    let tmp = tempfile::tempdir().unwrap();
    // The validator can fail: a Deployment with a string replica count is rejected.
    write(
        tmp.path(),
        "bad/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: two\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: i}]}\n",
    );
    let out = kubernetes_validate(&[tmp.path().join("bad/deployment.yaml")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));

    let mut sources: Vec<(String, std::path::PathBuf)> =
        vec![("example".into(), workspace().join("examples/gitops-repo"))];
    for case in ["service-binding", "polyaxon-projection", "connection-type", "passthrough"] {
        sources.push((case.into(), workspace().join("fixtures/render").join(case).join("input")));
    }
    let mut passed = 0;
    for (name, input) in sources {
        let out_dir = tmp.path().join(&name);
        let out = run_in(&input, &["render", ".", "--out", out_dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let out = kubernetes_validate(&manifests(&out_dir));
        let report = text(&out.stdout) + &text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {report}");
        passed +=
            report.lines().filter(|l| l.starts_with("INFO") && l.contains(" passed ")).count();
    }
    // Kinds without a schema there (custom resources) are only warned about: make sure
    // the core objects, which are most of the output, were really checked.
    assert!(passed >= 20, "only {passed} objects were validated");
}

#[test]
fn the_flux_example_syncs_only_rendered_output() {
    let yaml = std::fs::read_to_string(workspace().join("examples/flux/sync.yaml")).unwrap();
    let mut sources = connections_core::source::SourceMap::new();
    let (documents, problems) = connections_loader::load_text(&mut sources, "sync.yaml", &yaml);
    assert!(problems.is_empty(), "{problems:?}");
    let find = |kind: &str| {
        documents
            .iter()
            .map(|d| &d.root)
            .find(|d| d.get("kind").and_then(connections_core::syntax::Node::as_str) == Some(kind))
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    let text_at = |node: &connections_core::syntax::Node, path: &[&str]| {
        node.path(path).and_then(connections_core::syntax::Node::as_str).unwrap().to_string()
    };
    let kustomization = find("Kustomization");
    assert!(text_at(kustomization, &["spec", "path"]).starts_with("./rendered/"));
    let repository = find("GitRepository");
    assert_eq!(
        text_at(kustomization, &["spec", "sourceRef", "name"]),
        text_at(repository, &["metadata", "name"])
    );
    assert!(text_at(repository, &["spec", "ignore"]).contains("!/rendered/"));
}

/// Every `connections.dev` object of kind `kind` in the `-ok` check fixtures, the render
/// fixtures and the example repository, as JSON files in `dir` (they validate clean).
fn clean_objects(kind: &str, dir: &Path) -> Vec<std::path::PathBuf> {
    let mut roots = vec![workspace().join("examples/gitops-repo")];
    for group in ["fixtures/checks", "fixtures/render"] {
        for entry in std::fs::read_dir(workspace().join(group)).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if group.ends_with("render") || name.ends_with("-ok") {
                roots.push(entry.path().join("input"));
            }
        }
    }
    let mut out = Vec::new();
    for root in roots {
        for (path, bytes) in common::snapshot(&root) {
            if !path.ends_with(".yaml") {
                continue;
            }
            let mut sources = connections_core::source::SourceMap::new();
            let text = String::from_utf8(bytes).unwrap();
            let (documents, _) = connections_loader::load_text(&mut sources, &path, &text);
            for document in documents {
                let json = connections_core::render::emit::node_to_json(&document.root);
                if json["apiVersion"].as_str().is_some_and(|a| a.starts_with("connections.dev/"))
                    && json["kind"] == kind
                {
                    let file = dir.join(format!("{kind}-{}.json", out.len()));
                    std::fs::write(&file, json.to_string()).unwrap();
                    out.push(file);
                }
            }
        }
    }
    out
}

fn validate_json_schema(schema: &str, documents: &[std::path::PathBuf]) -> Output {
    let script = workspace().join("tests/validators/validate_json_schema.py");
    let schema = workspace().join("schemas").join(schema);
    let mut args = vec![script.display().to_string(), schema.display().to_string()];
    args.extend(documents.iter().map(|d| d.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    python(&args)
}

#[test]
fn the_json_schemas_accept_every_clean_manifest_and_reject_broken_ones() {
    let tmp = tempfile::tempdir().unwrap();
    for (kind, schema, broken) in [
        (
            "Connection",
            "connection.json",
            r#"{"apiVersion":"connections.dev/v1alpha1","kind":"Connection","metadata":{"name":"x"},"spec":{"type":5,"secrett":{}}}"#,
        ),
        (
            "ConnectionType",
            "connectiontype.json",
            r#"{"apiVersion":"connections.dev/v1alpha1","kind":"ConnectionType","metadata":{"name":"x"},"spec":{"fields":"no"}}"#,
        ),
    ] {
        let clean = clean_objects(kind, tmp.path());
        assert!(clean.len() >= 2, "only {} {kind} manifests found", clean.len());
        let out = validate_json_schema(schema, &clean);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{kind}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let bad = tmp.path().join(format!("broken-{kind}.json"));
        std::fs::write(&bad, broken).unwrap();
        let out = validate_json_schema(schema, &[bad]);
        assert_eq!(out.status.code(), Some(1), "{kind}: {}", text(&out.stdout));
    }
}
