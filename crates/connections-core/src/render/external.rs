//! `--secrets external-secret`: every Secret a Connection needs that the repository does not
//! declare becomes an External Secrets Operator `ExternalSecret` (`external-secrets.io/v1`)
//! that fetches it from a secret store, so the output carries no value and the Secret exists
//! at runtime.
//!
//! Remote key rule (documented in the README): the remote key of a Secret is
//! `<namespace>/<secret name>`, each Secret key a property of it; a Connection overrides the
//! remote key with the annotation `connections.dev/remote-key`. A Secret needed with a list of
//! keys (`spec.secret.items`, credentials' `secretKeyRef`) maps each key in `spec.data`; one
//! needed whole (no `items`) is fetched with `spec.dataFrom[].extract`.
//!
//! Where a URI can be derived (postgres, mysql, redis, mongodb, amqp, http(s) with a `host`
//! setting and a `password` key), `target.template.data.uri` composes it in the cluster: the
//! user name and password are percent-encoded by the template (`urlquery`, then `+` to `%20`,
//! which gives RFC 3986 encoding, see [`crate::uri`]), and the other template keys are merged
//! with the fetched ones (`mergePolicy: Merge`). No value passes through this tool.

use crate::checks::Check;
use crate::diagnostic::Diagnostic;
use crate::model::{Body, CredentialValue, Flavour, Model};
use crate::render::generate::{GENERATED_FROM, MANAGED_BY};
use crate::syntax::Node;
use crate::uri;
use std::collections::{BTreeMap, BTreeSet};

/// The annotation on a Connection that overrides the remote key of its Secret.
pub const REMOTE_KEY_ANNOTATION: &str = "connections.dev/remote-key";

/// Where ExternalSecrets fetch from (`spec.secretStoreRef`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretStore {
    /// The store's name.
    pub name: String,
    /// `SecretStore` or `ClusterSecretStore`.
    pub kind: String,
}

/// A Secret connections need and the repository does not declare.
#[derive(Debug)]
pub(crate) struct Needed {
    /// The keys needed; `None` when the whole Secret is (no `items`).
    pub(crate) keys: Option<BTreeSet<String>>,
    /// The first Connection (object index) that needs it.
    pub(crate) connection: usize,
    /// The remote key a Connection's annotation sets for its own `spec.secret`.
    remote_key: Option<String>,
    /// Where it is first named (for findings).
    span: crate::source::Span,
}

/// Every Secret a `connections.dev` Connection needs that the repository does not declare,
/// by (namespace, name).
pub(crate) fn needed(model: &Model) -> BTreeMap<(String, String), Needed> {
    let mut out: BTreeMap<(String, String), Needed> = BTreeMap::new();
    let mut need = |ns: &str,
                    name: &crate::source::Spanned<String>,
                    keys: Option<Vec<String>>,
                    connection: usize,
                    remote_key: Option<String>| {
        if !model.secret_sources(ns, &name.value).is_empty() {
            return; // declared in the repository: its owner provides it
        }
        let entry = out.entry((ns.to_string(), name.value.clone())).or_insert(Needed {
            keys: Some(BTreeSet::new()),
            connection,
            remote_key: None,
            span: name.span,
        });
        if entry.remote_key.is_none() {
            entry.remote_key = remote_key;
        }
        match (keys, &mut entry.keys) {
            (Some(keys), Some(known)) => known.extend(keys),
            _ => entry.keys = None,
        }
    };
    for (i, object) in model.objects.iter().enumerate() {
        let Body::Connection(connection) = &object.body else { continue };
        if connection.flavour != Flavour::Ours {
            continue;
        }
        let ns = object.namespace_str();
        if let Some(secret) = &connection.secret {
            let keys = (!secret.items.is_empty())
                .then(|| secret.items.iter().map(|k| k.value.clone()).collect());
            // The annotation names the remote key of the Connection's own Secret only.
            let remote_key = object
                .root
                .path(&["metadata", "annotations", REMOTE_KEY_ANNOTATION])
                .and_then(Node::as_str)
                .map(str::to_string);
            need(ns, &secret.name, keys, i, remote_key);
        }
        for credential in &connection.credentials {
            if let Some(CredentialValue::SecretKey { name, key }) = &credential.value {
                need(ns, name, Some(vec![key.value.clone()]), i, None);
            }
        }
    }
    out
}

/// A setting of the connection as its generated ConfigMap carries it (a structure, as JSON,
/// then fails to compose as a host or port, and no URI is derived).
fn setting(schema: &[(crate::source::Spanned<String>, Node)], key: &str) -> Option<String> {
    let (_, node) = schema.iter().find(|(k, _)| k.value == key)?;
    crate::render::generate::setting_text(node)
}

/// The parts of the derived `uri` of a needed Secret other than the user name and password,
/// if one can be derived: only for the Connection's own Secret, with a type that has a URI
/// scheme and a `host` setting.
pub(crate) fn derived_uri_base(
    model: &Model,
    needed: &Needed,
    secret_name: &str,
) -> Option<uri::UriParts> {
    let object = &model.objects[needed.connection];
    let Body::Connection(connection) = &object.body else { return None };
    if connection.secret.as_ref().map(|s| s.name.value.as_str()) != Some(secret_name) {
        return None;
    }
    let scheme = uri::scheme(&connection.type_name.as_ref()?.value)?;
    Some(uri::UriParts {
        scheme: scheme.to_string(),
        host: setting(&connection.schema, "host")?,
        port: setting(&connection.schema, "port").and_then(|p| p.parse().ok()),
        database: setting(&connection.schema, "database"),
        ..uri::UriParts::default()
    })
}

