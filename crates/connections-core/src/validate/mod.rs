//! Checks over the whole model: duplicates, references and connection consistency.
//!
//! Every reference is resolved by one index lookup, so the pass is linear in the number of
//! references. Findings never include a Secret value: only names and keys.

use crate::checks::Check;
use crate::diagnostic::Diagnostic;
use crate::model::fields::join;
use crate::model::{
    Body, ConnectionModel, ConnectionTypeModel, CredentialValue, Flavour, Model, Reference,
    Referrer, SecretKeys, TargetKind, UsableConnection, polyaxon,
};
use crate::source::Span;
use crate::suggest::closest;

mod binding;
mod connections;
mod kubedirector;
pub mod loft;

use connections::{connection_checks, connection_type_checks, polyaxon_checks, scope_check};
use kubedirector::{kubedirector_checks, kubedirector_dangling};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What a reference may also be satisfied by, outside the repository. Shared by the threads
/// the checks run on.
pub trait ExternalObjects: Sync {
    /// Whether the cluster has this object (and, when given, these keys).
    fn has(&self, target: TargetKind, namespace: &str, name: &str) -> Option<ExternalKeys>;
}

/// What is known of an object found outside the repository: names, never values.
#[derive(Clone, Debug, Default)]
pub struct ExternalKeys {
    /// Its keys.
    pub keys: Vec<String>,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
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

/// Runs every model-level check, on one thread.
pub fn check(model: &Model, external: &dyn ExternalObjects) -> Vec<Diagnostic> {
    check_with(model, external, 1)
}

/// Runs every model-level check, spreading the per-reference and per-object checks over up
/// to `threads` threads. The findings come out in the same order whatever the count: each
/// item's findings are gathered on its own and joined in model order.
pub fn check_with(
    model: &Model,
    external: &dyn ExternalObjects,
    threads: usize,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    duplicates(model, &mut out);
    let per_reference = crate::par::map(&model.references, threads, |reference| {
        let mut found = Vec::new();
        resolve(model, reference, external, &mut found);
        found
    });
    out.extend(per_reference.into_iter().flatten());
    // Loft Clusters by name, the first of each, for the ClusterConnects that generate one.
    let mut loft_clusters: HashMap<&str, usize> = HashMap::new();
    for (i, object) in model.objects.iter().enumerate() {
        if matches!(object.body, Body::LoftCluster) && object.group == "storage.loft.sh" {
            loft_clusters.entry(object.name.value.as_str()).or_insert(i);
        }
    }
    let indices: Vec<usize> = (0..model.objects.len()).collect();
    let per_object = crate::par::map(&indices, threads, |&i| {
        let mut found = Vec::new();
        object_checks(model, i, external, &loft_clusters, &mut found);
        found
    });
    out.extend(per_object.into_iter().flatten());
    polyaxon_checks(model, &mut out);
    binding::binding_checks(model, &mut out);
    out
}

/// The checks of object `i` that depend on its kind. `loft_clusters` are the repository's Loft
/// Clusters by name (the first of each).
fn object_checks(
    model: &Model,
    i: usize,
    external: &dyn ExternalObjects,
    loft_clusters: &HashMap<&str, usize>,
    out: &mut Vec<Diagnostic>,
) {
    let object = &model.objects[i];
    match &object.body {
        Body::Connection(connection) => connection_checks(model, i, connection, out),
        Body::KubeDirectorCluster(_) => kubedirector_checks(model, i, external, out),
        Body::ConnectionType(connection_type) => connection_type_checks(connection_type, out),
        Body::ClusterConnect(connect) => {
            loft::cluster_connect_checks(model, i, connect, out);
            if let Some(existing) =
                loft_clusters.get(object.name.value.as_str()).map(|&c| &model.objects[c])
            {
                out.push(
                    Diagnostic::new(
                        Check::DuplicateObject,
                        existing.name.span,
                        format!("Cluster `{}` is generated from ClusterConnect `{}`, but the repository declares it too", existing.name.value, object.name.value),
                    )
                    .path("metadata.name")
                    .label("clashes with a generated Cluster")
                    .related(object.name.span, "the ClusterConnect")
                    .help("keep one: the ClusterConnect (converted by render) or the Cluster"),
                );
            }
            let secret = crate::render::loft::secret_name(&object.name.value);
            if let Err(reason) = crate::rules::dns1123_subdomain(&secret) {
                out.push(
                    Diagnostic::new(
                        Check::InvalidName,
                        object.name.span,
                        format!("the generated kubeconfig Secret name `{secret}` {reason}"),
                    )
                    .path("metadata.name")
                    .label("name too long for the generated Secret")
                    .help("shorten the ClusterConnect's name"),
                );
            }
            if let Some(&existing) =
                model.secret_sources(crate::render::loft::SECRET_NAMESPACE, &secret).first()
            {
                out.push(
                    Diagnostic::new(
                        Check::DuplicateObject,
                        model.objects[existing].name.span,
                        format!("Secret `{secret}` in namespace `loft` is generated from ClusterConnect `{}`, but the repository declares it too", object.name.value),
                    )
                    .path("metadata.name")
                    .label("clashes with a generated Secret")
                    .related(object.name.span, "the ClusterConnect"),
                );
            }
        }
        Body::LoftCluster => loft::loft_cluster_checks(model, i, out),
        Body::Workload(workload) => {
            for name in &workload.uses {
                match model.usable_connection(object.namespace_str(), &name.value) {
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
                            model
                                .objects
                                .iter()
                                .filter(|o| {
                                    matches!(&o.body, Body::Connection(_))
                                        && o.namespace_str() == object.namespace_str()
                                })
                                .map(|o| o.name.value.as_str()),
                            "Connection",
                        )),
                    ),
                    Some(UsableConnection::Object(c)) => scope_check(model, i, c, name.span, out),
                    Some(UsableConnection::Polyaxon(..)) => {}
                }
            }
        }
        _ => {}
    }
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
    // A Secret must have one source: a Secret, a SealedSecret or an ExternalSecret. This runs
    // on one thread while the others wait, so the names are borrowed, not copied, and hashed
    // with foldhash.
    let mut seen: HashSet<(&str, &str), foldhash::fast::FixedState> = HashSet::default();
    for object in &model.objects {
        let name = match &object.body {
            Body::Secret(_) => &object.name.value,
            Body::SecretDeclaration(d) => &d.secret_name.value,
            _ => continue,
        };
        let key = (object.namespace_str(), name.as_str());
        if !seen.insert(key) {
            continue;
        }
        let sources = model.secret_sources(key.0, key.1);
        let kind = |s: usize| model.objects[s].kind.value.as_str();
        // Sources of more than one kind; several of one kind are not this finding.
        if sources.iter().any(|&s| kind(s) != kind(sources[0])) {
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
    // Named only in findings: most references resolve, so the label is built on first use.
    let who = std::cell::LazyCell::new(|| referrer_label(model, r.from));
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
                        "{} refers to Secret `{}`, which is not declared in namespace `{}`",
                        *who, r.name.value, r.namespace
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
                        "{} refers to ConfigMap `{}`, which is not declared in namespace `{}`",
                        *who, r.name.value, r.namespace
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
                        "{} connects to cluster `{}`, but there is no KubeDirectorCluster `{}` in namespace `{}`",
                        *who, r.name.value, r.name.value, r.namespace
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

fn missing_keys<'k>(
    r: &Reference,
    // The referrer's label, built only if a key is missing.
    who: &dyn std::ops::Deref<Target = String>,
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
                    "{} needs key `{}` of {kind} `{}`, which does not have it",
                    who.as_str(),
                    need.key.value,
                    r.name.value
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
