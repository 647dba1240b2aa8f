//! `--secrets sealed` and `--secrets plaintext`: Secrets whose values the user supplies outside
//! the repository (`--values`), and Secrets the output would carry in plaintext, written as
//! Bitnami `SealedSecret`s (`bitnami.com/v1alpha1`) that only the controller in the cluster can
//! decrypt, or, in plaintext mode, as plain Secrets.
//!
//! Which Secrets: every Secret a Connection needs that the repository does not declare and the
//! supplied values hold (the same rule as `--secrets external-secret`, see [`super::external`]),
//! and, when rendering, every Secret the output would otherwise carry in plaintext (committed
//! plaintext Secrets, the kubeconfig Secret of a Loft `ClusterConnect`). SOPS-encrypted Secrets
//! pass through untouched.
//!
//! The encryption itself (RSA-OAEP and AES-GCM with fresh randomness) lives in the shell behind
//! [`Sealer`]: the core stays free of randomness and system calls, and tests can use a
//! deterministic sealer. The label each value is sealed with binds it to where it may be
//! decrypted ([`Scope::label`]), as the sealed-secrets controller checks.
//!
//! Where the user name and password of a Connection's own Secret are supplied and a URI can be
//! derived (postgres, mysql, redis, mongodb, amqp, http(s)), the derived `uri` is sealed too,
//! unless a `uri` value is supplied.

use super::external::{Needed, derived_uri_base, needed};
use crate::model::{Body, CredentialValue, LowerOptions, Model};
use crate::render::generate::{GENERATED_FROM, MANAGED_BY};
use crate::rules;
use crate::source::Span;
use crate::syntax::{Document, Node};
use crate::uri;
use std::collections::BTreeMap;

/// Encrypts one value for the cluster's sealed-secrets controller.
pub trait Sealer: Sync {
    /// The base64 ciphertext of `value`, sealed with `label` (see [`Scope::label`]).
    fn seal(&self, label: &[u8], value: &[u8]) -> String;
}

/// Where a sealed value may be decrypted (the sealed-secrets scopes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Only as this name in this namespace (the default).
    #[default]
    Strict,
    /// Under any name in this namespace.
    NamespaceWide,
    /// Under any name in any namespace.
    ClusterWide,
}

impl Scope {
    /// The RSA-OAEP label: `<namespace>/<name>`, `<namespace>`, or empty.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// The annotation that tells the controller which label to expect.
    fn annotation(self) -> Option<&'static str> {
        match self {
            Scope::Strict => None,
            Scope::NamespaceWide => Some("sealedsecrets.bitnami.com/namespace-wide"),
            Scope::ClusterWide => Some("sealedsecrets.bitnami.com/cluster-wide"),
        }
    }
}

/// How Secrets with supplied values are written.
#[derive(Clone, Copy)]
pub enum Output<'a> {
    /// As SealedSecrets.
    Sealed {
        /// Encrypts each value.
        sealer: &'a dyn Sealer,
        /// Where the values may be decrypted.
        scope: Scope,
    },
    /// As plain Secrets (only to standard output, never into a repository: the shell checks).
    Plaintext,
}

/// One Secret whose values the user supplied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Supplied {
    /// The Secret `type`, if given.
    pub secret_type: Option<String>,
    /// Values by key.
    pub values: BTreeMap<String, Vec<u8>>,
}

/// Supplied Secrets by (namespace, name).
pub type Values = BTreeMap<(String, String), Supplied>;

