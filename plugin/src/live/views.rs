//! What `list`, `get` and `describe` show, computed from a model: the same code serves the live
//! cluster (a snapshot lowered like a repository) and `--repo PATH`. Names and keys are shown,
//! never values of Secrets.

use crate::commands::Failure;
use connections_core::diagnostic::{Diagnostic, Severity};
use connections_core::model::{
    Body, CredentialValue, Flavour, Model, Object, Reference, Referrer, SecretKeys, TargetKind,
    UsableConnection,
};
use connections_core::render::configmeta::{
    CM_TYPE_LABEL, SECRET_TYPE_LABEL, secret_labels, string_map,
};
use connections_core::source::Spanned;
use connections_core::syntax::Node;
use std::fmt::Write as _;

/// What `describe` and `get` were asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Connection (ours, else KubeETL's, else a Polyaxon agent connection).
    Connection(String),
    /// A KubeETL Connection, named with its group.
    EtlConnection(String),
    /// A KubeDirectorCluster.
    KubeDirectorCluster(String),
    /// A Loft cluster.
    LoftCluster(String),
    /// A connection of a Polyaxon agent config (`--repo` only: it is not an object).
    Polyaxon(String),
}

/// Parses `connection/NAME`, `kdcluster/NAME`, `cluster/NAME` or a bare `NAME` (a connection).
pub fn parse_target(text: &str) -> Result<Target, Failure> {
    let Some((kind, name)) = text.split_once('/') else {
        return Ok(Target::Connection(text.to_string()));
    };
    let name = name.to_string();
    match kind.to_ascii_lowercase().as_str() {
        "connection" | "connections" | "conn" | "connection.connections.dev" => {
            Ok(Target::Connection(name))
        }
        "connection.etl.dataworkz.nl" | "connections.etl.dataworkz.nl" => {
            Ok(Target::EtlConnection(name))
        }
        "kdcluster"
        | "kubedirectorcluster"
        | "kubedirectorclusters"
        | "kubedirectorcluster.kubedirector.hpe.com" => Ok(Target::KubeDirectorCluster(name)),
        "cluster" | "clusters" | "cluster.storage.loft.sh" | "cluster.management.loft.sh" => {
            Ok(Target::LoftCluster(name))
        }
        "polyaxon" => Ok(Target::Polyaxon(name)),
        other => Err(Failure(format!(
            "unknown kind {other:?}: use connection/NAME, kdcluster/NAME, cluster/NAME (a Loft cluster) or polyaxon/NAME (an agent connection)"
        ))),
    }
}

/// Finds the object a target names in `namespace` (cluster-scoped Loft clusters ignore it).
pub fn find(model: &Model, target: &Target, namespace: &str) -> Option<usize> {
    use connections_core::model::Flavour;
    let connection = |flavour: Flavour, name: &str| {
        model.objects.iter().position(|o| {
            matches!(&o.body, Body::Connection(c) if c.flavour == flavour)
                && o.name.value == name
                && o.namespace_str() == namespace
        })
    };
    match target {
        // Ours first, as workloads resolve `connections.dev/use`.
        Target::Connection(name) => {
            connection(Flavour::Ours, name).or_else(|| connection(Flavour::KubeEtl, name))
        }
        Target::EtlConnection(name) => connection(Flavour::KubeEtl, name),
        Target::KubeDirectorCluster(name) => model.objects.iter().position(|o| {
            matches!(o.body, Body::KubeDirectorCluster(_))
                && o.name.value == *name
                && o.namespace_str() == namespace
        }),
        Target::LoftCluster(name) => model
            .objects
            .iter()
            .position(|o| matches!(o.body, Body::LoftCluster) && o.name.value == *name),
        Target::Polyaxon(_) => None,
    }
}

/// `group/kind`, as describe's Source line shows it.
fn source(object: &Object) -> String {
    if object.group.is_empty() {
        object.kind.value.clone()
    } else {
        format!("{} {}", object.group, object.kind.value)
    }
}

