//! Polyaxon agent configs: documents with no `apiVersion` whose top level holds a
//! `connections` list and/or an `artifactsStore` mapping. Each entry is a connection.

use super::fields::{Fields, index, join};
use super::{ResourceModel, lower::resource};
use crate::source::Spanned;
use crate::syntax::Node;

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
    /// `secret`.
    pub secret: Option<ResourceModel>,
    /// `configMap`.
    pub config_map: Option<ResourceModel>,
    /// The whole entry.
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

fn lower_connection(node: &Node, path: &str, fields: &mut Fields<'_>) -> PolyaxonConnection {
    PolyaxonConnection {
        name: fields.string(node, "name", path),
        kind: fields.string(node, "kind", path),
        secret: fields
            .map(node, "secret", path)
            .and_then(|n| resource(n, &join(path, "secret"), fields)),
        config_map: fields
            .map(node, "configMap", path)
            .and_then(|n| resource(n, &join(path, "configMap"), fields)),
        node: node.clone(),
        path: path.to_string(),
    }
}
