//! The `connections.dev/v1alpha1` custom resources: `Connection` and `ConnectionType`.
//!
//! These types are the schema of record: `cargo xtask codegen` writes the CRD YAML from them
//! (committed under `crds/`), `kubectl connections crd` prints it, and a test fails when the
//! committed file is stale. The renderer reads repository YAML through the spanned lowering in
//! [`crate::model`], which follows the same field names, so that diagnostics point at lines.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A connection to a database, bucket, git repository, registry or cluster.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "connections.dev",
    version = "v1alpha1",
    kind = "Connection",
    doc = "A connection (database, bucket, git repository, registry, cluster) that workloads use",
    namespaced,
    shortname = "conn",
    status = "ConnectionStatus",
    printcolumn = r#"{"name":"Type","type":"string","jsonPath":".spec.type"}"#,
    printcolumn = r#"{"name":"Healthy","type":"boolean","jsonPath":".status.lastHealthCheck.healthy"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSpec {
    /// A Polyaxon connection kind (`postgres`, `s3`, `git`, ...), `Opaque`, or the name of a
    /// ConnectionType in the same namespace.
    #[serde(rename = "type")]
    pub type_: String,
    /// What the connection is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who provides the service (for example `bitnami` or `aws`), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Non-secret settings (host, port, database, bucket, url, ...), checked per type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub schema: Option<BTreeMap<String, serde_json::Value>>,
    /// A Secret to project into consumers (Polyaxon semantics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<ConnectionResource>,
    /// A ConfigMap to project into consumers (Polyaxon semantics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConnectionResource>,
    /// Credentials by field name (KubeETL semantics): an inline value or a key reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<BTreeMap<String, Credential>>,
    /// Extra environment variables appended to consumers' containers, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<k8s_openapi::api::core::v1::EnvVar>>,
    /// How and when to probe the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// Which workloads may use the connection; empty means any in the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Scope>>,
    /// Pod annotations consumers get, merged in the order of use (Polyaxon semantics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

fn free_form_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// A Secret or ConfigMap that a connection projects into its consumers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionResource {
    /// The Secret or ConfigMap name, in the connection's namespace.
    pub name: String,
    /// Mount the resource read-only at this path instead of exposing it as environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
    /// Only these keys: as files when mounted, else one environment variable per key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<String>>,
    /// File mode of mounted keys (for example 0600 for ssh keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mode: Option<i32>,
}

/// One credential: an inline value or a reference to a key.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    /// An inline value; refused for sensitive fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A reference to a Secret or ConfigMap key in the connection's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<CredentialSource>,
}

/// Where a credential's value comes from.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSource {
    /// A Secret key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyRef>,
    /// A ConfigMap key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRef>,
}

/// A key of a named Secret or ConfigMap.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct KeyRef {
    /// The object's name.
    pub name: String,
    /// The key.
    pub key: String,
}

/// Health check settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// `Interval` (probe periodically), `WhenUsed` (probe before use) or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<HealthCheckMode>,
    /// Period for `Interval`, as a Go duration (`5m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Probe timeout, as a Go duration (`5s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// When to probe a connection.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum HealthCheckMode {
    /// Probe periodically.
    Interval,
    /// Probe before a consumer starts.
    WhenUsed,
    /// Never probe.
    None,
}

/// A workload allowed to use a connection.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct Scope {
    /// Workload kind (`Deployment`, `CronJob`, ...).
    pub kind: String,
    /// Workload name.
    pub name: String,
}

/// Observed state of a Connection.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionStatus {
    /// The most recent health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_health_check: Option<HealthCheckResult>,
}

/// The outcome of one health check.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckResult {
    /// RFC 3339 time of the check.
    pub time: String,
    /// Whether the probe succeeded.
    pub healthy: bool,
    /// Why it failed (never contains a credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Round-trip time in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

/// A user-defined connection type: its fields, their environment names and sensitivity.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "connections.dev",
    version = "v1alpha1",
    kind = "ConnectionType",
    doc = "A user-defined connection type: its credential fields, environment names and sensitivity",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionTypeSpec {
    /// The credential fields a Connection of this type may set.
    #[serde(default)]
    pub fields: Vec<ConnectionTypeField>,
    /// Whether a Connection may set credentials not listed in `fields`.
    #[serde(default)]
    pub allow_extra_fields: bool,
}

