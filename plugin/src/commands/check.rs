//! `check NAME`: resolve a connection and its credentials, then probe the service.
//!
//! Settings come from the connection's `schema`; credentials from inline values, ConfigMaps and
//! Secrets as KubeETL resolves them. From the cluster, a referenced Secret is read with one GET
//! and its value kept in memory only. With `--repo`, a Secret the repository holds in plaintext
//! is used; one that only the cluster can produce (a SealedSecret, an ExternalSecret) is taken
//! from the environment variable a consumer would get (`WAREHOUSE_PASSWORD`, or the
//! ConnectionType's `envName`), so nothing is ever decrypted here.

use super::live::{View, block_on, view};
use super::{Failure, Outcome, print_stdout};
use crate::cli::CheckArgs;
use crate::health::{self, Health, Target};
use crate::live::kubeconfig::parse_request_timeout;
use connections_core::model::{Body, ConnectionModel, CredentialValue, Model, UsableConnection};
use connections_core::render::project::env_prefix;
use std::time::Duration;

/// Where a value comes from, for messages (never the value).
enum Source<'a> {
    Secret { name: &'a str, key: &'a str },
    ConfigMap { name: &'a str, key: &'a str },
}

/// A credential's value: the outer error is a cluster that could not be read (always fatal),
/// the inner one a value that is not there (fatal for a credential the connection names,
/// skipped for the optional keys of a Polyaxon-style Secret).
async fn read(
    view: &View,
    namespace: &str,
    source: Source<'_>,
    env_name: &str,
) -> Result<Result<Option<String>, Failure>, Failure> {
    let model = &view.model;
    Ok(match (&view.cluster, source) {
        (None, Source::ConfigMap { name, key }) => {
            Ok(model.configmap(namespace, name).and_then(|c| match &model.objects[c].body {
                Body::ConfigMap(data) => data.data.get(key).cloned(),
                _ => None,
            }))
        }
        (None, Source::Secret { name, key }) => {
            let source = model.secret_sources(namespace, name).first().copied();
            match source.map(|s| (&model.objects[s].body, &model.objects[s].kind.value)) {
                Some((Body::Secret(data), _)) => {
                    Ok(data.values.get(key).map(|v| String::from_utf8_lossy(v).into_owned()))
                }
                Some((_, kind)) => match std::env::var(env_name) {
                    Ok(value) => Ok(Some(value)),
                    Err(_) => Err(Failure(format!(
                        "key {key} of Secret {name} comes from a {kind}, which only the cluster can turn into a value; set {env_name} in the environment, or check against the cluster (without --repo)"
                    ))),
                },
                None => {
                    Err(Failure(format!("Secret {name} is not declared in namespace {namespace}")))
                }
            }
        }
        (Some(cluster), Source::Secret { name, key }) => {
            let api: kube::Api<k8s_openapi::api::core::v1::Secret> =
                kube::Api::namespaced(cluster.client.clone(), namespace);
            match cluster
                .read(&format!("get secret {name} in namespace {namespace}"), || api.get(name))
                .await?
            {
                Ok(secret) => Ok(secret
                    .data
                    .and_then(|d| d.get(key).map(|v| String::from_utf8_lossy(&v.0).into_owned()))),
                Err(_) => {
                    Err(Failure(format!("Secret {name} does not exist in namespace {namespace}")))
                }
            }
        }
        (Some(cluster), Source::ConfigMap { name, key }) => {
            let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
                kube::Api::namespaced(cluster.client.clone(), namespace);
            match cluster
                .read(&format!("get configmap {name} in namespace {namespace}"), || api.get(name))
                .await?
            {
                Ok(cm) => Ok(cm.data.and_then(|d| d.get(key).cloned())),
                Err(_) => Err(Failure(format!(
                    "ConfigMap {name} does not exist in namespace {namespace}"
                ))),
            }
        }
    })
}

fn setting(connection: &ConnectionModel, keys: &[&str]) -> Option<String> {
    connection.schema.iter().find(|(k, _)| keys.contains(&k.value.as_str())).and_then(|(_, v)| {
        let scalar = v.as_scalar()?;
        Some(match scalar.resolve() {
            connections_core::syntax::Resolved::Str(_) => scalar.text.to_string(),
            other => other.to_text(),
        })
    })
}

