//! Lowering: parsed documents to typed objects, with diagnostics for every malformed field.

use super::fields::{Fields, index, join};
use super::polyaxon;
use super::workload::{PodRefs, pod_paths};
use super::*;
use crate::checks::Check;
use crate::diagnostic::Diagnostic;
use crate::rules;
use crate::syntax::{Document, NodeValue, ScalarStyle};
use std::collections::HashSet;

/// Settings that change how documents are read.
#[derive(Clone, Debug)]
pub struct LowerOptions {
    /// The namespace of namespaced objects that do not name one (kubectl apply's `-n`).
    pub default_namespace: String,
    /// `--strict-secrets`: a Secret committed with readable values is an error, not a warning,
    /// unless it is allowed below.
    pub strict_secrets: bool,
    /// Secrets allowed to be committed in plaintext, as `(namespace, name)` (from
    /// `.connections-allow.yaml`).
    pub allowed_plaintext: std::collections::BTreeSet<(String, String)>,
}

impl Default for LowerOptions {
    fn default() -> Self {
        LowerOptions {
            default_namespace: "default".to_string(),
            strict_secrets: false,
            allowed_plaintext: Default::default(),
        }
    }
}

/// The annotation through which workloads use connections.
pub const USE_ANNOTATION: &str = "connections.dev/use";

/// Lowers every document into the model, in input order, and builds its index.
pub fn lower(documents: Vec<Document>, options: &LowerOptions) -> (Model, Vec<Diagnostic>) {
    lower_with(documents, options, 1)
}

/// [`lower`] on up to `threads` threads: contiguous runs of documents are lowered on their
/// own and then joined, so the model and the findings do not depend on the count.
pub fn lower_with(
    documents: Vec<Document>,
    options: &LowerOptions,
    threads: usize,
) -> (Model, Vec<Diagnostic>) {
    let cluster_scoped = cluster_scoped_custom_kinds(&documents, threads);
    let parts = crate::par::map_runs(documents, threads, |run| {
        let mut diagnostics = Vec::new();
        let mut model =
            Model { default_namespace: options.default_namespace.clone(), ..Model::default() };
        // At most one object per document: no growth by doubling, no slack kept.
        model.objects.reserve_exact(run.len());
        let mut lowerer = Lowerer {
            model: &mut model,
            fields: Fields { diagnostics: &mut diagnostics, redact: false },
            options,
            cluster_scoped: &cluster_scoped,
        };
        for document in run {
            let provenance = Provenance { file: document.file, index: document.index };
            lowerer.document(document.root, provenance);
        }
        (model, diagnostics)
    });
    let (models, found): (Vec<Model>, Vec<Vec<Diagnostic>>) = parts.into_iter().unzip();
    let diagnostics = found.concat();
    let mut model = Model::concat(models, options.default_namespace.clone(), threads);
    model.build_index_with(threads);
    (model, diagnostics)
}

/// `(group, kind)` of custom resources whose CRD in the repository says `scope: Cluster`,
/// looked for on up to `threads` threads (every lowering waits for this pass).
fn cluster_scoped_custom_kinds(
    documents: &[Document],
    threads: usize,
) -> HashSet<(String, String)> {
    crate::par::map(documents, threads, |doc| {
        let root = &doc.root;
        if root.get("kind").and_then(Node::as_str) == Some("CustomResourceDefinition")
            && root.path(&["spec", "scope"]).and_then(Node::as_str) == Some("Cluster")
            && let (Some(group), Some(kind)) = (
                root.path(&["spec", "group"]).and_then(Node::as_str),
                root.path(&["spec", "names", "kind"]).and_then(Node::as_str),
            )
        {
            Some((group.to_string(), kind.to_string()))
        } else {
            None
        }
    })
    .into_iter()
    .flatten()
    .collect()
}

struct Lowerer<'a, 'd> {
    model: &'a mut Model,
    fields: Fields<'d>,
    options: &'a LowerOptions,
    cluster_scoped: &'a HashSet<(String, String)>,
}

/// Reads a Polyaxon-style connection resource (`name`, `mountPath`, `items`, `defaultMode`).
pub(crate) fn resource(node: &Node, path: &str, fields: &mut Fields<'_>) -> Option<ResourceModel> {
    let name = fields.string(node, "name", path);
    let mount_path = fields.string(node, "mountPath", path);
    let items = fields.string_list(node, "items", path);
    // Polyaxon types `defaultMode` as a string ("0600", octal as file modes are written).
    let as_string = node.get("defaultMode").and_then(Node::as_str);
    let default_mode = match as_string {
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            let radix = if text.len() > 1 && text.starts_with('0') { 8 } else { 10 };
            i64::from_str_radix(text, radix).ok()
        }
        _ => fields.integer(node, "defaultMode", path).map(|m| m.value),
    };
    match name {
        Some(name) => {
            Some(ResourceModel { name, mount_path, items, default_mode, path: path.to_string() })
        }
        None => {
            fields.diagnostics.push(
                Diagnostic::new(
                    Check::InvalidObject,
                    node.span,
                    format!("`{path}` needs a `name`"),
                )
                .path(path)
                .label("no name")
                .help("name the Secret or ConfigMap in the same namespace"),
            );
            None
        }
    }
}

impl Lowerer<'_, '_> {
    fn push(&mut self, d: Diagnostic) {
        self.fields.push(d);
    }

    fn document(&mut self, root: Node, provenance: Provenance) {
        if root.is_null() {
            return; // an empty document (only comments, or `---` twice)
        }
        let Some(_) = root.as_map() else {
            self.push(
                Diagnostic::new(
                    Check::UnrecognisedDocument,
                    root.span,
                    "this document is not a mapping, so it is not a Kubernetes object; it is ignored",
                )
                .label("not an object"),
            );
            return;
        };
        if root.get("apiVersion").is_some() || root.get("kind").is_some() {
            self.object(root, provenance);
        } else if polyaxon::is_agent_config(&root) {
            let connections = polyaxon::lower_agent_config(&root, &mut self.fields);
            let config = self.model.polyaxon.len();
            for (i, c) in connections.iter().enumerate() {
                let from = Referrer::Polyaxon(config, i);
                let namespace = self.options.default_namespace.clone();
                if let Some(secret) = &c.model.secret {
                    self.resource_ref(from, &namespace, secret, TargetKind::Secret);
                }
                if let Some(cm) = &c.model.config_map {
                    self.resource_ref(from, &namespace, cm, TargetKind::ConfigMap);
                }
            }
            self.model.polyaxon.push(PolyaxonConfig { provenance, connections, root });
        } else {
            let first_key =
                root.as_map().and_then(|m| m.first()).map(|(k, _)| k.span).unwrap_or(root.span);
            self.push(
                Diagnostic::new(
                    Check::UnrecognisedDocument,
                    first_key,
                    "this document has no `apiVersion` and `kind`, so it is not a Kubernetes object; it is ignored",
                )
                .label("not a Kubernetes object"),
            );
        }
    }

