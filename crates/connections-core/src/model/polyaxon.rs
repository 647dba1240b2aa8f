//! Polyaxon: agent configs (documents with no `apiVersion` whose top level holds a
//! `connections` list and/or an `artifactsStore` mapping), the 43 connection kinds, the five
//! strict schemas, and the `POLYAXON_CONNECTIONS_CATALOG` a consumer gets (formats.md §2).

use super::fields::{Fields, index, join};
use super::{ConnectionModel, Flavour, lower::resource};
use crate::checks::Check;
use crate::diagnostic::Diagnostic;
use crate::render::emit::JsonNode;
use crate::source::{Span, Spanned};
use crate::syntax::{Node, NodeValue, Resolved};

/// Polyaxon's 43 connection kinds (`pagerduty`, not the docs' `pager_duty`).
pub const KINDS: [&str; 43] = [
    "host_path",
    "volume_claim",
    "gcs",
    "s3",
    "wasb",
    "registry",
    "git",
    "aws",
    "gcp",
    "azure",
    "mysql",
    "postgres",
    "oracle",
    "vertica",
    "sqlite",
    "mssql",
    "redis",
    "presto",
    "mongo",
    "cassandra",
    "ftp",
    "grpc",
    "hdfs",
    "http",
    "pig_cli",
    "hive_cli",
    "hive_metastore",
    "hive_server2",
    "jdbc",
    "jenkins",
    "samba",
    "snowflake",
    "ssh",
    "cloudant",
    "databricks",
    "segment",
    "slack",
    "discord",
    "mattermost",
    "pagerduty",
    "hipchat",
    "webhook",
    "custom",
];

/// Whether `kind` is one of Polyaxon's connection kinds.
pub fn is_kind(kind: &str) -> bool {
    KINDS.contains(&kind)
}

/// One connection of an agent config.
#[derive(Clone, Debug)]
pub struct PolyaxonConnection {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `kind`.
    pub kind: Option<Spanned<String>>,
    /// Everything else, in the shape every connection shares.
    pub model: ConnectionModel,
    /// The entry as written.
    pub node: Node,
    /// Field path of the entry (`connections[2]` or `artifactsStore`).
    pub path: String,
}

/// Whether a document without `apiVersion` is a Polyaxon agent config.
pub fn is_agent_config(root: &Node) -> bool {
    root.get("apiVersion").is_none()
        && root.get("kind").is_none()
        && (root.get("connections").and_then(Node::as_seq).is_some()
            || root.get("artifactsStore").and_then(Node::as_map).is_some())
}

/// Reads the connections of an agent config (`artifactsStore` first).
pub fn lower_agent_config(root: &Node, fields: &mut Fields<'_>) -> Vec<PolyaxonConnection> {
    let mut out = Vec::new();
    if let Some(store) = fields.map(root, "artifactsStore", "") {
        out.push(lower_connection(store, "artifactsStore", fields));
    }
    for (i, item) in fields.seq(root, "connections", "").iter().enumerate() {
        let path = index("connections", i);
        if let Some(entry) = fields.map_node(item, &path) {
            out.push(lower_connection(entry, &path, fields));
        }
    }
    out
}

/// The fields of Polyaxon's connection resource (`secret`, `configMap`).
pub const RESOURCE_FIELDS: &[&str] =
    &["name", "mountPath", "hostPath", "items", "defaultMode", "isRequested"];

