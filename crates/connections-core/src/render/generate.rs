//! Objects the renderer generates: the `<connection>-connection` ConfigMap holding a
//! connection's non-secret settings, annotated with a content hash so consumers roll.

use crate::model::{Body, ConnectionModel, CredentialValue, Flavour, Model, Object};
use crate::syntax::{Node, NodeValue};
use crate::validate::is_sensitive_name;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Label on every object the renderer generates.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubectl-connections");
/// Annotation naming the connection a generated object belongs to.
pub const GENERATED_FROM: &str = "connections.dev/generated-from";
/// Annotation with the hash of a generated ConfigMap's data.
pub const CONTENT_HASH: &str = "connections.dev/content-hash";
/// Flux's per-object opt-out of post-build substitution, with its value.
pub const FLUX_SUBSTITUTE_DISABLED: (&str, &str) =
    ("kustomize.toolkit.fluxcd.io/substitute", "disabled");
/// What Flux's post-build substitution replaces (`${var}`).
pub const SUBSTITUTION_MARKER: &str = "${";

/// Whether any scalar under `node` holds [`SUBSTITUTION_MARKER`].
pub fn holds_substitution_marker(node: &Node) -> bool {
    match &node.value {
        // A substring search, and even `memchr`, costs more to set up than most scalars are
        // long: short ones are looked through pair by pair.
        NodeValue::Scalar(s) => {
            let bytes = s.text.as_bytes();
            if bytes.len() < 64 {
                bytes.windows(2).any(|pair| pair == b"${")
            } else {
                memchr::memchr_iter(b'$', bytes).any(|at| bytes.get(at + 1) == Some(&b'{'))
            }
        }
        NodeValue::Seq(items) => items.iter().any(holds_substitution_marker),
        NodeValue::Map(entries) => entries
            .iter()
            .any(|(k, v)| holds_substitution_marker(k) || holds_substitution_marker(v)),
    }
}

/// The name of the ConfigMap generated for connection `name`.
pub fn settings_configmap_name(name: &str) -> String {
    format!("{name}-connection")
}

/// The non-secret settings of a connection, as ConfigMap data.
pub fn settings_data(
    model: &Model,
    object: &Object,
    connection: &ConnectionModel,
) -> BTreeMap<String, String> {
    let mut data = BTreeMap::new();
    if let Some(t) = &connection.type_name {
        data.insert("type".to_string(), t.value.clone());
    }
    if let Some(p) = &connection.provider {
        data.insert("provider".to_string(), p.value.clone());
    }
    for (key, value) in &connection.schema {
        if let Some(text) = setting_text(value) {
            data.entry(key.value.clone()).or_insert(text);
        }
    }
    let type_fields = connection
        .type_name
        .as_ref()
        .and_then(|t| model.connection_type(connection.flavour, object.namespace_str(), &t.value))
        .and_then(|t| match &model.objects[t].body {
            Body::ConnectionType(t) => Some(t),
            _ => None,
        });
    for credential in &connection.credentials {
        if let Some(CredentialValue::Inline(value)) = &credential.value {
            let sensitive = match type_fields {
                Some(t) => {
                    t.fields.iter().any(|f| f.name.value == credential.name.value && f.sensitive)
                }
                None => is_sensitive_name(&credential.name.value),
            };
            // Sensitive inline values are an error (reported by the checks); never copy them.
            if !sensitive {
                data.entry(credential.name.value.clone()).or_insert_with(|| value.value.clone());
            }
        }
    }
    data
}

/// A setting's text as a consumer reads it: scalars as kubectl reads them, structures as JSON.
pub(crate) fn setting_text(value: &Node) -> Option<String> {
    match &value.value {
        NodeValue::Scalar(s) => match s.resolve() {
            crate::syntax::Resolved::Null => None,
            other => Some(match other {
                crate::syntax::Resolved::Str(_) => s.text.to_string(),
                other => other.to_text(),
            }),
        },
        _ => Some(crate::render::emit::node_to_json_text(value)),
    }
}

/// A short, stable hash of key/value data (hex of the first 10 bytes of SHA-256).
pub fn content_hash<'a>(entries: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut hasher = Sha256::new();
    for (key, value) in entries {
        hasher.update((key.len() as u64).to_be_bytes());
        hasher.update(key.as_bytes());
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value);
    }
    let digest = hasher.finalize();
    // Ten bytes as twenty lower-case hex digits (a `format!` per byte showed in profiles).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(20);
    for b in &digest[..10] {
        text.push(HEX[usize::from(b >> 4)] as char);
        text.push(HEX[usize::from(b & 0xf)] as char);
    }
    text
}

/// A generated settings ConfigMap.
#[derive(Clone, Debug)]
pub struct SettingsConfigMap {
    /// Its name.
    pub name: String,
    /// Its data.
    pub data: BTreeMap<String, String>,
    /// Hash of its data.
    pub hash: String,
}

/// The settings ConfigMap of connection object `index`, if it is one of ours.
pub fn settings_configmap(model: &Model, index: usize) -> Option<SettingsConfigMap> {
    let object = &model.objects[index];
    let Body::Connection(connection) = &object.body else { return None };
    if connection.flavour != Flavour::Ours {
        return None;
    }
    let data = settings_data(model, object, connection);
    let hash = content_hash(data.iter().map(|(k, v)| (k.as_str(), v.as_bytes())));
    Some(SettingsConfigMap { name: settings_configmap_name(&object.name.value), data, hash })
}

/// The ConfigMap object for a settings ConfigMap.
pub fn settings_configmap_node(object: &Object, cm: &SettingsConfigMap) -> Node {
    let metadata = Node::map_of([
        ("name", Node::string(cm.name.clone())),
        ("namespace", Node::string(object.namespace_str())),
        ("labels", Node::map_of([(MANAGED_BY.0, Node::string(MANAGED_BY.1))])),
        ("annotations", {
            let mut annotations = vec![
                (CONTENT_HASH, Node::string(cm.hash.clone())),
                (GENERATED_FROM, Node::string(format!("Connection/{}", object.name.value))),
            ];
            // Flux would rewrite (or, in strict mode, refuse) a `${` in the data.
            if cm.data.values().any(|v| v.contains(SUBSTITUTION_MARKER)) {
                annotations
                    .push((FLUX_SUBSTITUTE_DISABLED.0, Node::string(FLUX_SUBSTITUTE_DISABLED.1)));
            }
            Node::map_of(annotations)
        }),
    ]);
    Node::map_of([
        ("apiVersion", Node::string("v1")),
        ("kind", Node::string("ConfigMap")),
        ("metadata", metadata),
        ("data", Node::map_of(cm.data.iter().map(|(k, v)| (k.clone(), Node::string(v.clone()))))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The marker is found in keys and values, short and long, at either end, and `$` or
    /// `{` alone is not it.
    #[test]
    fn substitution_markers_are_found_wherever_they_are() {
        let holds = |text: &str| holds_substitution_marker(&Node::string(text));
        let long = "x".repeat(100);
        for text in ["${a}", "a${", "${", &format!("{long}${{v}}"), &format!("${{v}}{long}")] {
            assert!(holds(text), "{text}");
        }
        for text in ["", "$", "{", "$ {", "{$", "a$b{c", &format!("{long}$"), &long] {
            assert!(!holds(text), "{text}");
        }
        let in_key = Node::map_of([("${key}", Node::string("v"))]);
        let in_list = Node::seq(vec![Node::string("a"), Node::string("b${c}")]);
        assert!(holds_substitution_marker(&in_key) && holds_substitution_marker(&in_list));
    }
}
