//! Talking to the cluster: a client built from kubeconfig as kubectl would, clear errors for
//! the ways that fails, and a snapshot of every kind the views need with **one list request
//! per kind and namespace**, never one request per reference.
//!
//! Secret values are dropped as soon as a list arrives: the snapshot keeps names and keys.

use super::kubeconfig;
use crate::cli::ClusterArgs;
use crate::commands::Failure;
use connections_core::model::LowerOptions;
use connections_core::source::{FileId, SourceFile, SourceMap};
use connections_core::syntax::Document;
use connections_core::validate::Offline;
use connections_core::{Analysis, analyse};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::config::KubeConfigOptions;
use std::time::Duration;

/// A connected client and what it was built from.
pub struct Cluster {
    /// The client.
    pub client: kube::Client,
    /// The namespace (`-n`, the context's, or `default`).
    pub namespace: String,
    /// The context name, for messages.
    pub context: String,
    /// The API server URL, for messages.
    pub server: String,
    /// `--request-timeout`, applied to every request.
    pub timeout: Option<Duration>,
}

/// Builds a client from the kubeconfig flags.
pub async fn connect(args: &ClusterArgs, namespace_flag: Option<&str>) -> Result<Cluster, Failure> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let env = std::env::var_os("KUBECONFIG");
    let paths =
        kubeconfig::kubeconfig_paths(args.kubeconfig.as_deref(), env.as_deref(), home.as_deref())
            .map_err(Failure)?;
    let merged = kubeconfig::load(&paths).map_err(Failure)?;
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    // Names that do not exist are errors, as in kubectl (kube-rs would go on without them).
    if let Some(name) = &args.context
        && !merged.contexts.iter().any(|c| &c.name == name)
    {
        return Err(Failure(format!("context \"{name}\" does not exist")));
    }
    if let Some(name) = &args.cluster
        && !merged.clusters.iter().any(|c| &c.name == name)
    {
        return Err(Failure(format!("cluster \"{name}\" does not exist")));
    }
    if let Some(name) = &args.user
        && !merged.auth_infos.iter().any(|u| &u.name == name)
    {
        return Err(Failure(format!("auth info \"{name}\" does not exist")));
    }
    let context = kubeconfig::context_name(&merged, &options).unwrap_or_default();
    let namespace = kubeconfig::namespace(namespace_flag, &merged, Some(&context));
    let timeout = kubeconfig::parse_request_timeout(&args.request_timeout).map_err(Failure)?;
    let mut config = kube::Config::from_custom_kubeconfig(merged, &options)
        .await
        .map_err(|e| Failure(format!("kubeconfig (context {context:?}): {e}")))?;
    config.default_namespace = namespace.clone();
    // kube-rs would retry 429, 503 and 504 itself, up to 15 times with pauses growing to
    // minutes, for writes too: reads are retried by `Cluster::read_passing` instead, bounded.
    config.default_retry = false;
    apply_overrides(&mut config, args)?;
    if let Some(t) = timeout {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    }
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config)
        .map_err(|e| Failure(format!("cannot build a client for {server}: {e}")))?;
    Ok(Cluster { client, namespace, context, server, timeout })
}

/// The connection flags that override the kubeconfig (`--server`, `--token`, `--as`, TLS).
fn apply_overrides(config: &mut kube::Config, args: &ClusterArgs) -> Result<(), Failure> {
    if let Some(server) = &args.server {
        config.cluster_url =
            server.parse().map_err(|e| Failure(format!("--server {server}: {e}")))?;
    }
    if let Some(token) = &args.token {
        config.auth_info =
            kube::config::AuthInfo { token: Some(token.clone().into()), ..Default::default() };
    }
    if let Some(user) = &args.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !args.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(args.as_group.clone());
    }
    if let Some(file) = &args.certificate_authority {
        use rustls::pki_types::pem::PemObject as _;
        let certs: Result<Vec<_>, _> = rustls::pki_types::CertificateDer::pem_file_iter(file)
            .map_err(|e| Failure(format!("--certificate-authority {}: {e}", file.display())))?
            .collect();
        let certs = certs
            .map_err(|e| Failure(format!("--certificate-authority {}: {e}", file.display())))?;
        config.root_cert = Some(certs.into_iter().map(|c| c.to_vec()).collect());
    }
    if args.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    if let Some(name) = &args.tls_server_name {
        config.tls_server_name = Some(name.clone());
    }
    Ok(())
}

