//! Projection of connections into workloads (Polyaxon's rules, formats.md §2.4).
//!
//! For each connection a workload uses (annotation `connections.dev/use`, in order):
//! - its Secret: with `mountPath` a read-only volume named after the Secret (items as
//!   `{key, path}`); else with `items` one `secretKeyRef` env var per key, named like the key;
//!   else `envFrom`;
//! - its ConfigMap: the same, except that `items` become env vars even when mounted;
//! - the generated `<connection>-connection` ConfigMap: one env var per setting,
//!   `<CONNECTION>_<KEY>`;
//! - each credential from a key reference: an env var (the ConnectionType's `envName`, else
//!   `<CONNECTION>_<FIELD>`);
//! - its `env` entries, verbatim.
//!
//! A Secret or ConfigMap requested twice is projected once: the first occurrence wins.
//! Injection into every container of the pod; init containers are left alone. Entries the pod
//! already has in identical form are not added again, so rendering rendered output is a no-op.
//!
//! A workload annotated `connections.dev/projection: service-binding` gets none of the above.
//! Each connection becomes a read-only projected volume (see [`super::binding`]) mounted at
//! `$SERVICE_BINDING_ROOT/<connection>` in every container, init containers included, as the
//! Service Binding specification projects into both. A container that sets
//! `SERVICE_BINDING_ROOT` keeps its value (the specification forbids resetting it) and gets its
//! bindings under it; the others get `SERVICE_BINDING_ROOT=/bindings`.

use super::generate::SettingsConfigMap;
use crate::binding;
use crate::checks::Check;
use crate::diagnostic::Diagnostic;
use crate::model::Flavour;
use crate::model::{
    Body, ConnectionModel, CredentialValue, Model, ResourceModel, USE_ANNOTATION, UsableConnection,
    polyaxon,
};
use crate::rules;
use crate::source::{Span, Spanned};
use crate::syntax::{Node, NodeValue};
use std::collections::{BTreeMap, HashSet};

/// Pod template annotation with a hash of the settings of every connection used, so that a
/// change of settings rolls the workload.
pub const CONFIG_HASH: &str = "connections.dev/config-hash";