/// Reads a values file: Kubernetes Secret manifests (`data` in base64 or `stringData`), the
/// form `kubectl create secret --dry-run=client -o yaml` and kubeseal take. Without a
/// namespace, a Secret is in `default_namespace`. Problems come back with where they are;
/// their messages never hold a value.
pub fn supplied(
    documents: Vec<Document>,
    default_namespace: &str,
) -> Result<Values, Vec<(Span, String)>> {
    let options = LowerOptions {
        default_namespace: default_namespace.to_string(),
        ..LowerOptions::default()
    };
    let (model, diagnostics) = crate::model::lower(documents, &options);
    let mut problems: Vec<(Span, String)> = diagnostics
        .into_iter()
        .filter(|d| {
            d.severity == crate::diagnostic::Severity::Error
                && d.check != crate::checks::Check::PlaintextSecretInRepo
        })
        .map(|d| (d.span, d.message))
        .collect();
    let mut values = Values::new();
    for object in &model.objects {
        let Body::Secret(data) = &object.body else {
            problems.push((
                object.kind.span,
                format!(
                    "a values file holds Secret manifests only, not a {} (`{}`)",
                    object.kind.value, object.name.value
                ),
            ));
            continue;
        };
        let key = (object.namespace_str().to_string(), object.name.value.clone());
        if values.contains_key(&key) {
            problems.push((
                object.name.span,
                format!("Secret `{}` in namespace `{}` is given twice", key.1, key.0),
            ));
            continue;
        }
        values.insert(
            key,
            Supplied { secret_type: data.secret_type.clone(), values: data.values.clone() },
        );
    }
    if problems.is_empty() { Ok(values) } else { Err(problems) }
}

/// The derived `uri` of a needed Secret, composed from supplied values, if one can be derived.
fn derived_uri(model: &Model, needed: &Needed, name: &str, supplied: &Supplied) -> Option<Vec<u8>> {
    let password = String::from_utf8(supplied.values.get("password")?.clone()).ok()?;
    let mut parts = derived_uri_base(model, needed, name)?;
    let object = &model.objects[needed.connection];
    let Body::Connection(connection) = &object.body else { return None };
    parts.username = match supplied.values.get("username") {
        Some(user) => Some(String::from_utf8(user.clone()).ok()?),
        None => match connection.credentials.iter().find(|c| c.name.value == "username") {
            Some(c) => match &c.value {
                Some(CredentialValue::Inline(v)) => Some(v.value.clone()),
                _ => return None,
            },
            None => Some(String::new()),
        },
    };
    parts.password = Some(password);
    uri::compose(&parts).ok().map(String::into_bytes)
}

/// A SealedSecret (or, in plaintext mode, a Secret) holding `values`, created as Secret
/// `name` in `namespace`. `template` carries the created Secret's labels, annotations, type
/// and immutability.
fn secret_node(
    namespace: &str,
    name: &str,
    values: &BTreeMap<String, Vec<u8>>,
    template: Template,
    output: Output,
) -> Node {
    let Template { labels, annotations, secret_type, immutable, own_annotations } = template;
    match output {
        Output::Plaintext => {
            let mut metadata =
                vec![("name", Node::string(name)), ("namespace", Node::string(namespace))];
            if let Some(labels) = labels {
                metadata.push(("labels", labels));
            }
            let mut merged = annotations.and_then(|a| a.as_map().map(<[_]>::to_vec));
            if !own_annotations.is_empty() {
                let entries = merged.get_or_insert_with(Vec::new);
                for (key, value) in own_annotations {
                    entries.push((Node::string(key), value));
                }
            }
            if let Some(entries) = merged {
                metadata.push(("annotations", Node::map(entries)));
            }
            let mut fields = vec![
                ("apiVersion", Node::string("v1")),
                ("kind", Node::string("Secret")),
                ("metadata", Node::map_of(metadata)),
            ];
            if let Some(immutable) = immutable {
                fields.push(("immutable", immutable));
            }
            fields.push(("type", Node::string(secret_type.unwrap_or_else(|| "Opaque".into()))));
            fields.push(("data", Node::map_of(values.iter().map(|(k, v)| (k.clone(), encode(v))))));
            Node::map_of(fields)
        }
        Output::Sealed { sealer, scope } => {
            let label = scope.label(namespace, name);
            let encrypted = Node::map_of(
                values.iter().map(|(k, v)| (k.clone(), Node::string(sealer.seal(&label, v)))),
            );
            let mut own = own_annotations;
            if let Some(annotation) = scope.annotation() {
                own.push((annotation.to_string(), Node::string("true")));
            }
            let mut metadata =
                vec![("name", Node::string(name)), ("namespace", Node::string(namespace))];
            if let Some(labels) = &labels {
                metadata.push(("labels", labels.clone()));
            }
            if !own.is_empty() {
                metadata.push((
                    "annotations",
                    Node::map(own.into_iter().map(|(k, v)| (Node::string(k), v)).collect()),
                ));
            }
            let mut template_metadata =
                vec![("name", Node::string(name)), ("namespace", Node::string(namespace))];
            if let Some(labels) = labels {
                template_metadata.push(("labels", labels));
            }
            // The scope annotation goes on the template too, as kubeseal writes it: the
            // controller reads the scope from there when it re-encrypts.
            let mut template_annotations: Vec<(Node, Node)> =
                annotations.and_then(|a| a.as_map().map(<[_]>::to_vec)).unwrap_or_default();
            if let Some(annotation) = scope.annotation() {
                template_annotations.retain(|(k, _)| k.key_text() != annotation);
                template_annotations.push((Node::string(annotation), Node::string("true")));
            }
            if !template_annotations.is_empty() {
                template_metadata.push(("annotations", Node::map(template_annotations)));
            }
            let mut template = vec![("metadata", Node::map_of(template_metadata))];
            if let Some(immutable) = immutable {
                template.push(("immutable", immutable));
            }
            template.push(("type", Node::string(secret_type.unwrap_or_else(|| "Opaque".into()))));
            Node::map_of([
                ("apiVersion", Node::string("bitnami.com/v1alpha1")),
                ("kind", Node::string("SealedSecret")),
                ("metadata", Node::map_of(metadata)),
                (
                    "spec",
                    Node::map_of([
                        ("encryptedData", encrypted),
                        ("template", Node::map_of(template)),
                    ]),
                ),
            ])
        }
    }
}

