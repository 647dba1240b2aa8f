//! The live commands against a stateful Kubernetes API emulator (tests/apiserver, kmock-based,
//! over plain HTTP and TLS), set up with the real `kubectl` and run through `kubectl connections`,
//! and health checks against real PostgreSQL, MariaDB and Redis servers on 127.0.0.1
//! (tests/dbservers/start.sh).
//!
//! What the emulator does not cover (admission, server-side validation, conflicts) is listed in
//! tests/apiserver/README.md.

mod common;

use common::apiserver::{ApiServer, connections};
use common::{bin, text, workspace};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The example repository's objects, applied as they would be (with the Secret the example
/// seals, so that references resolve in the cluster).
fn apply_example(server: &ApiServer) {
    server.install_crds();
    let mut files = Vec::new();
    let mut stack = vec![workspace().join("examples/gitops-repo")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml")
                && path.file_name().unwrap() != "kustomization.yaml"
            {
                files.push(path);
            }
        }
    }
    files.sort();
    // Namespaces first; SealedSecrets and the ClusterSecretStore have no CRD here: the Secrets
    // their controllers would create are applied instead.
    server.apply_files(&[workspace().join("examples/gitops-repo/clusters/prod/namespaces.yaml")]);
    for file in files {
        let content = std::fs::read_to_string(&file).unwrap();
        for doc in content.split("\n---\n") {
            if doc.contains("kind: SealedSecret")
                || doc.contains("kind: ExternalSecret")
                || doc.contains("kind: ClusterSecretStore")
            {
                continue;
            }
            server.apply(doc);
        }
    }
    server.apply(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: warehouse-credentials, namespace: team-data}\nstringData: {password: canary-live-1}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: git-ssh\n  namespace: team-ml\n  labels: {kubedirector.hpe.com/secretType: source-control}\nstringData: {ssh-privatekey: canary-live-2}\n",
    );
}

#[test]
fn kubectl_lists_the_plugin_and_runs_it() {
    let server = ApiServer::start(false);
    let list = server.kubectl(&["plugin", "list"], None);
    assert!(
        text(&list.stdout).contains("kubectl-connections"),
        "{}{}",
        text(&list.stdout),
        text(&list.stderr)
    );
    let help = connections(&server, &["--help"]);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("Usage: kubectl connections"), "{}", text(&help.stdout));
}