/// `warehouse-db` → `WAREHOUSE_DB`: a C identifier for environment variable names.
pub fn env_prefix(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// What gets injected, gathered per kind so that the final order is Polyaxon's: the catalog,
/// every connection's own `env`, Secret item vars, ConfigMap item vars (then our settings and
/// credentials); `envFrom` Secrets before ConfigMaps.
#[derive(Default)]
struct Injection {
    volumes: Vec<(Node, Span)>,
    mounts: Vec<(Node, Span)>,
    connection_env: Vec<(Node, Span)>,
    secret_env: Vec<(Node, Span)>,
    configmap_env: Vec<(Node, Span)>,
    env: Vec<(Node, Span)>,
    secret_env_from: Vec<(Node, Span)>,
    configmap_env_from: Vec<(Node, Span)>,
    /// Service bindings as `(binding name, volume name, where used)`: their mount paths
    /// depend on each container's `SERVICE_BINDING_ROOT`.
    bindings: Vec<(String, String, Span)>,
}

impl Injection {
    /// Puts the environment in its final order (the catalog first, if any).
    fn finish(&mut self, catalog: Option<(Node, Span)>) {
        let mut env: Vec<(Node, Span)> = catalog.into_iter().collect();
        env.append(&mut self.connection_env);
        env.append(&mut self.secret_env);
        env.append(&mut self.configmap_env);
        env.append(&mut self.env);
        self.env = env;
        self.secret_env_from.append(&mut self.configmap_env_from);
    }
}

/// Injects the connections workload `index` uses into `node` (a copy of its document).
pub fn project(
    model: &Model,
    index: usize,
    node: &mut Node,
    settings: &BTreeMap<usize, SettingsConfigMap>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let object = &model.objects[index];
    let Body::Workload(workload) = &object.body else { return };
    if node.path(workload.pod_spec_path).and_then(Node::as_map).is_none() {
        return; // no pod spec: reported by the checks; nothing is invented
    }
    let mut injection = Injection::default();
    let mut seen_secrets = HashSet::new();
    let mut seen_configmaps = HashSet::new();
    let mut hashes = Vec::new();
    let mut annotations: Vec<(String, String)> = Vec::new();
    let mut catalog = Vec::new();
    let service_binding = workload.is_service_binding();
    for used in &workload.uses {
        let Some(usable) = model.usable_connection(object.namespace_str(), &used.value) else {
            continue;
        };
        let Some(connection) = model.connection_model(usable) else { continue };
        if service_binding {
            let bound =
                bind(model, usable, connection, used, settings, &mut injection, diagnostics);
            hashes.extend(bound);
            continue;
        }
        let prefix = env_prefix(&used.value);
        if let Some(secret) = &connection.secret
            && seen_secrets.insert(secret.name.value.clone())
        {
            resource(&mut injection, secret, true, used.span, diagnostics);
            mounted_case_collisions(model, object.namespace_str(), secret, true, diagnostics);
        }
        if let Some(cm) = &connection.config_map
            && seen_configmaps.insert(cm.name.value.clone())
        {
            resource(&mut injection, cm, false, used.span, diagnostics);
            mounted_case_collisions(model, object.namespace_str(), cm, false, diagnostics);
        }
        let env_names = match usable {
            UsableConnection::Object(c) => type_env_names(model, c, connection),
            UsableConnection::Polyaxon(..) => BTreeMap::new(),
        };
        if let UsableConnection::Object(c) = usable
            && let Some(generated) = settings.get(&c)
        {
            hashes.push([used.value.as_str(), "=", &generated.hash].concat());
            for key in generated.data.keys() {
                let name = env_names
                    .get(key.as_str())
                    .cloned()
                    .unwrap_or_else(|| [prefix.as_str(), "_", &env_prefix(key)].concat());
                injection
                    .env
                    .push((key_env(&name, "configMapKeyRef", &generated.name, key), used.span));
            }
        }
        credentials(connection, &env_names, &prefix, used.span, &mut injection);
        // Polyaxon's own behaviour for its kinds; a KubeETL type named like one is not one.
        if let Some(kind) = &connection.type_name
            && polyaxon::is_kind(&kind.value)
            && connection.flavour != Flavour::KubeEtl
        {
            mount_kind(
                &mut injection,
                &used.value,
                &kind.value,
                connection,
                used.span,
                diagnostics,
            );
            catalog.push(polyaxon::catalog_entry(&used.value, connection));
        }
        for var in &connection.env {
            injection.connection_env.push((var.clone(), used.span));
        }
        annotations
            .extend(connection.annotations.iter().map(|(k, v)| (k.value.clone(), v.value.clone())));
    }
    let catalog = (!catalog.is_empty()).then(|| {
        #[derive(serde::Serialize)]
        struct Catalog<'m> {
            connections: Vec<polyaxon::CatalogEntry<'m>>,
        }
        // Serialising plain strings, numbers and maps with string keys cannot fail.
        let value = serde_json::to_string(&Catalog { connections: catalog }).unwrap_or_default();
        (
            Node::map_of([("name", Node::string(CATALOG_ENV)), ("value", Node::string(value))]),
            Span::SYNTHETIC,
        )
    });
    injection.finish(catalog);
    apply(object, workload.pod_spec_path, node, injection, diagnostics);
    if !hashes.is_empty() {
        let hash = super::generate::content_hash(hashes.iter().map(|h| ("", h.as_bytes())));
        annotations.push((CONFIG_HASH.to_string(), hash));
    }
    if annotations.is_empty() {
        return;
    }
    // A pod template without metadata gets it first, where people expect to read it.
    if let Some((last, parent_path)) = workload.pod_metadata_path.split_last()
        && let Some(parent) = node.path_mut(parent_path)
        && parent.get(last).is_none()
        && let Some(entries) = parent.as_map_mut()
    {
        entries.insert(0, (Node::string(*last), Node::map(Vec::new())));
    }
    let mut meta = node;
    for key in workload.pod_metadata_path {
        match meta.map_at(key) {
            Some(next) => meta = next,
            None => return,
        }
    }
    if let Some(target) = meta.map_at("annotations") {
        // Later connections override earlier ones, as Polyaxon merges them; the workload's own
        // annotations are kept (the config hash is ours to set).
        let own: HashSet<String> = target
            .as_map()
            .unwrap_or(&[])
            .iter()
            .map(|(k, _)| k.key_text())
            .filter(|k| k != CONFIG_HASH)
            .collect();
        for (key, value) in annotations {
            if !own.contains(&key) {
                target.set(&key, Node::string(value));
            }
        }
    }
}

