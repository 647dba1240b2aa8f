//! End-to-end tests of the `kubectl-connections` binary: exit codes, output formats, atomic
//! output, bad input, and the real `kubectl kustomize` on rendered output.

use std::process::Command;

mod common;
use common::{GOOD, bin, kubectl_kustomize, run, run_in, snapshot, text, workspace, write};

#[test]
fn example_validates_clean_and_renders_byte_identically_twice() {
    let out = run(&["validate", "examples/gitops-repo", "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        text(&out.stdout).lines().last().unwrap().starts_with("0 errors, 0 warnings"),
        "{}",
        text(&out.stdout)
    );
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for dir in [&a, &b] {
        let out = run(&["render", "examples/gitops-repo", "--out", dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    assert_eq!(snapshot(&a), snapshot(&b));
    let built = kubectl_kustomize(&a);
    assert!(
        built.status.success(),
        "kubectl kustomize refused the output: {}",
        text(&built.stderr)
    );
    // Every object file is in the build: count documents.
    let objects = snapshot(&a)
        .iter()
        .filter(|(p, _)| p.ends_with(".yaml") && p != "kustomization.yaml")
        .count();
    let documents = text(&built.stdout).matches("\napiVersion: ").count() + 1;
    assert_eq!(documents, objects);
}

#[test]
fn kubectl_kustomize_accepts_every_rendered_fixture() {
    let fixtures = workspace().join("fixtures");
    let mut checked = 0;
    let mut stack = vec![fixtures];
    while let Some(dir) = stack.pop() {
        let rendered = dir.join("expected/rendered");
        if rendered.join("kustomization.yaml").exists() {
            let out = kubectl_kustomize(&rendered);
            assert!(out.status.success(), "{}: {}", rendered.display(), text(&out.stderr));
            checked += 1;
        }
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().is_dir() && entry.file_name() != "input" {
                stack.push(entry.path());
            }
        }
    }
    assert!(checked >= 5, "only {checked} rendered fixtures found");
}

/// A Polyaxon agent config is not a Kubernetes object: render keeps a copy in `_polyaxon/`
/// so that the folder renders again to the same files, but neither kustomize's output nor the
/// `--stdout` stream may carry it.
#[test]
fn agent_configs_are_kept_for_a_second_render_but_never_applied() {
    let input = workspace().join("fixtures/polyaxon/agent-projection/input");
    let tmp = tempfile::tempdir().unwrap();
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    for (from, to) in [(input.as_path(), &first), (first.as_path(), &second)] {
        let out = run(&["render", from.to_str().unwrap(), "--out", to.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let kept = std::fs::read_to_string(first.join("_polyaxon/agent-config-0.yaml")).unwrap();
    assert!(kept.contains("artifactsStore:"), "{kept}");
    assert_eq!(snapshot(&second), snapshot(&first), "the second render differs");
    let built = kubectl_kustomize(&first);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let stream = run(&["render", input.to_str().unwrap(), "--stdout"]);
    for (what, output) in [("kubectl kustomize", &built.stdout), ("--stdout", &stream.stdout)] {
        assert!(!text(output).contains("artifactsStore"), "{what} carries the agent config");
    }
}

#[test]
fn stdout_stream_holds_the_same_objects_in_kustomization_order() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    assert!(
        run(&["render", "examples/gitops-repo", "--out", out_dir.to_str().unwrap()])
            .status
            .success()
    );
    let stream = run(&["render", "examples/gitops-repo", "--stdout"]);
    assert_eq!(stream.status.code(), Some(0));
    let kustomization = std::fs::read_to_string(out_dir.join("kustomization.yaml")).unwrap();
    let files: Vec<String> = kustomization
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(|p| std::fs::read_to_string(out_dir.join(p)).unwrap())
        .collect();
    assert_eq!(text(&stream.stdout), files.join("---\n"));
    // The example has one note (a SealedSecret in a configmeta): counted, not shown.
    assert_eq!(
        text(&stream.stderr),
        "1 note not shown: `kubectl connections validate` lists them
1 KubeDirector configmeta file is not part of the stream: `--out DIR` writes it
"
    );
}

#[test]
fn rendering_rendered_output_changes_nothing() {
    rerender_changes_nothing("examples/gitops-repo");
}

/// Service Binding projection reads back its own volumes, mounts and `SERVICE_BINDING_ROOT`.
#[test]
fn rendering_rendered_service_bindings_changes_nothing() {
    rerender_changes_nothing("fixtures/render/service-binding/input");
}

fn rerender_changes_nothing(repo: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    assert!(run(&["render", repo, "--out", first.to_str().unwrap()]).status.success());
    // The rendered folder as input (its bookkeeping removed so that it is read).
    let input = tmp.path().join("input");
    std::fs::rename(&first, &input).unwrap();
    std::fs::remove_dir_all(input.join(".connections")).unwrap();
    std::fs::remove_file(input.join("kustomization.yaml")).unwrap();
    let out = run(&["render", input.to_str().unwrap(), "--out", second.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let again: Vec<_> = snapshot(&second)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".connections") && p != "kustomization.yaml")
        .collect();
    assert_eq!(again, snapshot(&input));
}

#[test]
fn exit_codes_follow_the_contract() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "clean/app.yaml", GOOD);
    write(
        tmp.path(),
        "warn/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\nstringData: {k: v}\n",
    );
    write(
        tmp.path(),
        "broken/app.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    envFrom: [{secretRef: {name: nope}}]\n",
    );
    let code = |args: &[&str]| run_in(tmp.path(), args).status.code();
    assert_eq!(code(&["validate", "clean"]), Some(0));
    assert_eq!(code(&["validate", "warn"]), Some(0));
    assert_eq!(code(&["validate", "warn", "--fail-on", "warning"]), Some(1));
    assert_eq!(code(&["validate", "broken"]), Some(1));
    assert_eq!(code(&["validate", "broken", "--fail-on", "never"]), Some(0));
    assert_eq!(code(&["validate", "does-not-exist"]), Some(2));
    assert_eq!(code(&["validate", "--no-such-flag"]), Some(2));
    assert_eq!(code(&["render", "clean"]), Some(2), "render needs --out or --stdout");
    assert_eq!(code(&["explain", "no-such-check"]), Some(2));
    assert_eq!(code(&["--help"]), Some(0));
}

#[test]
fn missing_path_is_reported_with_the_path() {
    let out = run(&["validate", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "error: cannot read no/such/dir: not found\n");
    assert!(out.stdout.is_empty());
}

#[test]
fn render_refuses_on_errors_and_leaves_the_output_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "repo/app.yaml", GOOD);
    let out_dir = tmp.path().join("rendered");
    let first = run_in(tmp.path(), &["render", "repo", "--out", "rendered"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let before = snapshot(&out_dir);
    write(
        tmp.path(),
        "repo/app.yaml",
        &GOOD.replace("connections.dev/use: cache", "connections.dev/use: cahce"),
    );
    let second = run_in(tmp.path(), &["render", "repo", "--out", "rendered"]);
    assert_eq!(second.status.code(), Some(1));
    let stderr = text(&second.stderr);
    assert!(stderr.contains("dangling-connection-ref"), "{stderr}");
    assert!(stderr.ends_with("error: nothing was written to rendered\n"), "{stderr}");
    assert_eq!(snapshot(&out_dir), before);
    let stdout = run_in(tmp.path(), &["render", "repo", "--stdout"]);
    assert_eq!(stdout.status.code(), Some(1));
    assert!(stdout.stdout.is_empty(), "no partial stream on stdout");
}

#[test]
fn out_folder_may_not_be_or_hold_or_sit_inside_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "repo/app.yaml", GOOD);
    for out in ["repo", "repo/rendered", ".", "repo/./"] {
        let result = run_in(tmp.path(), &["render", "repo", "--out", out]);
        assert_eq!(result.status.code(), Some(2), "--out {out}");
        assert!(text(&result.stderr).starts_with("error: --out"), "{}", text(&result.stderr));
    }
    assert!(!tmp.path().join("repo/rendered").exists());
    assert_eq!(snapshot(&tmp.path().join("repo")).len(), 1);
}

#[test]
fn render_keeps_files_it_did_not_write_and_removes_stale_ones() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "repo/app.yaml", GOOD);
    let out = tmp.path().join("rendered");
    assert!(run_in(tmp.path(), &["render", "repo", "--out", "rendered"]).status.success());
    write(&out, "README.md", "hand-written\n");
    assert!(out.join("apps/connection-cache.yaml").exists());
    write(
        tmp.path(),
        "repo/app.yaml",
        &GOOD.replace("name: cache,", "name: redis,").replace("use: cache", "use: redis"),
    );
    let result = run_in(tmp.path(), &["render", "repo", "--out", "rendered"]);
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    assert!(text(&result.stderr).contains("2 stale files removed"), "{}", text(&result.stderr));
    assert!(!out.join("apps/connection-cache.yaml").exists());
    assert!(out.join("apps/connection-redis.yaml").exists());
    assert_eq!(std::fs::read_to_string(out.join("README.md")).unwrap(), "hand-written\n");
}

