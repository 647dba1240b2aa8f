//! KubeDirector's configmeta `connections` section, byte for byte (formats.md §1.2).
//!
//! For each KubeDirectorCluster, KubeDirector builds `{"connections":{"clusters":{},
//! "configmaps":{},"secrets":{}}}`: every listed ConfigMap (Secret) that exists and carries the
//! `kubedirector.hpe.com/cmType` (`secretType`) label becomes an entry
//! `{annotations, data, labels, metadata:{name}}` in the group named by the label value, in
//! spec order, duplicates kept. Secret entries have every *value* base64-encoded (Go writes
//! `[]byte` that way); keys stay plain. Missing and unlabelled objects are skipped silently by
//! KubeDirector; the checks report them.
//!
//! What cannot be known offline is never invented: a Secret whose values only the cluster
//! holds (a SealedSecret, an ExternalSecret) gets `"data":null`, and connected clusters (built
//! from pod names and UIDs) are left out; both are listed under a top-level
//! `"kubectl-connections":{"unresolved":[...]}` member beside `connections`, which KubeDirector
//! never writes and apps never read, so the preview says plainly where it differs.

use super::gojson::{self, GoValue};
use crate::model::{Body, Model, Object};
use crate::syntax::Node;
use base64::Engine as _;
use std::collections::BTreeMap;

/// The ConfigMap grouping label.
pub const CM_TYPE_LABEL: &str = "kubedirector.hpe.com/cmType";
/// The Secret grouping label.
pub const SECRET_TYPE_LABEL: &str = "kubedirector.hpe.com/secretType";

