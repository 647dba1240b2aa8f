//! Checks over the whole model: duplicates, references and connection consistency.
//!
//! Every reference is resolved by one index lookup, so the pass is linear in the number of
//! references. Findings never include a Secret value: only names and keys.

use crate::checks::Check;
use crate::diagnostic::Diagnostic;
use crate::model::fields::join;
use crate::model::{
    Body, ConnectionModel, CredentialValue, Flavour, Model, Reference, Referrer, SecretKeys,
    TargetKind, polyaxon,
};
use crate::source::Span;
use crate::suggest::closest;
use std::collections::{BTreeMap, HashSet};

/// What a reference may also be satisfied by, outside the repository.
pub trait ExternalObjects {
    /// Whether the cluster has this object (and, when given, these keys).
    fn has(&self, target: TargetKind, namespace: &str, name: &str) -> Option<ExternalKeys>;
}

/// The keys of an object found outside the repository.
#[derive(Clone, Debug)]
pub struct ExternalKeys {
    /// Its keys.
    pub keys: Vec<String>,
}

/// No objects outside the repository (the offline default).
pub struct Offline;

impl ExternalObjects for Offline {
    fn has(&self, _: TargetKind, _: &str, _: &str) -> Option<ExternalKeys> {
        None
    }
}

/// Connection types that need no ConnectionType object: Polyaxon's kinds, `Opaque`, and the
/// common names users reach for.
pub fn is_builtin_type(type_name: &str) -> bool {
    polyaxon::is_kind(type_name)
        || matches!(
            type_name,
            "Opaque" | "mongodb" | "mariadb" | "amqp" | "kafka" | "https" | "kubernetes"
        )
}

/// Whether an inline credential of this name is a secret when no ConnectionType says otherwise.
pub fn is_sensitive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "privatekey",
        "private-key",
        "private_key",
        "apikey",
        "api-key",
        "api_key",
    ]
    .iter()
    .any(|s| lower.contains(s))
}

/// Runs every model-level check.
pub fn check(model: &Model, external: &dyn ExternalObjects) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    duplicates(model, &mut out);
    for reference in &model.references {
        resolve(model, reference, external, &mut out);
    }
    for (i, object) in model.objects.iter().enumerate() {
        match &object.body {
            Body::Connection(connection) => connection_checks(model, i, connection, &mut out),
            Body::KubeDirectorCluster(_) => kubedirector_checks(model, i, &mut out),
            Body::Workload(workload) => {
                for name in &workload.uses {
                    match model.connection(object.namespace_str(), &name.value) {
                        None => out.push(
                            Diagnostic::new(
                                Check::DanglingConnectionRef,
                                name.span,
                                format!(
                                    "{} `{}` uses connection `{}`, but there is no Connection `{}` in namespace `{}`",
                                    object.kind.value,
                                    object.name.value,
                                    name.value,
                                    name.value,
                                    object.namespace_str()
                                ),
                            )
                            .path(format!("metadata.annotations.{}", crate::model::USE_ANNOTATION))
                            .label("no such Connection")
                            .help(suggest(
                                &name.value,
                                model.objects.iter().filter(|o| {
                                    matches!(&o.body, Body::Connection(c) if c.flavour == Flavour::Ours)
                                        && o.namespace_str() == object.namespace_str()
                                }).map(|o| o.name.value.as_str()),
                                "Connection",
                            )),
                        ),
                        Some(c) => scope_check(model, i, c, name.span, &mut out),
                    }
                }
            }
            _ => {}
        }
    }
    polyaxon_checks(model, &mut out);
    out
}