/// Fills a probe target from a connection's settings and credentials.
async fn target(
    view: &View,
    name: &str,
    namespace: &str,
    connection: &ConnectionModel,
    env_names: &std::collections::BTreeMap<String, String>,
) -> Result<Target, Failure> {
    let kind = connection.type_name.as_ref().map(|t| t.value.clone()).unwrap_or_default();
    let mut target = Target {
        kind,
        host: setting(connection, &["host", "hostname"]),
        port: setting(connection, &["port"]).and_then(|p| p.parse().ok()),
        url: setting(connection, &["url", "uri", "endpoint"]),
        database: setting(connection, &["database", "dbname", "db"]),
        username: setting(connection, &["username", "user"]),
        password: None,
        tls: setting(connection, &["sslmode", "tls"]).map(|t| match t.as_str() {
            "true" => "verify-full".to_string(),
            "false" => "disable".to_string(),
            other => other.to_string(),
        }),
    };
    let prefix = env_prefix(name);
    for credential in &connection.credentials {
        let field = credential.name.value.as_str();
        let env_name = env_names
            .get(field)
            .cloned()
            .unwrap_or_else(|| format!("{prefix}_{}", env_prefix(field)));
        let value = match &credential.value {
            Some(CredentialValue::Inline(v)) => Some(v.value.clone()),
            Some(CredentialValue::SecretKey { name, key }) => {
                read(
                    view,
                    namespace,
                    Source::Secret { name: &name.value, key: &key.value },
                    &env_name,
                )
                .await??
            }
            Some(CredentialValue::ConfigMapKey { name, key }) => {
                read(
                    view,
                    namespace,
                    Source::ConfigMap { name: &name.value, key: &key.value },
                    &env_name,
                )
                .await??
            }
            None => None,
        };
        let Some(value) = value else { continue };
        match field.to_ascii_lowercase().as_str() {
            "username" | "user" => target.username = Some(value),
            "password" | "passwd" => target.password = Some(value),
            "host" | "hostname" => target.host = Some(value),
            "port" => target.port = value.parse().ok(),
            "database" | "dbname" | "db" => target.database = Some(value),
            "url" | "uri" | "endpoint" => target.url = Some(value),
            _ => {}
        }
    }
    // A Polyaxon-style Secret with `username`/`password` keys.
    if let Some(secret) = &connection.secret {
        for (field, slot) in [("username", 0), ("password", 1)] {
            let wanted = secret.items.is_empty() || secret.items.iter().any(|i| i.value == field);
            let missing =
                if slot == 0 { target.username.is_none() } else { target.password.is_none() };
            if wanted && missing {
                let env_name = format!("{prefix}_{}", env_prefix(field));
                if let Ok(Some(value)) = read(
                    view,
                    namespace,
                    Source::Secret { name: &secret.name.value, key: field },
                    &env_name,
                )
                .await?
                {
                    if slot == 0 {
                        target.username = Some(value)
                    } else {
                        target.password = Some(value)
                    }
                }
            }
        }
    }
    Ok(target)
}

fn find<'m>(
    model: &'m Model,
    namespace: &str,
    name: &str,
) -> Option<(String, &'m ConnectionModel, std::collections::BTreeMap<String, String>)> {
    let usable = model.usable_connection(namespace, name)?;
    let connection = model.connection_model(usable)?;
    let env_names = match usable {
        UsableConnection::Object(i) => connection
            .type_name
            .as_ref()
            .and_then(|t| {
                model.connection_type(
                    connection.flavour,
                    model.objects[i].namespace_str(),
                    &t.value,
                )
            })
            .and_then(|t| match &model.objects[t].body {
                Body::ConnectionType(t) => Some(
                    t.fields
                        .iter()
                        .filter_map(|f| {
                            Some((f.name.value.clone(), f.env_name.as_ref()?.value.clone()))
                        })
                        .collect(),
                ),
                _ => None,
            })
            .unwrap_or_default(),
        UsableConnection::Polyaxon(..) => Default::default(),
    };
    Some((name.to_string(), connection, env_names))
}

/// Runs `check`.
pub fn run(args: &CheckArgs) -> Result<Outcome, Failure> {
    let name = match crate::live::views::parse_target(&args.name)? {
        crate::live::views::Target::Connection(name)
        | crate::live::views::Target::EtlConnection(name) => name,
        _ => {
            return Err(Failure(format!(
                "{}: check probes connections (connection/NAME)",
                args.name
            )));
        }
    };
    block_on(async {
        let view = view(&args.live, false, None).await?;
        let namespace = view.namespace.clone();
        let (name, connection, env_names) =
            find(&view.model, &namespace, &name).ok_or_else(|| {
                Failure(format!("connection/{name} not found in namespace {namespace}"))
            })?;
        let timeout = match &args.timeout {
            Some(t) => parse_request_timeout(t)
                .map_err(|e| Failure(e.replace("--request-timeout", "--timeout")))?,
            None => None,
        }
        .unwrap_or(Duration::from_secs(5));
        let target = target(&view, &name, &namespace, connection, &env_names).await?;
        let report = health::probe(&target, timeout).await.map_err(|e| Failure(e.0))?;
        let ms = report.latency.as_millis();
        let (line, outcome) = match &report.health {
            Health::Healthy => (
                format!("connection/{name}: healthy ({}, {ms} ms)\n", report.what),
                Outcome::Success,
            ),
            Health::Unhealthy(reason) => (
                format!("connection/{name}: unhealthy: {reason} ({}, {ms} ms)\n", report.what),
                Outcome::Findings,
            ),
        };
        print_stdout(&health::scrub(&line, target.password.as_deref()))?;
        Ok(outcome)
    })?
}