#[test]
fn formats_agree_and_json_locates_every_finding() {
    let repo = workspace().join("fixtures/checks/missing-secret-key");
    let json = run_in(&repo, &["validate", "input", "--output-format", "json"]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1);
    let d = &diagnostics[0];
    assert_eq!(d["check"], "missing-secret-key");
    assert_eq!(d["file"], "deploy.yaml");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(19), Some(43)));
    assert_eq!(d["path"], "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.key");
    assert_eq!(report["summary"], serde_json::json!({"errors": 1, "warnings": 0}));

    let github = run_in(&repo, &["validate", "input", "--output-format", "github"]);
    // Paths are relative to the top of the Git work tree (what GitHub resolves them against);
    // outside Git (a source tarball), to where the command ran.
    let annotation = "input/deploy.yaml,line=19,col=43,title=missing-secret-key::Deployment `api` needs key `pasword` of Secret `pg`, which does not have it%0Ahelp: did you mean `password`? its keys are: password, username\n";
    let shown = text(&github.stdout);
    assert!(
        [
            format!("::error file=fixtures/checks/missing-secret-key/{annotation}"),
            format!("::error file={annotation}")
        ]
        .contains(&shown),
        "{shown}"
    );
}

#[test]
fn json_output_locates_every_finding_of_every_fixture() {
    let mut count = 0;
    for case in std::fs::read_dir(workspace().join("fixtures/checks")).unwrap().flatten() {
        let out = run_in(&case.path(), &["validate", "input", "--output-format", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}", case.path().display()));
        // Written one finding at a time, laid out as serde_json's pretty printer would.
        assert_eq!(
            text(&out.stdout),
            format!("{}\n", serde_json::to_string_pretty(&report).unwrap()),
            "{}",
            case.path().display()
        );
        for d in report["diagnostics"].as_array().unwrap() {
            assert!(!d["file"].as_str().unwrap().is_empty(), "{d}");
            assert!(d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1, "{d}");
            count += 1;
        }
    }
    assert!(count >= 29);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let repo = workspace().join("fixtures/checks/dangling-secret-ref");
    let plain = run_in(&repo, &["validate", "input"]);
    assert!(!plain.stdout.contains(&0x1b), "no escape codes when not a terminal");
    let coloured = run_in(&repo, &["validate", "input", "--color", "always"]);
    assert!(coloured.stdout.contains(&0x1b));
}

#[test]
fn explain_documents_every_check() {
    let list = run(&["explain"]);
    assert_eq!(list.status.code(), Some(0));
    for check in connections_core::checks::Check::ALL {
        assert!(text(&list.stdout).contains(check.id()));
        let one = run(&["explain", check.id()]);
        let out = text(&one.stdout);
        for section in ["Why it matters", "Example", "How to fix"] {
            assert!(out.contains(section), "{}: {out}", check.id());
        }
        assert!(out.starts_with(&format!("{} ({})", check.id(), check.severity())));
    }
}

#[test]
fn crd_command_prints_the_committed_crds() {
    let out = run(&["crd"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        std::fs::read_to_string(workspace().join("crds/connections.yaml")).unwrap()
    );
}

#[test]
fn unreadable_file_is_a_finding_with_exit_2() {
    // As root every file is readable, so the binary runs as `nobody` (setpriv, util-linux).
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write(&repo, "app.yaml", GOOD);
    write(&repo, "secret.yaml", GOOD);
    use std::os::unix::fs::PermissionsExt as _;
    for dir in [tmp.path(), repo.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(repo.join("app.yaml"), std::fs::Permissions::from_mode(0o644))
        .unwrap();
    std::fs::set_permissions(repo.join("secret.yaml"), std::fs::Permissions::from_mode(0o000))
        .unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            bin(),
            "validate",
            ".",
            "--output-format",
            "json",
        ])
        .current_dir(&repo)
        .output()
        .expect("setpriv (util-linux) runs the binary as nobody");
    assert_eq!(out.status.code(), Some(2), "{}{}", text(&out.stdout), text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["diagnostics"][0]["file"], "secret.yaml");
    assert_eq!(report["diagnostics"][0]["message"], "this file cannot be read: permission denied");
}

#[test]
fn oversized_file_is_refused_with_its_size() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "app.yaml", GOOD);
    let out =
        run_in(tmp.path(), &["validate", ".", "--max-file-size", "100", "--output-format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = report["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "this file is {} bytes, over the limit of 100 bytes",
            GOOD.len()
        )),
        "{message}"
    );
}