fn lower_connection(node: &Node, path: &str, fields: &mut Fields<'_>) -> PolyaxonConnection {
    fields.unknown_fields(
        node,
        path,
        &[
            "name",
            "kind",
            "description",
            "tags",
            "schema",
            "secret",
            "configMap",
            "env",
            "annotations",
        ],
    );
    let kind = fields.string(node, "kind", path);
    let mut resources = [None, None];
    for (slot, key) in resources.iter_mut().zip(["secret", "configMap"]) {
        if let Some(r) = fields.map(node, key, path) {
            fields.unknown_fields(r, &join(path, key), RESOURCE_FIELDS);
            *slot = resource(r, &join(path, key), fields);
        }
    }
    let [secret, config_map] = resources;
    let annotations = fields
        .map(node, "annotations", path)
        .map(|a| fields.string_map(a, &join(path, "annotations")))
        .unwrap_or_default();
    let schema_node = fields.map(node, "schema", path).cloned();
    let schema = schema_node
        .as_ref()
        .and_then(Node::as_map)
        .map(|entries| {
            entries.iter().map(|(k, v)| (Spanned::new(k.key_text(), k.span), v.clone())).collect()
        })
        .unwrap_or_default();
    let _ = fields.string_list(node, "tags", path);
    PolyaxonConnection {
        name: fields.string(node, "name", path),
        model: ConnectionModel {
            flavour: Flavour::Polyaxon,
            type_name: kind.clone(),
            provider: None,
            schema,
            secret,
            config_map,
            credentials: Vec::new(),
            env: fields.seq(node, "env", path).to_vec(),
            scopes: Vec::new(),
            annotations,
            description: fields.string(node, "description", path).map(|d| d.value),
            schema_node,
        },
        kind,
        node: node.clone(),
        path: path.to_string(),
    }
}

/// A strict Polyaxon schema: its fields with their types, and which are required.
struct StrictSchema {
    name: &'static str,
    fields: &'static [(&'static str, FieldType)],
    required: &'static [&'static str],
}

#[derive(Clone, Copy, PartialEq)]
enum FieldType {
    Str,
    Bool,
    StrList,
}

fn strict_schema(kind: &str) -> Option<StrictSchema> {
    use FieldType::*;
    Some(match kind {
        "gcs" | "s3" | "wasb" => {
            StrictSchema { name: "Bucket", fields: &[("bucket", Str)], required: &["bucket"] }
        }
        "volume_claim" => StrictSchema {
            name: "Claim",
            fields: &[("volumeClaim", Str), ("mountPath", Str), ("readOnly", Bool)],
            required: &["volumeClaim", "mountPath"],
        },
        "host_path" => StrictSchema {
            name: "HostPath",
            fields: &[("hostPath", Str), ("mountPath", Str), ("readOnly", Bool)],
            required: &["hostPath", "mountPath"],
        },
        "registry" => StrictSchema {
            name: "Host",
            fields: &[("url", Str), ("insecure", Bool)],
            required: &["url"],
        },
        "git" => StrictSchema {
            name: "Git",
            fields: &[("url", Str), ("revision", Str), ("flags", StrList)],
            required: &[],
        },
        _ => return None,
    })
}

/// Checks a Polyaxon-kind schema: required fields, no unknown fields for the five strict
/// schemas (camelCase keys), and field types. Any mapping is fine for the other kinds.
pub fn check_schema(
    kind: &Spanned<String>,
    schema: Option<&Node>,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    let Some(strict) = strict_schema(&kind.value) else { return };
    let schema_path = join(path, "schema");
    let entries = schema.and_then(Node::as_map).unwrap_or(&[]);
    let known: Vec<&str> = strict.fields.iter().map(|(f, _)| *f).collect();
    for (key, value) in entries {
        let text = key.key_text();
        let field = join(&schema_path, &text);
        match strict.fields.iter().find(|(f, _)| *f == text) {
            None => {
                let hint = crate::suggest::closest(&text, known.iter().copied())
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                out.push(
                    Diagnostic::new(
                        Check::InvalidConnectionSchema,
                        key.span,
                        format!(
                            "`{text}` is not a field of the {} schema (Polyaxon's {} schema rejects unknown fields)",
                            kind.value, strict.name
                        ),
                    )
                    .path(field)
                    .label("unknown field")
                    .help(format!("{hint}its fields are: {}", known.join(", "))),
                );
            }
            Some((_, expected)) => {
                let ok = match expected {
                    FieldType::Str => value.as_str().is_some(),
                    FieldType::Bool => {
                        matches!(value.as_scalar().map(|s| s.resolve()), Some(Resolved::Bool(_)))
                    }
                    FieldType::StrList => value
                        .as_seq()
                        .is_some_and(|items| items.iter().all(|i| i.as_str().is_some())),
                };
                if !ok && !value.is_null() {
                    let want = match expected {
                        FieldType::Str => "a string",
                        FieldType::Bool => "a boolean",
                        FieldType::StrList => "a list of strings",
                    };
                    out.push(
                        Diagnostic::new(
                            Check::InvalidConnectionSchema,
                            value.span,
                            format!("`{text}` of the {} schema must be {want}", kind.value),
                        )
                        .path(field)
                        .label(format!("expected {want}")),
                    );
                }
            }
        }
    }
    for required in strict.required {
        let present = entries.iter().any(|(k, v)| k.key_text() == *required && !v.is_null());
        if !present {
            let span =
                schema.map_or(kind.span, |s| if s.span.is_real() { s.span } else { kind.span });
            out.push(
                Diagnostic::new(
                    Check::InvalidConnectionSchema,
                    span,
                    format!("the {} schema needs `{required}`", kind.value),
                )
                .path(join(&schema_path, required))
                .label(format!("`{required}` missing"))
                .help(format!(
                    "Polyaxon's {} schema requires: {}",
                    strict.name,
                    strict.required.join(", ")
                )),
            );
        }
    }
}