#[test]
fn describe_a_connection_through_kubectl_over_tls() {
    let server = ApiServer::start(true);
    apply_example(&server);
    let out = connections(&server, &["describe", "warehouse", "-n", "team-data"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for expected in [
        "Name:           warehouse",
        "Namespace:      team-data",
        "Type:           postgres",
        "ConfigMap:      ConfigMap warehouse-settings  ✓ found; keys: PGAPPNAME ✓, PGCONNECT_TIMEOUT ✓",
        "password:     Secret warehouse-credentials  ✓ found; keys: password ✓",
        "Deployment/reporting-api",
        "CronJob/nightly-export",
        "Health Check:   Interval, every 5m, timeout 5s",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("canary-live"), "a Secret value was printed");
    // The same view from the repository, offline.
    let offline = Command::new(bin())
        .args(["describe", "warehouse", "-n", "team-data", "--repo"])
        .arg(workspace().join("examples/gitops-repo"))
        .output()
        .unwrap();
    assert!(text(&offline.stdout).contains("password:     Secret warehouse-credentials (as SealedSecret warehouse-credentials)  ✓ found; keys: password ✓"), "{}", text(&offline.stdout));
}

#[test]
fn describe_a_kubedirector_cluster_shows_what_kubedirector_includes() {
    let server = ApiServer::start(false);
    apply_example(&server);
    server.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: no-label, namespace: team-ml}\ndata: {a: b}\n");
    server.apply("apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata: {name: nb, namespace: team-ml}\nspec:\n  app: jupyter\n  connections:\n    configmaps: [source-control-info, no-label, gone]\n    secrets: [git-ssh]\n  roles: [{id: controller, members: 1}]\n");
    let out = connections(&server, &["describe", "kdcluster/nb", "-n", "team-ml"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for expected in [
        "source-control-info     ✓ included, group \"source-control\"",
        "no-label                ✗ skipped by KubeDirector: no label kubedirector.hpe.com/cmType (add it to metadata.labels)",
        "gone                    ✗ skipped by KubeDirector: no ConfigMap gone in namespace team-ml",
        "git-ssh                 ✓ included, group \"source-control\"",
        "\"ssh-privatekey\": \"***\"",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("canary-live"), "a Secret value was printed");
}

#[test]
fn describe_a_loft_cluster_checks_its_kubeconfig_without_printing_it() {
    let server = ApiServer::start(false);
    server.install_crds();
    server.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: loft}\n");
    let kubeconfig = |current: &str| {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n- name: c\n  cluster: {{server: https://prod.example:6443}}\nusers:\n- name: u\n  user: {{token: canary-token-9}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\n"
        )
    };
    let secret = |name: &str, config: &str| {
        let indented: String = config.lines().map(|l| format!("    {l}\n")).collect();
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: loft}}\nstringData:\n  config: |\n{indented}"
        )
    };
    server.apply(&secret("good-kubeconfig", &kubeconfig("c")));
    server.apply(&secret("bad-kubeconfig", &kubeconfig("missing")));
    for (name, secret_name) in [("good", "good-kubeconfig"), ("bad", "bad-kubeconfig")] {
        server.apply(&format!("apiVersion: storage.loft.sh/v1\nkind: Cluster\nmetadata: {{name: {name}}}\nspec:\n  owner: {{user: alice}}\n  config: {{secretName: {secret_name}, secretNamespace: loft, key: config}}\n  access: [{{verbs: [\"*\"], users: [alice]}}]\n"));
    }
    let good = text(&connections(&server, &["describe", "cluster/good"]).stdout);
    assert!(good.contains("Kubeconfig:     ✓ valid"), "{good}");
    assert!(
        good.contains("Config:         Secret loft/good-kubeconfig  ✓ found; key config ✓"),
        "{good}"
    );
    let bad = text(&connections(&server, &["describe", "cluster/bad"]).stdout);
    assert!(
        bad.contains(
            "Kubeconfig:     ✗ invalid: context was not found for specified context: missing"
        ),
        "{bad}"
    );
    assert!(
        !good.contains("canary-token") && !bad.contains("canary-token"),
        "the kubeconfig was printed"
    );
}

#[test]
fn list_in_kubectl_style() {
    let server = ApiServer::start(false);
    apply_example(&server);
    let table = text(&connections(&server, &["list", "-A"]).stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAMESPACE   NAME"), "{table}");
    assert!(lines[0].ends_with("AGE"), "{table}");
    assert!(table.contains("team-data   connection/warehouse"), "{table}");
    assert!(table.contains("team-ml     kubedirectorcluster/jupyter-notebook"), "{table}");
    let no_headers =
        text(&connections(&server, &["list", "-n", "team-data", "--no-headers"]).stdout);
    assert!(no_headers.starts_with("connection/lake"), "{no_headers}");
    let names = text(&connections(&server, &["list", "-n", "team-data", "-o", "name"]).stdout);
    assert_eq!(names, "connection.connections.dev/lake\nconnection.connections.dev/warehouse\n");
    let json: serde_json::Value =
        serde_json::from_slice(&connections(&server, &["list", "-A", "-o", "json"]).stdout)
            .unwrap();
    assert_eq!(json["kind"], "List");
    assert_eq!(json["metadata"]["resourceVersion"], "");
    assert!(
        json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["metadata"].get("managedFields").is_none())
    );
    // The selector goes to the server (the emulator filters by labels).
    server.apply("apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: labelled, namespace: team-data, labels: {tier: gold}}\nspec: {type: redis, schema: {host: r}}\n");
    let selected =
        text(&connections(&server, &["list", "-A", "-l", "tier=gold", "-o", "name"]).stdout);
    assert_eq!(selected, "connection.connections.dev/labelled\n");
    let get = text(
        &connections(&server, &["get", "connection/labelled", "-n", "team-data", "-o", "yaml"])
            .stdout,
    );
    assert!(get.starts_with("apiVersion: connections.dev/v1alpha1\nkind: Connection\n"), "{get}");
    assert!(!get.contains("managedFields"));
}