/// A kind the views read.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Plural resource name.
    pub plural: &'static str,
    /// Whether it lives in namespaces.
    pub namespaced: bool,
}

impl Kind {
    fn resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.into(),
            version: self.version.into(),
            api_version: if self.group.is_empty() {
                self.version.into()
            } else {
                format!("{}/{}", self.group, self.version)
            },
            kind: self.kind.into(),
            plural: self.plural.into(),
        }
    }

    /// `connections.connections.dev`, `secrets`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

const fn kind(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Kind {
    Kind { group, version, kind, plural, namespaced }
}

/// Our Connection: the one kind whose absence is an error.
pub const CONNECTION: Kind = kind("connections.dev", "v1alpha1", "Connection", "connections", true);

/// Every kind a snapshot reads.
pub const KINDS: &[Kind] = &[
    CONNECTION,
    kind("connections.dev", "v1alpha1", "ConnectionType", "connectiontypes", true),
    kind("etl.dataworkz.nl", "v1alpha1", "Connection", "connections", true),
    kind("etl.dataworkz.nl", "v1alpha1", "ConnectionType", "connectiontypes", true),
    kind("", "v1", "Secret", "secrets", true),
    kind("", "v1", "ConfigMap", "configmaps", true),
    kind("bitnami.com", "v1alpha1", "SealedSecret", "sealedsecrets", true),
    kind("external-secrets.io", "v1", "ExternalSecret", "externalsecrets", true),
    kind("kubedirector.hpe.com", "v1beta1", "KubeDirectorCluster", "kubedirectorclusters", true),
    kind("storage.loft.sh", "v1", "Cluster", "clusters", false),
    kind("apps", "v1", "Deployment", "deployments", true),
    kind("apps", "v1", "StatefulSet", "statefulsets", true),
    kind("apps", "v1", "DaemonSet", "daemonsets", true),
    kind("batch", "v1", "Job", "jobs", true),
    kind("batch", "v1", "CronJob", "cronjobs", true),
    kind("", "v1", "Pod", "pods", true),
];

/// Which namespaces a snapshot covers.
#[derive(Clone, Debug)]
pub enum Scope {
    /// One namespace.
    Namespace(String),
    /// All namespaces (`-A`).
    All,
}

/// The cluster's objects, lowered and checked like a repository.
pub struct Snapshot {
    /// The model and its findings (each object is a pseudo-file `cluster:<ns>/<kind>/<name>`).
    pub analysis: Analysis,
    /// Kinds that are not installed (their CRD is missing).
    pub missing: Vec<Kind>,
    /// Kinds the user may not list: references to them show `? no permission`.
    pub forbidden: Vec<Kind>,
}

impl Cluster {
    /// Sends an idempotent read (a GET or a LIST) under `--request-timeout`, retrying what may
    /// pass (see [`Cluster::read_passing`]), and turns failures into clear messages.
    pub async fn read<T, Request, Response>(
        &self,
        what: &str,
        request: Request,
    ) -> Result<Result<T, kube::core::Status>, Failure>
    where
        Request: FnMut() -> Response,
        Response: std::future::Future<Output = Result<T, kube::Error>>,
    {
        self.read_passing(what, &[404], request).await
    }

    /// Like [`Cluster::read`], handing back the statuses in `pass` instead of failing on them.
    ///
    /// `request` makes a fresh request each time it is called: it may be sent up to
    /// [`READ_ATTEMPTS`] times, so it must be a read (never a write). A 5xx, a 429, or a
    /// connection reset or closed before the whole response arrived is tried again after a
    /// short pause ([`FIRST_PAUSE`], doubled each time); anything else fails at once. With
    /// `--request-timeout`, every attempt and pause together stay within it.
    pub async fn read_passing<T, Request, Response>(
        &self,
        what: &str,
        pass: &[u16],
        mut request: Request,
    ) -> Result<Result<T, kube::core::Status>, Failure>
    where
        Request: FnMut() -> Response,
        Response: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let deadline = self.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut attempt = 1;
        loop {
            let result = match deadline {
                Some(deadline) => match tokio::time::timeout_at(deadline, request()).await {
                    Ok(result) => result,
                    Err(_) => return Err(self.timed_out(what, attempt)),
                },
                None => request().await,
            };
            let error = match result {
                Ok(value) => return Ok(Ok(value)),
                Err(kube::Error::Api(status)) if pass.contains(&status.code) => {
                    return Ok(Err(*status));
                }
                Err(error) => error,
            };
            let pause = FIRST_PAUSE * 2u32.pow(attempt - 1);
            let in_time = deadline.is_none_or(|d| tokio::time::Instant::now() + pause < d);
            if attempt < READ_ATTEMPTS && may_pass(&error) && in_time {
                tokio::time::sleep(pause).await;
                attempt += 1;
                continue;
            }
            return Err(self.failure(what, attempt, error));
        }
    }

    fn timed_out(&self, what: &str, attempts: u32) -> Failure {
        let t = self.timeout.unwrap_or_default();
        Failure(format!(
            "the API server at {} (context {:?}) did not answer within {t:?} while trying to {what}{}",
            self.server,
            self.context,
            attempts_note(attempts)
        ))
    }

    /// The message for a read that failed for good.
    fn failure(&self, what: &str, attempts: u32, error: kube::Error) -> Failure {
        let (server, context, tries) = (&self.server, &self.context, attempts_note(attempts));
        Failure(match error {
            kube::Error::Api(status) if status.code == 401 => format!(
                "the API server at {server} (context {context:?}) did not accept the credentials (401 Unauthorized) while trying to {what}"
            ),
            kube::Error::Api(status) if status.code == 403 => format!(
                "forbidden (403): the user of context {context:?} may not {what} on the API server at {server}: {}",
                status.message
            ),
            kube::Error::Api(status) => format!(
                "the API server at {server} (context {context:?}) answered {} {} to {what}{tries}: {}",
                status.code,
                reason(&status),
                status.message
            ),
            kube::Error::SerdeError(e) => format!(
                "the API server at {server} (context {context:?}) sent an invalid response to {what} (not the JSON expected: {e})"
            ),
            kube::Error::FromUtf8(e) => format!(
                "the API server at {server} (context {context:?}) sent an invalid response to {what} (not UTF-8: {e})"
            ),
            e if io_error_kind(&e) == Some(std::io::ErrorKind::TimedOut) => {
                return self.timed_out(what, attempts);
            }
            e if connection_broken(&e) => format!(
                "the connection to the API server at {server} (context {context:?}) broke before the whole answer to {what} arrived{tries}: {}",
                connection_reason(&e)
            ),
            e => format!(
                "cannot reach the API server at {server} (context {context:?}) to {what}: {}",
                connection_reason(&e)
            ),
        })
    }

    /// Lists `kind` in the scope; `None` when the kind is not installed.
    pub async fn list(
        &self,
        kind: &Kind,
        scope: &Scope,
        selector: Option<&str>,
    ) -> Result<Option<Vec<serde_json::Value>>, Failure> {
        Ok(self.list_passing(kind, scope, selector, &[404]).await?.ok())
    }

    /// Lists `kind`, handing back the HTTP statuses in `pass` (404: not installed, 403: not
    /// allowed) instead of failing on them.
    pub async fn list_passing(
        &self,
        kind: &Kind,
        scope: &Scope,
        selector: Option<&str>,
        pass: &[u16],
    ) -> Result<Result<Vec<serde_json::Value>, u16>, Failure> {
        self.list_resource(
            &kind.resource(),
            kind.namespaced,
            scope,
            selector,
            pass,
            SecretValues::Drop,
        )
        .await
    }

    /// Lists any resource (found by discovery), handing back the statuses in `pass`. Secret
    /// values are dropped unless `values` keeps them (`diff --against-cluster` hashes them).
    pub async fn list_resource(
        &self,
        resource: &ApiResource,
        namespaced: bool,
        scope: &Scope,
        selector: Option<&str>,
        pass: &[u16],
        values: SecretValues,
    ) -> Result<Result<Vec<serde_json::Value>, u16>, Failure> {
        let api: Api<DynamicObject> = match (scope, namespaced) {
            (Scope::Namespace(ns), true) => Api::namespaced_with(self.client.clone(), ns, resource),
            _ => Api::all_with(self.client.clone(), resource),
        };
        let mut params = ListParams::default();
        if let Some(selector) = selector {
            params = params.labels(selector);
        }
        let where_ = match (scope, namespaced) {
            (Scope::Namespace(ns), true) => format!(" in namespace {ns:?}"),
            (Scope::All, true) => " in all namespaces".to_string(),
            _ => String::new(),
        };
        let qualified = if resource.group.is_empty() {
            resource.plural.clone()
        } else {
            format!("{}.{}", resource.plural, resource.group)
        };
        let what = format!("list {qualified}{where_}");
        Ok(match self.read_passing(&what, pass, || api.list(&params)).await? {
            Ok(list) => {
                Ok(list.items.into_iter().map(|item| to_json(resource, item, values)).collect())
            }
            Err(status) => Err(status.code),
        })
    }
}

