//! The KRM function end to end with the real kpt (`kpt fn source`, `kpt fn eval --exec`,
//! `kpt fn render --allow-exec` with a Kptfile pipeline), and the legacy exec generator plugin
//! with the real `kubectl kustomize --enable-alpha-plugins`, next to the trap it avoids:
//! kubectl kustomize skips KRM exec functions and still exits 0.

mod common;

use common::{bin, command_in, snapshot, text, workspace, write};
use connections_core::syntax::Node;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn kpt(dir: &Path, args: &[&str]) -> Output {
    Command::new("kpt")
        .args(args)
        .current_dir(dir)
        // `kpt fn render` finds `kubectl-connections` (the Kptfile's exec) on PATH.
        .env("PATH", path_with_binary())
        .output()
        .expect("kpt must be installed: these tests run the real kpt")
}

/// `kpt fn eval . --exec "<binary> fn render"` in `dir`, then `options` (`-o`, `--`, ...).
fn kpt_eval(dir: &Path, options: &[&str]) -> Output {
    let exec = format!("{} fn render", bin());
    let mut args = vec!["fn", "eval", ".", "--exec", exec.as_str()];
    args.extend_from_slice(options);
    kpt(dir, &args)
}

fn path_with_binary() -> String {
    let dir = Path::new(bin()).parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// A copy of the example kpt package in a temporary folder.
fn package() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tmp.path().join("orders");
    let source = workspace().join("examples/kpt/orders");
    for (path, bytes) in snapshot(&source) {
        write(&pkg, &path, &String::from_utf8(bytes).unwrap());
    }
    (tmp, pkg)
}

fn parse(yaml: &str) -> Vec<Node> {
    let mut sources = connections_core::source::SourceMap::new();
    let (documents, problems) = connections_loader::load_text(&mut sources, "out", yaml);
    assert!(problems.is_empty(), "{problems:?}\n{yaml}");
    documents.into_iter().map(|d| d.root).collect()
}

fn str_at<'n>(node: &'n Node, path: &[&str]) -> Option<&'n str> {
    node.path(path).and_then(Node::as_str)
}

