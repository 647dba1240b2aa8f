//! Loft: the kubeconfig of a `ClusterConnect` checked with client-go's rules and messages
//! (formats.md §4.4), and the API rules of cluster templates and `Cluster`s (§4.2, §4.5).

use super::*;
use crate::model::LoftConnect;
use crate::source::{FileId, LineIndex};
use crate::syntax::Node;

/// Findings of the kubeconfig in a ClusterConnect, the plaintext warning, and template rules.
pub(super) fn cluster_connect_checks(
    model: &Model,
    index: usize,
    connect: &LoftConnect,
    out: &mut Vec<Diagnostic>,
) {
    let object = &model.objects[index];
    match &connect.config {
        None => out.push(
            Diagnostic::new(
                Check::InvalidKubeconfig,
                object.name.span,
                "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable",
            )
            .path("spec.config")
            .label("no kubeconfig")
            .help("put the kubeconfig of the cluster to connect in `spec.config`"),
        ),
        Some(config) => {
            out.push(
                Diagnostic::new(
                    Check::PlaintextCredentialInRepo,
                    config.span,
                    format!("ClusterConnect `{}` holds a kubeconfig, a credential to the cluster, in plaintext", object.name.value),
                )
                .path("spec.config")
                .label("plaintext credential")
                .help("keep it out of Git: commit the kubeconfig Secret as a SealedSecret or ExternalSecret and a Loft Cluster that refers to it"),
            );
            for problem in kubeconfig_problems(&config.value) {
                out.push(
                    Diagnostic::new(Check::InvalidKubeconfig, config.span, problem)
                        .path("spec.config")
                        .label("invalid kubeconfig"),
                );
            }
        }
    }
    if let Some(template) = &connect.template {
        cluster_spec_checks(template.get("spec"), "spec.clusterTemplate.spec", out);
    }
}

/// API rules of a Loft `Cluster`.
pub(super) fn loft_cluster_checks(model: &Model, index: usize, out: &mut Vec<Diagnostic>) {
    cluster_spec_checks(model.objects[index].root.get("spec"), "spec", out);
}

/// Every access rule needs `verbs`; an owner is a user or a team, not both.
fn cluster_spec_checks(spec: Option<&Node>, path: &str, out: &mut Vec<Diagnostic>) {
    let Some(spec) = spec else { return };
    for (i, rule) in spec.get("access").and_then(Node::as_seq).unwrap_or(&[]).iter().enumerate() {
        let verbs = rule.get("verbs").and_then(Node::as_seq);
        if verbs.is_none_or(<[Node]>::is_empty) {
            out.push(
                Diagnostic::new(
                    Check::InvalidLoftCluster,
                    rule.span,
                    "an access rule needs `verbs`",
                )
                .path(format!("{path}.access[{i}].verbs"))
                .label("no verbs")
                .help("Loft requires `verbs` in every access rule; `[\"*\"]` allows everything"),
            );
        }
    }
    if let Some(owner) = spec.get("owner")
        && owner.get("user").is_some_and(|u| !u.is_null())
        && owner.get("team").is_some_and(|t| !t.is_null())
    {
        out.push(
            Diagnostic::new(
                Check::InvalidLoftCluster,
                owner.span,
                "an owner is a user or a team, not both",
            )
            .path(format!("{path}.owner"))
            .label("user and team"),
        );
    }
}

fn text<'n>(node: &'n Node, key: &str) -> &'n str {
    node.get(key).and_then(Node::as_str).unwrap_or("")
}

/// Named entries of a kubeconfig list (`clusters`, `users`, `contexts`): `(name, body)`.
fn named<'n>(root: &'n Node, list: &str, body: &str) -> Vec<(String, Option<&'n Node>)> {
    root.get(list)
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|item| (text(item, "name").to_string(), item.get(body)))
        .collect()
}