    fn object(&mut self, root: Node, provenance: Provenance) {
        let api_version = self.fields.string(&root, "apiVersion", "");
        let kind = self.fields.string(&root, "kind", "");
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            let missing = if root.get("apiVersion").is_none() { "apiVersion" } else { "kind" };
            if root.get(missing).is_none() {
                let span =
                    root.as_map().and_then(|m| m.first()).map(|(k, _)| k.span).unwrap_or(root.span);
                self.push(
                    Diagnostic::new(
                        Check::InvalidObject,
                        span,
                        format!("this object has no `{missing}`"),
                    )
                    .path(missing)
                    .label(format!("`{missing}` missing in this document"))
                    .help("every Kubernetes object needs `apiVersion` and `kind`"),
                );
            }
            return;
        };
        let group = match api_version.value.rsplit_once('/') {
            Some((group, _)) => group.to_string(),
            None => String::new(),
        };
        // Both become part of output paths (`<kind>-<name>.yaml`, `<kind>.<group>-...`).
        for (field, value, valid) in [
            ("apiVersion", &api_version, rules::api_version(&api_version.value)),
            ("kind", &kind, rules::kind(&kind.value)),
        ] {
            if let Err(reason) = valid {
                self.push(
                    Diagnostic::new(
                        Check::InvalidObject,
                        value.span,
                        format!("{field} `{}` {reason}", value.value),
                    )
                    .path(field)
                    .label(format!("invalid {field}"))
                    .help("the API server accepts no other; check for a typo or a character that only looks like a letter"),
                );
            }
        }
        if group.is_empty() && kind.value == "List" && api_version.value == "v1" {
            // kubectl accepts `kind: List`; each item is an object of its own.
            let items = self.fields.seq(&root, "items", "").to_vec();
            for (i, item) in items.into_iter().enumerate() {
                if item.as_map().is_some() {
                    self.object(item, provenance);
                } else {
                    self.push(
                        Diagnostic::new(
                            Check::InvalidObject,
                            item.span,
                            format!("item {i} of this List is not an object"),
                        )
                        .path(index("items", i))
                        .label("not an object")
                        .help(
                            "every item of a `kind: List` must be a Kubernetes object (a mapping)",
                        ),
                    );
                }
            }
            return;
        }
        let local_config = is_local_config(&group, &kind.value, &root);
        let Some(metadata) = self.fields.map(&root, "metadata", "") else {
            if !local_config {
                self.push(
                    Diagnostic::new(
                        Check::InvalidObject,
                        kind.span,
                        format!("this {} has no `metadata`", kind.value),
                    )
                    .path("metadata")
                    .label("no metadata.name for this object")
                    .help("add `metadata: {name: ...}`"),
                );
            }
            return;
        };
        let name = self.fields.string(metadata, "name", "metadata");
        let Some(name) = name else {
            if local_config {
                return;
            }
            if metadata.get("name").is_some_and(|n| !n.is_null()) {
                return; // written with the wrong type, and reported as such
            }
            let message = if metadata.get("generateName").is_some() {
                "`metadata.generateName` cannot be applied by GitOps tools (kubectl apply refuses it); give the object a fixed `metadata.name`".to_string()
            } else {
                format!("this {} has no `metadata.name`", kind.value)
            };
            self.push(
                Diagnostic::new(Check::InvalidObject, metadata.span, message)
                    .path("metadata.name")
                    .label("name missing")
                    .help("add `name:` under `metadata`"),
            );
            return;
        };

        let namespace_node = metadata.get("namespace");
        let written_namespace =
            namespace_node.and_then(|n| self.fields.string_node(n, "metadata.namespace"));
        let cluster_scoped = rules::is_cluster_scoped(&group, &kind.value)
            || self.cluster_scoped.contains(&(group.clone(), kind.value.clone()));
        let namespace_written = written_namespace.is_some();
        let namespace = if cluster_scoped {
            None
        } else {
            let ns = written_namespace
                .unwrap_or_else(|| Spanned::new(self.options.default_namespace.clone(), name.span));
            if namespace_written && let Err(reason) = rules::dns1123_label(&ns.value) {
                self.push(
                    Diagnostic::new(
                        Check::InvalidName,
                        ns.span,
                        format!("namespace `{}` {reason}", ns.value),
                    )
                    .path("metadata.namespace")
                    .label("invalid namespace"),
                );
            }
            Some(ns)
        };
        if !local_config {
            self.check_name(&group, &kind.value, &name);
            self.metadata(metadata);
        }