/// One field of a ConnectionType.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionTypeField {
    /// The credential name.
    pub name: String,
    /// The environment variable consumers get it as (default `<CONNECTION>_<FIELD>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_name: Option<String>,
    /// Whether a Connection must set it.
    #[serde(default)]
    pub required: bool,
    /// Whether the value is secret (then only `secretKeyRef` is allowed).
    #[serde(default)]
    pub sensitive: bool,
    /// Constraints on inline values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<FieldValidation>,
}

/// Constraints on an inline credential value.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldValidation {
    /// Minimum length in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Maximum length in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// An RE2 regular expression the value must contain a match of (unanchored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// The CRDs of both resources as one multi-document YAML stream (the committed file's content).
pub fn crds_yaml() -> String {
    use kube::CustomResourceExt as _;
    let docs = [Connection::crd(), ConnectionType::crd()];
    let mut out = String::from(
        "# Generated by `cargo xtask codegen` from crates/connections-core/src/crd.rs. Do not edit.\n",
    );
    for crd in docs {
        let value = serde_json::to_value(&crd).expect("a CRD always serialises");
        out.push_str("---\n");
        out.push_str(&crate::render::emit::to_yaml(&crate::render::emit::node_from_json(&value)));
    }
    out
}

/// JSON Schemas (draft-07) of `Connection` and `ConnectionType` manifests for editors (the
/// `yaml-language-server` modeline) and other validators, by file name: the CRDs' OpenAPI
/// schemas, with `apiVersion` and `kind` pinned and OpenAPI's `nullable` turned into a `null`
/// type, which is the one OpenAPI keyword JSON Schema reads differently.
pub fn json_schemas(base_url: &str) -> Vec<(String, String)> {
    use kube::CustomResourceExt as _;
    [Connection::crd(), ConnectionType::crd()]
        .into_iter()
        .map(|crd| {
            let kind = crd.spec.names.kind.clone();
            let version = &crd.spec.versions[0];
            let open_api = version
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .map(|s| serde_json::to_value(s).expect("a schema always serialises"))
                .unwrap_or_default();
            let mut schema = nullable_to_null_type(open_api);
            let api_version = format!("{}/{}", crd.spec.group, version.name);
            let file = format!("{}.json", kind.to_ascii_lowercase());
            if let Some(object) = schema.as_object_mut() {
                let properties = object
                    .entry("properties")
                    .or_insert_with(|| serde_json::json!({}))
                    .as_object_mut()
                    .expect("properties is an object");
                properties.insert("apiVersion".into(), serde_json::json!({"const": api_version}));
                properties.insert("kind".into(), serde_json::json!({"const": kind}));
                let mut required = vec!["apiVersion", "kind", "spec"];
                required.retain(|r| object["properties"].get(r).is_some());
                object.insert("required".into(), serde_json::json!(required));
                let mut header = serde_json::Map::new();
                header.insert("$schema".into(), "http://json-schema.org/draft-07/schema#".into());
                header.insert("$id".into(), format!("{base_url}/{file}").into());
                header.extend(std::mem::take(object));
                header.insert(
                    "title".into(),
                    format!("{kind} ({api_version}), generated by `cargo xtask codegen` from crates/connections-core/src/crd.rs").into(),
                );
                *object = header;
            }
            let mut text = serde_json::to_string_pretty(&schema).expect("JSON always serialises");
            text.push('\n');
            (file, text)
        })
        .collect()
}

/// OpenAPI's `nullable: true` beside a `type` is JSON Schema's `type: [<type>, "null"]` (and
/// `null` among the `enum` values).
fn nullable_to_null_type(mut value: serde_json::Value) -> serde_json::Value {
    match &mut value {
        serde_json::Value::Object(object) => {
            if object.remove("nullable") == Some(serde_json::Value::Bool(true)) {
                if let Some(serde_json::Value::String(kind)) = object.get("type").cloned() {
                    object.insert("type".into(), serde_json::json!([kind, "null"]));
                }
                if let Some(serde_json::Value::Array(values)) = object.get_mut("enum")
                    && !values.contains(&serde_json::Value::Null)
                {
                    values.push(serde_json::Value::Null);
                }
            }
            for (_, child) in object.iter_mut() {
                *child = nullable_to_null_type(std::mem::take(child));
            }
        }
        serde_json::Value::Array(items) => {
            for item in items.iter_mut() {
                *item = nullable_to_null_type(std::mem::take(item));
            }
        }
        _ => {}
    }
    value
}