/// What the created Secret carries besides its values.
#[derive(Default)]
struct Template {
    labels: Option<Node>,
    annotations: Option<Node>,
    secret_type: Option<String>,
    immutable: Option<Node>,
    /// Annotations of the generated object itself (`generated-from`).
    own_annotations: Vec<(String, Node)>,
}

fn encode(value: &[u8]) -> Node {
    use base64::Engine as _;
    Node::string(base64::engine::general_purpose::STANDARD.encode(value))
}

/// The objects for every needed Secret the repository does not declare and `values` supplies,
/// in (namespace, name) order. A needed key missing from the supplied values is left out: the
/// checks then report it (`missing-secret-key`) at the reference.
pub fn documents(model: &Model, values: &Values, output: Output) -> Vec<Node> {
    needed(model)
        .into_iter()
        .filter_map(|((ns, name), needed)| {
            let supplied = values.get(&(ns.clone(), name.clone()))?;
            let mut secret_values = supplied.values.clone();
            if !secret_values.contains_key("uri")
                && let Some(uri) = derived_uri(model, &needed, &name, supplied)
            {
                secret_values.insert("uri".into(), uri);
            }
            let connection = &model.objects[needed.connection];
            let template = Template {
                labels: Some(Node::map_of([(MANAGED_BY.0, Node::string(MANAGED_BY.1))])),
                secret_type: supplied.secret_type.clone(),
                own_annotations: vec![(
                    GENERATED_FROM.to_string(),
                    Node::string(format!("Connection/{}", connection.name.value)),
                )],
                ..Template::default()
            };
            Some(secret_node(&ns, &name, &secret_values, template, output))
        })
        .collect()
}

/// Annotations that hold an object as last applied, values included: kubeseal strips them, and
/// so does sealing here.
pub fn is_last_applied(annotation: &str) -> bool {
    matches!(
        annotation,
        "kubectl.kubernetes.io/last-applied-configuration"
            | "kubecfg.ksonnet.io/last-applied-configuration"
    )
}

/// The values of a Secret object `node` of our own making (`data` base64, `stringData`),
/// leniently: a value that is not a string is left out.
pub fn node_values(node: &Node) -> BTreeMap<String, Vec<u8>> {
    let mut values = BTreeMap::new();
    for (key, value) in node.get("data").and_then(Node::as_map).unwrap_or_default() {
        if let Some(Ok(bytes)) = value.as_str().map(rules::decode_secret_value) {
            values.insert(key.key_text(), bytes);
        }
    }
    for (key, value) in node.get("stringData").and_then(Node::as_map).unwrap_or_default() {
        if let Some(text) = value.as_str() {
            values.insert(key.key_text(), text.as_bytes().to_vec());
        }
    }
    values
}