/// client-go's `Validate` and `ConfirmUsable` on a kubeconfig, with its messages. Files named
/// in the kubeconfig cannot be read offline, so they are refused.
pub fn kubeconfig_problems(config: &str) -> Vec<String> {
    let (docs, syntax) =
        crate::parse::parse(FileId::SYNTHETIC, config, &LineIndex::new(config), Default::default());
    if let Some(first) = syntax.first() {
        return vec![format!("the kubeconfig is not valid YAML: {}", first.message)];
    }
    let Some(root) = docs.first().map(|d| &d.root).filter(|r| r.as_map().is_some()) else {
        return vec![
            "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable"
                .into(),
        ];
    };
    let clusters = named(root, "clusters", "cluster");
    let users = named(root, "users", "user");
    let contexts = named(root, "contexts", "context");
    let current = text(root, "current-context");
    let mut problems = Vec::new();
    if clusters.is_empty() && users.is_empty() && contexts.is_empty() && current.is_empty() {
        return vec![
            "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable"
                .into(),
        ];
    }
    if current.is_empty() {
        problems.push("no context chosen".to_string());
    } else if !contexts.iter().any(|(name, _)| name == current) {
        problems.push(format!("context was not found for specified context: {current}"));
    }
    for (name, context) in &contexts {
        let Some(context) = context else { continue };
        if name.is_empty() {
            problems.push(format!(
                "empty context name for {{cluster: {:?}, user: {:?}}} is not allowed",
                text(context, "cluster"),
                text(context, "user")
            ));
        }
        let (user, cluster) = (text(context, "user"), text(context, "cluster"));
        if user.is_empty() {
            problems.push(format!("user was not specified for context {name:?}"));
        } else if !users.iter().any(|(n, _)| n == user) {
            problems.push(format!("user {user:?} was not found for context {name:?}"));
        }
        if cluster.is_empty() {
            problems.push(format!("cluster was not specified for context {name:?}"));
        } else if !clusters.iter().any(|(n, _)| n == cluster) {
            problems.push(format!("cluster {cluster:?} was not found for context {name:?}"));
        }
        let namespace = text(context, "namespace");
        if !namespace.is_empty() && crate::rules::dns1123_label(namespace).is_err() {
            problems.push(format!(
                "namespace {namespace:?} for context {name:?} does not conform to the kubernetes DNS_LABEL rules"
            ));
        }
    }
    for (name, cluster) in &clusters {
        let Some(cluster) = cluster.filter(|c| c.as_map().is_some_and(|m| !m.is_empty())) else {
            problems.push("cluster has no server defined".to_string());
            continue;
        };
        if text(cluster, "server").is_empty() {
            problems.push(format!("no server found for cluster {name:?}"));
        }
        let proxy = text(cluster, "proxy-url");
        if !proxy.is_empty() {
            match url::Url::parse(proxy) {
                Err(e) => problems.push(format!("invalid 'proxy-url' {proxy:?} for cluster {name:?}: {e}")),
                Ok(u) if !matches!(u.scheme(), "http" | "https" | "socks5") => problems.push(format!(
                    "invalid 'proxy-url' {proxy:?} for cluster {name:?}: unsupported scheme {:?}, must be http, https, or socks5",
                    u.scheme()
                )),
                Ok(_) => {}
            }
        }
        let (ca_file, ca_data) =
            (text(cluster, "certificate-authority"), text(cluster, "certificate-authority-data"));
        if !ca_file.is_empty() && !ca_data.is_empty() {
            problems.push(format!(
                "certificate-authority-data and certificate-authority are both specified for {name}. certificate-authority-data will override."
            ));
        } else if !ca_file.is_empty() {
            problems.push(format!(
                "unable to read certificate-authority {ca_file} for {name}: a kubeconfig in a repository cannot name local files; embed it as certificate-authority-data"
            ));
        }
    }
    for (name, user) in &users {
        let Some(user) = user else { continue };
        let has = |key: &str| !text(user, key).is_empty();
        // client-go counts only these two as competing methods; client certificates, exec
        // plugins and auth providers are checked separately.
        let mut methods = Vec::new();
        if has("token") {
            methods.push("token");
        }
        if has("username") || has("password") {
            methods.push("basicAuth");
        }
        if has("client-certificate") || has("client-certificate-data") {
            if has("client-certificate") && has("client-certificate-data") {
                problems.push(format!(
                    "client-cert-data and client-cert are both specified for {name}. client-cert-data will override."
                ));
            }
            if has("client-key") && has("client-key-data") {
                problems.push(format!(
                    "client-key-data and client-key are both specified for {name}; client-key-data will override"
                ));
            }
            if !has("client-key") && !has("client-key-data") {
                problems.push(format!(
                    "client-key-data or client-key must be specified for {name} to use the clientCert authentication method."
                ));
            }
        }
        for file in ["tokenFile", "client-certificate", "client-key"] {
            if has(file) {
                problems.push(format!(
                    "unable to read {file} {} for {name}: a kubeconfig in a repository cannot name local files; embed the data instead",
                    text(user, file)
                ));
            }
        }
        let auth_provider = user.get("auth-provider").is_some_and(|n| !n.is_null());
        if let Some(exec) = user.get("exec").filter(|n| !n.is_null()) {
            if auth_provider {
                problems.push(format!(
                    "authProvider cannot be provided in combination with an exec plugin for {name}"
                ));
            }
            if text(exec, "command").is_empty() {
                problems.push(format!(
                    "command must be specified for {name} to use exec authentication plugin"
                ));
            }
            if text(exec, "apiVersion").is_empty() {
                problems.push(format!(
                    "apiVersion must be specified for {name} to use exec authentication plugin"
                ));
            }
        }
        if methods.len() > 1 {
            problems.push(format!(
                "more than one authentication method found for {name}; found [{}], only one is allowed",
                methods.join(" ")
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::kubeconfig_problems;

    const GOOD: &str = "apiVersion: v1\nkind: Config\ncurrent-context: default\nclusters:\n- name: default\n  cluster: {server: https://10.0.0.1:6443, certificate-authority-data: LS0t}\nusers:\n- name: default\n  user: {token: abc}\ncontexts:\n- name: default\n  context: {cluster: default, user: default, namespace: loft}\n";

    #[test]
    fn a_loftctl_style_kubeconfig_is_valid() {
        assert_eq!(kubeconfig_problems(GOOD), Vec::<String>::new());
        // A token together with a client certificate is allowed: client-go counts only token
        // and basic auth as competing methods.
        let both = GOOD.replace(
            "{token: abc}",
            "{token: abc, client-certificate-data: LS0t, client-key-data: LS0t}",
        );
        assert_eq!(kubeconfig_problems(&both), Vec::<String>::new());
    }

    #[test]
    fn client_go_messages() {
        let cases = [
            (
                "",
                "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable",
            ),
            (
                &GOOD.replace("current-context: default", "current-context: prod"),
                "context was not found for specified context: prod",
            ),
            (
                &GOOD.replace("server: https://10.0.0.1:6443, ", ""),
                "no server found for cluster \"default\"",
            ),
            (
                &GOOD.replace("{token: abc}", "{token: abc, username: u, password: p}"),
                "more than one authentication method found for default; found [token basicAuth], only one is allowed",
            ),
            (
                &GOOD.replace("{token: abc}", "{client-certificate-data: LS0t}"),
                "client-key-data or client-key must be specified for default to use the clientCert authentication method.",
            ),
            (
                &GOOD.replace("user: default, namespace", "user: admin, namespace"),
                "user \"admin\" was not found for context \"default\"",
            ),
            (
                &GOOD.replace("namespace: loft", "namespace: Loft_NS"),
                "namespace \"Loft_NS\" for context \"default\" does not conform to the kubernetes DNS_LABEL rules",
            ),
            (
                &GOOD.replace(
                    "{token: abc}",
                    "{exec: {apiVersion: client.authentication.k8s.io/v1}}",
                ),
                "command must be specified for default to use exec authentication plugin",
            ),
        ];
        for (config, expected) in cases {
            let problems = kubeconfig_problems(config);
            assert!(problems.iter().any(|p| p == expected), "{expected}\n got {problems:?}");
        }
    }
}