/// The `Schema:` block of a connection view (`<none>` when empty).
fn schema_lines(out: &mut String, schema: &[(Spanned<String>, Node)]) {
    if schema.is_empty() {
        line(out, 0, "Schema", "<none>");
        return;
    }
    let _ = writeln!(out, "Schema:");
    for (key, value) in schema {
        line(out, 2, &key.value, scalar_text(value));
    }
}

fn line(out: &mut String, indent: usize, key: &str, value: impl std::fmt::Display) {
    let label = format!("{key}:");
    let _ = writeln!(
        out,
        "{:indent$}{label:<width$}{value}",
        "",
        width = 16usize.saturating_sub(indent).max(label.len() + 1)
    );
}

fn scalar_text(node: &Node) -> String {
    match node.as_scalar() {
        Some(s) => match s.resolve() {
            connections_core::syntax::Resolved::Str(_) => s.text.to_string(),
            other => other.to_text(),
        },
        None => connections_core::render::emit::node_to_json_text(node),
    }
}

/// ✓ or ✗ with a word.
fn mark(found: bool) -> &'static str {
    if found { "✓ found" } else { "✗ missing" }
}

/// Where a referenced Secret comes from, if anywhere.
fn secret_source(model: &Model, namespace: &str, name: &str) -> Option<usize> {
    model.secret_sources(namespace, name).first().copied()
}

/// Describes one reference: the object and each key it needs, found or missing.
fn reference_line(model: &Model, r: &Reference, forbidden: &[&str]) -> String {
    let (found, detail, keys): (bool, String, Option<Vec<String>>) = match r.target {
        TargetKind::Secret => match secret_source(model, &r.namespace, &r.name.value) {
            Some(s) => {
                let o = &model.objects[s];
                let via = if o.kind.value == "Secret" {
                    String::new()
                } else {
                    format!(" (as {} {})", o.kind.value, o.name.value)
                };
                let keys = match model.secret_keys(s) {
                    Some(SecretKeys::Known(keys)) => Some(keys.keys().cloned().collect()),
                    _ => None,
                };
                (true, via, keys)
            }
            None => (false, String::new(), None),
        },
        TargetKind::ConfigMap => match model.configmap(&r.namespace, &r.name.value) {
            Some(c) => match &model.objects[c].body {
                Body::ConfigMap(data) => {
                    (true, String::new(), Some(data.keys.keys().cloned().collect()))
                }
                _ => (true, String::new(), None),
            },
            None => {
                let generated = r
                    .name
                    .value
                    .strip_suffix("-connection")
                    .and_then(|c| model.connection(&r.namespace, c))
                    .and_then(|c| connections_core::render::generate::settings_configmap(model, c));
                match generated {
                    Some(g) => (
                        true,
                        " (generated by render)".to_string(),
                        Some(g.data.keys().cloned().collect()),
                    ),
                    None => (false, String::new(), None),
                }
            }
        },
        TargetKind::KubeDirectorCluster => {
            (model.kubedirector_cluster(&r.namespace, &r.name.value).is_some(), String::new(), None)
        }
        TargetKind::Connection => (false, String::new(), None),
    };
    let kind = match r.target {
        TargetKind::Secret => "Secret",
        TargetKind::ConfigMap => "ConfigMap",
        TargetKind::KubeDirectorCluster => "KubeDirectorCluster",
        TargetKind::Connection => "Connection",
    };
    if !found && forbidden.contains(&kind) {
        return format!("{kind} {}  ? no permission to list {kind}s here", r.name.value);
    }
    let mut text = format!("{kind} {}{detail}  {}", r.name.value, mark(found || r.optional));
    if r.optional && !found {
        text.push_str(" (optional)");
    }
    if !r.keys.is_empty() {
        let parts: Vec<String> = r
            .keys
            .iter()
            .map(|k| match &keys {
                Some(keys) => format!(
                    "{} {}",
                    k.key.value,
                    if keys.contains(&k.key.value) { "✓" } else { "✗" }
                ),
                None if found => format!("{} ?", k.key.value),
                None => format!("{} ✗", k.key.value),
            })
            .collect();
        let _ = write!(text, "; keys: {}", parts.join(", "));
    }
    text
}