/// A map of strings at `path` under `root` (kubectl's reading of each value).
pub fn string_map(root: &Node, path: &[&str]) -> BTreeMap<String, String> {
    root.path(path)
        .and_then(Node::as_map)
        .map(|entries| {
            entries
                .iter()
                .filter(|(_, v)| !v.is_null())
                .filter_map(|(k, v)| {
                    let value = v.as_scalar()?;
                    let text = match value.resolve() {
                        crate::syntax::Resolved::Str(_) => value.text.to_string(),
                        other => other.to_text(),
                    };
                    Some((k.key_text(), text))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Where a Secret's metadata lives, by the kind of object that declares it.
pub fn secret_metadata_path(object: &Object) -> &'static [&'static str] {
    match object.kind.value.as_str() {
        "SealedSecret" => &["spec", "template", "metadata"],
        "ExternalSecret" => &["spec", "target", "template", "metadata"],
        _ => &["metadata"],
    }
}

/// The labels the Secret declared by `object` will carry in the cluster.
pub fn secret_labels(object: &Object) -> BTreeMap<String, String> {
    let mut path = secret_metadata_path(object).to_vec();
    path.push("labels");
    string_map(&object.root, &path)
}

fn b64(bytes: &[u8]) -> GoValue {
    GoValue::Str(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn b64_map(map: &BTreeMap<String, String>) -> GoValue {
    GoValue::Map(map.iter().map(|(k, v)| (k.clone(), b64(v.as_bytes()))).collect())
}

/// The objects that get a configmeta file (every KubeDirectorCluster), in model order.
pub fn clusters(model: &Model) -> impl Iterator<Item = usize> + '_ {
    (0..model.objects.len())
        .filter(|&i| matches!(model.objects[i].body, Body::KubeDirectorCluster(_)))
}

/// The configmeta file for KubeDirectorCluster `index`: its bytes (no trailing newline).
pub fn configmeta(model: &Model, index: usize) -> String {
    configmeta_with(model, index, false)
}

/// [`configmeta`]; with `sealed` (`--secrets sealed`), committed plaintext Secrets are sealed
/// in the output, so their values stay out of the file too (`null`, as for a SealedSecret).
pub fn configmeta_with(model: &Model, index: usize, sealed: bool) -> String {
    let object = &model.objects[index];
    let Body::KubeDirectorCluster(spec) = &object.body else { return String::new() };
    let ns = object.namespace_str();
    let mut unresolved = Vec::new();

    let mut configmaps: BTreeMap<String, Vec<GoValue>> = BTreeMap::new();
    for name in &spec.configmaps {
        let Some(cm) = model.configmap(ns, &name.value) else { continue };
        let cm = &model.objects[cm];
        let labels = string_map(&cm.root, &["metadata", "labels"]);
        let Some(group) = labels.get(CM_TYPE_LABEL) else { continue };
        let data = match &cm.body {
            Body::ConfigMap(data) => data.data.clone(),
            _ => BTreeMap::new(),
        };
        configmaps.entry(group.clone()).or_default().push(GoValue::Struct(vec![
            (
                "annotations",
                GoValue::string_map_or_null(&string_map(&cm.root, &["metadata", "annotations"])),
            ),
            ("data", GoValue::string_map_or_null(&data)),
            ("labels", GoValue::string_map(&labels)),
            ("metadata", GoValue::Struct(vec![("name", GoValue::Str(name.value.clone()))])),
        ]));
    }

    let mut secrets: BTreeMap<String, Vec<GoValue>> = BTreeMap::new();
    for name in &spec.secrets {
        let Some(&source) = model.secret_sources(ns, &name.value).first() else { continue };
        let source = &model.objects[source];
        let labels = secret_labels(source);
        let Some(group) = labels.get(SECRET_TYPE_LABEL) else { continue };
        let mut annotations_path = secret_metadata_path(source).to_vec();
        annotations_path.push("annotations");
        let mut annotations = string_map(&source.root, &annotations_path);
        if sealed {
            // These hold the whole Secret as last applied, values included.
            annotations.retain(|k, _| !crate::render::sealed::is_last_applied(k));
        }
        let data = match &source.body {
            Body::Secret(secret) if secret.values.is_empty() => GoValue::Null,
            Body::Secret(secret) if !sealed => {
                GoValue::Map(secret.values.iter().map(|(k, v)| (k.clone(), b64(v))).collect())
            }
            _ => {
                let how = if sealed && matches!(source.body, Body::Secret(_)) {
                    "sealed by --secrets sealed"
                } else {
                    "decrypted or fetched in the cluster"
                };
                unresolved.push(format!(
                    "connections.secrets.{group}[{}] ({}): its data is {how} ({} {}), so it is null here",
                    secrets.get(group).map_or(0, Vec::len),
                    name.value,
                    source.kind.value,
                    source.name.value
                ));
                GoValue::Null
            }
        };
        secrets.entry(group.clone()).or_default().push(GoValue::Struct(vec![
            ("annotations", b64_map(&annotations)),
            ("data", data),
            ("labels", b64_map(&labels)),
            ("metadata", GoValue::Struct(vec![("name", b64(name.value.as_bytes()))])),
        ]));
    }

    let mut clusters = BTreeMap::new();
    for name in &spec.clusters {
        if model.kubedirector_cluster(ns, &name.value).is_some()
            && !clusters.contains_key(&name.value)
        {
            clusters.insert(name.value.clone(), ());
            unresolved.push(format!(
                "connections.clusters.{}: filled in by KubeDirector in the cluster (it needs the connected cluster's pods, UID and status), so it is left out here",
                name.value
            ));
        }
    }

    let group_map = |groups: BTreeMap<String, Vec<GoValue>>| {
        GoValue::Map(groups.into_iter().map(|(k, v)| (k, GoValue::Array(v))).collect())
    };
    let mut top = vec![(
        "connections",
        GoValue::Struct(vec![
            ("clusters", GoValue::Map(BTreeMap::new())),
            ("configmaps", group_map(configmaps)),
            ("secrets", group_map(secrets)),
        ]),
    )];
    if !unresolved.is_empty() {
        top.push((
            "kubectl-connections",
            GoValue::Struct(vec![(
                "unresolved",
                GoValue::Array(unresolved.into_iter().map(GoValue::Str).collect()),
            )]),
        ));
    }
    let mut out = String::new();
    gojson::write(&mut out, &GoValue::Struct(top));
    out
}

/// Annotation on a rendered KubeDirectorCluster with its connections hash.
pub const CONNECTIONS_HASH: &str = "connections.dev/connections-hash";

/// The connections hash of KubeDirectorCluster `index`, built like KubeDirector's
/// `calcConnectionsHash` (formats.md §1.3): in spec order, each connected cluster's name and
/// state, then each ConfigMap's and each Secret's name and state, empty for a missing one.
/// Offline there is no `resourceVersion` or `specGenerationToProcess`, so the state is a digest
/// of the object as the repository declares it; the hash changes exactly when a connected
/// object does, which is what makes KubeDirector push `--reconnect` to the members.
pub fn connections_hash(model: &Model, index: usize) -> String {
    let object = &model.objects[index];
    let Body::KubeDirectorCluster(spec) = &object.body else { return String::new() };
    let ns = object.namespace_str();
    let digest = |o: usize| {
        let json = crate::render::emit::node_to_json_text(&model.objects[o].root);
        super::generate::content_hash([("", json.as_bytes())])
    };
    let mut text = String::new();
    for name in &spec.clusters {
        text.push_str(&name.value);
        if let Some(c) = model.kubedirector_cluster(ns, &name.value) {
            text.push_str(&digest(c));
        }
    }
    for name in &spec.configmaps {
        text.push_str(&name.value);
        if let Some(c) = model.configmap(ns, &name.value) {
            text.push_str(&digest(c));
        }
    }
    for name in &spec.secrets {
        text.push_str(&name.value);
        if let Some(&s) = model.secret_sources(ns, &name.value).first() {
            text.push_str(&digest(s));
        }
    }
    super::generate::content_hash([("", text.as_bytes())])
}

/// `configmeta/<namespace>/<cluster>.json`.
pub fn path(object: &Object) -> String {
    format!("configmeta/{}/{}.json", object.namespace_str(), object.name.value)
}

#[cfg(test)]
mod tests {
    use crate::model::{LowerOptions, lower};
    use crate::source::{FileId, LineIndex};

    fn render(yaml: &str) -> String {
        let (docs, diags) =
            crate::parse::parse(FileId(0), yaml, &LineIndex::new(yaml), Default::default());
        assert!(diags.is_empty(), "{diags:?}");
        let (model, _) = lower(docs, &LowerOptions::default());
        let kd = model.objects.iter().position(|o| o.kind.value == "KubeDirectorCluster").unwrap();
        super::configmeta(&model, kd)
    }

    /// Written by hand from formats.md §1.2, not blessed: compact, sorted keys, HTML-escaped,
    /// Secret values (and only values) in base64, unlabelled and missing objects skipped.
    #[test]
    fn matches_kubedirector_byte_for_byte() {
        let yaml = "\
apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorCluster
metadata: {name: nb}
spec:
  connections:
    configmaps: [cm, unlabelled, missing, cm]
    secrets: [s]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, labels: {kubedirector.hpe.com/cmType: git}}
data: {b: '<&>', a: x}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unlabelled}
data: {a: x}
---
apiVersion: v1
kind: Secret
metadata: {name: s, labels: {kubedirector.hpe.com/secretType: t}, annotations: {note: v}}
stringData: {k: hi}
";
        assert_eq!(
            render(yaml),
            concat!(
                r#"{"connections":{"clusters":{},"configmaps":{"git":["#,
                r#"{"annotations":null,"data":{"a":"x","b":"\u003c\u0026\u003e"},"labels":{"kubedirector.hpe.com/cmType":"git"},"metadata":{"name":"cm"}},"#,
                r#"{"annotations":null,"data":{"a":"x","b":"\u003c\u0026\u003e"},"labels":{"kubedirector.hpe.com/cmType":"git"},"metadata":{"name":"cm"}}]},"#,
                r#""secrets":{"t":[{"annotations":{"note":"dg=="},"data":{"k":"aGk="},"labels":{"kubedirector.hpe.com/secretType":"dA=="},"metadata":{"name":"cw=="}}]}}}"#
            )
        );
    }

    #[test]
    fn no_connections_prints_empty_groups() {
        let yaml = "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata: {name: nb}\nspec: {}\n";
        assert_eq!(render(yaml), r#"{"connections":{"clusters":{},"configmaps":{},"secrets":{}}}"#);
    }
}