fn duplicates(model: &Model, out: &mut Vec<Diagnostic>) {
    for indices in model.objects_with_key() {
        if indices.len() < 2 {
            continue;
        }
        let first = &model.objects[indices[0]];
        for &i in &indices[1..] {
            let object = &model.objects[i];
            out.push(
                Diagnostic::new(
                    Check::DuplicateObject,
                    object.name.span,
                    format!("{} is declared more than once", object.key()),
                )
                .path("metadata.name")
                .label("second declaration")
                .related(first.name.span, "first declared here")
                .help("delete one of the two, or rename it"),
            );
        }
    }
    // A Secret must have one source: a Secret, a SealedSecret or an ExternalSecret.
    let mut seen = HashSet::new();
    for object in &model.objects {
        let name = match &object.body {
            Body::Secret(_) => &object.name.value,
            Body::SecretDeclaration(d) => &d.secret_name.value,
            _ => continue,
        };
        let key = (object.namespace_str().to_string(), name.clone());
        if !seen.insert(key.clone()) {
            continue;
        }
        let sources = model.secret_sources(&key.0, &key.1);
        let kinds: HashSet<&str> =
            sources.iter().map(|&s| model.objects[s].kind.value.as_str()).collect();
        if sources.len() > 1 && kinds.len() > 1 {
            let first = &model.objects[sources[0]];
            for &s in &sources[1..] {
                let other = &model.objects[s];
                if other.kind.value == first.kind.value {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        Check::DuplicateObject,
                        other.name.span,
                        format!(
                            "Secret `{}` in namespace `{}` is declared by both {} `{}` and {} `{}`",
                            key.1,
                            key.0,
                            first.kind.value,
                            first.name.value,
                            other.kind.value,
                            other.name.value
                        ),
                    )
                    .path("metadata.name")
                    .label("second source of the same Secret")
                    .related(first.name.span, "first source")
                    .help("keep one source per Secret: the controllers would overwrite each other"),
                );
            }
        }
    }
}

fn referrer_label(model: &Model, from: Referrer) -> String {
    match from {
        Referrer::Object(i) => {
            let o = &model.objects[i];
            format!("{} `{}`", o.kind.value, o.name.value)
        }
        Referrer::Polyaxon(c, i) => {
            let conn = &model.polyaxon[c].connections[i];
            match &conn.name {
                Some(name) => format!("Polyaxon connection `{}`", name.value),
                None => format!("Polyaxon connection at `{}`", conn.path),
            }
        }
    }
}