#[test]
fn no_secret_value_in_any_finding() {
    let canary = "canary-6f1c2d9e";
    let b64 = "Y2FuYXJ5LTZmMWMyZDll"; // base64 of the canary
    let number = "918273645"; // secret values that are not strings must not leak either
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "secrets.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: a}}\nstringData: {{password: {canary}, pin: {number}, flag: yes}}\ndata: {{token: {b64}, bad: {canary}!, int: {number}}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: a}}\ntype: kubernetes.io/dockerconfigjson\ndata: {{.dockerconfigjson: {b64}}}\n---\napiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: c, namespace: a}}\nspec:\n  type: postgres\n  credentials:\n    password: {{value: {canary}}}\n    token: {{value: {number}}}\n"
        ),
    );
    // Findings on the very lines that hold values: a duplicate key, a broken escape, a
    // kubeconfig that does not parse, a KubeETL credential written inline.
    write(
        tmp.path(),
        "lines.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: dup, namespace: a}}\nstringData:\n  password: {canary}\n  password: {canary}-2\n---\napiVersion: etl.dataworkz.nl/v1alpha1\nkind: ConnectionType\nmetadata: {{name: t, namespace: a}}\nspec:\n  fields:\n  - {{name: password, envName: PW, sensitive: true}}\n---\napiVersion: etl.dataworkz.nl/v1alpha1\nkind: Connection\nmetadata: {{name: e, namespace: a}}\nspec:\n  type: t\n  credentials:\n    password: {{value: {canary}}}\n---\napiVersion: management.loft.sh/v1\nkind: ClusterConnect\nmetadata: {{name: broken}}\nspec:\n  config: |\n    users:\n    - {{name: u, user: {{token: {canary}, token: {canary}}}}}\n    clusters: [{{name: c, cluster: {{server: \"https://{canary}@k.example.com\"}}}}\n"
        ),
    );
    write(
        tmp.path(),
        "escape.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: esc, namespace: a}}\nstringData:\n  password: \"{canary}\\q\"\n"
        ),
    );
    let mut runs = 0;
    for format in ["human", "json", "github", "sarif"] {
        for timings in [false, true] {
            let mut command =
                common::command_in(tmp.path(), &["validate", ".", "--output-format", format]);
            if timings {
                command.env("KUBECTL_CONNECTIONS_TIMINGS", "1");
            }
            let out = command.output().unwrap();
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert_eq!(out.status.code(), Some(1), "{all}");
            for check in [
                "invalid-secret-value",
                "inline-sensitive-credential",
                "duplicate-key",
                "yaml-syntax",
                "invalid-kubeconfig",
            ] {
                assert!(all.contains(check), "{format}: no {check}: {all}");
            }
            for value in [canary, b64, number] {
                assert!(!all.contains(value), "{format} output shows a secret value: {all}");
            }
            runs += 1;
        }
    }
    assert_eq!(runs, 8);
}