/// How many times a read is sent at most.
pub const READ_ATTEMPTS: u32 = 3;

/// The pause before the second attempt; each later pause is twice the one before.
pub const FIRST_PAUSE: Duration = Duration::from_millis(200);

/// Whether a read that failed this way may pass when sent again: the server is overloaded or
/// failing for a moment (5xx, 429), or the connection broke. kube-rs does not hand over
/// `Retry-After`, so a 429 waits the same short pause. Other 4xx, invalid answers and
/// timeouts fail at once.
fn may_pass(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code == 429 || (500..600).contains(&status.code),
        other => connection_broken(other),
    }
}

/// The kind of the first I/O error in the chain of causes, if any.
fn io_error_kind(error: &kube::Error) -> Option<std::io::ErrorKind> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cause = c.source();
    }
    None
}

/// A connection reset, or closed before the whole response arrived (headers or body).
fn connection_broken(error: &kube::Error) -> bool {
    use std::io::ErrorKind::*;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(c) = cause {
        if c.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_incomplete_message) {
            return true;
        }
        cause = c.source();
    }
    matches!(
        io_error_kind(error),
        Some(ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
    )
}

/// The status's reason, or HTTP's when the answer was not a Kubernetes Status (a proxy's
/// plain-text 502, say, for which kube-rs puts a placeholder).
fn reason(status: &kube::core::Status) -> String {
    match status.reason.as_str() {
        "" | "Unknown" | "Failed to parse error data" => hyper::StatusCode::from_u16(status.code)
            .ok()
            .and_then(|code| code.canonical_reason())
            .unwrap_or("(no reason)")
            .to_string(),
        reason => reason.to_string(),
    }
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 { format!(" ({attempts} attempts)") } else { String::new() }
}