/// Plans the binding of one connection into `injection`; returns the config-hash entry of
/// its settings. A connection that cannot be bound is reported and left out.
fn bind(
    model: &Model,
    usable: UsableConnection,
    connection: &ConnectionModel,
    used: &Spanned<String>,
    settings: &BTreeMap<usize, SettingsConfigMap>,
    injection: &mut Injection,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<String> {
    let name = &used.value;
    let annotation = format!("metadata.annotations.{USE_ANNOTATION}");
    let mut bindable = true;
    if let Err(reason) = binding::binding_name(name) {
        bindable = false;
        diagnostics.push(
            Diagnostic::new(
                Check::InvalidBindingName,
                used.span,
                format!("connection `{name}` is projected as a service binding named after it, and a binding name {reason}"),
            )
            .path(&annotation)
            .label("not a valid binding name")
            .help("rename the connection with lower-case letters, digits, '-' and '.' only"),
        );
    }
    let index = match usable {
        UsableConnection::Object(i) => Some(i),
        UsableConnection::Polyaxon(..) => None,
    };
    let Some((index, generated)) = index.and_then(|i| settings.get(&i).map(|g| (i, g))) else {
        let what =
            if index.is_some() { "a KubeETL Connection" } else { "a Polyaxon agent connection" };
        diagnostics.push(
            Diagnostic::new(
                Check::InvalidProjection,
                used.span,
                format!("connection `{name}` is {what}, which has no generated settings ConfigMap to give its service binding a `type` entry"),
            )
            .path(&annotation)
            .label("cannot be projected as a service binding")
            .help("bind a connections.dev Connection, or remove `connections.dev/projection` to get environment variables"),
        );
        return None;
    };
    if !bindable {
        return None;
    }
    let plan = super::binding::plan(model, index, connection, generated);
    for (a, b) in case_collisions(plan.entries.iter().map(|e| e.path.as_str())) {
        diagnostics.push(
            Diagnostic::new(
                Check::CaseCollision,
                used.span,
                format!("connection `{name}` is projected as a service binding whose directory holds `{a}` and `{b}`, names that differ only in case"),
            )
            .path(&annotation)
            .label("two binding entries differ only in case")
            .help("on a case-insensitive filesystem (a Windows node) one replaces the other; rename one of the keys they come from"),
        );
    }
    let volume = binding::volume_name(name);
    injection.volumes.push((super::binding::volume(&volume, &plan), used.span));
    injection.bindings.push((name.clone(), volume, used.span));
    Some(format!("{name}={}", generated.hash))
}

/// Where a container's bindings go: its own `SERVICE_BINDING_ROOT` if it sets one (`None`
/// then: nothing to add), else the default with the variable to add. `Err` when the container
/// sets it in a way the tool cannot read (`valueFrom`, a `$(VAR)` reference, empty).
fn binding_root(container: &Node) -> Result<(String, Option<Node>), (Span, &'static str)> {
    let own = container.get("env").and_then(Node::as_seq).and_then(|env| {
        env.iter().find(|e| e.get("name").and_then(Node::as_str) == Some(binding::ROOT_ENV))
    });
    let Some(own) = own else {
        let var = Node::map_of([
            ("name", Node::string(binding::ROOT_ENV)),
            ("value", Node::string(binding::DEFAULT_ROOT)),
        ]);
        return Ok((binding::DEFAULT_ROOT.to_string(), Some(var)));
    };
    match own.get("value").and_then(Node::as_str) {
        _ if own.get("valueFrom").is_some() => Err((own.span, "from `valueFrom`")),
        Some(v) if v.contains("$(") => Err((own.span, "with a `$(VAR)` reference")),
        Some(v) if !v.is_empty() => Ok((v.to_string(), None)),
        _ => Err((own.span, "to an empty value")),
    }
}

/// Pairs of names that are equal once case is ignored, each pair once, sorted.
fn case_collisions<'n>(names: impl Iterator<Item = &'n str>) -> Vec<(String, String)> {
    let mut by_folded: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for name in names {
        by_folded.entry(name.to_lowercase()).or_default().push(name);
    }
    let mut pairs = Vec::new();
    for mut same in by_folded.into_values() {
        same.sort_unstable();
        same.dedup();
        for pair in same.windows(2) {
            pairs.push((pair[0].to_string(), pair[1].to_string()));
        }
    }
    pairs
}