/// The ESO template of the derived `uri`, if one can be derived for this Secret.
fn uri_template(model: &Model, needed: &Needed, secret_name: &str) -> Option<String> {
    let object = &model.objects[needed.connection];
    let Body::Connection(connection) = &object.body else { return None };
    // Only with a password key to compose.
    let keys = needed.keys.as_ref()?;
    if !keys.contains("password") {
        return None;
    }
    let base = uri::compose(&derived_uri_base(model, needed, secret_name)?).ok()?;
    let encode = |key: &str| format!("{{{{ .{key} | urlquery | replace \"+\" \"%20\" }}}}");
    // The user name comes from this Secret or is written inline; from anywhere else the
    // template cannot read it, and no URI is derived rather than one without a user.
    let user = if keys.contains("username") {
        encode("username")
    } else {
        match connection.credentials.iter().find(|c| c.name.value == "username") {
            Some(c) => match &c.value {
                Some(CredentialValue::Inline(v)) => uri::encode_component(&v.value),
                _ => return None,
            },
            None => String::new(),
        }
    };
    let (prefix, rest) = base.split_once("://")?;
    Some(format!("{prefix}://{user}:{}@{rest}", encode("password")))
}

/// The ExternalSecret objects for every needed, undeclared Secret, in (namespace, name)
/// order, and findings for those that cannot be generated (the name is taken).
pub fn documents(model: &Model, store: &SecretStore) -> (Vec<Node>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut taken = |ns: &str, name: &str, span| {
        let key = crate::model::ObjectKey {
            group: "external-secrets.io".into(),
            kind: "ExternalSecret".into(),
            namespace: Some(ns.to_string()),
            name: name.to_string(),
        };
        let exists = model.objects.iter().any(|o| o.key() == key);
        if exists {
            diagnostics.push(
                Diagnostic::new(
                    Check::DuplicateObject,
                    span,
                    format!("--secrets external-secret would generate ExternalSecret `{name}` for this Secret, but the repository already has an ExternalSecret `{name}` in namespace `{ns}` that creates another Secret"),
                )
                .label("ExternalSecret name taken")
                .help("rename one of them, or declare this Secret in the repository"),
            );
        }
        exists
    };
    let nodes = needed(model)
        .into_iter()
        .filter(|((ns, name), needed)| !taken(ns, name, needed.span))
        .map(|((ns, name), needed)| {
            let connection = &model.objects[needed.connection];
            let remote_key = needed.remote_key.clone().unwrap_or_else(|| format!("{ns}/{name}"));
            let mut target = vec![
                ("name", Node::string(name.clone())),
                ("creationPolicy", Node::string("Owner")),
            ];
            if let Some(uri) = uri_template(model, &needed, &name) {
                target.push((
                    "template",
                    Node::map_of([
                        ("engineVersion", Node::string("v2")),
                        ("mergePolicy", Node::string("Merge")),
                        ("data", Node::map_of([("uri", Node::string(uri))])),
                    ]),
                ));
            }
            let mut spec = vec![
                ("refreshInterval", Node::string("1h")),
                (
                    "secretStoreRef",
                    Node::map_of([
                        ("name", Node::string(store.name.clone())),
                        ("kind", Node::string(store.kind.clone())),
                    ]),
                ),
                ("target", Node::map_of(target)),
            ];
            match &needed.keys {
                Some(keys) => spec.push((
                    "data",
                    Node::seq(
                        keys.iter()
                            .map(|key| {
                                Node::map_of([
                                    ("secretKey", Node::string(key.clone())),
                                    (
                                        "remoteRef",
                                        Node::map_of([
                                            ("key", Node::string(remote_key.clone())),
                                            ("property", Node::string(key.clone())),
                                        ]),
                                    ),
                                ])
                            })
                            .collect(),
                    ),
                )),
                None => spec.push((
                    "dataFrom",
                    Node::seq(vec![Node::map_of([(
                        "extract",
                        Node::map_of([("key", Node::string(remote_key.clone()))]),
                    )])]),
                )),
            }
            Node::map_of([
                ("apiVersion", Node::string("external-secrets.io/v1")),
                ("kind", Node::string("ExternalSecret")),
                (
                    "metadata",
                    Node::map_of([
                        ("name", Node::string(name.clone())),
                        ("namespace", Node::string(ns.clone())),
                        ("labels", Node::map_of([(MANAGED_BY.0, Node::string(MANAGED_BY.1))])),
                        (
                            "annotations",
                            Node::map_of([(
                                GENERATED_FROM,
                                Node::string(format!("Connection/{}", connection.name.value)),
                            )]),
                        ),
                    ]),
                ),
                ("spec", Node::map_of(spec)),
            ])
        })
        .collect();
    (nodes, diagnostics)
}

#[cfg(test)]
mod tests {
    /// Go's `url.QueryEscape` (what the `urlquery` template function applies to one value):
    /// every byte but `A-Z a-z 0-9 - _ . ~` as `%XX`, and space as `+`.
    fn go_query_escape(text: &str) -> String {
        let mut out = String::new();
        for &b in text.as_bytes() {
            match b {
                b' ' => out.push('+'),
                b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') => {
                    out.push(b as char)
                }
                b => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }

    proptest::proptest! {
        /// The template's `urlquery | replace "+" "%20"` encodes exactly as the URI module:
        /// a literal `+` is `%2B` after `urlquery`, so every `+` left stands for a space.
        #[test]
        fn template_encoding_matches_rfc3986_encoding(text in ".*") {
            proptest::prop_assert_eq!(
                go_query_escape(&text).replace('+', "%20"),
                crate::uri::encode_component(&text)
            );
        }
    }
}
