//! Service Binding projection of one connection: which entries its binding directory holds,
//! where kubelet reads each one from, and the projected volume that holds them.
//!
//! Entries, first occurrence of a file name wins:
//! 1. `type` and `provider` from the generated `<connection>-connection` ConfigMap, so that
//!    the Connection's `spec.type` decides the binding type even if a Secret has a `type` key;
//! 2. each credential that references a key (`secretKeyRef`, `configMapKeyRef`), under the
//!    credential's name: the name the user chose for it;
//! 3. the keys of the connection's Secret (its `items`, else every key the repository knows);
//! 4. the keys of the connection's ConfigMap, likewise;
//! 5. every other setting of the generated ConfigMap (`host`, `port`, `database`, inline
//!    non-secret credentials such as `username`, type-specific ones such as `sslmode`), except
//!    a `uri` that carries a password: that would copy a secret into the binding from a
//!    ConfigMap (the checks' business is to report it there, not ours to spread it).
//!
//! A Secret or ConfigMap whose keys only the cluster knows (an ExternalSecret with `dataFrom`)
//! is projected whole, without `items`.

use super::generate::SettingsConfigMap;
use crate::model::{Body, ConnectionModel, CredentialValue, Model, SecretKeys};
use crate::syntax::Node;
use std::collections::HashSet;

/// What kubelet reads an entry from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// The generated settings ConfigMap.
    Settings,
    /// A Secret.
    Secret,
    /// A ConfigMap of the repository.
    ConfigMap,
}

/// A Secret or ConfigMap an entry is read from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    /// Which kind of object.
    pub kind: SourceKind,
    /// Its name.
    pub name: String,
}

/// One file of a binding directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file name (the entry's name in the spec's terms).
    pub path: String,
    /// Where it is read from.
    pub source: Source,
    /// The key in that source.
    pub key: String,
}

/// The content of a binding directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindingPlan {
    /// Entries with a known key.
    pub entries: Vec<Entry>,
    /// Sources projected whole, because only the cluster knows their keys.
    pub whole: Vec<Source>,
}

/// Plans the binding directory of our Connection `index`, whose settings ConfigMap is
/// `settings`.
pub fn plan(
    model: &Model,
    index: usize,
    connection: &ConnectionModel,
    settings: &SettingsConfigMap,
) -> BindingPlan {
    let ns = model.objects[index].namespace_str();
    let mut out = BindingPlan::default();
    let mut taken = HashSet::new();
    let mut add = |out: &mut BindingPlan, path: &str, source: &Source, key: &str| {
        // A file name must be a valid key path; Secret and ConfigMap keys always are, and a
        // credential name that is not is left out rather than mounted somewhere odd.
        if crate::rules::data_key(path).is_ok() && taken.insert(path.to_string()) {
            out.entries.push(Entry {
                path: path.to_string(),
                source: source.clone(),
                key: key.to_string(),
            });
        }
    };
    let generated = Source { kind: SourceKind::Settings, name: settings.name.clone() };
    for key in ["type", "provider"] {
        if settings.data.contains_key(key) {
            add(&mut out, key, &generated, key);
        }
    }
    for credential in &connection.credentials {
        let (kind, name, key) = match &credential.value {
            Some(CredentialValue::SecretKey { name, key }) => (SourceKind::Secret, name, key),
            Some(CredentialValue::ConfigMapKey { name, key }) => (SourceKind::ConfigMap, name, key),
            _ => continue,
        };
        let source = Source { kind, name: name.value.clone() };
        add(&mut out, &credential.name.value, &source, &key.value);
    }
    for (resource, kind) in
        [(&connection.secret, SourceKind::Secret), (&connection.config_map, SourceKind::ConfigMap)]
    {
        let Some(resource) = resource else { continue };
        let source = Source { kind, name: resource.name.value.clone() };
        if !resource.items.is_empty() {
            for item in &resource.items {
                add(&mut out, &item.value, &source, &item.value);
            }
            continue;
        }
        match known_keys(model, ns, &source) {
            Some(keys) => {
                for key in keys {
                    add(&mut out, &key, &source, &key);
                }
            }
            None if !out.whole.contains(&source) => out.whole.push(source),
            None => {}
        }
    }
    for (key, value) in &settings.data {
        if key == "uri" && uri_has_password(value) {
            continue;
        }
        add(&mut out, key, &generated, key);
    }
    out
}

/// Whether a URI carries a password in its user information.
pub fn uri_has_password(text: &str) -> bool {
    url::Url::parse(text).ok().is_some_and(|u| u.password().is_some())
}

/// The keys of a Secret or ConfigMap, where the repository knows them.
fn known_keys(model: &Model, ns: &str, source: &Source) -> Option<Vec<String>> {
    match source.kind {
        SourceKind::Secret => {
            let &first = model.secret_sources(ns, &source.name).first()?;
            match model.secret_keys(first)? {
                SecretKeys::Known(keys) => Some(keys.keys().cloned().collect()),
                SecretKeys::Unknown(_) => None,
            }
        }
        SourceKind::ConfigMap => match &model.objects[model.configmap(ns, &source.name)?].body {
            Body::ConfigMap(data) => Some(data.keys.keys().cloned().collect()),
            _ => None,
        },
        SourceKind::Settings => None,
    }
}

/// The projected volume `name` holding the planned entries: one source per Secret or
/// ConfigMap, in order of first use, with its items sorted by file name.
pub fn volume(name: &str, plan: &BindingPlan) -> Node {
    let mut order: Vec<&Source> = Vec::new();
    for entry in &plan.entries {
        if !order.contains(&&entry.source) {
            order.push(&entry.source);
        }
    }
    let mut sources = Vec::new();
    for source in order {
        let mut items: Vec<&Entry> = plan.entries.iter().filter(|e| &e.source == source).collect();
        items.sort_by(|a, b| a.path.cmp(&b.path));
        let items = items
            .iter()
            .map(|e| {
                Node::map_of([
                    ("key", Node::string(e.key.clone())),
                    ("path", Node::string(e.path.clone())),
                ])
            })
            .collect();
        sources.push(source_node(
            source,
            vec![("name", Node::string(source.name.clone())), ("items", Node::seq(items))],
        ));
    }
    for source in &plan.whole {
        sources.push(source_node(source, vec![("name", Node::string(source.name.clone()))]));
    }
    Node::map_of([
        ("name", Node::string(name)),
        ("projected", Node::map_of([("sources", Node::seq(sources))])),
    ])
}

fn source_node(source: &Source, fields: Vec<(&str, Node)>) -> Node {
    let key = match source.kind {
        SourceKind::Secret => "secret",
        SourceKind::Settings | SourceKind::ConfigMap => "configMap",
    };
    Node::map_of([(key, Node::map_of(fields))])
}