/// A mounted Secret or ConfigMap becomes one file per key (its `items`, else every key the
/// repository knows): keys that differ only in case are reported.
fn mounted_case_collisions(
    model: &Model,
    namespace: &str,
    r: &ResourceModel,
    is_secret: bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(mount_path) = &r.mount_path else { return };
    let name = &r.name.value;
    let known: Option<Vec<&str>> = if !r.items.is_empty() {
        Some(r.items.iter().map(|k| k.value.as_str()).collect())
    } else if is_secret {
        model.secret_sources(namespace, name).first().and_then(|&i| match model.secret_keys(i) {
            Some(crate::model::SecretKeys::Known(keys)) => {
                Some(keys.keys().map(String::as_str).collect())
            }
            _ => None,
        })
    } else {
        model.configmap(namespace, name).and_then(|i| match &model.objects[i].body {
            Body::ConfigMap(data) => Some(data.keys.keys().map(String::as_str).collect()),
            _ => None,
        })
    };
    let what = if is_secret { "Secret" } else { "ConfigMap" };
    for (a, b) in case_collisions(known.unwrap_or_default().into_iter()) {
        diagnostics.push(
            Diagnostic::new(
                Check::CaseCollision,
                r.name.span,
                format!("{what} `{name}` is mounted at `{}` as one file per key, and keys `{a}` and `{b}` differ only in case", mount_path.value),
            )
            .path(format!("{}.name", r.path))
            .label("mounted with keys that differ only in case")
            .related(mount_path.span, "mounted here")
            .help("on a case-insensitive filesystem (a Windows node) one file replaces the other; rename one key, or list in `items` only the one the application reads"),
        );
    }
}

/// The env var through which Polyaxon hands a pod its connections.
pub const CATALOG_ENV: &str = "POLYAXON_CONNECTIONS_CATALOG";

/// `volume_claim` and `host_path` connections become a volume named after the connection,
/// mounted at the schema's `mountPath` (Polyaxon's converter).
fn mount_kind(
    injection: &mut Injection,
    name: &str,
    kind: &str,
    connection: &ConnectionModel,
    used_at: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let setting =
        |key: &str| connection.schema.iter().find(|(k, _)| k.value == key).map(|(_, v)| v);
    let text = |key: &str| setting(key).and_then(Node::as_str).map(str::to_string);
    let read_only = setting("readOnly").and_then(|v| v.as_scalar()).map(|s| s.resolve())
        == Some(crate::syntax::Resolved::Bool(true));
    let source = match kind {
        "volume_claim" => text("volumeClaim").map(|claim| {
            let mut pvc = vec![("claimName", Node::string(claim))];
            if read_only {
                pvc.push(("readOnly", Node::bool(true)));
            }
            ("persistentVolumeClaim", Node::map_of(pvc))
        }),
        "host_path" => {
            text("hostPath").map(|path| ("hostPath", Node::map_of([("path", Node::string(path))])))
        }
        _ => return,
    };
    let (Some((source_key, source)), Some(mount_path)) = (source, text("mountPath")) else {
        return;
    };
    if let Err(reason) = rules::dns1123_label(name) {
        diagnostics.push(
            Diagnostic::new(
                Check::InvalidVolumeName,
                used_at,
                format!("{kind} connection `{name}` becomes a volume named `{name}`, and a volume name {reason}"),
            )
            .label("not a valid volume name")
            .help("rename the connection without dots or upper case"),
        );
        return;
    }
    injection
        .volumes
        .push((Node::map_of([("name", Node::string(name)), (source_key, source)]), used_at));
    let mut mount = vec![("name", Node::string(name)), ("mountPath", Node::string(mount_path))];
    if read_only {
        mount.push(("readOnly", Node::bool(true)));
    }
    injection.mounts.push((Node::map_of(mount), used_at));
}