/// The SealedSecret that replaces plaintext Secret `node` (named `name` in `namespace`) of
/// the output, holding `values` (as the model decoded them), with the Secret's labels,
/// annotations (but never a last-applied copy of it), type and immutability.
pub fn seal_secret(
    node: &Node,
    namespace: &str,
    name: &str,
    values: &BTreeMap<String, Vec<u8>>,
    sealer: &dyn Sealer,
    scope: Scope,
) -> Node {
    let labels = node
        .path(&["metadata", "labels"])
        .filter(|n| n.as_map().is_some_and(|m| !m.is_empty()))
        .cloned();
    let annotations = node.path(&["metadata", "annotations"]).and_then(Node::as_map).map(|m| {
        m.iter().filter(|(k, _)| !is_last_applied(&k.key_text())).cloned().collect::<Vec<_>>()
    });
    let template = Template {
        labels,
        annotations: annotations.filter(|a| !a.is_empty()).map(Node::map),
        secret_type: node.get("type").and_then(Node::as_str).map(str::to_string),
        immutable: node.get("immutable").cloned(),
        own_annotations: Vec::new(),
    };
    secret_node(namespace, name, values, template, Output::Sealed { sealer, scope })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, SourceMap};

    /// A readable stand-in: `<label>|<value>` in hex, so tests see what was sealed with what.
    struct Visible;
    impl Sealer for Visible {
        fn seal(&self, label: &[u8], value: &[u8]) -> String {
            let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
            format!("{}|{hex}", String::from_utf8_lossy(label))
        }
    }

    fn documents_of(text: &str) -> Vec<Document> {
        let mut sources = SourceMap::default();
        let file = sources.add(SourceFile::new("values.yaml", text));
        let source = sources.get(file).unwrap();
        crate::parse::parse(file, &source.text, &source.lines, crate::parse::Limits::default()).0
    }

    #[test]
    fn labels_follow_the_scope() {
        assert_eq!(Scope::Strict.label("team", "pg"), b"team/pg");
        assert_eq!(Scope::NamespaceWide.label("team", "pg"), b"team");
        assert_eq!(Scope::ClusterWide.label("team", "pg"), b"");
    }

    #[test]
    fn values_files_hold_secret_manifests() {
        let values = supplied(
            documents_of(
                "apiVersion: v1\nkind: Secret\nmetadata: {name: pg}\ndata: {password: aHVudGVyMg==}\nstringData: {username: etl}\n",
            ),
            "team",
        )
        .unwrap();
        let pg = &values[&("team".to_string(), "pg".to_string())];
        assert_eq!(pg.values["password"], b"hunter2");
        assert_eq!(pg.values["username"], b"etl");

        let problems = supplied(
            documents_of(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: 'not base64!'}\n",
            ),
            "team",
        )
        .unwrap_err();
        let messages: Vec<&str> = problems.iter().map(|(_, m)| m.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains("Secret manifests only, not a ConfigMap")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("base64")), "{messages:?}");
        assert!(messages.iter().all(|m| !m.contains("not base64!")), "a value was printed");
    }

    #[test]
    fn sealing_a_committed_secret_keeps_its_metadata_and_seals_each_value() {
        let node = documents_of(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pg\n  namespace: team\n  labels: {app: etl}\ntype: kubernetes.io/basic-auth\nimmutable: true\ndata: {password: aHVudGVyMg==}\nstringData: {username: etl}\n",
        )
        .remove(0)
        .root;
        let values = node_values(&node);
        let sealed = seal_secret(&node, "team", "pg", &values, &Visible, Scope::NamespaceWide);
        let yaml = crate::render::emit::to_yaml(&sealed);
        assert_eq!(
            yaml,
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: pg\n  namespace: team\n  labels:\n    app: etl\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\nspec:\n  encryptedData:\n    password: team|68756e74657232\n    username: team|65746c\n  template:\n    metadata:\n      name: pg\n      namespace: team\n      labels:\n        app: etl\n      annotations:\n        sealedsecrets.bitnami.com/namespace-wide: \"true\"\n    immutable: true\n    type: kubernetes.io/basic-auth\n"
        );
    }
}