#[test]
fn api_economy_one_list_per_kind_over_a_thousand_connections() {
    let server = ApiServer::start(false);
    server.install_crds();
    server.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n");
    let mut yaml = String::new();
    for i in 0..1000 {
        yaml.push_str(&format!(
            "---\napiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: c{i}, namespace: big}}\nspec:\n  type: postgres\n  schema: {{host: h{i}}}\n  secret: {{name: s{i}, items: [password]}}\n"
        ));
    }
    let out = server.kubectl(&["create", "--validate=false", "-f", "-"], Some(&yaml));
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (args, label) in
        [(vec!["describe", "c500", "-n", "big"], "describe"), (vec!["list", "-A"], "list -A")]
    {
        server.reset_requests();
        let started = Instant::now();
        let result = connections(&server, &args);
        let elapsed = started.elapsed();
        assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
        let requests = server.requests();
        let gets: Vec<_> = requests.iter().filter(|(m, _)| m == "GET").collect();
        // One list per kind the views read, whatever the number of connections.
        assert!(gets.len() <= 16, "{label}: {} requests: {gets:?}", gets.len());
        assert!(
            requests.iter().all(|(_, p)| !p.contains("/c500") && !p.contains("/s500")),
            "{label} made per-object requests"
        );
        eprintln!("{label}: {} requests, {elapsed:?} over 1,000 connections", requests.len());
    }
}