/// The `store_path` Polyaxon derives: a mount kind's `mountPath`, a bucket kind's `bucket`,
/// with trailing `/` removed.
pub fn store_path(kind: &str, schema: &[(Spanned<String>, Node)]) -> Option<String> {
    let field = match kind {
        "host_path" | "volume_claim" => "mountPath",
        "gcs" | "s3" | "wasb" => "bucket",
        _ => return None,
    };
    schema
        .iter()
        .find(|(k, _)| k.value == field)
        .and_then(|(_, v)| v.as_str())
        .map(|s| s.trim_end_matches('/').to_string())
}

/// One entry of `POLYAXON_CONNECTIONS_CATALOG`: the connection as Polyaxon's `V1Connection`
/// serialises it (camelCase, fields in declaration order, absent ones left out). A view that
/// serialises straight from the model: every workload that uses a Polyaxon kind writes one.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogEntry<'m> {
    name: &'m str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'m str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'m str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<JsonNode<'m>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<CatalogResource<'m>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config_map: Option<CatalogResource<'m>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<JsonNode<'m>>,
    /// Later entries of a key replace earlier ones in the first one's place, as a JSON object
    /// built entry by entry keeps them.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "pairs_as_map")]
    annotations: Vec<(&'m str, &'m str)>,
}

/// The `secret` or `configMap` of a [`CatalogEntry`].
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CatalogResource<'m> {
    name: &'m str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mount_path: Option<&'m str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    items: Vec<&'m str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_mode: Option<i64>,
}

fn pairs_as_map<S: serde::Serializer>(
    pairs: &[(&str, &str)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().copied())
}

/// The catalog entry of connection `name`.
pub fn catalog_entry<'m>(name: &'m str, model: &'m ConnectionModel) -> CatalogEntry<'m> {
    let resource = |r: &'m Option<super::ResourceModel>| {
        r.as_ref().map(|r| CatalogResource {
            name: &r.name.value,
            mount_path: r.mount_path.as_ref().map(|m| m.value.as_str()),
            items: r.items.iter().map(|i| i.value.as_str()).collect(),
            default_mode: r.default_mode,
        })
    };
    let mut annotations: Vec<(&str, &str)> = Vec::with_capacity(model.annotations.len());
    for (key, value) in &model.annotations {
        match annotations.iter_mut().find(|(k, _)| *k == key.value) {
            Some(existing) => existing.1 = &value.value,
            None => annotations.push((&key.value, &value.value)),
        }
    }
    CatalogEntry {
        name,
        kind: model.type_name.as_ref().map(|k| k.value.as_str()),
        description: model.description.as_deref(),
        schema: model.schema_node.as_ref().map(JsonNode),
        secret: resource(&model.secret),
        config_map: resource(&model.config_map),
        env: model.env.iter().map(JsonNode).collect(),
        annotations,
    }
}

/// Whether a node is a non-empty mapping.
pub fn is_mapping(node: &Node) -> bool {
    matches!(&node.value, NodeValue::Map(m) if !m.is_empty())
}

/// A span to report a Polyaxon connection at: its name, else its kind, else the entry itself
/// (every finding must point into a file, even for an entry with neither field).
pub fn connection_span(connection: &PolyaxonConnection) -> Span {
    connection
        .name
        .as_ref()
        .map(|n| n.span)
        .or(connection.kind.as_ref().map(|k| k.span))
        .unwrap_or(connection.node.span)
}