fn findings_of(out: &mut String, diagnostics: &[&Diagnostic]) {
    if diagnostics.is_empty() {
        line(out, 0, "Findings", "<none>");
        return;
    }
    let _ = writeln!(out, "Findings:");
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        let _ = writeln!(out, "  {level:<8}{}: {}", d.check.id(), d.message);
    }
}

/// The findings that concern object `index` (made while lowering it or about its references).
pub fn findings<'d>(
    model: &Model,
    index: usize,
    diagnostics: &'d [Diagnostic],
) -> Vec<&'d Diagnostic> {
    let document = model.objects[index].root.span;
    diagnostics
        .iter()
        .filter(|d| {
            d.span.file == document.file
                && document.start <= d.span.start
                && d.span.start <= document.end
        })
        .collect()
}

/// The workloads that use connection `index`, and the KubeDirectorClusters that connect its
/// Secret or ConfigMap.
pub fn users_of(model: &Model, index: usize) -> Vec<String> {
    let target = &model.objects[index];
    let (secret, config_map) = match &target.body {
        Body::Connection(c) => (
            c.secret.as_ref().map(|s| s.name.value.clone()),
            c.config_map.as_ref().map(|s| s.name.value.clone()),
        ),
        _ => (None, None),
    };
    model
        .objects
        .iter()
        .filter(|o| o.namespace_str() == target.namespace_str())
        .filter_map(|o| match &o.body {
            Body::KubeDirectorCluster(kd) => {
                let via_secret = secret
                    .as_ref()
                    .filter(|s| kd.secrets.iter().any(|n| &n.value == *s))
                    .map(|s| format!("Secret {s}"));
                let via_cm = config_map
                    .as_ref()
                    .filter(|c| kd.configmaps.iter().any(|n| &n.value == *c))
                    .map(|c| format!("ConfigMap {c}"));
                via_secret
                    .or(via_cm)
                    .map(|via| format!("KubeDirectorCluster/{} (connects its {via})", o.name.value))
            }
            Body::Workload(w)
                if w.uses.iter().any(|u| {
                    model.usable_connection(o.namespace_str(), &u.value)
                        == Some(UsableConnection::Object(index))
                }) =>
            {
                Some(format!("{}/{}", o.kind.value, o.name.value))
            }
            _ => None,
        })
        .collect()
}