fn resolve(
    model: &Model,
    r: &Reference,
    external: &dyn ExternalObjects,
    out: &mut Vec<Diagnostic>,
) {
    let who = referrer_label(model, r.from);
    let from_kubedirector = matches!(r.from, Referrer::Object(i) if matches!(model.objects[i].body, Body::KubeDirectorCluster(_)));
    match r.target {
        TargetKind::Secret => {
            let sources = model.secret_sources(&r.namespace, &r.name.value);
            if let Some(&first) = sources.first() {
                match model.secret_keys(first) {
                    Some(SecretKeys::Known(keys)) => missing_keys(
                        r,
                        &who,
                        "Secret",
                        keys.keys().map(String::as_str),
                        Check::MissingSecretKey,
                        out,
                    ),
                    Some(SecretKeys::Unknown(reason)) => {
                        for need in &r.keys {
                            out.push(
                                Diagnostic::new(
                                    Check::UnknownSecretKeys,
                                    need.key.span,
                                    format!(
                                        "key `{}` of Secret `{}` cannot be checked: {reason}",
                                        need.key.value, r.name.value
                                    ),
                                )
                                .path(&need.path)
                                .label("unchecked key")
                                .related(model.objects[first].name.span, "declared here"),
                            );
                        }
                    }
                    None => {}
                }
                return;
            }
            if let Some(found) = external.has(TargetKind::Secret, &r.namespace, &r.name.value) {
                missing_keys(
                    r,
                    &who,
                    "Secret",
                    found.keys.iter().map(String::as_str),
                    Check::MissingSecretKey,
                    out,
                );
                return;
            }
            if r.optional {
                return;
            }
            let candidates =
                model.objects.iter().filter(|o| o.namespace_str() == r.namespace).filter_map(|o| {
                    match &o.body {
                        Body::Secret(_) => Some(o.name.value.as_str()),
                        Body::SecretDeclaration(d) => Some(d.secret_name.value.as_str()),
                        _ => None,
                    }
                });
            let help = elsewhere_or_suggest(model, r, "Secret", candidates);
            out.push(if from_kubedirector {
                kubedirector_dangling(r, &who, "Secret", help)
            } else {
                Diagnostic::new(
                    Check::DanglingSecretRef,
                    r.name.span,
                    format!(
                        "{who} refers to Secret `{}`, which is not declared in namespace `{}`",
                        r.name.value, r.namespace
                    ),
                )
                .path(&r.path)
                .label("no such Secret")
                .help(help)
            });
        }
        TargetKind::ConfigMap => {
            if let Some(generated) = generated_settings(model, &r.namespace, &r.name.value) {
                missing_keys(
                    r,
                    &who,
                    "ConfigMap",
                    generated.data.keys().map(String::as_str),
                    Check::MissingConfigMapKey,
                    out,
                );
                return;
            }
            if let Some(cm) = model.configmap(&r.namespace, &r.name.value) {
                if let Body::ConfigMap(data) = &model.objects[cm].body {
                    missing_keys(
                        r,
                        &who,
                        "ConfigMap",
                        data.keys.keys().map(String::as_str),
                        Check::MissingConfigMapKey,
                        out,
                    );
                }
                return;
            }
            if let Some(found) = external.has(TargetKind::ConfigMap, &r.namespace, &r.name.value) {
                missing_keys(
                    r,
                    &who,
                    "ConfigMap",
                    found.keys.iter().map(String::as_str),
                    Check::MissingConfigMapKey,
                    out,
                );
                return;
            }
            if r.optional {
                return;
            }
            let candidates = model
                .objects
                .iter()
                .filter(|o| {
                    o.namespace_str() == r.namespace && matches!(o.body, Body::ConfigMap(_))
                })
                .map(|o| o.name.value.as_str());
            let help = elsewhere_or_suggest(model, r, "ConfigMap", candidates);
            out.push(if from_kubedirector {
                kubedirector_dangling(r, &who, "ConfigMap", help)
            } else {
                Diagnostic::new(
                    Check::DanglingConfigMapRef,
                    r.name.span,
                    format!(
                        "{who} refers to ConfigMap `{}`, which is not declared in namespace `{}`",
                        r.name.value, r.namespace
                    ),
                )
                .path(&r.path)
                .label("no such ConfigMap")
                .help(help)
            });
        }
        TargetKind::KubeDirectorCluster => {
            if model.kubedirector_cluster(&r.namespace, &r.name.value).is_some()
                || external
                    .has(TargetKind::KubeDirectorCluster, &r.namespace, &r.name.value)
                    .is_some()
            {
                return;
            }
            let candidates = model
                .objects
                .iter()
                .filter(|o| {
                    o.namespace_str() == r.namespace
                        && matches!(o.body, Body::KubeDirectorCluster(_))
                })
                .map(|o| o.name.value.as_str());
            out.push(
                Diagnostic::new(
                    Check::DanglingKubedirectorClusterRef,
                    r.name.span,
                    format!(
                        "{who} connects to cluster `{}`, but there is no KubeDirectorCluster `{}` in namespace `{}`",
                        r.name.value, r.name.value, r.namespace
                    ),
                )
                .path(&r.path)
                .label("no such KubeDirectorCluster")
                .help(suggest(&r.name.value, candidates, "KubeDirectorCluster")),
            );
        }
        TargetKind::Connection => {}
    }
}

/// The settings ConfigMap render will generate under this name, if any.
fn generated_settings(
    model: &Model,
    namespace: &str,
    name: &str,
) -> Option<crate::render::generate::SettingsConfigMap> {
    let connection = name.strip_suffix("-connection")?;
    let index = model.connection(namespace, connection)?;
    crate::render::generate::settings_configmap(model, index)
}