fn connection_reason(e: &kube::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}

/// Whether a list keeps Secret values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretValues {
    /// Keys only: values become null as soon as the list arrives (every view).
    Drop,
    /// Kept in memory for hashing (`diff --against-cluster`); never printed.
    KeepForHashing,
}

/// An object as JSON with its type set (list items may lack it), without `managedFields`,
/// and for Secrets without the last applied configuration (it holds the values) and, unless
/// kept, without values: keys stay, values become null right away.
fn to_json(
    resource: &ApiResource,
    object: DynamicObject,
    values: SecretValues,
) -> serde_json::Value {
    let mut value = serde_json::to_value(&object).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), resource.api_version.clone().into());
        map.insert("kind".into(), resource.kind.clone().into());
        if let Some(meta) = map.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            meta.remove("managedFields");
        }
        if resource.kind == "Secret" && resource.group.is_empty() {
            // client-side apply keeps the whole Secret, values included, in this annotation.
            if let Some(annotations) = map
                .get_mut("metadata")
                .and_then(|m| m.get_mut("annotations"))
                .and_then(|a| a.as_object_mut())
            {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
            for field in ["data", "stringData"] {
                if let Some(data) = map.get_mut(field).and_then(|d| d.as_object_mut())
                    && values == SecretValues::Drop
                {
                    for v in data.values_mut() {
                        *v = serde_json::Value::Null;
                    }
                }
            }
        }
    }
    value
}