/// `describe connection/NAME`.
pub fn describe_connection(
    model: &Model,
    index: usize,
    diagnostics: &[Diagnostic],
    forbidden: &[&str],
) -> String {
    let object = &model.objects[index];
    let Body::Connection(connection) = &object.body else { return String::new() };
    let mut out = String::new();
    line(&mut out, 0, "Name", &object.name.value);
    line(&mut out, 0, "Namespace", object.namespace_str());
    line(&mut out, 0, "Source", source(object));
    line(&mut out, 0, "Type", connection.type_name.as_ref().map_or("<none>", |t| t.value.as_str()));
    if let Some(d) = &connection.description {
        line(&mut out, 0, "Description", d);
    }
    if let Some(p) = &connection.provider {
        line(&mut out, 0, "Provider", &p.value);
    }
    schema_lines(&mut out, &connection.schema);
    let references: Vec<&Reference> =
        model.references.iter().filter(|r| r.from == Referrer::Object(index)).collect();
    let resource = |r: &Option<connections_core::model::ResourceModel>| {
        r.as_ref().and_then(|res| {
            let path = format!("{}.name", res.path);
            references.iter().find(|r| r.path == path).map(|r| {
                let how = match (&res.mount_path, res.items.is_empty()) {
                    (Some(m), _) => format!(", mounted at {}", m.value),
                    (None, false) => ", items as environment variables".to_string(),
                    (None, true) => ", all keys as environment variables".to_string(),
                };
                format!("{}{how}", reference_line(model, r, forbidden))
            })
        })
    };
    line(&mut out, 0, "Secret", resource(&connection.secret).unwrap_or_else(|| "<none>".into()));
    line(
        &mut out,
        0,
        "ConfigMap",
        resource(&connection.config_map).unwrap_or_else(|| "<none>".into()),
    );
    if connection.credentials.is_empty() {
        line(&mut out, 0, "Credentials", "<none>");
    } else {
        let _ = writeln!(out, "Credentials:");
        for credential in &connection.credentials {
            let text = match &credential.value {
                Some(CredentialValue::Inline(_)) => "inline value".to_string(),
                Some(_) => {
                    let path = format!("{}.valueFrom", credential.path);
                    references
                        .iter()
                        .find(|r| r.path.starts_with(&path))
                        .map(|r| reference_line(model, r, forbidden))
                        .unwrap_or_default()
                }
                None => "<unset>".to_string(),
            };
            line(&mut out, 2, &credential.name.value, text);
        }
    }
    if connection.flavour == Flavour::Ours {
        line(
            &mut out,
            0,
            "Settings",
            format!(
                "ConfigMap {} (written by render)",
                connections_core::render::generate::settings_configmap_name(&object.name.value)
            ),
        );
    }
    if !connection.scopes.is_empty() {
        let scopes: Vec<String> =
            connection.scopes.iter().map(|(k, n)| format!("{k}/{n}")).collect();
        line(&mut out, 0, "Scopes", scopes.join(", "));
    }
    let users = users_of(model, index);
    if users.is_empty() {
        line(&mut out, 0, "Used By", "<none>");
    } else {
        let _ = writeln!(out, "Used By:");
        for user in users {
            let _ = writeln!(out, "  {user}");
        }
    }
    describe_health(&mut out, &object.root);
    findings_of(&mut out, &findings(model, index, diagnostics));
    out
}

fn describe_health(out: &mut String, root: &Node) {
    let check = root.path(&["spec", "healthCheck"]);
    let text = |key: &str| check.and_then(|c| c.get(key)).map(scalar_text);
    match text("mode") {
        None => line(out, 0, "Health Check", "<none>"),
        Some(mode) => {
            let mut value = mode;
            if let Some(interval) = text("interval") {
                let _ = write!(value, ", every {interval}");
            }
            if let Some(timeout) = text("timeout") {
                let _ = write!(value, ", timeout {timeout}");
            }
            line(out, 0, "Health Check", value);
        }
    }
    match root.path(&["status", "lastHealthCheck"]) {
        None => line(out, 0, "Last Check", "<none>"),
        Some(last) => {
            let healthy = last.get("healthy").map(scalar_text).unwrap_or_default() == "true";
            let mut value = if healthy { "healthy".to_string() } else { "unhealthy".to_string() };
            if let Some(reason) = last.get("reason").map(scalar_text) {
                let _ = write!(value, " ({reason})");
            }
            if let Some(time) = last.get("time").map(scalar_text) {
                let _ = write!(value, " at {time}");
            }
            line(out, 0, "Last Check", value);
        }
    }
}