#[test]
fn readme_worked_example_is_what_users_see() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let start =
        readme.find("$ kubectl connections validate deploy/\n").expect("worked example in README");
    let block = &readme[start..];
    let shown =
        &block["$ kubectl connections validate deploy/\n".len()..block.find("$ echo $?").unwrap()];
    let tmp = tempfile::tempdir().unwrap();
    let input = workspace().join("fixtures/checks/missing-secret-key/input");
    for entry in std::fs::read_dir(&input).unwrap().flatten() {
        write(
            &tmp.path().join("deploy"),
            &entry.file_name().to_string_lossy(),
            &std::fs::read_to_string(entry.path()).unwrap(),
        );
    }
    let out = run_in(tmp.path(), &["validate", "deploy/"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), shown);
    assert!(block.contains(&format!("$ echo $?\n{}\n", 1)));
}

#[test]
fn walk_skips_hidden_folders_rendered_output_and_reads_json() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write(&repo, "app.yaml", GOOD);
    // Not Kubernetes YAML, and would be broken if it were read.
    write(&repo, ".github/workflows/ci.yml", "on: [push\n");
    write(
        &repo,
        "settings.json",
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-json", "namespace": "apps"}, "data": {"a": "b"}}"#,
    );
    // Rendered output committed inside the repository: recognised by its bookkeeping folder.
    write(
        &repo,
        "rendered/.connections/manifest",
        "# Files written by kubectl-connections render\n",
    );
    write(&repo, "rendered/apps/connection-cache.yaml", GOOD);
    let out = run_in(&repo, &["validate", ".", "--output-format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{report}");
    assert_eq!(diagnostics[0]["check"], "skipped-input");
    assert_eq!(diagnostics[0]["file"], "rendered");
    assert_eq!(out.status.code(), Some(0));
    let stream = run_in(&repo, &["render", ".", "--stdout"]);
    assert!(text(&stream.stdout).contains("name: from-json"), "the .json object is rendered");
    // An output folder outside the input is never read either, even through a link.
    std::os::unix::fs::symlink(tmp.path().join("out"), repo.join("out-link")).unwrap();
    let render = run_in(&repo, &["render", ".", "--out", "../out"]);
    assert_eq!(render.status.code(), Some(0), "{}", text(&render.stderr));
}