fn kubedirector_dangling(r: &Reference, who: &str, kind: &str, help: String) -> Diagnostic {
    Diagnostic::new(
        Check::DanglingKubedirectorConnection,
        r.name.span,
        format!(
            "{who} connects {kind} `{}`, which is not declared in namespace `{}`; KubeDirector would leave it out of configmeta without a word",
            r.name.value, r.namespace
        ),
    )
    .path(&r.path)
    .label(format!("no such {kind}"))
    .help(help)
}

/// Labels KubeDirector needs, and what the rendered configmeta cannot know.
fn kubedirector_checks(model: &Model, index: usize, out: &mut Vec<Diagnostic>) {
    use crate::render::configmeta::{
        CM_TYPE_LABEL, SECRET_TYPE_LABEL, secret_labels, secret_metadata_path, string_map,
    };
    let object = &model.objects[index];
    let Body::KubeDirectorCluster(spec) = &object.body else { return };
    let ns = object.namespace_str();
    for (i, name) in spec.configmaps.iter().enumerate() {
        let Some(cm) = model.configmap(ns, &name.value) else { continue };
        let cm = &model.objects[cm];
        if !string_map(&cm.root, &["metadata", "labels"]).contains_key(CM_TYPE_LABEL) {
            out.push(
                Diagnostic::new(
                    Check::UnlabelledKubedirectorConfigmap,
                    name.span,
                    format!(
                        "ConfigMap `{}` has no label `{CM_TYPE_LABEL}`, so KubeDirector leaves it out of the configmeta of `{}` without a word",
                        name.value, object.name.value
                    ),
                )
                .path(format!("spec.connections.configmaps[{i}]"))
                .label("will be skipped")
                .related(cm.name.span, "the ConfigMap")
                .help(format!("add `{CM_TYPE_LABEL}: <type>` to `metadata.labels` of ConfigMap `{}`", name.value)),
            );
        }
    }
    for (i, name) in spec.secrets.iter().enumerate() {
        let Some(&source) = model.secret_sources(ns, &name.value).first() else { continue };
        let source = &model.objects[source];
        if !secret_labels(source).contains_key(SECRET_TYPE_LABEL) {
            let labels_at = secret_metadata_path(source).join(".");
            out.push(
                Diagnostic::new(
                    Check::UnlabelledKubedirectorSecret,
                    name.span,
                    format!(
                        "Secret `{}` will have no label `{SECRET_TYPE_LABEL}`, so KubeDirector leaves it out of the configmeta of `{}` without a word",
                        name.value, object.name.value
                    ),
                )
                .path(format!("spec.connections.secrets[{i}]"))
                .label("will be skipped")
                .related(source.name.span, format!("declared by this {}", source.kind.value))
                .help(format!(
                    "add `{SECRET_TYPE_LABEL}: <type>` to `{labels_at}.labels` of {} `{}`",
                    source.kind.value, source.name.value
                )),
            );
        } else if !matches!(source.body, Body::Secret(_)) {
            out.push(
                Diagnostic::new(
                    Check::KubedirectorSecretValuesUnknown,
                    name.span,
                    format!(
                        "the values of Secret `{}` are only known in the cluster ({} `{}`); the rendered configmeta of `{}` has `\"data\":null` for it",
                        name.value, source.kind.value, source.name.value, object.name.value
                    ),
                )
                .path(format!("spec.connections.secrets[{i}]"))
                .label("values known only in the cluster"),
            );
        }
    }
    for (i, name) in spec.clusters.iter().enumerate() {
        if model.kubedirector_cluster(ns, &name.value).is_some() {
            out.push(
                Diagnostic::new(
                    Check::KubedirectorClusterFilledInCluster,
                    name.span,
                    format!(
                        "the configmeta entry of connected cluster `{}` is built by KubeDirector in the cluster, from its pods and status; the rendered configmeta leaves it out",
                        name.value
                    ),
                )
                .path(format!("spec.connections.clusters[{i}]"))
                .label("filled in the cluster"),
            );
        }
    }
}