/// `describe NAME` of a Polyaxon agent connection (from `--repo`; the agent's config is not a
/// Kubernetes object the cluster could list).
pub fn describe_polyaxon(model: &Model, config: usize, index: usize, forbidden: &[&str]) -> String {
    let connection = &model.polyaxon[config].connections[index];
    let c = &connection.model;
    let mut out = String::new();
    line(&mut out, 0, "Name", connection.name.as_ref().map_or("<none>", |n| n.value.as_str()));
    line(
        &mut out,
        0,
        "Namespace",
        format!("{} (where the agent config is read)", model.default_namespace),
    );
    line(&mut out, 0, "Source", format!("Polyaxon agent config, {}", connection.path));
    line(&mut out, 0, "Kind", c.type_name.as_ref().map_or("<none>", |t| t.value.as_str()));
    if let Some(d) = &c.description {
        line(&mut out, 0, "Description", d);
    }
    schema_lines(&mut out, &c.schema);
    let references: Vec<&Reference> =
        model.references.iter().filter(|r| r.from == Referrer::Polyaxon(config, index)).collect();
    for (label, field) in [("Secret", "secret"), ("ConfigMap", "configMap")] {
        let path = format!("{}.{field}.name", connection.path);
        let text =
            references.iter().find(|r| r.path == path).map(|r| reference_line(model, r, forbidden));
        line(&mut out, 0, label, text.unwrap_or_else(|| "<none>".into()));
    }
    let users: Vec<String> = model
        .objects
        .iter()
        .filter_map(|o| match &o.body {
            Body::Workload(w)
                if w.uses.iter().any(|u| {
                    model.usable_connection(o.namespace_str(), &u.value)
                        == Some(UsableConnection::Polyaxon(config, index))
                }) =>
            {
                Some(format!("{}/{}", o.kind.value, o.name.value))
            }
            _ => None,
        })
        .collect();
    if users.is_empty() {
        line(&mut out, 0, "Used By", "<none>");
    } else {
        let _ = writeln!(out, "Used By:");
        for user in users {
            let _ = writeln!(out, "  {user}");
        }
    }
    out
}

/// `found/total` of a Polyaxon connection's references.
pub fn polyaxon_reference_counts(model: &Model, config: usize, index: usize) -> (usize, usize) {
    let references: Vec<&Reference> =
        model.references.iter().filter(|r| r.from == Referrer::Polyaxon(config, index)).collect();
    let found = references
        .iter()
        .filter(|r| match r.target {
            TargetKind::Secret => secret_source(model, &r.namespace, &r.name.value).is_some(),
            TargetKind::ConfigMap => model.configmap(&r.namespace, &r.name.value).is_some(),
            _ => true,
        })
        .count();
    (found, references.len())
}