#[test]
fn no_color_is_honoured_on_a_terminal() {
    let repo = workspace().join("fixtures/checks/dangling-secret-ref");
    // `script` (util-linux) gives the binary a terminal.
    let on_terminal = |no_color: bool| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &format!("{} validate input", bin()), "/dev/null"])
            .current_dir(&repo)
            .env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        cmd.output().expect("script (util-linux) runs the binary on a terminal").stdout
    };
    assert!(on_terminal(false).contains(&0x1b), "colour on a terminal");
    assert!(!on_terminal(true).contains(&0x1b), "no colour with NO_COLOR on a terminal");
}

#[test]
fn invalid_namespace_flag_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "app.yaml", GOOD);
    for ns in ["Bad_NS", "a/b", ""] {
        let out = run_in(tmp.path(), &["render", ".", "--stdout", "-n", ns]);
        assert_eq!(out.status.code(), Some(2), "-n {ns:?}");
        assert!(text(&out.stderr).contains("namespace"), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn objects_that_would_share_a_file_get_distinct_paths() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "repo/things.yaml",
        "apiVersion: x.example/v1\nkind: Thing\nmetadata: {name: t}\n---\napiVersion: x.example/v1\nkind: THING\nmetadata: {name: t}\n---\napiVersion: y.example/v1\nkind: Thing\nmetadata: {name: t}\n",
    );
    let out = run_in(tmp.path(), &["render", "repo", "--out", "rendered"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files: Vec<String> = snapshot(&tmp.path().join("rendered"))
        .into_iter()
        .map(|(p, _)| p.to_lowercase())
        .filter(|p| p.starts_with("default/"))
        .collect();
    let unique: std::collections::BTreeSet<&String> = files.iter().collect();
    assert_eq!((files.len(), unique.len()), (3, 3), "{files:?}");
    let built = kubectl_kustomize(&tmp.path().join("rendered"));
    assert!(built.status.success(), "{}", text(&built.stderr));
}

#[test]
fn every_subcommand_accepts_the_flags_kubectl_passes() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "app.yaml", GOOD);
    let flags =
        ["--kubeconfig", "/nonexistent", "--context", "c", "-n", "apps", "--request-timeout", "5"];
    for command in [
        vec!["validate", "."],
        vec!["render", ".", "--stdout"],
        vec!["explain", "duplicate-key"],
        vec!["crd"],
    ] {
        let mut args = command.clone();
        args.extend_from_slice(&flags);
        let out = run_in(tmp.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn polyaxon_agent_connections_are_listed_and_described_offline() {
    let repo = "fixtures/polyaxon/agent-projection/input";
    let list = text(&run(&["list", "--repo", repo, "--no-headers"]).stdout);
    assert!(list.lines().any(|l| l.starts_with("polyaxon/lake ")), "{list}");
    // The names `list` prints are names `describe` and `get` take.
    for target in ["lake", "polyaxon/lake"] {
        let out = run(&["describe", target, "--repo", repo]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{target}: {}", text(&out.stderr));
        assert!(
            stdout.contains("Source:         Polyaxon agent config, connections[1]"),
            "{stdout}"
        );
        assert!(
            stdout.contains("Secret:         Secret aws-lake (as SealedSecret aws-lake)  ✓ found; keys: AWS_ACCESS_KEY_ID ✓, AWS_SECRET_ACCESS_KEY ✓"),
            "{stdout}"
        );
        assert!(stdout.contains("Used By:\n  Job/train\n"), "{stdout}");
    }
    let get = text(
        &run(&["get", "polyaxon/repo", "--repo", repo, "-o", "jsonpath={.schema.url}"]).stdout,
    );
    assert_eq!(get, "https://github.com/acme/models.git");
    let missing = run(&["describe", "polyaxon/nope", "--repo", repo]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(text(&missing.stderr), "error: polyaxon/nope not found in namespace default\n");
}

#[test]
fn describe_shows_the_health_check_settings_and_last_result() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "c.yaml",
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: db, namespace: apps}\nspec:\n  type: postgres\n  schema: {host: pg.internal}\n  healthCheck: {mode: Interval, interval: 5m, timeout: 3s}\nstatus:\n  lastHealthCheck: {healthy: false, reason: connection refused, time: \"2026-11-20T10:00:00Z\"}\n",
    );
    let out = run(&["describe", "db", "-n", "apps", "--repo", tmp.path().to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("Health Check:   Interval, every 5m, timeout 3s\n"), "{stdout}");
    assert!(
        stdout.contains("Last Check:     unhealthy (connection refused) at 2026-11-20T10:00:00Z\n"),
        "{stdout}"
    );
}

#[test]
fn timings_report_each_phase_with_memory_only_when_asked() {
    let example = workspace().join("examples/gitops-repo");
    let quiet = run_in(&example, &["validate", "."]);
    assert!(!text(&quiet.stderr).contains("timings:"), "{}", text(&quiet.stderr));
    let out = common::command_in(&example, &["validate", "."])
        .env("KUBECTL_CONNECTIONS_TIMINGS", "1")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with("timings:")).expect("a timings line");
    // `timings: load 0.012s cpu 0.020s (9/9 MB) lower ... total 0.034s cpu 0.051s`
    let words: Vec<&str> = line.split_whitespace().collect();
    let phases: Vec<&str> = words
        .windows(4)
        .filter(|w| w[1].ends_with('s') && w[2] == "cpu" && w[3].ends_with('s'))
        .map(|w| w[0])
        .collect();
    for phase in ["load", "lower", "check", "render-findings", "report", "total"] {
        assert!(phases.contains(&phase), "{phase} missing: {line}");
    }
    assert!(line.contains(" MB)"), "{line}");
    let seconds = |w: &str| w.trim_end_matches('s').parse::<f64>().is_ok();
    assert!(words.windows(2).filter(|w| w[0] == "total").all(|w| seconds(w[1])), "{line}");
}

/// A report of more findings than one rendering chunk holds (512) comes out whole and in
/// order, each finding shown with its own file's lines: reports are rendered in chunks on
/// every core, printed piece by piece, and a chunk keeps only the source of the file it is in.
#[test]
fn a_report_over_several_chunks_is_whole_in_order_and_shows_each_files_lines() {
    let tmp = tempfile::tempdir().unwrap();
    const PER_FILE: usize = 400;
    write(tmp.path(), "a.yaml", &"--- a\n".repeat(PER_FILE));
    write(tmp.path(), "b.yaml", &"--- b\n".repeat(PER_FILE));
    let out = run_in(tmp.path(), &["validate", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let reports: Vec<&str> = stdout.split("unrecognised-document\n").skip(1).collect();
    assert_eq!(reports.len(), 2 * PER_FILE);
    let expected = ["a", "b"]
        .into_iter()
        .flat_map(|file| (1..=PER_FILE).map(move |line| format!("─[{file}.yaml:{line}:5]")));
    for (report, location) in reports.iter().zip(expected) {
        assert!(report.contains(&location), "expected {location} in {report}");
        let other = if location.contains("a.yaml") { "--- b" } else { "--- a" };
        assert!(!report.contains(other), "another file's lines in {report}");
    }
    assert_eq!(stdout.lines().last(), Some("0 errors, 0 warnings, 800 notes"), "{stdout}");
}
