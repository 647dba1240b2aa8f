//! The Argo CD config management plugin as the sidecar runs it: `argocd generate` in the
//! application's source folder, with the build environment and the Application's parameters
//! (`PARAM_*`) and plugin env (`ARGOCD_ENV_*`). What matters most: on any error, and for an
//! empty render, nothing on stdout and a non-zero exit (blank output with auto-prune would
//! delete the application's resources); never a plaintext Secret.

mod common;

use common::{command_in, kubectl_kustomize, run_in, text, workspace, write};
use connections_core::syntax::Node;
use std::path::Path;
use std::process::Output;

/// The build environment Argo CD gives every plugin command.
const BUILD_ENV: [(&str, &str); 3] = [
    ("ARGOCD_APP_NAME", "connections"),
    ("ARGOCD_APP_NAMESPACE", "team-data"),
    ("ARGOCD_APP_PROJECT_NAME", "default"),
];

fn generate(dir: &Path, vars: &[(&str, &str)]) -> Output {
    let mut command = command_in(dir, &["argocd", "generate"]);
    for (name, value) in BUILD_ENV.iter().chain(vars) {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn parse(yaml: &str) -> Node {
    let mut sources = connections_core::source::SourceMap::new();
    let (mut documents, problems) = connections_loader::load_text(&mut sources, "x", yaml);
    assert!(problems.is_empty(), "{problems:?}");
    documents.remove(0).root
}

/// Argo CD's flattening of a parameter name: upper case, other characters `_`.
fn param_env(name: &str) -> String {
    let flat: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect();
    format!("PARAM_{flat}")
}

#[test]
fn the_example_plugin_renders_the_example_application_as_render_does() {
    let example = workspace().join("examples/argocd");
    let plugin = parse(&std::fs::read_to_string(example.join("plugin.yaml")).unwrap());
    let command: Vec<&str> = plugin
        .path(&["spec", "generate", "command"])
        .and_then(Node::as_seq)
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(command, ["kubectl-connections", "argocd", "generate"]);
    // Applications name the plugin `<name>-<version>`.
    let app = parse(&std::fs::read_to_string(example.join("application.yaml")).unwrap());
    let plugin_name = format!(
        "{}-{}",
        plugin.path(&["metadata", "name"]).and_then(Node::as_str).unwrap(),
        plugin.path(&["spec", "version"]).and_then(Node::as_str).unwrap()
    );
    assert_eq!(
        app.path(&["spec", "source", "plugin", "name"]).and_then(Node::as_str),
        Some(plugin_name.as_str())
    );
    // Every parameter the plugin announces is one the command takes.
    let announced = plugin.path(&["spec", "parameters", "static"]).and_then(Node::as_seq).unwrap();
    let source =
        workspace().join(app.path(&["spec", "source", "path"]).and_then(Node::as_str).unwrap());
    for parameter in announced {
        let name = parameter.get("name").and_then(Node::as_str).unwrap();
        let value = match name {
            "secrets" => "reference",
            "strict-secrets" => "false",
            "secret-store-kind" => "SecretStore",
            "scope" => "strict",
            _ => continue,
        };
        let out = generate(&source, &[(&param_env(name), value)]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
    }

    // With the Application's parameters: the same objects as `render --stdout`.
    let mut vars: Vec<(String, String)> = Vec::new();
    for parameter in
        app.path(&["spec", "source", "plugin", "parameters"]).and_then(Node::as_seq).unwrap()
    {
        let name = parameter.get("name").and_then(Node::as_str).unwrap();
        let value = parameter.get("string").and_then(Node::as_str).unwrap();
        vars.push((param_env(name), value.to_string()));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = generate(&source, &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let expected = run_in(&source, &["render", ".", "--stdout", "--namespace", "team-data"]);
    assert!(!out.stdout.is_empty());
    assert_eq!(text(&out.stdout), text(&expected.stdout));

    // The sidecar's ConfigMap builds.
    let built = kubectl_kustomize(&example);
    assert!(built.status.success(), "{}", text(&built.stderr));
    assert!(text(&built.stdout).contains("name: kubectl-connections-plugin"));
}

#[test]
fn settings_come_from_parameters_then_plugin_env() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "connection.yaml",
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: orders}\nspec:\n  type: postgres\n  schema: {host: pg.internal}\n  secret: {name: orders-db, items: [password]}\n",
    );
    // Plugin env alone: ExternalSecrets from the store it names, in the app's namespace.
    let out = generate(
        tmp.path(),
        &[("ARGOCD_ENV_SECRETS", "external-secret"), ("ARGOCD_ENV_SECRET_STORE", "vault")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stream = text(&out.stdout);
    assert!(stream.contains("kind: ExternalSecret"), "{stream}");
    assert!(stream.contains("namespace: team-data"), "{stream}");
    // A parameter beats the env: reference mode, and the Secret is not declared.
    let out = generate(
        tmp.path(),
        &[
            ("ARGOCD_ENV_SECRETS", "external-secret"),
            ("ARGOCD_ENV_SECRET_STORE", "vault"),
            ("PARAM_SECRETS", "reference"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("dangling-secret-ref"), "{}", text(&out.stderr));
}

#[test]
fn nothing_reaches_stdout_on_errors_empty_renders_or_plaintext() {
    let tmp = tempfile::tempdir().unwrap();
    // An empty source: Argo CD would prune every resource of the application.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = generate(&empty, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("renders no object"), "{}", text(&out.stderr));

    // A Secret in plaintext: Argo CD caches the output unencrypted.
    let repo = tmp.path().join("repo");
    write(
        &repo,
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {token: canary-argo-71b2}\n",
    );
    let out = generate(&repo, &[("PARAM_SECRETS", "plaintext")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("refused under Argo CD"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("canary-argo-71b2"));

    // Settings the plugin does not take, and values it does not know.
    for (name, value, why) in [
        ("PARAM_OUT", "/tmp/x", "unknown setting `OUT`"),
        ("PARAM_SECRETS", "bogus", "invalid value 'bogus'"),
        ("ARGOCD_ENV_NAMESPACE", "--out=/tmp/y", "namespace"),
    ] {
        let out = generate(&repo, &[(name, value)]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(out.stdout.is_empty(), "{name}");
        assert!(text(&out.stderr).contains(why), "{name}: {}", text(&out.stderr));
    }
    assert!(!Path::new("/tmp/y").exists());
}