/// `describe kdcluster/NAME`.
pub fn describe_kubedirector(
    model: &Model,
    index: usize,
    diagnostics: &[Diagnostic],
    forbidden: &[&str],
) -> String {
    let object = &model.objects[index];
    let Body::KubeDirectorCluster(spec) = &object.body else { return String::new() };
    let ns = object.namespace_str();
    let mut out = String::new();
    line(&mut out, 0, "Name", &object.name.value);
    line(&mut out, 0, "Namespace", ns);
    line(&mut out, 0, "Source", source(object));
    let _ = writeln!(out, "Connections:");
    let _ = writeln!(out, "  ConfigMaps:");
    if spec.configmaps.is_empty() {
        let _ = writeln!(out, "    <none>");
    }
    for name in &spec.configmaps {
        let status = match model.configmap(ns, &name.value) {
            None if forbidden.contains(&"ConfigMap") => {
                "? no permission to list ConfigMaps here".to_string()
            }
            None => {
                format!("✗ skipped by KubeDirector: no ConfigMap {} in namespace {ns}", name.value)
            }
            Some(c) => match string_map(&model.objects[c].root, &["metadata", "labels"])
                .get(CM_TYPE_LABEL)
            {
                Some(group) => format!("✓ included, group {group:?}"),
                None => format!(
                    "✗ skipped by KubeDirector: no label {CM_TYPE_LABEL} (add it to metadata.labels)"
                ),
            },
        };
        let _ = writeln!(out, "    {:<24}{status}", name.value);
    }
    let _ = writeln!(out, "  Secrets:");
    if spec.secrets.is_empty() {
        let _ = writeln!(out, "    <none>");
    }
    for name in &spec.secrets {
        let status = match secret_source(model, ns, &name.value) {
            None if forbidden.contains(&"Secret") => {
                "? no permission to list Secrets here".to_string()
            }
            None => {
                format!("✗ skipped by KubeDirector: no Secret {} in namespace {ns}", name.value)
            }
            Some(s) => {
                let o = &model.objects[s];
                match secret_labels(o).get(SECRET_TYPE_LABEL) {
                    Some(group) if o.kind.value == "Secret" => {
                        format!("✓ included, group {group:?}")
                    }
                    Some(group) => format!(
                        "✓ included, group {group:?} (from {} {})",
                        o.kind.value, o.name.value
                    ),
                    None => format!(
                        "✗ skipped by KubeDirector: no label {SECRET_TYPE_LABEL} (add it to {}.labels of {} {})",
                        connections_core::render::configmeta::secret_metadata_path(o).join("."),
                        o.kind.value,
                        o.name.value
                    ),
                }
            }
        };
        let _ = writeln!(out, "    {:<24}{status}", name.value);
    }
    let _ = writeln!(out, "  Clusters:");
    if spec.clusters.is_empty() {
        let _ = writeln!(out, "    <none>");
    }
    for name in &spec.clusters {
        let status = if model.kubedirector_cluster(ns, &name.value).is_some() {
            "✓ included (KubeDirector builds its entry from the running cluster)".to_string()
        } else {
            format!(
                "✗ skipped by KubeDirector: no KubeDirectorCluster {} in namespace {ns}",
                name.value
            )
        };
        let _ = writeln!(out, "    {:<24}{status}", name.value);
    }
    let _ = writeln!(out, "Configmeta connections (Secret values masked):");
    let json = connections_core::render::configmeta::configmeta(model, index);
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    mask_configmeta_secrets(&mut value);
    let pretty = serde_json::to_string_pretty(&value["connections"]).unwrap_or_default();
    for l in pretty.lines() {
        let _ = writeln!(out, "  {l}");
    }
    findings_of(&mut out, &findings(model, index, diagnostics));
    out
}

/// Replaces every Secret data and annotation value in a configmeta document with `***`
/// (annotations too: `last-applied-configuration` holds the whole Secret).
fn mask_configmeta_secrets(value: &mut serde_json::Value) {
    let Some(groups) = value.pointer_mut("/connections/secrets").and_then(|s| s.as_object_mut())
    else {
        return;
    };
    for entries in groups.values_mut() {
        for entry in entries.as_array_mut().into_iter().flatten() {
            for field in ["data", "annotations"] {
                if let Some(map) = entry.get_mut(field).and_then(|d| d.as_object_mut()) {
                    for v in map.values_mut() {
                        *v = serde_json::Value::String("***".into());
                    }
                }
            }
        }
    }
}

/// What is known of a Loft cluster's config Secret.
#[derive(Debug, Default)]
pub struct ConfigSecret {
    /// Whether the Secret exists.
    pub found: bool,
    /// Whether it has the key (`None`: keys unknown).
    pub has_key: Option<bool>,
    /// The kubeconfig, if it could be read (held in memory only, never printed).
    pub kubeconfig: Option<String>,
}