fn key_env(name: &str, ref_kind: &str, object: &str, key: &str) -> Node {
    Node::map_of([
        ("name", Node::string(name)),
        (
            "valueFrom",
            Node::map_of([(
                ref_kind,
                Node::map_of([("name", Node::string(object)), ("key", Node::string(key))]),
            )]),
        ),
    ])
}

fn resource(
    injection: &mut Injection,
    r: &ResourceModel,
    is_secret: bool,
    used_at: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let name = &r.name.value;
    let (ref_kind, from_kind) =
        if is_secret { ("secretKeyRef", "secretRef") } else { ("configMapKeyRef", "configMapRef") };
    // ConfigMap items become env vars even when the ConfigMap is also mounted (Polyaxon).
    let items_as_env = !r.items.is_empty() && (r.mount_path.is_none() || !is_secret);
    if let Some(mount_path) = &r.mount_path {
        if let Err(reason) = rules::dns1123_label(name) {
            diagnostics.push(
                Diagnostic::new(
                    Check::InvalidVolumeName,
                    r.name.span,
                    format!(
                        "{} `{name}` is mounted, so it becomes a volume named `{name}`, and a volume name {reason}",
                        if is_secret { "Secret" } else { "ConfigMap" }
                    ),
                )
                .path(format!("{}.name", r.path))
                .label("not a valid volume name")
                .related(used_at, "used here")
                .help("rename it without dots or upper case, or drop `mountPath` to project it as environment variables"),
            );
        } else {
            let mut source =
                vec![(if is_secret { "secretName" } else { "name" }, Node::string(name.clone()))];
            if !r.items.is_empty() {
                let items = r
                    .items
                    .iter()
                    .map(|k| {
                        Node::map_of([
                            ("key", Node::string(k.value.clone())),
                            ("path", Node::string(k.value.clone())),
                        ])
                    })
                    .collect();
                source.push(("items", Node::seq(items)));
            }
            if let Some(mode) = r.default_mode {
                source.push(("defaultMode", Node::int(mode)));
            }
            injection.volumes.push((
                Node::map_of([
                    ("name", Node::string(name.clone())),
                    (if is_secret { "secret" } else { "configMap" }, Node::map_of(source)),
                ]),
                r.name.span,
            ));
            injection.mounts.push((
                Node::map_of([
                    ("name", Node::string(name.clone())),
                    ("mountPath", Node::string(mount_path.value.clone())),
                    ("readOnly", Node::bool(true)),
                ]),
                mount_path.span,
            ));
        }
    }
    if items_as_env {
        let vars = if is_secret { &mut injection.secret_env } else { &mut injection.configmap_env };
        for item in &r.items {
            vars.push((key_env(&item.value, ref_kind, name, &item.value), item.span));
        }
    } else if r.mount_path.is_none() {
        let from = if is_secret {
            &mut injection.secret_env_from
        } else {
            &mut injection.configmap_env_from
        };
        from.push((
            Node::map_of([(from_kind, Node::map_of([("name", Node::string(name.clone()))]))]),
            r.name.span,
        ));
    }
}