/// Reads every kind in the scope and lowers it like a repository.
pub async fn snapshot(
    cluster: &Cluster,
    scope: &Scope,
    selector: Option<&str>,
) -> Result<Snapshot, Failure> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, kind) in KINDS.iter().enumerate() {
        let cluster = Cluster {
            client: cluster.client.clone(),
            namespace: cluster.namespace.clone(),
            context: cluster.context.clone(),
            server: cluster.server.clone(),
            timeout: cluster.timeout,
        };
        let scope = scope.clone();
        // The label selector narrows what `list` shows; references need everything.
        let selector = matches!(kind.kind, "Connection" | "KubeDirectorCluster" | "Cluster")
            .then(|| selector.map(str::to_string))
            .flatten();
        let kind = *kind;
        // Our own kind must be listable; for the others a 403 leaves a gap the views show.
        let pass: &'static [u16] = if kind.group == CONNECTION.group && kind.kind == CONNECTION.kind
        {
            &[404]
        } else {
            &[403, 404]
        };
        tasks.spawn(async move {
            (i, cluster.list_passing(&kind, &scope, selector.as_deref(), pass).await)
        });
    }
    let mut results: Vec<Option<Vec<serde_json::Value>>> = vec![None; KINDS.len()];
    let mut forbidden = Vec::new();
    let mut missing = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.map_err(|e| Failure(format!("internal error: {e}")))?;
        match result? {
            Ok(items) => results[i] = Some(items),
            Err(403) => forbidden.push(KINDS[i]),
            // Built-in kinds are always served: a 404 there is a broken server, not a missing CRD.
            Err(code)
                if KINDS[i].group.is_empty() || matches!(KINDS[i].group, "apps" | "batch") =>
            {
                return Err(Failure(format!(
                    "the API server at {} answered {code} to list {}: it does not serve a built-in kind",
                    cluster.server,
                    KINDS[i].qualified()
                )));
            }
            Err(_) => missing.push(KINDS[i]),
        }
    }
    // Loft clusters are cluster-scoped, their kubeconfig Secrets live elsewhere (`loft`): list
    // Secrets in those namespaces too, once each.
    let mut results: Vec<(Kind, Option<Vec<serde_json::Value>>)> =
        KINDS.iter().copied().zip(results).collect();
    if let Scope::Namespace(ns) = scope {
        let mut extra = std::collections::BTreeSet::new();
        for (kind, items) in &results {
            if kind.kind == "Cluster" {
                for item in items.iter().flatten() {
                    let secret_ns = item
                        .pointer("/spec/config/secretNamespace")
                        .and_then(|n| n.as_str())
                        .unwrap_or(connections_core::render::loft::SECRET_NAMESPACE);
                    if item.pointer("/spec/config/secretName").is_some() && secret_ns != ns {
                        extra.insert(secret_ns.to_string());
                    }
                }
            }
        }
        let secrets = KINDS.iter().find(|k| k.kind == "Secret").copied().expect("Secret is read");
        for namespace in extra {
            let items = cluster.list(&secrets, &Scope::Namespace(namespace), None).await?;
            results.push((secrets, items));
        }
    }
    let mut sources = SourceMap::new();
    let mut documents = Vec::new();
    for (kind, items) in results {
        let Some(items) = items else { continue };
        for item in items {
            // Pods that a workload owns are that workload's; only bare Pods are consumers.
            if kind.kind == "Pod"
                && item
                    .pointer("/metadata/ownerReferences")
                    .is_some_and(|o| o.as_array().is_some_and(|a| !a.is_empty()))
            {
                continue;
            }
            let ns = item.pointer("/metadata/namespace").and_then(|n| n.as_str()).unwrap_or("");
            let name = item.pointer("/metadata/name").and_then(|n| n.as_str()).unwrap_or("");
            let path = if ns.is_empty() {
                format!("cluster:{}/{name}", kind.qualified())
            } else {
                format!("cluster:{ns}/{}/{name}", kind.qualified())
            };
            let file: FileId = sources.add(SourceFile::new(path, String::new()));
            let mut root = connections_core::render::emit::node_from_json(&item);
            set_file(&mut root, file);
            documents.push(Document { file, index: 0, root });
        }
    }
    let default_namespace = match scope {
        Scope::Namespace(ns) => ns.clone(),
        Scope::All => cluster.namespace.clone(),
    };
    let analysis = analyse(
        documents,
        &LowerOptions { default_namespace, ..LowerOptions::default() },
        &Offline,
    );
    Ok(Snapshot { analysis, missing, forbidden })
}