/// `describe cluster/NAME` (Loft).
pub fn describe_loft_cluster(
    model: &Model,
    index: usize,
    secret: &ConfigSecret,
    diagnostics: &[Diagnostic],
) -> String {
    let object = &model.objects[index];
    let spec = object.root.get("spec");
    let text = |path: &[&str]| spec.and_then(|s| s.path(path)).map(scalar_text);
    let mut out = String::new();
    line(&mut out, 0, "Name", &object.name.value);
    line(&mut out, 0, "Source", source(object));
    if let Some(d) = text(&["displayName"]) {
        line(&mut out, 0, "Display Name", d);
    }
    let owner = text(&["owner", "user"])
        .map(|u| format!("user {u}"))
        .or_else(|| text(&["owner", "team"]).map(|t| format!("team {t}")));
    line(&mut out, 0, "Owner", owner.unwrap_or_else(|| "<none>".into()));
    match (text(&["config", "secretName"]), text(&["config", "secretNamespace"])) {
        (Some(name), ns) => {
            let ns =
                ns.unwrap_or_else(|| connections_core::render::loft::SECRET_NAMESPACE.to_string());
            let key = text(&["config", "key"]).unwrap_or_else(|| "config".into());
            let status = match (secret.found, secret.has_key) {
                (false, _) => "✗ missing".to_string(),
                (true, Some(true)) => format!("✓ found; key {key} ✓"),
                (true, Some(false)) => format!("✓ found; key {key} ✗"),
                (true, None) => format!("✓ found; key {key} ?"),
            };
            line(&mut out, 0, "Config", format!("Secret {ns}/{name}  {status}"));
            let verdict = match secret.kubeconfig.as_deref() {
                None => "not checked (its value is not readable here)".to_string(),
                Some(config) => {
                    let problems = connections_core::validate::loft::kubeconfig_problems(config);
                    if problems.is_empty() {
                        "✓ valid".to_string()
                    } else {
                        format!("✗ invalid: {}", problems.join("; "))
                    }
                }
            };
            line(&mut out, 0, "Kubeconfig", verdict);
        }
        (None, _) => line(&mut out, 0, "Config", "<none>"),
    }
    let access = spec.and_then(|s| s.get("access")).and_then(Node::as_seq).unwrap_or(&[]);
    if access.is_empty() {
        line(&mut out, 0, "Access", "<none>");
    } else {
        let _ = writeln!(out, "Access:");
        for rule in access {
            let list = |key: &str| {
                rule.get(key)
                    .and_then(Node::as_seq)
                    .map(|items| items.iter().map(scalar_text).collect::<Vec<_>>().join(","))
            };
            let mut parts = vec![format!("verbs [{}]", list("verbs").unwrap_or_default())];
            for key in ["users", "teams", "subresources"] {
                if let Some(v) = list(key) {
                    parts.push(format!("{key} [{v}]"));
                }
            }
            let _ = writeln!(out, "  {}", parts.join(" "));
        }
    }
    findings_of(&mut out, &findings(model, index, diagnostics));
    out
}

/// The type column of `list`.
pub fn type_of(object: &Object) -> String {
    match &object.body {
        Body::Connection(c) => {
            c.type_name.as_ref().map_or("<none>".to_string(), |t| t.value.clone())
        }
        Body::KubeDirectorCluster(_) => "kubedirector".to_string(),
        Body::LoftCluster => "loft-cluster".to_string(),
        _ => String::new(),
    }
}

/// `found/total` of the object's references.
pub fn reference_counts(model: &Model, index: usize) -> (usize, usize) {
    let references: Vec<&Reference> =
        model.references.iter().filter(|r| r.from == Referrer::Object(index)).collect();
    let found = references
        .iter()
        .filter(|r| match r.target {
            TargetKind::Secret => secret_source(model, &r.namespace, &r.name.value).is_some(),
            TargetKind::ConfigMap => model.configmap(&r.namespace, &r.name.value).is_some(),
            TargetKind::KubeDirectorCluster => {
                model.kubedirector_cluster(&r.namespace, &r.name.value).is_some()
            }
            TargetKind::Connection => true,
        })
        .count();
    (found, references.len())
}

/// Whether an object is one that `list` shows.
pub fn listed(object: &Object) -> bool {
    match &object.body {
        Body::Connection(_) | Body::LoftCluster => true,
        Body::KubeDirectorCluster(spec) => {
            !(spec.clusters.is_empty() && spec.configmaps.is_empty() && spec.secrets.is_empty())
        }
        _ => false,
    }
}