/// Environment names that the connection's ConnectionType gives its fields.
fn type_env_names<'m>(
    model: &'m Model,
    index: usize,
    connection: &ConnectionModel,
) -> BTreeMap<&'m str, String> {
    let object = &model.objects[index];
    connection
        .type_name
        .as_ref()
        .and_then(|t| model.connection_type(connection.flavour, object.namespace_str(), &t.value))
        .and_then(|t| match &model.objects[t].body {
            Body::ConnectionType(t) => Some(t),
            _ => None,
        })
        .map(|t| {
            t.fields
                .iter()
                .filter_map(|f| {
                    f.env_name.as_ref().map(|e| (f.name.value.as_str(), e.value.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn credentials(
    connection: &ConnectionModel,
    env_names: &BTreeMap<&str, String>,
    prefix: &str,
    used_at: Span,
    injection: &mut Injection,
) {
    for credential in &connection.credentials {
        let env_name = env_names
            .get(credential.name.value.as_str())
            .cloned()
            .unwrap_or_else(|| format!("{prefix}_{}", env_prefix(&credential.name.value)));
        let var = match &credential.value {
            Some(CredentialValue::SecretKey { name, key }) => {
                key_env(&env_name, "secretKeyRef", &name.value, &key.value)
            }
            Some(CredentialValue::ConfigMapKey { name, key }) => {
                key_env(&env_name, "configMapKeyRef", &name.value, &key.value)
            }
            // KubeETL has no generated ConfigMap: its (non-sensitive) inline values are set
            // directly, as its injector does.
            Some(CredentialValue::Inline(value)) if connection.flavour == Flavour::KubeEtl => {
                Node::map_of([
                    ("name", Node::string(env_name)),
                    ("value", Node::string(value.value.clone())),
                ])
            }
            // Our inline values live in the generated ConfigMap and arrive with it.
            _ => continue,
        };
        injection.env.push((var, used_at));
    }
}

fn apply(
    object: &crate::model::Object,
    spec_path: &[&str],
    node: &mut Node,
    mut injection: Injection,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let conflict = |span: Span, message: String| {
        Diagnostic::new(Check::ProjectionConflict, span, message)
            .path(format!("metadata.annotations.{USE_ANNOTATION}"))
            .label("injected by this connection")
    };
    let Some(pod_spec) = node.path_mut(spec_path) else { return };
    if pod_spec.as_map().is_none() {
        return;
    }
    if !injection.volumes.is_empty() {
        let Some(volumes) = pod_spec.seq_at("volumes") else { return };
        for (volume, span) in std::mem::take(&mut injection.volumes) {
            let name = volume.get("name").and_then(Node::as_str).unwrap_or_default().to_string();
            match volumes
                .iter()
                .find(|v| v.get("name").and_then(Node::as_str) == Some(name.as_str()))
            {
                Some(existing) if same(existing, &volume) => {}
                Some(existing) => diagnostics.push(
                    conflict(
                        span,
                        format!(
                            "{} `{}` already has a volume named `{name}`",
                            object.kind.value, object.name.value
                        ),
                    )
                    .related(existing.span, "the workload's own volume"),
                ),
                None => volumes.push(volume),
            }
        }
    }
    for list in ["initContainers", "containers"] {
        // Init containers get service bindings only (the specification binds into both);
        // Polyaxon's projection leaves them alone.
        let init = list == "initContainers";
        if init && injection.bindings.is_empty() {
            continue;
        }
        let Some(containers) = pod_spec.get_mut(list) else { continue };
        let NodeValue::Seq(containers) = &mut containers.value else { continue };
        let count = containers.len();
        for (i, container) in containers.iter_mut().enumerate() {
            // Formatted only for a finding.
            let path = || format!("{}.{list}[{i}]", spec_path.join("."));
            // The last container takes the entries; the others get copies.
            let take = !init && i + 1 == count;
            inject_container(object, container, path, &mut injection, init, take, diagnostics);
        }
    }
}

/// Adds the injection to one container, entry by entry, skipping what it already has.
fn inject_container(
    object: &crate::model::Object,
    container: &mut Node,
    path: impl Fn() -> String,
    injection: &mut Injection,
    init: bool,
    take: bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let conflict = |span: Span, message: String| {
        Diagnostic::new(Check::ProjectionConflict, span, message)
            .path(format!("metadata.annotations.{USE_ANNOTATION}"))
            .label("injected by this connection")
    };
    if container.as_map().is_none() {
        return;
    }
    let container_name: compact_str::CompactString =
        container.get("name").and_then(Node::as_str).unwrap_or("?").into();
    let pick = |entries: &mut Vec<(Node, Span)>| match (init, take) {
        (true, _) => Vec::new(),
        (false, true) => std::mem::take(entries),
        (false, false) => entries.clone(),
    };
    let mut mounts = pick(&mut injection.mounts);
    let mut env = pick(&mut injection.env);
    if !injection.bindings.is_empty() {
        match binding_root(container) {
            Ok((root, var)) => {
                env.extend(var.map(|v| (v, Span::SYNTHETIC)));
                for (name, volume, span) in &injection.bindings {
                    let mount_path = format!("{}/{name}", root.trim_end_matches('/'));
                    let mount = Node::map_of([
                        ("name", Node::string(volume.clone())),
                        ("mountPath", Node::string(mount_path)),
                        ("readOnly", Node::bool(true)),
                    ]);
                    mounts.push((mount, *span));
                }
            }
            Err((span, how)) => diagnostics.push(
                Diagnostic::new(
                    Check::InvalidProjection,
                    span,
                    format!(
                        "container `{container_name}` of {} `{}` sets `{}` {how}, so there is no known path to mount its service bindings at",
                        object.kind.value, object.name.value, binding::ROOT_ENV
                    ),
                )
                .path(format!("{}.env", path()))
                .label("not a literal path")
                .help(format!("set `{}` to a literal path, or remove it to get `{}`", binding::ROOT_ENV, binding::DEFAULT_ROOT)),
            ),
        }
    }
    for (key, entries, identity) in [
        ("volumeMounts", mounts, "mountPath"),
        ("env", env, "name"),
        ("envFrom", pick(&mut injection.secret_env_from), ""),
    ] {
        if entries.is_empty() {
            continue;
        }
        let Some(list) = container.seq_at(key) else { continue };
        for (entry, span) in entries {
            let Some(id) = entry.get(identity).and_then(Node::as_str) else {
                // No identity (`envFrom`): added unless an identical entry is there.
                if !list.iter().any(|e| same(e, &entry)) {
                    list.push(entry);
                }
                continue;
            };
            // An identical entry has the same identity, so only entries with this identity
            // are compared in full: the first identical one means the entry is there already,
            // else the first one conflicts.
            let mut with_id =
                list.iter().filter(|e| e.get(identity).and_then(Node::as_str) == Some(id));
            let Some(existing) = with_id.next() else {
                list.push(entry);
                continue;
            };
            if same(existing, &entry) || with_id.any(|e| same(e, &entry)) {
                continue;
            }
            let what = if key == "env" { "environment variable" } else { "volume mount at" };
            diagnostics.push(
                conflict(span, format!("container `{container_name}` already has {what} `{id}`"))
                    .related(existing.span, "the container's own entry"),
            );
        }
    }
}

/// Structural equality as kubectl reads the values (so `"1"` and `'1'` are the same, `1` and
/// `"1"` are not), ignoring spans and key order; allocates nothing for string scalars.
fn same(a: &Node, b: &Node) -> bool {
    use crate::syntax::NodeValue;
    match (&a.value, &b.value) {
        (NodeValue::Scalar(x), NodeValue::Scalar(y)) => match (x.as_str(), y.as_str()) {
            (Some(x), Some(y)) => x == y,
            (None, None) => x.resolve() == y.resolve(),
            _ => false,
        },
        (NodeValue::Seq(x), NodeValue::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (NodeValue::Map(x), NodeValue::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    let key = k.key_cow();
                    y.iter().any(|(k2, v2)| k2.key_cow() == key && same(v, v2))
                })
        }
        _ => false,
    }
}
