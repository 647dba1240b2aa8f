//! Loft's `ClusterConnect` is create-only (the Loft API accepts only POST for it), so GitOps
//! cannot reconcile it. Render converts it into what can be applied (formats.md §4.5): a
//! `storage.loft.sh/v1` `Cluster` built from `spec.clusterTemplate`, whose `spec.config`
//! points at a kubeconfig Secret, and that Secret holding `spec.config`. For `adminUser`, the
//! cluster gets the owner and the access rule loftctl creates (verbs and subresources `*`).

use super::generate::{GENERATED_FROM, MANAGED_BY};
use crate::model::{LoftConnect, Object};
use crate::syntax::Node;
use base64::Engine as _;

/// The namespace of the kubeconfig Secrets render writes (Loft's own namespace by default).
pub const SECRET_NAMESPACE: &str = "loft";
/// The key of the kubeconfig in that Secret.
pub const SECRET_KEY: &str = "config";

/// The name of the kubeconfig Secret of cluster `name`.
pub fn secret_name(name: &str) -> String {
    format!("{name}-kubeconfig")
}

fn metadata(name: &str, namespace: Option<&str>, template: Option<&Node>, source: &str) -> Node {
    let mut entries = vec![("name", Node::string(name))];
    if let Some(ns) = namespace {
        entries.push(("namespace", Node::string(ns)));
    }
    let mut labels = template
        .and_then(|t| t.path(&["metadata", "labels"]))
        .cloned()
        .unwrap_or_else(|| Node::map(vec![]));
    labels.set(MANAGED_BY.0, Node::string(MANAGED_BY.1));
    let mut annotations = template
        .and_then(|t| t.path(&["metadata", "annotations"]))
        .cloned()
        .unwrap_or_else(|| Node::map(vec![]));
    annotations.set(GENERATED_FROM, Node::string(source));
    entries.push(("labels", labels));
    entries.push(("annotations", annotations));
    Node::map_of(entries)
}

/// The `Cluster` and kubeconfig `Secret` for a ClusterConnect, or nothing without a config.
pub fn convert(object: &Object, connect: &LoftConnect) -> Option<(Node, Node)> {
    let config = connect.config.as_ref()?;
    let name = &object.name.value;
    let source = format!("ClusterConnect/{name}");
    let template = connect.template.as_ref();
    let mut spec = template
        .and_then(|t| t.get("spec"))
        .filter(|s| s.as_map().is_some())
        .cloned()
        .unwrap_or_else(|| Node::map(vec![]));
    spec.set(
        "config",
        Node::map_of([
            ("secretName", Node::string(secret_name(name))),
            ("secretNamespace", Node::string(SECRET_NAMESPACE)),
            ("key", Node::string(SECRET_KEY)),
        ]),
    );
    // loftctl sends an empty adminUser when logged in as a team: that is no admin user.
    if let Some(admin) = connect.admin_user.as_ref().filter(|a| !a.value.is_empty()) {
        if spec.get("owner").is_none_or(Node::is_null) {
            spec.set("owner", Node::map_of([("user", Node::string(admin.value.clone()))]));
        }
        if spec.get("access").and_then(Node::as_seq).is_none_or(<[Node]>::is_empty) {
            let all = || Node::seq(vec![Node::string("*")]);
            spec.set(
                "access",
                Node::seq(vec![Node::map_of([
                    ("verbs", all()),
                    ("subresources", all()),
                    ("users", Node::seq(vec![Node::string(admin.value.clone())])),
                ])]),
            );
        }
    }
    let cluster = Node::map_of([
        ("apiVersion", Node::string("storage.loft.sh/v1")),
        ("kind", Node::string("Cluster")),
        ("metadata", metadata(name, None, template, &source)),
        ("spec", spec),
    ]);
    let secret = Node::map_of([
        ("apiVersion", Node::string("v1")),
        ("kind", Node::string("Secret")),
        ("metadata", metadata(&secret_name(name), Some(SECRET_NAMESPACE), None, &source)),
        ("type", Node::string("Opaque")),
        (
            "data",
            Node::map_of([(
                SECRET_KEY,
                Node::string(base64::engine::general_purpose::STANDARD.encode(&config.value)),
            )]),
        ),
    ]);
    Some((cluster, secret))
}