fn missing_keys<'k>(
    r: &Reference,
    who: &str,
    kind: &str,
    keys: impl Iterator<Item = &'k str> + Clone,
    check: Check,
    out: &mut Vec<Diagnostic>,
) {
    for need in &r.keys {
        if keys.clone().any(|k| k == need.key.value) {
            continue;
        }
        let available: Vec<&str> = keys.clone().collect();
        let listing = if available.is_empty() {
            format!("{kind} `{}` has no keys", r.name.value)
        } else {
            format!("its keys are: {}", available.join(", "))
        };
        let close = closest(&need.key.value, available.iter().copied());
        let help = match close {
            Some(c) => format!("did you mean `{c}`? {listing}"),
            None => listing,
        };
        out.push(
            Diagnostic::new(
                check,
                need.key.span,
                format!(
                    "{who} needs key `{}` of {kind} `{}`, which does not have it",
                    need.key.value, r.name.value
                ),
            )
            .path(&need.path)
            .label("no such key")
            .help(help),
        );
    }
}

/// Help for a dangling name: the same name in another namespace, or a close name here.
fn elsewhere_or_suggest<'a>(
    model: &Model,
    r: &Reference,
    kind: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> String {
    let elsewhere: Vec<&str> = model
        .objects
        .iter()
        .filter(|o| o.namespace_str() != r.namespace)
        .filter(|o| match (&o.body, r.target) {
            (Body::Secret(_), TargetKind::Secret) | (Body::ConfigMap(_), TargetKind::ConfigMap) => {
                o.name.value == r.name.value
            }
            (Body::SecretDeclaration(d), TargetKind::Secret) => d.secret_name.value == r.name.value,
            _ => false,
        })
        .map(|o| o.namespace_str())
        .collect();
    if let Some(ns) = elsewhere.first() {
        return format!(
            "a {kind} `{}` exists in namespace `{ns}`, but references resolve only in the referrer's own namespace `{}`",
            r.name.value, r.namespace
        );
    }
    suggest(&r.name.value, candidates, kind)
}

fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>, kind: &str) -> String {
    match closest(name, candidates) {
        Some(c) => format!("did you mean `{c}`?"),
        None if kind == "Secret" => {
            "declare it in the same namespace as a Secret, a SealedSecret or an ExternalSecret, or fix the name".to_string()
        }
        None => format!("declare the {kind} in the same namespace, or fix the name"),
    }
}