#[test]
fn cluster_errors_are_clear_and_exit_2() {
    // Nothing listens: the server and the context are named, within the request timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("config");
    std::fs::write(&kubeconfig, format!("apiVersion: v1\nkind: Config\ncurrent-context: down\nclusters:\n- name: down\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: down\n  context: {{cluster: down, user: u}}\n")).unwrap();
    let started = Instant::now();
    let out = Command::new(bin())
        .args(["list", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--request-timeout", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(started.elapsed() < Duration::from_secs(5));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot reach the API server at http://127.0.0.1:{port}/"))
            && stderr.contains("context \"down\""),
        "{stderr}"
    );

    let server = ApiServer::start(false);
    // The CRD is not installed yet: say how to install it.
    let out = connections(&server, &["list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("kubectl connections crd | kubectl apply -f -"),
        "{}",
        text(&out.stderr)
    );
    server.install_crds();
    let out = connections(&server, &["describe", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "error: connection/nope not found in namespace default\n");
    server.fault(r#"{"status": 403, "count": -1, "path": "connections.dev/v1alpha1/namespaces/team-x/connections"}"#);
    let out = connections(&server, &["list", "-n", "team-x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("forbidden (403): the user of context \"test\" may not list connections.connections.dev in namespace \"team-x\""), "{}", text(&out.stderr));
    server.test_endpoint("POST", "/_test/faults/reset", None);
    server.fault(r#"{"status": 401, "count": -1}"#);
    let out = connections(&server, &["list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did not accept the credentials (401 Unauthorized)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn kubeconfig_merging_context_and_namespace_like_kubectl() {
    let server = ApiServer::start(false);
    server.install_crds();
    server.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: from-context}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: from-flag}\n");
    for ns in ["default", "from-context", "from-flag"] {
        server.apply(&format!("apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: in-{ns}, namespace: {ns}}}\nspec: {{type: redis, schema: {{host: r}}}}\n"));
    }
    let tmp = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(server.kubeconfig()).unwrap();
    // A second file adds a context `other` (namespace from-context) pointing at the same server.
    let second = tmp.path().join("second");
    let with_ns = original
        .replace("name: test\n  context:", "name: other\n  context:")
        .replace("namespace: default", "namespace: from-context");
    std::fs::write(&second, with_ns.replace("current-context: test", "current-context: other"))
        .unwrap();
    let env = format!(
        "{}:{}:{}",
        server.kubeconfig().display(),
        tmp.path().join("missing").display(),
        second.display()
    );
    let run = |args: &[&str]| {
        let out = Command::new(bin())
            .args(args)
            .env("KUBECONFIG", &env)
            .env("HOME", tmp.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    // The first file's current-context (`test`, namespace default) wins; a missing file is skipped.
    assert_eq!(run(&["list", "-o", "name"]), "connection.connections.dev/in-default\n");
    // --context picks a context that is not current, with its namespace.
    assert_eq!(
        run(&["list", "-o", "name", "--context", "other"]),
        "connection.connections.dev/in-from-context\n"
    );
    // -n beats the context's namespace.
    assert_eq!(
        run(&["list", "-o", "name", "--context", "other", "-n", "from-flag"]),
        "connection.connections.dev/in-from-flag\n"
    );
    // --kubeconfig alone ignores KUBECONFIG (the second file's context is unknown there).
    let out = Command::new(bin())
        .args(["list", "--context", "other", "--kubeconfig"])
        .arg(server.kubeconfig())
        .env("KUBECONFIG", &env)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
}

#[test]
fn cluster_check_satisfies_references_from_the_cluster() {
    let server = ApiServer::start(false);
    server.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: only-in-cluster, namespace: apps}\nstringData: {token: canary-live-3}\n");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: apps}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    env:\n    - {name: T, valueFrom: {secretKeyRef: {name: only-in-cluster, key: token}}}\n",
    )
    .unwrap();
    let offline = Command::new(bin()).args(["validate"]).arg(tmp.path()).output().unwrap();
    assert_eq!(offline.status.code(), Some(1));
    let live = Command::new(bin())
        .args(["validate", "--cluster-check", "--kubeconfig"])
        .arg(server.kubeconfig())
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(live.status.code(), Some(0), "{}{}", text(&live.stdout), text(&live.stderr));
    assert!(!text(&live.stdout).contains("canary") && !text(&live.stderr).contains("canary"));
}

#[test]
fn cluster_check_warns_of_unlabelled_live_objects_and_render_uses_it() {
    let server = ApiServer::start(false);
    server.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: git, namespace: ml}\nstringData: {key: canary-live-4}\n");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("kd.yaml"),
        "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata: {name: nb, namespace: ml}\nspec:\n  app: jupyter\n  connections: {secrets: [git]}\n  roles: [{id: controller, members: 1}]\n",
    )
    .unwrap();
    let validate = Command::new(bin())
        .args(["validate", "--cluster-check", "--kubeconfig"])
        .arg(server.kubeconfig())
        .arg(tmp.path())
        .output()
        .unwrap();
    let stdout = text(&validate.stdout);
    assert_eq!(validate.status.code(), Some(0), "{stdout}{}", text(&validate.stderr));
    assert!(
        stdout.contains(
            "Secret `git` (in the cluster) has no label `kubedirector.hpe.com/secretType`"
        ),
        "{stdout}"
    );
    // render --cluster-check accepts the cluster's Secret and writes the configmeta.
    let out = tmp.path().join("out");
    let render = Command::new(bin())
        .args(["render", "--cluster-check", "--kubeconfig"])
        .arg(server.kubeconfig())
        .arg(tmp.path().join("kd.yaml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(render.status.code(), Some(0), "{}", text(&render.stderr));
    assert!(out.join(".connections/manifest").exists());
    for output in [&validate, &render] {
        assert!(
            !text(&output.stdout).contains("canary") && !text(&output.stderr).contains("canary")
        );
    }
    // An unreachable cluster is an error (exit 2), not an offline fallback.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let unreachable = Command::new(bin())
        .args(["validate", "--cluster-check", "--kubeconfig"])
        .arg(server.kubeconfig())
        .args(["--server", &format!("http://127.0.0.1:{port}"), "--request-timeout", "3"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2), "{}", text(&unreachable.stdout));
    assert!(
        text(&unreachable.stderr)
            .contains(&format!("cannot reach the API server at http://127.0.0.1:{port}/")),
        "{}",
        text(&unreachable.stderr)
    );
}

#[test]
fn connection_flags_override_the_kubeconfig_like_kubectl() {
    let server = ApiServer::start(true);
    server.install_crds();
    server.apply("apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: r, namespace: default}\nspec: {type: redis, schema: {host: r}}\n");
    let tmp = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(server.kubeconfig()).unwrap();
    let without_ca: String = original
        .lines()
        .filter(|l| !l.contains("certificate-authority-data"))
        .map(|l| format!("{l}\n"))
        .collect();
    let untrusted = tmp.path().join("untrusted");
    std::fs::write(&untrusted, without_ca).unwrap();
    let run = |kubeconfig: &Path, extra: &[&str]| {
        let out = Command::new(bin())
            .args(["list", "-o", "name", "--kubeconfig"])
            .arg(kubeconfig)
            .args(extra)
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    // The server's certificate is not trusted without its CA: a clear error, exit 2.
    let (code, _, stderr) = run(&untrusted, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot reach the API server") && stderr.contains("certificate"),
        "{stderr}"
    );
    let ca = server.dir().join("ca.crt");
    let ca = ca.to_str().unwrap();
    for extra in [vec!["--certificate-authority", ca], vec!["--insecure-skip-tls-verify"]] {
        let (code, stdout, stderr) = run(&untrusted, &extra);
        assert_eq!(
            (code, stdout.as_str()),
            (Some(0), "connection.connections.dev/r\n"),
            "{extra:?}: {stderr}"
        );
    }
    // --token replaces the kubeconfig's credentials, and is never echoed.
    let (code, _, stderr) = run(&server.kubeconfig(), &["--token", "canary-wrong-token"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("401 Unauthorized") && !stderr.contains("canary"), "{stderr}");
    // Names that are not in the kubeconfig are errors, as in kubectl.
    for (flag, message) in [
        ("--context", "context \"nobody\" does not exist"),
        ("--cluster", "cluster \"nobody\" does not exist"),
        ("--user", "auth info \"nobody\" does not exist"),
    ] {
        let (code, _, stderr) = run(&server.kubeconfig(), &[flag, "nobody"]);
        assert_eq!((code, stderr.trim_end()), (Some(2), format!("error: {message}").as_str()));
    }
    for (value, message) in
        [("99999999h", "is longer than a year"), ("soon", "invalid --request-timeout \"soon\"")]
    {
        let (code, _, stderr) = run(&server.kubeconfig(), &["--request-timeout", value]);
        assert_eq!(code, Some(2), "{value}");
        assert!(stderr.contains(message), "{value}: {stderr}");
    }
    let (code, stdout, _) = run(&server.kubeconfig(), &["--request-timeout", "0"]);
    assert_eq!((code, stdout.as_str()), (Some(0), "connection.connections.dev/r\n"));
    // A broken kubeconfig is named without quoting its text (it holds credentials).
    let broken = tmp.path().join("broken");
    std::fs::write(&broken, original.replace("    token: ", "    token: [canary-token-broken\n"))
        .unwrap();
    let (code, _, stderr) = run(&broken, &[]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(&broken.display().to_string()) && !stderr.contains("canary"),
        "{stderr}"
    );
}

#[test]
fn describe_says_what_it_may_not_see_and_never_prints_secret_values() {
    use base64::Engine as _;
    let server = ApiServer::start(false);
    apply_example(&server);
    // A Secret applied with `data`: its base64 form is as secret as the value.
    let encoded = base64::engine::general_purpose::STANDARD.encode("canary-live-5");
    server.apply(&format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: git-token\n  namespace: team-ml\n  labels: {{kubedirector.hpe.com/secretType: source-control}}\ndata: {{token: {encoded}}}\n"));
    server.apply("apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata: {name: nb2, namespace: team-ml}\nspec:\n  app: jupyter\n  connections: {secrets: [git-ssh, git-token]}\n  roles: [{id: controller, members: 1}]\n");
    let out = connections(&server, &["describe", "kdcluster/nb2", "-n", "team-ml"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("git-token               ✓ included, group \"source-control\""),
        "{stdout}"
    );
    assert!(!stdout.contains("canary-live") && !stdout.contains(&encoded), "{stdout}");
    // May not list Secrets in team-data: the reference is unknown, not missing.
    server
        .fault(r#"{"status": 403, "count": -1, "path": "^/api/v1/namespaces/team-data/secrets"}"#);
    let out = connections(&server, &["describe", "warehouse", "-n", "team-data"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "password:     Secret warehouse-credentials  ? no permission to list Secrets here"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("✗"), "{stdout}");
    server.test_endpoint("POST", "/_test/faults/reset", None);
    // A Loft cluster whose kubeconfig Secret is missing.
    server.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: loft}\n---\napiVersion: storage.loft.sh/v1\nkind: Cluster\nmetadata: {name: orphan}\nspec:\n  config: {secretName: orphan-kubeconfig}\n");
    let out = connections(&server, &["describe", "cluster/orphan"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Secret loft/orphan-kubeconfig  ✗ missing"), "{stdout}");
}

#[test]
fn list_and_get_formats() {
    let server = ApiServer::start(false);
    apply_example(&server);
    let wide = text(&connections(&server, &["list", "-n", "team-data", "-o", "wide"]).stdout);
    assert!(wide.lines().next().unwrap().split_whitespace().count() > 4, "{wide}");
    let labels = text(&connections(&server, &["list", "-n", "team-data", "--show-labels"]).stdout);
    assert!(labels.lines().next().unwrap().ends_with("LABELS"), "{labels}");
    let yaml = text(&connections(&server, &["list", "-n", "team-data", "-o", "yaml"]).stdout);
    assert!(yaml.starts_with("apiVersion: v1\nitems:\n"), "{yaml}");
    let names = text(
        &connections(
            &server,
            &["list", "-n", "team-data", "-o", "jsonpath={.items[*].metadata.name}"],
        )
        .stdout,
    );
    assert_eq!(names, "lake warehouse");
    let host = text(
        &connections(
            &server,
            &["get", "warehouse", "-n", "team-data", "-o", "jsonpath={.spec.type}"],
        )
        .stdout,
    );
    assert_eq!(host, "postgres");
    let name =
        text(&connections(&server, &["get", "warehouse", "-n", "team-data", "-o", "name"]).stdout);
    assert_eq!(name, "connection.connections.dev/warehouse\n");
    let bad =
        connections(&server, &["get", "warehouse", "-n", "team-data", "-o", "jsonpath={.spec["]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stdout));
}

#[test]
fn check_reads_credentials_from_the_cluster() {
    database_servers();
    let server = ApiServer::start(false);
    server.install_crds();
    server.apply(&format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: hc}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: hc}}\nstringData: {{password: {PASSWORD}}}\n---\napiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: db, namespace: hc}}\nspec:\n  type: postgres\n  schema: {{host: 127.0.0.1, port: 55432, database: appdb}}\n  credentials:\n    username: {{value: app}}\n    password: {{valueFrom: {{secretKeyRef: {{name: db, key: password}}}}}}\n"));
    let out = connections(&server, &["check", "db", "-n", "hc"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("connection/db: healthy (postgres at 127.0.0.1:55432"), "{stdout}");
    assert!(!stdout.contains(PASSWORD));
}

#[test]
fn diff_against_the_cluster_masks_secrets_and_ignores_what_the_server_adds() {
    let server = ApiServer::start(false);
    server.install_crds();
    server.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n");
    let repo = tempfile::tempdir().unwrap();
    let write = |legacy: bool, host: &str, password: &str, extra_key: bool| {
        let mut text = format!(
            "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: warehouse, namespace: apps}}\nspec:\n  type: postgres\n  schema: {{host: {host}, port: 5432}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: api, namespace: apps}}\nstringData:\n  password: {password}\n"
        );
        if extra_key {
            text.push_str("  token: canary-cluster-token\n");
        }
        if legacy {
            text.push_str("---\napiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: legacy, namespace: apps}\nspec: {type: redis, schema: {host: r}}\n");
        }
        std::fs::write(repo.path().join("repo.yaml"), text).unwrap();
    };
    write(true, "pg-old.internal", "canary-cluster-old", false);
    // Applied as a pipeline would: render, then kubectl apply (which adds the last applied
    // configuration, Secret values included; the server adds uid, resourceVersion, ...).
    let rendered =
        Command::new(bin()).args(["render", "--stdout"]).arg(repo.path()).output().unwrap();
    assert_eq!(rendered.status.code(), Some(0), "{}", text(&rendered.stderr));
    server.apply(&text(&rendered.stdout));
    let diff = |format: &str| {
        let out = Command::new(bin())
            .args(["diff", "--against-cluster", "--format", format, "--kubeconfig"])
            .arg(server.kubeconfig())
            .arg(repo.path())
            .output()
            .unwrap();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, stdout, stderr) = diff("unified");
    assert_eq!((code, stdout.as_str()), (Some(0), ""), "{stderr}");
    assert_eq!(stderr, "0 changed, 0 created, 0 deleted, 5 unchanged\n");

    write(false, "pg.internal", "canary-cluster-new", true);
    server.reset_requests();
    let (code, stdout, stderr) = diff("unified");
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    for expected in [
        "-    host: pg-old.internal\n+    host: pg.internal\n",
        "-  password: \"*** (before)\"\n+  password: \"*** (after)\"\n+  token: \"***\"\n",
        // The ConfigMap render generated for `legacy` carries our label: it goes.
        "--- a/apps/configmap-legacy-connection.yaml\n+++ /dev/null\n",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    // The Connection itself is the user's object, not ours to call deleted.
    assert!(!stdout.contains("connection-legacy.yaml"), "{stdout}");
    for noise in
        ["uid:", "resourceVersion", "managedFields", "creationTimestamp", "last-applied", "canary"]
    {
        assert!(
            !stdout.contains(noise) && !stderr.contains(noise),
            "{noise} in:\n{stdout}{stderr}"
        );
    }
    assert_eq!(stderr, "3 changed, 0 created, 1 deleted, 0 unchanged\n");
    // Discovery and one list per kind and namespace, never one request per object.
    let requests = server.requests();
    assert!(!requests.is_empty(), "the diff read the cluster");
    assert!(
        requests
            .iter()
            .all(|(m, p)| m == "GET" && !p.ends_with("/api") && !p.contains("/warehouse")),
        "{requests:?}"
    );
    assert!(requests.len() <= 8, "{} requests: {requests:?}", requests.len());

    let (_, markdown, _) = diff("markdown");
    assert!(markdown.contains("- ConfigMap apps/legacy-connection (-"), "{markdown}");
    assert!(!markdown.contains("canary"));
}

// ---------------------------------------------------------------------------------------------
// Health checks against real servers.

/// Starts PostgreSQL, MariaDB and Redis on 127.0.0.1 once per test process.
fn database_servers() {
    static STARTED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    STARTED.get_or_init(|| {
        let out = Command::new("bash")
            .arg(workspace().join("tests/dbservers/start.sh"))
            .output()
            .expect("bash runs tests/dbservers/start.sh");
        assert!(
            out.status.success(),
            "database servers did not start:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    });
}

const PASSWORD: &str = "correct-horse";

fn health_repo(dir: &Path, kind: &str, port: u16, password: &str) {
    let database = if kind == "redis" { "" } else { ", database: appdb" };
    let user = if kind == "redis" { "" } else { "    username: {value: app}\n" };
    std::fs::write(
        dir.join("connection.yaml"),
        format!("apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: db, namespace: hc}}\nspec:\n  type: {kind}\n  schema: {{host: 127.0.0.1, port: {port}{database}}}\n  credentials:\n{user}    password:\n      valueFrom: {{secretKeyRef: {{name: db, key: password}}}}\n---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: db, namespace: hc}}\nspec:\n  encryptedData: {{password: AgB0aGlzIGlzIG5vdCByZWFsbHkgZW5jcnlwdGVk}}\n"),
    )
    .unwrap();
    let _ = password;
}

fn check(dir: &Path, password: &str, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(bin())
        .args(["check", "db", "-n", "hc", "--repo"])
        .arg(dir)
        .args(extra)
        .env("DB_PASSWORD", password)
        .output()
        .unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains(password) || password.is_empty(), "the password was printed: {all}");
    (out.status.code(), all)
}

#[test]
fn health_checks_log_in_to_real_servers() {
    database_servers();
    for (kind, port) in [("postgres", 55432), ("mysql", 53306), ("redis", 56379)] {
        let tmp = tempfile::tempdir().unwrap();
        health_repo(tmp.path(), kind, port, PASSWORD);
        let (code, out) = check(tmp.path(), PASSWORD, &[]);
        assert_eq!(code, Some(0), "{kind}: {out}");
        assert!(
            out.starts_with(&format!("connection/db: healthy ({kind} at 127.0.0.1:{port}, ")),
            "{out}"
        );
        let wrong = "wrong-battery-staple";
        let (code, out) = check(tmp.path(), wrong, &[]);
        assert_eq!(code, Some(1), "{kind}: {out}");
        assert!(out.contains("unhealthy: authentication failed"), "{kind}: {out}");
    }
}

#[test]
fn health_checks_report_refused_and_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    // A closed port: refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    health_repo(tmp.path(), "postgres", port, PASSWORD);
    let (code, out) = check(tmp.path(), PASSWORD, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("unhealthy: refused"), "{out}");
    // A black hole: a listener whose accept queue is full drops new connection attempts, so
    // the client waits until its timeout.
    let socket = tokio_free_blackhole();
    health_repo(tmp.path(), "postgres", socket.1, PASSWORD);
    let started = Instant::now();
    let (code, out) = check(tmp.path(), PASSWORD, &["--timeout", "2s"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("unhealthy: timeout"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    drop(socket);
}

/// A port that never answers: listen with the smallest queue, never accept, and fill the queue
/// (see tests/dbservers/README.md).
fn tokio_free_blackhole() -> (Vec<std::net::TcpStream>, u16, std::net::TcpListener) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // std's listen backlog is 128; fill it from this process (non-blocking connects).
    let mut fillers = Vec::new();
    for _ in 0..200 {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(50)) {
            Ok(s) => fillers.push(s),
            Err(_) => break,
        }
    }
    (fillers, port, listener)
}

#[test]
fn health_checks_http_status_and_tls() {
    // An HTTP server on 127.0.0.1: 200 is healthy, 404 is not.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("healthz"), "ok").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new("python3")
        .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "http.server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let repo = tempfile::tempdir().unwrap();
    for (path, code, verdict) in
        [("/healthz", 0, "healthy"), ("/missing", 1, "unhealthy: HTTP status 404")]
    {
        std::fs::write(
            repo.path().join("c.yaml"),
            format!("apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: hook, namespace: hc}}\nspec:\n  type: webhook\n  schema: {{url: \"http://127.0.0.1:{port}{path}\"}}\n"),
        )
        .unwrap();
        let out = Command::new(bin())
            .args(["check", "hook", "-n", "hc", "--repo"])
            .arg(repo.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with(&format!(
                // Only scheme, host and port: paths and queries of webhooks carry tokens.
                "connection/hook: {verdict} (webhook at http://127.0.0.1:{port}, "
            )),
            "{}",
            text(&out.stdout)
        );
    }
    let _ = server.kill();
    let _ = server.wait();

    // PostgreSQL over TLS (sslmode=require), and a TLS handshake against a plain-text port.
    database_servers();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("c.yaml"),
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: db, namespace: hc}\nspec:\n  type: postgres\n  schema: {host: 127.0.0.1, port: 55432, database: appdb, sslmode: require}\n  credentials:\n    username: {value: app}\n    password: {valueFrom: {secretKeyRef: {name: db, key: password}}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: hc}\nstringData: {password: correct-horse}\n---\napiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: tls, namespace: hc}\nspec:\n  type: custom\n  schema: {host: 127.0.0.1, port: 56379, tls: \"true\"}\n",
    )
    .unwrap();
    let (code, out) = {
        let o = Command::new(bin())
            .args(["check", "db", "-n", "hc", "--repo"])
            .arg(tmp.path())
            .output()
            .unwrap();
        (o.status.code(), format!("{}{}", text(&o.stdout), text(&o.stderr)))
    };
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("correct-horse"));
    let o = Command::new(bin())
        .args(["check", "tls", "-n", "hc", "--timeout", "3s", "--repo"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).contains("unhealthy: TLS error")
            || text(&o.stdout).contains("unhealthy: timeout"),
        "{}",
        text(&o.stdout)
    );
}