        let index_in_model = self.model.objects.len();
        let from = Referrer::Object(index_in_model);
        let ns = namespace.as_ref().map_or(String::new(), |n| n.value.clone());
        let body = if local_config {
            Body::LocalConfig
        } else {
            self.body(&root, &group, &api_version.value, &kind.value, &name, from, &ns)
        };
        self.model.objects.push(Box::new(Object {
            provenance,
            root,
            api_version: api_version.value,
            group,
            kind,
            name,
            namespace,
            namespace_written,
            body,
        }));
    }

    fn check_name(&mut self, group: &str, kind: &str, name: &Spanned<String>) {
        let known_group = group.is_empty() || group.ends_with(".k8s.io") || !group.contains('.');
        let result = match (group, kind) {
            ("", "Namespace") => rules::dns1123_label(&name.value),
            ("", "Service") => rules::dns1035_label(&name.value),
            ("rbac.authorization.k8s.io", _) => rules::path_segment_name(&name.value),
            _ if known_group
                || matches!(
                    group,
                    "connections.dev"
                        | "bitnami.com"
                        | "external-secrets.io"
                        | "kubedirector.hpe.com"
                        | "etl.dataworkz.nl"
                        | "management.loft.sh"
                        | "storage.loft.sh"
                ) =>
            {
                rules::dns1123_subdomain(&name.value)
            }
            // Custom resources of other groups: the API server's minimum.
            _ => rules::path_segment_name(&name.value),
        };
        if let Err(reason) = result {
            self.push(
                Diagnostic::new(Check::InvalidName, name.span, format!("{kind} name `{}` {reason}", name.value))
                    .path("metadata.name")
                    .label("invalid name")
                    .help("use lower-case letters, digits and '-', starting and ending with a letter or digit"),
            );
        }
    }

    fn metadata(&mut self, metadata: &Node) {
        if let Some(labels) = self.fields.map(metadata, "labels", "metadata") {
            for (key, value) in self.fields.string_map(labels, "metadata.labels") {
                if let Err(reason) = rules::label_key(&key.value) {
                    self.push(
                        Diagnostic::new(
                            Check::InvalidLabel,
                            key.span,
                            format!("label key `{}`: {reason}", key.value),
                        )
                        .path(join("metadata.labels", &key.value))
                        .label("invalid label key"),
                    );
                }
                if let Err(reason) = rules::label_value(&value.value) {
                    self.push(
                        Diagnostic::new(
                            Check::InvalidLabel,
                            value.span,
                            format!("label `{}` has an invalid value: {reason}", key.value),
                        )
                        .path(join("metadata.labels", &key.value))
                        .label("invalid label value"),
                    );
                }
            }
        }
        if let Some(annotations) = self.fields.map(metadata, "annotations", "metadata") {
            let mut total = 0usize;
            for (key, value) in self.fields.string_map(annotations, "metadata.annotations") {
                total += key.value.len() + value.value.len();
                if let Err(reason) = rules::annotation_key(&key.value) {
                    self.push(
                        Diagnostic::new(
                            Check::InvalidAnnotation,
                            key.span,
                            format!("annotation key `{}`: {reason}", key.value),
                        )
                        .path(join("metadata.annotations", &key.value))
                        .label("invalid annotation key"),
                    );
                }
            }
            if total > rules::MAX_ANNOTATIONS_BYTES {
                self.push(
                    Diagnostic::new(
                        Check::InvalidAnnotation,
                        annotations.span,
                        format!(
                            "annotations total {total} bytes, more than the {} the API server accepts",
                            rules::MAX_ANNOTATIONS_BYTES
                        ),
                    )
                    .path("metadata.annotations")
                    .label("annotations too large"),
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn body(
        &mut self,
        root: &Node,
        group: &str,
        api_version: &str,
        kind: &str,
        name: &Spanned<String>,
        from: Referrer,
        ns: &str,
    ) -> Body {
        match (group, kind) {
            // SOPS keeps a Secret's keys and encrypts its values in place, adding a `sops:`
            // block: the keys are known, the values are not (Flux or KSOPS decrypt them).
            ("", "Secret") if root.get("sops").and_then(Node::as_map).is_some() => {
                Body::SecretDeclaration(self.sops_secret(root, name, ns))
            }
            ("", "Secret") => Body::Secret(self.secret(root, name, ns)),
            ("", "ConfigMap") => Body::ConfigMap(self.configmap(root, name)),
            ("bitnami.com", "SealedSecret") => {
                Body::SecretDeclaration(self.sealed_secret(root, name))
            }
            ("external-secrets.io", "ExternalSecret") => {
                Body::SecretDeclaration(self.external_secret(root, name))
            }
            ("connections.dev", "Connection") if api_version == "connections.dev/v1alpha1" => {
                Body::Connection(Box::new(self.connection(root, Flavour::Ours, from, ns)))
            }
            ("etl.dataworkz.nl", "Connection") => {
                Body::Connection(Box::new(self.connection(root, Flavour::KubeEtl, from, ns)))
            }
            ("connections.dev", "ConnectionType") => {
                Body::ConnectionType(self.connection_type(root, Flavour::Ours))
            }
            ("etl.dataworkz.nl", "ConnectionType") => {
                Body::ConnectionType(self.connection_type(root, Flavour::KubeEtl))
            }
            ("kubedirector.hpe.com", "KubeDirectorCluster") => {
                Body::KubeDirectorCluster(self.kubedirector(root, from, ns))
            }
            ("management.loft.sh", "ClusterConnect") => {
                Body::ClusterConnect(self.cluster_connect(root))
            }
            ("management.loft.sh" | "storage.loft.sh", "Cluster") => {
                self.loft_cluster(root, from);
                Body::LoftCluster
            }
            _ => match pod_paths(group, kind) {
                Some((spec_path, meta_path)) => {
                    Body::Workload(self.workload(root, spec_path, meta_path, from, ns))
                }
                None => Body::Other,
            },
        }
    }

    fn data_key(&mut self, key: &Spanned<String>, path: &str) {
        if let Err(reason) = rules::data_key(&key.value) {
            self.push(
                Diagnostic::new(
                    Check::InvalidDataKey,
                    key.span,
                    format!("data key `{}` {reason}", key.value),
                )
                .path(join(path, &key.value))
                .label("invalid key"),
            );
        }
    }

    fn secret(&mut self, root: &Node, name: &Spanned<String>, ns: &str) -> SecretData {
        // `kubectl apply` keeps a copy of the whole Secret, values included, in an annotation.
        for annotation in [
            "kubectl.kubernetes.io/last-applied-configuration",
            "kubecfg.ksonnet.io/last-applied-configuration",
        ] {
            if let Some(copy) = root.path(&["metadata", "annotations", annotation]) {
                self.mask_scalars(copy);
            }
        }
        // Everything read here is a secret value: findings must not echo or show it.
        self.fields.redact = true;
        let secret = self.secret_payload(root, name, ns);
        self.fields.redact = false;
        secret
    }

    /// A SOPS-encrypted Secret: keys from `data` and `stringData`, values opaque. A value
    /// that is not `ENC[...]` was left unencrypted (`unencrypted_suffix`, a narrow
    /// `encrypted_regex`) and is reported like any plaintext value.
    fn sops_secret(&mut self, root: &Node, name: &Spanned<String>, ns: &str) -> SecretDeclaration {
        self.fields.redact = true;
        // As for any Secret, everything but its identity (and the SOPS metadata) may hold a
        // value, even a misspelt field or a `stringData` that is not a mapping.
        for (key, value) in root.as_map().unwrap_or(&[]) {
            if !matches!(
                key.key_text().as_str(),
                "apiVersion" | "kind" | "metadata" | "type" | "immutable" | "sops"
            ) {
                self.mask_scalars(value);
            }
        }
        let mut keys = BTreeMap::new();
        let mut plaintext = None;
        for field in ["data", "stringData"] {
            let Some(entries) = self.fields.map(root, field, "") else { continue };
            for (key, value) in entries.as_map().unwrap_or(&[]) {
                let key_text = Spanned::new(key.key_text(), key.span);
                self.data_key(&key_text, field);
                let encrypted = value.as_str().is_some_and(|v| v.starts_with("ENC["));
                if !encrypted && !value.is_null() && plaintext.is_none() {
                    plaintext = Some((key.span, format!("{field}.{}", key_text.value)));
                }
                keys.insert(key_text.value, key.span);
            }
        }
        self.fields.redact = false;
        if let Some((span, path)) = plaintext {
            self.plaintext_secret(
                Diagnostic::new(
                    Check::PlaintextSecretInRepo,
                    span,
                    format!(
                        "Secret `{}` is SOPS-encrypted, but this value was left unencrypted",
                        name.value
                    ),
                )
                .path(path)
                .label("not encrypted")
                .help("encrypt every value (`sops --encrypted-regex '^(data|stringData)$'`), or move this one out of the Secret"),
                ns,
                &name.value,
            );
        }
        SecretDeclaration { secret_name: name.clone(), keys: Ok(keys) }
    }

    /// Reports a plaintext Secret: a warning, an error under `--strict-secrets`, and nothing
    /// for a Secret that `.connections-allow.yaml` allows.
    fn plaintext_secret(&mut self, diagnostic: Diagnostic, ns: &str, name: &str) {
        if self.options.allowed_plaintext.contains(&(ns.to_string(), name.to_string())) {
            return;
        }
        let diagnostic = if self.options.strict_secrets {
            diagnostic.severity(crate::diagnostic::Severity::Error)
        } else {
            diagnostic
        };
        self.push(diagnostic);
    }

    fn secret_payload(&mut self, root: &Node, name: &Spanned<String>, ns: &str) -> SecretData {
        let mut secret = SecretData {
            secret_type: self.fields.string(root, "type", "").map(|t| t.value),
            ..SecretData::default()
        };
        let mut plaintext_span = None;
        // Everything but the object's identity may hold a value (even a misspelt `strinData`).
        for (key, value) in root.as_map().unwrap_or(&[]) {
            if !matches!(
                key.key_text().as_str(),
                "apiVersion" | "kind" | "metadata" | "type" | "immutable"
            ) {
                self.mask_scalars(value);
            }
        }
        if let Some(data) = self.fields.map(root, "data", "") {
            plaintext_span = root.entry("data").map(|(k, _)| k.span);
            for (key, value) in data.as_map().unwrap_or(&[]) {
                let key_text = Spanned::new(key.key_text(), key.span);
                let path = join("data", &key_text.value);
                self.data_key(&key_text, "data");
                let Some(text) = self.fields.string_node(value, &path) else {
                    if value.is_null() {
                        secret.keys.insert(key_text.value.clone(), key.span);
                        secret.values.insert(key_text.value, Vec::new());
                    }
                    continue;
                };
                match rules::decode_secret_value(&text.value) {
                    Ok(bytes) => {
                        secret.values.insert(key_text.value.clone(), bytes);
                    }
                    Err(reason) => self.push(
                        Diagnostic::new(
                            Check::InvalidSecretValue,
                            value.span,
                            format!("the value of `{}` {reason}", key_text.value),
                        )
                        .path(&path)
                        .label("not base64")
                        .help("encode it with `base64 -w0`, or move the plain text under `stringData`"),
                    ),
                }
                secret.keys.insert(key_text.value, key.span);
            }
        }
        if let Some(string_data) = self.fields.map(root, "stringData", "") {
            plaintext_span = root.entry("stringData").map(|(k, _)| k.span);
            for (key, value) in self.fields.string_map(string_data, "stringData") {
                self.data_key(&key, "stringData");
                secret.values.insert(key.value.clone(), value.value.into_bytes());
                secret.keys.insert(key.value, key.span);
            }
        }
        let size: usize = secret.values.values().map(Vec::len).sum();
        if size > rules::MAX_PAYLOAD_BYTES {
            self.push(
                Diagnostic::new(
                    Check::ObjectTooLarge,
                    name.span,
                    format!(
                        "Secret `{}` holds {size} bytes of data, more than the {} the API server accepts",
                        name.value,
                        rules::MAX_PAYLOAD_BYTES
                    ),
                )
                .path("data")
                .label("too large"),
            );
        }
        // A Secret whose keys are all null or empty holds no value worth warning about.
        let holds_a_value = ["data", "stringData"].iter().any(|key| {
            root.get(key).and_then(Node::as_map).is_some_and(|entries| {
                entries
                    .iter()
                    .any(|(_, v)| !v.is_null() && v.as_scalar().is_none_or(|s| !s.text.is_empty()))
            })
        });
        if let Some(span) = plaintext_span
            && holds_a_value
        {
            let help = if self.options.strict_secrets {
                "commit a SealedSecret, an ExternalSecret or a SOPS-encrypted Secret instead and rotate these values, or list this Secret in `.connections-allow.yaml`"
            } else {
                "commit a SealedSecret, an ExternalSecret or a SOPS-encrypted Secret instead, and rotate these values"
            };
            self.plaintext_secret(
                Diagnostic::new(
                    Check::PlaintextSecretInRepo,
                    span,
                    format!("Secret `{}` is committed with its values readable by anyone with the repository", name.value),
                )
                .path(if root.get("stringData").is_some() { "stringData" } else { "data" })
                .label("plaintext secret values")
                .help(help),
                ns,
                &name.value,
            );
        }
        self.secret_type_rules(&secret, name);
        secret
    }

    /// Type-specific Secret rules of the API server.
    fn secret_type_rules(&mut self, secret: &SecretData, name: &Spanned<String>) {
        let Some(secret_type) = secret.secret_type.as_deref() else { return };
        let has = |k: &str| secret.keys.contains_key(k);
        let problem = match secret_type {
            "kubernetes.io/dockerconfigjson" if !has(".dockerconfigjson") => {
                Some("needs the key `.dockerconfigjson`".to_string())
            }
            "kubernetes.io/dockercfg" if !has(".dockercfg") => {
                Some("needs the key `.dockercfg`".to_string())
            }
            "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
                Some("needs a `username` or `password` key".to_string())
            }
            "kubernetes.io/ssh-auth"
                if secret.values.get("ssh-privatekey").is_none_or(Vec::is_empty) =>
            {
                Some("needs a non-empty `ssh-privatekey` key".to_string())
            }
            "kubernetes.io/tls" if !(has("tls.crt") && has("tls.key")) => {
                Some("needs both `tls.crt` and `tls.key`".to_string())
            }
            "kubernetes.io/dockerconfigjson" | "kubernetes.io/dockercfg" => {
                let key =
                    if secret_type.ends_with("json") { ".dockerconfigjson" } else { ".dockercfg" };
                let parses = secret
                    .values
                    .get(key)
                    .and_then(|v| serde_json::from_slice::<serde_json::Value>(v).ok())
                    .is_some_and(|v| v.is_object());
                (!parses).then(|| format!("`{key}` must hold a JSON object"))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            self.push(
                Diagnostic::new(
                    Check::InvalidSecretValue,
                    name.span,
                    format!("Secret `{}` of type `{secret_type}` {problem}", name.value),
                )
                .path("type")
                .label("the API server rejects this Secret"),
            );
        }
    }

    fn configmap(&mut self, root: &Node, name: &Spanned<String>) -> ConfigMapData {
        let mut cm = ConfigMapData::default();
        let mut size = 0usize;
        if let Some(data) = self.fields.map(root, "data", "") {
            for (key, value) in self.fields.string_map(data, "data") {
                self.data_key(&key, "data");
                size += value.value.len();
                cm.data.insert(key.value.clone(), value.value);
                cm.keys.insert(key.value, key.span);
            }
        }
        if let Some(binary) = self.fields.map(root, "binaryData", "") {
            for (key, value) in self.fields.string_map(binary, "binaryData") {
                self.data_key(&key, "binaryData");
                match rules::decode_secret_value(&value.value) {
                    Ok(bytes) => size += bytes.len(),
                    Err(reason) => self.push(
                        Diagnostic::new(
                            Check::InvalidSecretValue,
                            value.span,
                            format!("the binaryData value of `{}` {reason}", key.value),
                        )
                        .path(join("binaryData", &key.value))
                        .label("not base64"),
                    ),
                }
                if let Some(first) = cm.keys.get(&key.value) {
                    let first = *first;
                    self.push(
                        Diagnostic::new(
                            Check::InvalidDataKey,
                            key.span,
                            format!("key `{}` is in both `data` and `binaryData`", key.value),
                        )
                        .path(join("binaryData", &key.value))
                        .label("second occurrence")
                        .related(first, "first occurrence, in `data`"),
                    );
                }
                cm.keys.insert(key.value, key.span);
            }
        }
        if size > rules::MAX_PAYLOAD_BYTES {
            self.push(
                Diagnostic::new(
                    Check::ObjectTooLarge,
                    name.span,
                    format!(
                        "ConfigMap `{}` holds {size} bytes of data, more than the {} the API server accepts",
                        name.value,
                        rules::MAX_PAYLOAD_BYTES
                    ),
                )
                .path("data")
                .label("too large"),
            );
        }
        cm
    }

    fn sealed_secret(&mut self, root: &Node, name: &Spanned<String>) -> SecretDeclaration {
        let mut keys = BTreeMap::new();
        if let Some(spec) = self.fields.map(root, "spec", "") {
            if let Some(encrypted) = self.fields.map(spec, "encryptedData", "spec") {
                for (key, _) in encrypted.as_map().unwrap_or(&[]) {
                    let key_text = Spanned::new(key.key_text(), key.span);
                    self.data_key(&key_text, "spec.encryptedData");
                    keys.insert(key_text.value, key.span);
                }
            }
            if let Some(data) = spec.path(&["template", "data"]).and_then(Node::as_map) {
                for (key, _) in data {
                    keys.insert(key.key_text(), key.span);
                }
            }
        }
        SecretDeclaration { secret_name: name.clone(), keys: Ok(keys) }
    }

    fn external_secret(&mut self, root: &Node, name: &Spanned<String>) -> SecretDeclaration {
        let Some(spec) = self.fields.map(root, "spec", "") else {
            return SecretDeclaration { secret_name: name.clone(), keys: Ok(BTreeMap::new()) };
        };
        let target = self.fields.map(spec, "target", "spec");
        let secret_name = target
            .and_then(|t| self.fields.string(t, "name", "spec.target"))
            .unwrap_or_else(|| name.clone());
        let mut data_keys = BTreeMap::new();
        let data = self.fields.seq(spec, "data", "spec");
        for (i, item) in data.iter().enumerate() {
            let path = index("spec.data", i);
            if let Some(item) = self.fields.map_node(item, &path)
                && let Some(key) = self.fields.string(item, "secretKey", &path)
            {
                data_keys.insert(key.value, key.span);
            }
        }
        let template = target.and_then(|t| t.get("template"));
        let unknown = if !self.fields.seq(spec, "dataFrom", "spec").is_empty() {
            Some("its keys come from `spec.dataFrom`, which only the secret store knows")
        } else if template
            .and_then(|t| t.get("templateFrom"))
            .and_then(Node::as_seq)
            .is_some_and(|s| !s.is_empty())
        {
            Some("its keys come from `spec.target.template.templateFrom`")
        } else {
            None
        };
        let keys = match unknown {
            Some(reason) => Err(reason.to_string()),
            None => match template.and_then(|t| t.get("data")).and_then(Node::as_map) {
                Some(template_data) => {
                    // ESO's default merge policy `Replace` keeps only the template's keys.
                    let merge = template.and_then(|t| t.get("mergePolicy")).and_then(Node::as_str)
                        == Some("Merge");
                    let mut keys: BTreeMap<String, Span> =
                        template_data.iter().map(|(k, _)| (k.key_text(), k.span)).collect();
                    if merge {
                        keys.extend(data_keys);
                    }
                    Ok(keys)
                }
                None => Ok(data_keys),
            },
        };
        SecretDeclaration { secret_name, keys }
    }

    fn resource_ref(
        &mut self,
        from: Referrer,
        namespace: &str,
        resource: &ResourceModel,
        target: TargetKind,
    ) {
        let items_path = join(&resource.path, "items");
        self.model.references.push(Reference {
            from,
            target,
            namespace: namespace.to_string(),
            name: resource.name.clone(),
            path: join(&resource.path, "name"),
            keys: resource
                .items
                .iter()
                .enumerate()
                .map(|(i, key)| KeyNeed { key: key.clone(), path: index(&items_path, i) })
                .collect(),
            optional: false,
        });
    }

    fn connection(
        &mut self,
        root: &Node,
        flavour: Flavour,
        from: Referrer,
        ns: &str,
    ) -> ConnectionModel {
        let mut model = ConnectionModel {
            flavour,
            type_name: None,
            provider: None,
            schema: Vec::new(),
            secret: None,
            config_map: None,
            credentials: Vec::new(),
            env: Vec::new(),
            scopes: Vec::new(),
            annotations: Vec::new(),
            description: None,
            schema_node: None,
        };
        let Some(spec) = self.fields.map(root, "spec", "") else { return model };
        if flavour == Flavour::Ours {
            self.unknown_fields(
                spec,
                "spec",
                &[
                    "type",
                    "description",
                    "provider",
                    "schema",
                    "secret",
                    "configMap",
                    "credentials",
                    "env",
                    "healthCheck",
                    "scopes",
                    "annotations",
                ],
            );
        }
        model.type_name = self.fields.string(spec, "type", "spec");
        model.provider = self.fields.string(spec, "provider", "spec");
        model.description = self.fields.string(spec, "description", "spec").map(|d| d.value);
        if let Some(annotations) = self.fields.map(spec, "annotations", "spec") {
            model.annotations = self.fields.string_map(annotations, "spec.annotations");
        }
        model.schema_node = spec.get("schema").filter(|n| n.as_map().is_some()).cloned();
        if let Some(schema) = self.fields.map(spec, "schema", "spec") {
            for (key, value) in schema.as_map().unwrap_or(&[]) {
                let key_text = key.key_text();
                self.fields.check_ambiguous_key(key, || join("spec.schema", &key_text));
                if let Some(s) = value.as_scalar()
                    && s.is_ambiguous()
                {
                    self.push(
                        Diagnostic::new(
                            Check::AmbiguousYamlScalar,
                            value.span,
                            format!(
                                "kubectl reads the plain scalar `{}` as {} `{}`",
                                s.text,
                                s.resolve().type_name(),
                                s.resolve().to_text()
                            ),
                        )
                        .path(join("spec.schema", &key_text))
                        .label("ambiguous plain scalar")
                        .help(format!("quote it if you mean the string: \"{}\"", s.text)),
                    );
                }
                model.schema.push((Spanned::new(key_text, key.span), value.clone()));
            }
        }
        const RESOURCE_FIELDS: &[&str] = &["name", "mountPath", "items", "defaultMode"];
        if let Some(secret) = self.fields.map(spec, "secret", "spec") {
            if flavour == Flavour::Ours {
                self.unknown_fields(secret, "spec.secret", RESOURCE_FIELDS);
            }
            model.secret = resource(secret, "spec.secret", &mut self.fields);
        }
        if let Some(cm) = self.fields.map(spec, "configMap", "spec") {
            if flavour == Flavour::Ours {
                self.unknown_fields(cm, "spec.configMap", RESOURCE_FIELDS);
            }
            model.config_map = resource(cm, "spec.configMap", &mut self.fields);
        }
        if let Some(secret) = model.secret.clone() {
            self.resource_ref(from, ns, &secret, TargetKind::Secret);
        }
        if let Some(cm) = model.config_map.clone() {
            self.resource_ref(from, ns, &cm, TargetKind::ConfigMap);
        }
        if let Some(credentials) = self.fields.map(spec, "credentials", "spec") {
            for (key, value) in credentials.as_map().unwrap_or(&[]) {
                let name = Spanned::new(key.key_text(), key.span);
                let path = join("spec.credentials", &name.value);
                self.fields.redact = true;
                for (k, v) in value.as_map().unwrap_or(&[]) {
                    if k.key_text() != "valueFrom" {
                        self.mask_scalars(v);
                    }
                }
                let credential = self.credential(value, &path, from, ns);
                self.fields.redact = false;
                // An empty `value` counts as unset, as KubeETL resolves it.
                let written =
                    value.get("value").is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
                        || value.get("valueFrom").is_some();
                model.credentials.push(CredentialModel { name, value: credential, path, written });
            }
        }
        model.env = self.fields.seq(spec, "env", "spec").to_vec();
        for (i, var) in model.env.iter().enumerate() {
            let path = index("spec.env", i);
            if let Some(var) = self.fields.map_node(var, &path)
                && self.fields.string(var, "name", &path).is_none()
            {
                self.push(
                    Diagnostic::new(
                        Check::InvalidFieldType,
                        var.span,
                        format!("`{path}` needs a `name`"),
                    )
                    .path(path)
                    .label("environment variable without a name"),
                );
            }
        }
        if let Some(health) = spec.get("healthCheck").filter(|n| n.as_map().is_some()) {
            self.unknown_fields(health, "spec.healthCheck", &["mode", "interval", "timeout"]);
        }
        if let Some(health) = self.fields.map(spec, "healthCheck", "spec")
            && let Some(mode) = self.fields.string(health, "mode", "spec.healthCheck")
            && !matches!(mode.value.as_str(), "Interval" | "WhenUsed" | "None")
        {
            self.push(
                Diagnostic::new(
                    Check::InvalidFieldType,
                    mode.span,
                    format!("`spec.healthCheck.mode` must be `Interval`, `WhenUsed` or `None`, found `{}`", mode.value),
                )
                .path("spec.healthCheck.mode")
                .label("unknown mode"),
            );
        }
        let scopes = self.fields.seq(spec, "scopes", "spec");
        for (i, scope) in scopes.iter().enumerate() {
            let path = index("spec.scopes", i);
            if let Some(scope) = self.fields.map_node(scope, &path) {
                self.unknown_fields(scope, &path, &["kind", "name"]);
                let kind = self.fields.string(scope, "kind", &path);
                let name = self.fields.string(scope, "name", &path);
                if let (Some(kind), Some(name)) = (kind, name) {
                    model.scopes.push((kind.value, name.value));
                }
            }
        }
        model
    }

    fn credential(
        &mut self,
        value: &Node,
        path: &str,
        from: Referrer,
        ns: &str,
    ) -> Option<CredentialValue> {
        let entry = self.fields.map_node(value, path)?;
        self.unknown_fields(entry, path, &["value", "valueFrom"]);
        if let Some(from) = entry.get("valueFrom").filter(|n| n.as_map().is_some()) {
            let from_path = join(path, "valueFrom");
            self.unknown_fields(from, &from_path, &["secretKeyRef", "configMapKeyRef"]);
            for field in ["secretKeyRef", "configMapKeyRef"] {
                if let Some(r) = from.get(field).filter(|n| n.as_map().is_some()) {
                    self.unknown_fields(r, &join(&from_path, field), &["name", "key", "optional"]);
                }
            }
        }
        if let Some(inline) = self.fields.string(entry, "value", path)
            && !inline.value.is_empty()
        {
            return Some(CredentialValue::Inline(inline));
        }
        let value_from = self.fields.map(entry, "valueFrom", path)?;
        let from_path = join(path, "valueFrom");
        // KubeETL's precedence: value, then configMapKeyRef, then secretKeyRef.
        for (field, target) in
            [("configMapKeyRef", TargetKind::ConfigMap), ("secretKeyRef", TargetKind::Secret)]
        {
            let Some(r) = self.fields.map(value_from, field, &from_path) else { continue };
            let rpath = join(&from_path, field);
            let name = self.fields.string(r, "name", &rpath);
            let key = self.fields.string(r, "key", &rpath);
            let (Some(name), Some(key)) = (name, key) else {
                self.push(
                    Diagnostic::new(
                        Check::InvalidFieldType,
                        r.span,
                        format!("`{rpath}` needs `name` and `key`"),
                    )
                    .path(&rpath)
                    .label("incomplete key reference"),
                );
                return None;
            };
            self.model.references.push(Reference {
                from,
                target,
                namespace: ns.to_string(),
                name: name.clone(),
                path: join(&rpath, "name"),
                keys: vec![KeyNeed { key: key.clone(), path: join(&rpath, "key") }],
                optional: false,
            });
            return Some(match target {
                TargetKind::Secret => CredentialValue::SecretKey { name, key },
                _ => CredentialValue::ConfigMapKey { name, key },
            });
        }
        None
    }

    fn unknown_fields(&mut self, node: &Node, path: &str, known: &[&str]) {
        self.fields.unknown_fields(node, path, known);
    }

    fn connection_type(&mut self, root: &Node, flavour: Flavour) -> ConnectionTypeModel {
        let mut model =
            ConnectionTypeModel { flavour, fields: Vec::new(), allow_extra_fields: false };
        let Some(spec) = self.fields.map(root, "spec", "") else { return model };
        if flavour == Flavour::Ours {
            self.unknown_fields(spec, "spec", &["fields", "allowExtraFields"]);
        }
        model.allow_extra_fields =
            self.fields.boolean(spec, "allowExtraFields", "spec").unwrap_or(false);
        let fields = self.fields.seq(spec, "fields", "spec");
        for (i, field) in fields.iter().enumerate() {
            let path = index("spec.fields", i);
            let Some(field) = self.fields.map_node(field, &path) else { continue };
            if flavour == Flavour::Ours {
                self.unknown_fields(
                    field,
                    &path,
                    &["name", "envName", "required", "sensitive", "validation"],
                );
                if let Some(validation) = field.get("validation").filter(|n| n.as_map().is_some()) {
                    self.unknown_fields(
                        validation,
                        &join(&path, "validation"),
                        &["minLength", "maxLength", "regex"],
                    );
                }
            }
            let Some(name) = self.fields.string(field, "name", &path) else { continue };
            let validation = self.fields.map(field, "validation", &path);
            let vpath = join(&path, "validation");
            let (min_length, max_length, regex) = match validation {
                Some(v) => (
                    self.fields.integer(v, "minLength", &vpath),
                    self.fields.integer(v, "maxLength", &vpath),
                    self.fields.string(v, "regex", &vpath),
                ),
                None => (None, None, None),
            };
            model.fields.push(TypeField {
                name,
                env_name: self.fields.string(field, "envName", &path),
                required: self.fields.boolean(field, "required", &path).unwrap_or(false),
                sensitive: self.fields.boolean(field, "sensitive", &path).unwrap_or(false),
                min_length,
                max_length,
                regex,
            });
        }
        model
    }

    fn kubedirector(&mut self, root: &Node, from: Referrer, ns: &str) -> KubeDirectorConnections {
        let mut out = KubeDirectorConnections::default();
        let Some(connections) =
            root.get("spec").and_then(|s| self.fields.map(s, "connections", "spec"))
        else {
            return out;
        };
        out.clusters = self.fields.string_list(connections, "clusters", "spec.connections");
        out.configmaps = self.fields.string_list(connections, "configmaps", "spec.connections");
        out.secrets = self.fields.string_list(connections, "secrets", "spec.connections");
        for (list, target, field) in [
            (&out.clusters, TargetKind::KubeDirectorCluster, "clusters"),
            (&out.configmaps, TargetKind::ConfigMap, "configmaps"),
            (&out.secrets, TargetKind::Secret, "secrets"),
        ] {
            for (i, name) in list.iter().enumerate() {
                self.model.references.push(Reference {
                    from,
                    target,
                    namespace: ns.to_string(),
                    name: name.clone(),
                    path: index(&join("spec.connections", field), i),
                    keys: Vec::new(),
                    optional: false,
                });
            }
        }
        out
    }

    /// Records every scalar value under `node` as a secret span, for reporters to mask.
    fn mask_scalars(&mut self, node: &Node) {
        match &node.value {
            NodeValue::Scalar(_) => self.model.secret_spans.push(node.span),
            NodeValue::Seq(items) => items.iter().for_each(|i| self.mask_scalars(i)),
            NodeValue::Map(entries) => entries.iter().for_each(|(_, v)| self.mask_scalars(v)),
        }
    }

    fn cluster_connect(&mut self, root: &Node) -> LoftConnect {
        let spec = self.fields.map(root, "spec", "");
        let Some(spec) = spec else {
            return LoftConnect { config: None, admin_user: None, template: None };
        };
        self.unknown_fields(spec, "spec", &["config", "adminUser", "clusterTemplate"]);
        // The kubeconfig, and anything else under `spec` (a misspelt `confg`), may be a credential.
        for (key, value) in spec.as_map().unwrap_or(&[]) {
            if !matches!(key.key_text().as_str(), "adminUser" | "clusterTemplate") {
                self.mask_scalars(value);
            }
        }
        self.fields.redact = true;
        let config = self.fields.string(spec, "config", "spec");
        self.fields.redact = false;
        LoftConnect {
            config,
            admin_user: self.fields.string(spec, "adminUser", "spec"),
            template: self.fields.map(spec, "clusterTemplate", "spec").cloned(),
        }
    }

    fn loft_cluster(&mut self, root: &Node, from: Referrer) {
        let Some(config) = root.get("spec").and_then(|s| self.fields.map(s, "config", "spec"))
        else {
            return;
        };
        let Some(secret_name) = self.fields.string(config, "secretName", "spec.config") else {
            return;
        };
        // Loft keeps cluster credentials in its own namespace, `loft`, unless told otherwise.
        let namespace = self
            .fields
            .string(config, "secretNamespace", "spec.config")
            .map_or_else(|| crate::render::loft::SECRET_NAMESPACE.to_string(), |n| n.value);
        let keys = self
            .fields
            .string(config, "key", "spec.config")
            .map(|key| KeyNeed { key, path: "spec.config.key".into() })
            .into_iter()
            .collect();
        self.model.references.push(Reference {
            from,
            target: TargetKind::Secret,
            namespace,
            name: secret_name,
            path: "spec.config.secretName".into(),
            keys,
            optional: false,
        });
    }

    fn workload(
        &mut self,
        root: &Node,
        spec_path: &'static [&'static str],
        meta_path: &'static [&'static str],
        from: Referrer,
        ns: &str,
    ) -> WorkloadModel {
        let uses = root
            .path(&["metadata", "annotations", USE_ANNOTATION])
            .map(split_use_annotation)
            .unwrap_or_default();
        // Walk to the pod spec, reporting a wrong type on the way (`spec: 5`).
        let mut node = Some(root);
        let mut path = String::new();
        for key in spec_path {
            let Some(parent) = node else { break };
            node = self.fields.map(parent, key, &path);
            path = join(&path, key);
        }
        match node {
            Some(pod_spec) => {
                let mut refs = Vec::new();
                PodRefs { fields: &mut self.fields, from, namespace: ns, out: &mut refs }
                    .pod_spec(pod_spec, &path);
                self.model.references.extend(refs);
            }
            None if !uses.is_empty() => {
                let kind = root.get("kind").and_then(Node::as_str).unwrap_or("workload");
                let path = spec_path.join(".");
                self.push(
                    Diagnostic::new(
                        Check::InvalidObject,
                        uses[0].span,
                        format!("this {kind} uses connections but has no pod spec at `{path}` to inject them into"),
                    )
                    .path(&path)
                    .label("nothing to inject into")
                    .help(format!("add the pod spec at `{path}`, or remove the `{USE_ANNOTATION}` annotation")),
                );
            }
            None => {}
        }
        // Any scalar is kept as text so that a wrong value can be reported at its line; a
        // non-string annotation value is already an `invalid-field-type` finding.
        let projection = root
            .path(&["metadata", "annotations", crate::binding::PROJECTION_ANNOTATION])
            .and_then(|n| n.as_scalar().map(|s| Spanned::new(s.text.to_string(), n.span)));
        WorkloadModel { pod_spec_path: spec_path, pod_metadata_path: meta_path, uses, projection }
    }
}

/// Splits `connections.dev/use: "a, b"` into names, each with its own span where the scalar
/// maps one-to-one onto its source text.
fn split_use_annotation(node: &Node) -> Vec<Spanned<String>> {
    let Some(scalar) = node.as_scalar() else { return Vec::new() };
    let text = &scalar.text;
    let offset = match scalar.style {
        ScalarStyle::Plain if node.span.len() as usize == text.len() => Some(0),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
            if node.span.len() as usize == text.len() + 2 && !text.contains(['\\', '\'']) =>
        {
            Some(1)
        }
        _ => None,
    };
    let mut out = Vec::new();
    let mut start = 0;
    for part in text.split(',') {
        let trimmed = part.trim();
        if !trimmed.is_empty() {
            let lead = part.len() - part.trim_start().len();
            let span = match offset {
                Some(o) => {
                    let s = node.span.start + (o + start + lead) as u32;
                    Span::new(node.span.file, s, s + trimmed.len() as u32)
                }
                None => node.span,
            };
            out.push(Spanned::new(trimmed.to_string(), span));
        }
        start += part.len() + 1;
    }
    out
}

/// Build configuration that is read but never rendered into the output.
fn is_local_config(group: &str, kind: &str, root: &Node) -> bool {
    matches!(group, "kustomize.config.k8s.io" | "kpt.dev" | "config.kubernetes.io" | "fn.kpt.dev")
        || (group.is_empty() && kind == "Kptfile")
        || root
            .path(&["metadata", "annotations", "config.kubernetes.io/local-config"])
            .and_then(Node::as_str)
            == Some("true")
        || matches!(&root.value, NodeValue::Map(m) if m.is_empty())
}