fn connection_checks(
    model: &Model,
    i: usize,
    connection: &ConnectionModel,
    out: &mut Vec<Diagnostic>,
) {
    let object = &model.objects[i];
    let ns = object.namespace_str();
    let connection_type = connection
        .type_name
        .as_ref()
        .and_then(|t| model.connection_type(connection.flavour, ns, &t.value));
    match (&connection.type_name, connection.flavour) {
        (None, Flavour::Ours) => out.push(
            Diagnostic::new(Check::InvalidConnection, object.name.span, format!("Connection `{}` has no `spec.type`", object.name.value))
                .path("spec.type")
                .label("no type")
                .help("set `spec.type` to a Polyaxon kind (postgres, s3, git, registry, ...), `Opaque`, or a ConnectionType name"),
        ),
        (Some(t), Flavour::Ours) if !is_builtin_type(&t.value) && connection_type.is_none() => out.push(
            Diagnostic::new(
                Check::InvalidConnection,
                t.span,
                format!("unknown connection type `{}`: not a Polyaxon kind, not `Opaque`, and no ConnectionType `{}` in namespace `{ns}`", t.value, t.value),
            )
            .path("spec.type")
            .label("unknown type")
            .help(match closest(&t.value, polyaxon::KINDS.iter().copied()) {
                Some(k) => format!("did you mean `{k}`?"),
                None => "declare a ConnectionType of that name, or use a Polyaxon kind".to_string(),
            }),
        ),
        (Some(t), Flavour::KubeEtl) if connection_type.is_none() => out.push(
            Diagnostic::new(Check::InvalidConnection, t.span, format!("Unknown ConnectionType: {}", t.value))
                .path("spec.type")
                .label("no ConnectionType of this name in the namespace")
                .help("KubeETL looks the type up by name in the Connection's namespace"),
        ),
        _ => {}
    }
    let type_fields: BTreeMap<&str, bool> = connection_type
        .and_then(|t| match &model.objects[t].body {
            Body::ConnectionType(t) => {
                Some(t.fields.iter().map(|f| (f.name.value.as_str(), f.sensitive)).collect())
            }
            _ => None,
        })
        .unwrap_or_default();
    for credential in &connection.credentials {
        let sensitive =
            type_fields.get(credential.name.value.as_str()).copied().unwrap_or_else(|| {
                connection_type.is_none() && is_sensitive_name(&credential.name.value)
            });
        let inline_span = match &credential.value {
            Some(CredentialValue::Inline(v)) => Some(v.span),
            Some(CredentialValue::ConfigMapKey { name, .. }) => Some(name.span),
            _ => None,
        };
        if sensitive && let Some(span) = inline_span {
            let how = if matches!(credential.value, Some(CredentialValue::Inline(_))) {
                "inline"
            } else {
                "from a ConfigMap"
            };
            out.push(
                Diagnostic::new(
                    Check::InlineSensitiveCredential,
                    span,
                    format!(
                        "spec.credentials.{}: Field is sensitive, only SecretKeyRef is allowed (it is set {how})",
                        credential.name.value
                    ),
                )
                .path(&credential.path)
                .label("sensitive value outside a Secret")
                .help("use `valueFrom: {secretKeyRef: {name: ..., key: ...}}`; the Secret can be a SealedSecret or an ExternalSecret"),
            );
        }
        if credential.value.is_none() && !credential.written {
            out.push(
                Diagnostic::new(
                    Check::InvalidConnection,
                    credential.name.span,
                    format!(
                        "credential `{}` sets neither `value` nor `valueFrom`",
                        credential.name.value
                    ),
                )
                .path(&credential.path)
                .label("empty credential"),
            );
        }
    }
    if connection.flavour == Flavour::Ours {
        generated_key_conflicts(object.name.value.as_str(), connection, out);
        let generated = crate::render::generate::settings_configmap_name(&object.name.value);
        if let Err(reason) = crate::rules::dns1123_subdomain(&generated) {
            out.push(
                Diagnostic::new(
                    Check::InvalidName,
                    object.name.span,
                    format!("the generated ConfigMap name `{generated}` {reason}"),
                )
                .path("metadata.name")
                .label("name too long for the generated ConfigMap")
                .help("shorten the Connection's name"),
            );
        }
        if let Some(cm) = model.configmap(ns, &generated)
            && model.objects[cm]
                .root
                .path(&["metadata", "annotations", crate::render::generate::GENERATED_FROM])
                .is_none()
        {
            out.push(
                Diagnostic::new(
                    Check::DuplicateObject,
                    model.objects[cm].name.span,
                    format!("ConfigMap `{generated}` is generated for Connection `{}`, but the repository declares it too", object.name.value),
                )
                .path("metadata.name")
                .label("clashes with a generated ConfigMap")
                .related(object.name.span, "the Connection")
                .help("rename this ConfigMap: render writes `<connection>-connection` itself"),
            );
        }
    }
}