/// `fn render` with `input` on stdin.
fn run_fn(input: &[u8]) -> Output {
    let mut child = command_in(&workspace(), &["fn", "render"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_function_patches_workloads_adds_generated_items_and_passes_the_rest() {
    let (_tmp, pkg) = package();
    let source = kpt(&pkg, &["fn", "source", "."]);
    assert!(source.status.success(), "{}", text(&source.stderr));
    let input = parse(&text(&source.stdout)).remove(0);
    let out = run_fn(&source.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let output = parse(&text(&out.stdout)).remove(0);
    assert_eq!(str_at(&output, &["kind"]), Some("ResourceList"));
    let items_in = input.get("items").and_then(Node::as_seq).unwrap();
    let items = output.get("items").and_then(Node::as_seq).unwrap();
    assert_eq!(items.len(), items_in.len() + 1, "one generated ConfigMap");
    let json = connections_core::render::emit::node_to_json;
    for (before, after) in items_in.iter().zip(items) {
        let kind = str_at(before, &["kind"]).unwrap();
        if kind == "Deployment" {
            // Patched, and still tracked as the same item.
            assert!(json(after).to_string().contains("ORDERS_DB_HOST"));
            for key in ["internal.config.kubernetes.io/path", "config.kubernetes.io/index"] {
                let annotations = ["metadata", "annotations", key];
                assert_eq!(str_at(after, &annotations), str_at(before, &annotations), "{key}");
            }
        } else {
            assert_eq!(json(after), json(before), "{kind} must pass through unchanged");
        }
    }
    let generated = items.last().unwrap();
    assert_eq!(str_at(generated, &["metadata", "name"]), Some("orders-db-connection"));
    for key in ["config.kubernetes.io/path", "internal.config.kubernetes.io/path"] {
        assert_eq!(
            str_at(generated, &["metadata", "annotations", key]),
            Some("apps/configmap-orders-db-connection.yaml")
        );
    }
    assert!(output.get("results").is_none(), "{}", text(&out.stdout));
}

#[test]
fn kpt_eval_and_a_kptfile_pipeline_run_the_function_and_a_rerun_changes_nothing() {
    let (_tmp, pkg) = package();
    let eval = kpt_eval(&pkg, &["-o", "unwrap", "--", "namespace=apps"]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let stream = text(&eval.stdout);
    assert!(stream.contains("name: orders-db-connection"), "{stream}");
    assert!(stream.contains("name: ORDERS_DB_HOST"), "{stream}");

    let before = snapshot(&pkg);
    let render = kpt(&pkg, &["fn", "render", ".", "--allow-exec"]);
    assert!(render.status.success(), "{}{}", text(&render.stdout), text(&render.stderr));
    let after = snapshot(&pkg);
    let written: Vec<&str> = after.iter().map(|(p, _)| p.as_str()).collect();
    assert!(written.contains(&"apps/configmap-orders-db-connection.yaml"), "{written:?}");
    let file = |files: &[(String, Vec<u8>)], name: &str| {
        files.iter().find(|(p, _)| p == name).map(|(_, b)| b.clone())
    };
    assert_eq!(file(&before, "Kptfile"), file(&after, "Kptfile"));
    // kpt writes every file back in its own style (flow lists become block lists): the
    // content of the items the function does not own stays the same.
    let content = |files: &[(String, Vec<u8>)], name: &str| {
        let yaml = String::from_utf8(file(files, name).unwrap()).unwrap();
        connections_core::render::emit::node_to_json(&parse(&yaml)[0])
    };
    for unchanged in ["connection.yaml", "credentials.yaml"] {
        assert_eq!(content(&before, unchanged), content(&after, unchanged), "{unchanged}");
    }
    assert_ne!(file(&before, "api.yaml"), file(&after, "api.yaml"));

    let again = kpt(&pkg, &["fn", "render", ".", "--allow-exec"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(snapshot(&pkg), after, "a second run changed the package");
}

#[test]
fn findings_become_kpt_results_with_resource_field_and_file() {
    let (tmp, pkg) = package();
    std::fs::remove_file(pkg.join("credentials.yaml")).unwrap();
    // A plaintext Secret: its warning must not carry its value.
    write(
        &pkg,
        "legacy.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: legacy, namespace: apps}\nstringData: {token: canary-krm-4d1e}\n",
    );
    let results = tmp.path().join("results");
    let out = kpt_eval(&pkg, &["--results-dir", results.to_str().unwrap(), "-o", "stdout"]);
    assert!(!out.status.success());
    let shown = text(&out.stderr);
    assert!(
        shown.contains(
            "[error] connections.dev/v1alpha1/Connection/apps/orders-db spec.secret.name:"
        ),
        "{shown}"
    );
    let list = parse(&std::fs::read_to_string(results.join("results.yaml")).unwrap()).remove(0);
    let all = connections_core::render::emit::node_to_json(&list).to_string();
    assert!(!all.contains("canary-krm-4d1e") && !shown.contains("canary-krm-4d1e"), "{all}");
    let result = list.path(&["items"]).and_then(Node::as_seq).unwrap()[0]
        .get("results")
        .and_then(Node::as_seq)
        .unwrap()
        .iter()
        .find(|r| str_at(r, &["tags", "check"]) == Some("dangling-secret-ref"))
        .expect("the dangling reference")
        .clone();
    assert_eq!(str_at(&result, &["severity"]), Some("error"));
    assert_eq!(str_at(&result, &["resourceRef", "kind"]), Some("Connection"));
    assert_eq!(str_at(&result, &["resourceRef", "name"]), Some("orders-db"));
    assert_eq!(str_at(&result, &["field", "path"]), Some("spec.secret.name"));
    assert_eq!(str_at(&result, &["file", "path"]), Some("connection.yaml"));
    // With an error the items come back as they went in: nothing generated.
    assert!(!text(&out.stdout).contains("orders-db-connection"));
    // The warning for the plaintext Secret is a result too.
    assert!(all.contains("plaintext-secret-in-repo"), "{all}");
}

#[test]
fn function_config_chooses_the_secrets_mode_and_unknown_settings_are_refused() {
    let (_tmp, pkg) = package();
    std::fs::remove_file(pkg.join("credentials.yaml")).unwrap();
    let eval = |settings: &[&str]| {
        let mut options = vec!["-o", "unwrap", "--"];
        options.extend_from_slice(settings);
        kpt_eval(&pkg, &options)
    };
    let out = eval(&["secrets=external-secret", "secret-store=vault"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let external = parse(&text(&out.stdout))
        .into_iter()
        .find(|d| str_at(d, &["kind"]) == Some("ExternalSecret"))
        .expect("an ExternalSecret for the undeclared Secret");
    assert_eq!(str_at(&external, &["metadata", "name"]), Some("orders-db-credentials"));
    // In place (no -o), kpt writes it where render --out would.
    let in_place = kpt_eval(&pkg, &["--", "secrets=external-secret", "secret-store=vault"]);
    assert!(in_place.status.success(), "{}", text(&in_place.stderr));
    assert!(pkg.join("apps/externalsecret-orders-db-credentials.yaml").is_file());

    let out = eval(&["colour=blue"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown setting `colour`"), "{}", text(&out.stderr));
}

#[test]
fn input_that_is_not_a_resource_list_is_refused() {
    let out = run_fn(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a ResourceList"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let out = run_fn(b"items: [\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn kubectl_kustomize_runs_the_legacy_plugin_and_skips_a_krm_exec_function_silently() {
    let example = workspace().join("examples/kustomize");
    let kustomize = |dir: &Path| {
        Command::new("kubectl")
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(dir)
            .env("KUSTOMIZE_PLUGIN_HOME", example.join("plugins"))
            .env("PATH", path_with_binary())
            .output()
            .expect("kubectl runs")
    };
    let out = kustomize(&example.join("app"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let objects = parse(&text(&out.stdout));
    let names: Vec<(&str, &str)> = objects
        .iter()
        .map(|o| (str_at(o, &["kind"]).unwrap(), str_at(o, &["metadata", "name"]).unwrap()))
        .collect();
    assert!(names.contains(&("ConfigMap", "orders-db-connection")), "{names:?}");
    assert!(text(&out.stdout).contains("ORDERS_DB_HOST"));

    // The same generator written as a KRM exec function: kubectl kustomize exits 0 and
    // leaves its output out. This is why the legacy form is shipped.
    let tmp = tempfile::tempdir().unwrap();
    let trap = tmp.path();
    write(trap, "kustomization.yaml", "resources: [api.yaml]\ngenerators: [connections.yaml]\n");
    write(
        trap,
        "connections.yaml",
        &format!(
            "apiVersion: connections.dev/v1alpha1\nkind: ConnectionRenderer\nmetadata:\n  name: c\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: {}\nspec:\n  path: connections\n",
            bin()
        ),
    );
    let api = std::fs::read_to_string(example.join("app/connections/api.yaml")).unwrap();
    write(trap, "api.yaml", &api);
    let out = kustomize(trap);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("orders-db-connection"));
    assert!(!text(&out.stdout).contains("ORDERS_DB_HOST"));
}

#[test]
fn a_list_item_holding_a_workload_to_patch_is_an_error_not_a_loss() {
    let list = "apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: connections.dev/v1alpha1
  kind: Connection
  metadata: {name: cache, namespace: apps}
  spec: {type: redis, schema: {host: redis.apps.svc}}
- apiVersion: v1
  kind: List
  metadata:
    annotations: {config.kubernetes.io/path: bundle.yaml}
  items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: keep-me, namespace: apps}
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
      namespace: apps
      annotations: {connections.dev/use: cache}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec: {containers: [{name: api, image: api:1}]}
";
    let out = run_fn(list.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let output = parse(&text(&out.stdout)).remove(0);
    let all = connections_core::render::emit::node_to_json(&output).to_string();
    assert!(all.contains("keep-me"), "the List's other member was dropped: {all}");
    assert!(!all.contains("CACHE_HOST"), "a member was patched: {all}");
    let results = output.get("results").and_then(Node::as_seq).unwrap();
    let list_result = results
        .iter()
        .find(|r| str_at(r, &["message"]).is_some_and(|m| m.contains("is a List")))
        .expect("a result for the List");
    assert_eq!(str_at(list_result, &["severity"]), Some("error"));
    assert_eq!(str_at(list_result, &["file", "path"]), Some("bundle.yaml"));

    // A List of one: not unwrapped into its member either.
    let single = list.replace(
        "  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: keep-me, namespace: apps}\n",
        "",
    );
    assert!(!single.contains("keep-me"));
    let out = run_fn(single.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("kind: List"), "{}", text(&out.stdout));
}