/// Points every node of a generated tree at the object's pseudo-file.
fn set_file(node: &mut connections_core::syntax::Node, file: FileId) {
    use connections_core::syntax::NodeValue;
    node.span = connections_core::source::Span::new(file, 0, 0);
    match &mut node.value {
        NodeValue::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            set_file(k, file);
            set_file(v, file);
        }),
        NodeValue::Seq(items) => items.iter_mut().for_each(|i| set_file(i, file)),
        NodeValue::Scalar(_) => {}
    }
}

/// Secrets, ConfigMaps and KubeDirectorClusters found in the cluster, by namespace and name,
/// with their keys (never values), for `--cluster-check`.
#[derive(Default)]
pub struct LiveObjects {
    objects: std::collections::HashMap<
        (connections_core::model::TargetKind, String, String),
        connections_core::validate::ExternalKeys,
    >,
}

impl connections_core::validate::ExternalObjects for LiveObjects {
    fn has(
        &self,
        target: connections_core::model::TargetKind,
        namespace: &str,
        name: &str,
    ) -> Option<connections_core::validate::ExternalKeys> {
        self.objects.get(&(target, namespace.to_string(), name.to_string())).cloned()
    }
}

/// Lists Secrets, ConfigMaps and KubeDirectorClusters in each namespace (one list per kind and
/// namespace) and keeps their names and keys.
pub async fn live_objects(
    cluster: &Cluster,
    namespaces: &std::collections::BTreeSet<String>,
) -> Result<LiveObjects, Failure> {
    use connections_core::model::TargetKind;
    let kinds = [
        (TargetKind::Secret, kind("", "v1", "Secret", "secrets", true)),
        (TargetKind::ConfigMap, kind("", "v1", "ConfigMap", "configmaps", true)),
        (
            TargetKind::KubeDirectorCluster,
            kind(
                "kubedirector.hpe.com",
                "v1beta1",
                "KubeDirectorCluster",
                "kubedirectorclusters",
                true,
            ),
        ),
    ];
    let mut live = LiveObjects::default();
    for namespace in namespaces {
        for (target, kind) in &kinds {
            let Some(items) =
                cluster.list(kind, &Scope::Namespace(namespace.clone()), None).await?
            else {
                continue;
            };
            for item in items {
                let name = item
                    .pointer("/metadata/name")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string();
                let mut found = connections_core::validate::ExternalKeys::default();
                for field in ["data", "stringData", "binaryData"] {
                    if let Some(map) = item.get(field).and_then(|d| d.as_object()) {
                        found.keys.extend(map.keys().cloned());
                    }
                }
                if let Some(labels) = item.pointer("/metadata/labels").and_then(|l| l.as_object()) {
                    found.labels = labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect();
                }
                live.objects.insert((*target, namespace.clone(), name), found);
            }
        }
    }
    Ok(live)
}