/// Keys of the generated `<connection>-connection` ConfigMap must be unique and valid.
fn generated_key_conflicts(name: &str, connection: &ConnectionModel, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, Span> = BTreeMap::new();
    for reserved in ["type", "provider"] {
        seen.insert(reserved.to_string(), Span::SYNTHETIC);
    }
    let inline = connection.credentials.iter().filter_map(|c| match &c.value {
        Some(CredentialValue::Inline(_)) => Some((&c.name, c.path.clone())),
        _ => None,
    });
    let schema = connection.schema.iter().map(|(k, _)| (k, join("spec.schema", &k.value)));
    for (key, path) in schema.chain(inline) {
        if let Err(reason) = crate::rules::data_key(&key.value) {
            out.push(
                Diagnostic::new(
                    Check::InvalidConnection,
                    key.span,
                    format!("setting `{}` cannot be a key of the generated ConfigMap `{name}-connection`: it {reason}", key.value),
                )
                .path(&path)
                .label("invalid key"),
            );
            continue;
        }
        if let Some(first) = seen.insert(key.value.clone(), key.span) {
            let mut d = Diagnostic::new(
                Check::InvalidConnection,
                key.span,
                format!("setting `{}` would be written twice into the generated ConfigMap `{name}-connection`", key.value),
            )
            .path(&path)
            .label("duplicate setting");
            d = if first.is_real() {
                d.related(first, "first set here")
            } else {
                d.help(format!("`{}` is reserved for the connection's {}", key.value, key.value))
            };
            out.push(d);
        }
    }
}

fn scope_check(
    model: &Model,
    workload: usize,
    connection: usize,
    span: Span,
    out: &mut Vec<Diagnostic>,
) {
    let Body::Connection(c) = &model.objects[connection].body else { return };
    if c.scopes.is_empty() {
        return;
    }
    let w = &model.objects[workload];
    if c.scopes.iter().any(|(kind, name)| *kind == w.kind.value && *name == w.name.value) {
        return;
    }
    let allowed: Vec<String> = c.scopes.iter().map(|(k, n)| format!("{k}/{n}")).collect();
    out.push(
        Diagnostic::new(
            Check::ConnectionScopeViolation,
            span,
            format!(
                "{} `{}` may not use connection `{}`: its scopes allow only {}",
                w.kind.value,
                w.name.value,
                model.objects[connection].name.value,
                allowed.join(", ")
            ),
        )
        .path(format!("metadata.annotations.{}", crate::model::USE_ANNOTATION))
        .label("outside the connection's scopes")
        .related(model.objects[connection].name.span, "connection declared here")
        .help(format!(
            "add `{{kind: {}, name: {}}}` to the Connection's `spec.scopes`",
            w.kind.value, w.name.value
        )),
    );
}

fn polyaxon_checks(model: &Model, out: &mut Vec<Diagnostic>) {
    for config in &model.polyaxon {
        let mut names: BTreeMap<&str, Span> = BTreeMap::new();
        for connection in &config.connections {
            if let Some(kind) = &connection.kind
                && !polyaxon::is_kind(&kind.value)
            {
                out.push(
                    Diagnostic::new(
                        Check::InvalidConnection,
                        kind.span,
                        format!("Connection with kind {} is not supported.", kind.value),
                    )
                    .path(join(&connection.path, "kind"))
                    .label("unknown Polyaxon kind")
                    .help(
                        match closest(&kind.value, polyaxon::KINDS.iter().copied()) {
                            Some(k) => format!("did you mean `{k}`?"),
                            None => format!("Polyaxon kinds are: {}", polyaxon::KINDS.join(", ")),
                        },
                    ),
                );
            }
            if let Some(name) = &connection.name
                && let Some(first) = names.insert(&name.value, name.span)
            {
                out.push(
                    Diagnostic::new(
                        Check::InvalidConnection,
                        name.span,
                        format!("A connection with name `{}` must be unique.", name.value),
                    )
                    .path(join(&connection.path, "name"))
                    .label("duplicate name")
                    .related(first, "first used here"),
                );
            }
        }
    }
}
