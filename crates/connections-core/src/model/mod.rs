//! The typed model of a repository: objects with provenance, and the references between them.
//!
//! [`lower`] turns parsed documents into [`Object`]s (recognising the kinds of DESIGN.md §3)
//! and collects every [`Reference`] an object makes. [`Model::index`] then answers "does this
//! Secret / ConfigMap / Connection exist in that namespace, and with which keys" by lookup, so
//! resolving all references is linear in their number.

pub mod fields;
mod lookup;
mod lower;
pub mod polyaxon;
mod workload;

pub use lower::{LowerOptions, USE_ANNOTATION, lower, lower_with};

use crate::source::{FileId, Span, Spanned};
use crate::syntax::Node;
use lookup::KeyTable;
use std::collections::{BTreeMap, HashMap};

/// The label-free identity of an object: `(group, kind, namespace, name)`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// API group (`""` for the core group).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{} in namespace {ns}", self.kind, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Where a document came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Provenance {
    /// The file.
    pub file: FileId,
    /// 0-based document index within the file.
    pub index: usize,
}

/// A Kubernetes object from the repository.
#[derive(Clone, Debug)]
pub struct Object {
    /// Where it was read.
    pub provenance: Provenance,
    /// The document, as written (render works on a copy).
    pub root: Node,
    /// `apiVersion` as written.
    pub api_version: String,
    /// The API group (`""` for `v1`).
    pub group: String,
    /// The kind.
    pub kind: Spanned<String>,
    /// `metadata.name`.
    pub name: Spanned<String>,
    /// The effective namespace (written or defaulted); `None` if cluster-scoped.
    pub namespace: Option<Spanned<String>>,
    /// Whether `metadata.namespace` was written in the document.
    pub namespace_written: bool,
    /// What the object is to us.
    pub body: Body,
}

impl Object {
    /// The object's identity.
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            group: self.group.clone(),
            kind: self.kind.value.clone(),
            namespace: self.namespace.as_ref().map(|n| n.value.clone()),
            name: self.name.value.clone(),
        }
    }

    /// The effective namespace, or `""` when cluster-scoped.
    pub fn namespace_str(&self) -> &str {
        self.namespace.as_ref().map_or("", |n| n.value.as_str())
    }

    /// A span covering the object's identity, for whole-object findings.
    pub fn span(&self) -> Span {
        self.name.span
    }
}

/// The role an object plays.
#[derive(Clone, Debug)]
pub enum Body {
    /// A `v1` Secret.
    Secret(SecretData),
    /// A `v1` ConfigMap.
    ConfigMap(ConfigMapData),
    /// A SealedSecret or ExternalSecret: declares a Secret that will exist in the cluster.
    SecretDeclaration(SecretDeclaration),
    /// Our `connections.dev` Connection (or KubeETL's, which has the same credential model).
    Connection(Box<ConnectionModel>),
    /// Our `connections.dev` ConnectionType (or KubeETL's).
    ConnectionType(ConnectionTypeModel),
    /// A KubeDirectorCluster.
    KubeDirectorCluster(KubeDirectorConnections),
    /// Loft `ClusterConnect`: create-only, so it is converted into a `Cluster` and its
    /// kubeconfig Secret.
    ClusterConnect(LoftConnect),
    /// A Loft `Cluster` (`management.loft.sh` or `storage.loft.sh`).
    LoftCluster,
    /// A workload with a pod template.
    Workload(WorkloadModel),
    /// Build configuration (kustomize `Kustomization`, kpt `Kptfile`, `config.kubernetes.io/local-config`): read, not rendered.
    LocalConfig,
    /// Anything else: passed through.
    Other,
}

/// A Loft `ClusterConnect`.
#[derive(Clone, Debug)]
pub struct LoftConnect {
    /// `spec.config`: a kubeconfig as YAML text.
    pub config: Option<Spanned<String>>,
    /// `spec.adminUser`.
    pub admin_user: Option<Spanned<String>>,
    /// `spec.clusterTemplate`, as written.
    pub template: Option<Node>,
}

/// Which flavour of a shared shape an object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// `connections.dev/v1alpha1`.
    Ours,
    /// KubeETL's `etl.dataworkz.nl/v1alpha1`.
    KubeEtl,
    /// A connection of a Polyaxon agent config.
    Polyaxon,
}

/// Keys and values of a Secret after merging `stringData` over `data`.
#[derive(Clone, Debug, Default)]
pub struct SecretData {
    /// Every key, with where it was written.
    pub keys: BTreeMap<String, Span>,
    /// Decoded values (what consumers read); never printed.
    pub values: BTreeMap<String, Vec<u8>>,
    /// The Secret `type`, if written.
    pub secret_type: Option<String>,
}

/// Keys and values of a ConfigMap.
#[derive(Clone, Debug, Default)]
pub struct ConfigMapData {
    /// Every key of `data` and `binaryData`, with where it was written.
    pub keys: BTreeMap<String, Span>,
    /// `data` values.
    pub data: BTreeMap<String, String>,
}

/// A Secret that a SealedSecret or ExternalSecret will create.
#[derive(Clone, Debug)]
pub struct SecretDeclaration {
    /// The Secret's name.
    pub secret_name: Spanned<String>,
    /// Its keys where knowable; `Err(reason)` when only the cluster knows them.
    pub keys: Result<BTreeMap<String, Span>, String>,
}

/// A Secret or ConfigMap a connection projects (Polyaxon's connection resource).
#[derive(Clone, Debug)]
pub struct ResourceModel {
    /// The object's name.
    pub name: Spanned<String>,
    /// Mount path, if mounted.
    pub mount_path: Option<Spanned<String>>,
    /// Selected keys.
    pub items: Vec<Spanned<String>>,
    /// File mode for mounted keys.
    pub default_mode: Option<i64>,
    /// The field path of the resource (`spec.secret`).
    pub path: String,
}

/// Where a credential's value comes from.
#[derive(Clone, Debug)]
pub enum CredentialValue {
    /// Inline text.
    Inline(Spanned<String>),
    /// A key of a Secret.
    SecretKey {
        /// The Secret's name.
        name: Spanned<String>,
        /// The key.
        key: Spanned<String>,
    },
    /// A key of a ConfigMap.
    ConfigMapKey {
        /// The ConfigMap's name.
        name: Spanned<String>,
        /// The key.
        key: Spanned<String>,
    },
}

/// One credential of a connection.
#[derive(Clone, Debug)]
pub struct CredentialModel {
    /// The field name.
    pub name: Spanned<String>,
    /// Its value source; `None` when the entry sets neither `value` nor `valueFrom`, or sets
    /// them wrongly (reported while lowering).
    pub value: Option<CredentialValue>,
    /// Whether the entry writes `value` or `valueFrom` at all.
    pub written: bool,
    /// Field path (`spec.credentials.password`).
    pub path: String,
}

/// A connection, ours or KubeETL's.
#[derive(Clone, Debug)]
pub struct ConnectionModel {
    /// Whose API it is.
    pub flavour: Flavour,
    /// `spec.type`.
    pub type_name: Option<Spanned<String>>,
    /// `spec.provider`.
    pub provider: Option<Spanned<String>>,
    /// `spec.schema` entries, in written order.
    pub schema: Vec<(Spanned<String>, Node)>,
    /// `spec.secret`.
    pub secret: Option<ResourceModel>,
    /// `spec.configMap`.
    pub config_map: Option<ResourceModel>,
    /// `spec.credentials`, in written order.
    pub credentials: Vec<CredentialModel>,
    /// `spec.env` items, appended verbatim to consumers.
    pub env: Vec<Node>,
    /// `spec.scopes` as `(kind, name)`.
    pub scopes: Vec<(String, String)>,
    /// Pod annotations consumers get (Polyaxon's connection `annotations`).
    pub annotations: Vec<(Spanned<String>, Spanned<String>)>,
    /// `spec.description`.
    pub description: Option<String>,
    /// The `schema` node as written (for the Polyaxon catalog).
    pub schema_node: Option<Node>,
}

/// A field of a connection type.
#[derive(Clone, Debug)]
pub struct TypeField {
    /// Credential name.
    pub name: Spanned<String>,
    /// Environment variable name.
    pub env_name: Option<Spanned<String>>,
    /// Whether it must be set.
    pub required: bool,
    /// Whether it is secret.
    pub sensitive: bool,
    /// Minimum length in bytes of inline values.
    pub min_length: Option<Spanned<i64>>,
    /// Maximum length in bytes of inline values.
    pub max_length: Option<Spanned<i64>>,
    /// An RE2 pattern inline values must contain a match of.
    pub regex: Option<Spanned<String>>,
}

/// A connection type, ours or KubeETL's.
#[derive(Clone, Debug)]
pub struct ConnectionTypeModel {
    /// Whose API it is.
    pub flavour: Flavour,
    /// Declared fields.
    pub fields: Vec<TypeField>,
    /// Whether other fields are allowed.
    pub allow_extra_fields: bool,
}

/// `spec.connections` of a KubeDirectorCluster.
#[derive(Clone, Debug, Default)]
pub struct KubeDirectorConnections {
    /// Connected clusters.
    pub clusters: Vec<Spanned<String>>,
    /// Connected ConfigMaps.
    pub configmaps: Vec<Spanned<String>>,
    /// Connected Secrets.
    pub secrets: Vec<Spanned<String>>,
}

/// Which part of a workload holds the pod template.
#[derive(Clone, Debug)]
pub struct WorkloadModel {
    /// Keys from the root to the pod spec (`["spec", "template", "spec"]`).
    pub pod_spec_path: &'static [&'static str],
    /// Keys from the root to the pod template metadata.
    pub pod_metadata_path: &'static [&'static str],
    /// Connections named in `connections.dev/use`, in order.
    pub uses: Vec<Spanned<String>>,
    /// The `connections.dev/projection` annotation as written (`service-binding`), if any.
    pub projection: Option<Spanned<String>>,
}

impl WorkloadModel {
    /// Whether the workload asks for its connections the Service Binding way.
    pub fn is_service_binding(&self) -> bool {
        self.projection.as_ref().is_some_and(|p| p.value == crate::binding::SERVICE_BINDING)
    }
}

/// What a reference points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// A Secret (declared by a Secret, SealedSecret or ExternalSecret).
    Secret,
    /// A ConfigMap.
    ConfigMap,
    /// A `connections.dev` Connection.
    Connection,
    /// A KubeDirectorCluster.
    KubeDirectorCluster,
}

/// Who makes a reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Referrer {
    /// An object (index into [`Model::objects`]).
    Object(usize),
    /// A Polyaxon agent config connection: (config index, connection index).
    Polyaxon(usize, usize),
}

/// A key that a reference needs.
#[derive(Clone, Debug)]
pub struct KeyNeed {
    /// The key.
    pub key: Spanned<String>,
    /// Field path of the key.
    pub path: String,
}

/// A reference from one object to another, by name, in one namespace.
#[derive(Clone, Debug)]
pub struct Reference {
    /// Who refers.
    pub from: Referrer,
    /// What kind of object is referred to.
    pub target: TargetKind,
    /// The namespace it is looked up in.
    pub namespace: String,
    /// The name, where written.
    pub name: Spanned<String>,
    /// Field path of the name.
    pub path: String,
    /// Keys that must exist.
    pub keys: Vec<KeyNeed>,
    /// Whether a missing target is allowed (`optional: true`).
    pub optional: bool,
}

/// A Polyaxon agent config document and its connections.
#[derive(Clone, Debug)]
pub struct PolyaxonConfig {
    /// Where it was read.
    pub provenance: Provenance,
    /// The document, as written: render copies it into the output (not as an object) so that
    /// the output can be rendered again.
    pub root: Node,
    /// Its connections (`artifactsStore` first when present).
    pub connections: Vec<polyaxon::PolyaxonConnection>,
}

/// A source of a Secret in the repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretSource {
    /// The declaring object.
    pub object: usize,
}

/// The lowered repository.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Kubernetes objects in input order, each in its own allocation: the runs lowered on
    /// every thread are joined by moving pointers, where moving the objects (368 bytes each,
    /// pinned by a test) wrote 15 MB into fresh memory at 10,000 connections while the runs
    /// were still held, which set `validate`'s peak, and at 1,000 kept one core idle while the
    /// other did it.
    pub objects: Vec<Box<Object>>,
    /// Polyaxon agent configs.
    pub polyaxon: Vec<PolyaxonConfig>,
    /// Every reference, in input order.
    pub references: Vec<Reference>,
    /// The namespace of objects that do not name one.
    pub default_namespace: String,
    /// Where secret values are written (Secret data, inline credentials, kubeconfigs), so that
    /// reporters can mask them in the source lines they show.
    pub secret_spans: Vec<Span>,
    index: Index,
}

/// A connection a workload can use: an object (ours or KubeETL's) or a Polyaxon agent entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsableConnection {
    /// An object, by index.
    Object(usize),
    /// A Polyaxon agent config connection: (config index, connection index).
    Polyaxon(usize, usize),
}

#[derive(Clone, Debug, Default)]
struct Index {
    /// Group, kind, namespace and name.
    by_key: KeyTable,
    /// Namespace and Secret name (a Secret's own, or the one a declaration creates).
    secrets: KeyTable,
    /// Namespace and name, per kind.
    configmaps: KeyTable,
    connections: KeyTable,
    etl_connections: KeyTable,
    kd_clusters: KeyTable,
    polyaxon_connections: HashMap<String, (usize, usize)>,
    connection_types: HashMap<(Flavour, String, String), usize>,
}

/// Marks a cluster-scoped object's namespace in identities (no namespace is spelt so).
const NO_NAMESPACE: &str = "\0";

/// What a Secret lookup found.
#[derive(Clone, Copy, Debug)]
pub enum SecretKeys<'m> {
    /// Keys are known.
    Known(&'m BTreeMap<String, Span>),
    /// Only the cluster knows (reason).
    Unknown(&'m str),
}

impl Model {
    /// Appends a model lowered from the documents that follow this one's: its object and
    /// Polyaxon indices shift by this model's counts. The index is not built.
    pub fn append(&mut self, mut later: Model) {
        let objects = self.objects.len();
        self.objects.append(&mut later.objects);
        self.append_all_but_objects(objects, later);
    }

    /// [`Model::append`] for all but `later`'s objects, which sit from index `objects` on.
    fn append_all_but_objects(&mut self, objects: usize, mut later: Model) {
        let configs = self.polyaxon.len();
        for reference in &mut later.references {
            reference.from = match reference.from {
                Referrer::Object(i) => Referrer::Object(i + objects),
                Referrer::Polyaxon(c, i) => Referrer::Polyaxon(c + configs, i),
            };
        }
        self.polyaxon.append(&mut later.polyaxon);
        self.references.append(&mut later.references);
        self.secret_spans.append(&mut later.secret_spans);
    }

    /// The models lowered from consecutive runs of documents joined in order, as appending
    /// each to the first would, on up to `threads` threads: the objects (pointers to them)
    /// are gathered on one beside the rest on another, whose references are the larger part
    /// (offset to their object's new index). The index is not built.
    pub fn concat(mut parts: Vec<Model>, default_namespace: String, threads: usize) -> Model {
        let runs: Vec<Vec<Box<Object>>> =
            parts.iter_mut().map(|part| std::mem::take(&mut part.objects)).collect();
        let lengths: Vec<usize> = runs.iter().map(Vec::len).collect();
        let gather_objects = || {
            let mut objects = Vec::with_capacity(lengths.iter().sum());
            runs.into_iter().for_each(|run| objects.extend(run));
            objects
        };
        let gather_rest = |_threads: usize| {
            let mut rest = Model::default();
            rest.references.reserve_exact(parts.iter().map(|p| p.references.len()).sum());
            let mut objects = 0;
            for (part, length) in parts.into_iter().zip(&lengths) {
                rest.append_all_but_objects(objects, part);
                objects += length;
            }
            rest
        };
        let (objects, rest) = crate::par::join(threads, gather_objects, gather_rest);
        Model { objects, default_namespace, ..rest }
    }

    /// Builds the lookup tables. Called once after lowering.
    pub fn build_index(&mut self) {
        self.build_index_with(1);
    }

    /// [`Model::build_index`] on up to `threads` threads: the table of every object's key is
    /// built beside the tables by name (together about half each), where the two used to run
    /// one after the other while the other cores waited.
    pub fn build_index_with(&mut self, threads: usize) {
        let mut index = Index::default();
        let by_key = || {
            let keys: Vec<(usize, [&str; 4])> =
                (0..self.objects.len()).map(|i| (i, self.key_parts(i))).collect();
            KeyTable::build(&keys)
        };
        let named = |wanted: fn(&Body) -> bool| -> KeyTable {
            let entries: Vec<(usize, [&str; 2])> = (0..self.objects.len())
                .filter(|&i| wanted(&self.objects[i].body))
                .map(|i| (i, self.name_parts(i)))
                .collect();
            KeyTable::build(&entries)
        };
        let all_named = |_threads: usize| {
            [
                named(|b| matches!(b, Body::Secret(_) | Body::SecretDeclaration(_))),
                named(|b| matches!(b, Body::ConfigMap(_))),
                named(|b| matches!(b, Body::Connection(c) if c.flavour == Flavour::Ours)),
                named(|b| matches!(b, Body::Connection(c) if c.flavour != Flavour::Ours)),
                named(|b| matches!(b, Body::KubeDirectorCluster(_))),
            ]
        };
        let (by_key, [secrets, configmaps, connections, etl_connections, kd_clusters]) =
            crate::par::join(threads, by_key, all_named);
        index.by_key = by_key;
        index.secrets = secrets;
        index.configmaps = configmaps;
        index.connections = connections;
        index.etl_connections = etl_connections;
        index.kd_clusters = kd_clusters;
        for (i, object) in self.objects.iter().enumerate() {
            if let Body::ConnectionType(t) = &object.body {
                index
                    .connection_types
                    .entry((
                        t.flavour,
                        object.namespace_str().to_string(),
                        object.name.value.clone(),
                    ))
                    .or_insert(i);
            }
        }
        for (c, config) in self.polyaxon.iter().enumerate() {
            for (i, connection) in config.connections.iter().enumerate() {
                if let Some(name) = &connection.name {
                    index.polyaxon_connections.entry(name.value.clone()).or_insert((c, i));
                }
            }
        }
        self.index = index;
    }

    /// Object `i`'s identity in [`Index::by_key`].
    fn key_parts(&self, i: usize) -> [&str; 4] {
        let object = &self.objects[i];
        let namespace = object.namespace.as_ref().map_or(NO_NAMESPACE, |n| n.value.as_str());
        [&object.group, &object.kind.value, namespace, &object.name.value]
    }

    /// Object `i`'s namespace and name, or for a Secret declaration the Secret's name.
    fn name_parts(&self, i: usize) -> [&str; 2] {
        let object = &self.objects[i];
        let name = match &object.body {
            Body::SecretDeclaration(decl) => &decl.secret_name.value,
            _ => &object.name.value,
        };
        [object.namespace_str(), name]
    }

    /// The first object of `table` named `name` in `namespace`.
    fn first_named(&self, table: &KeyTable, namespace: &str, name: &str) -> Option<usize> {
        table.get([namespace, name], |i| self.name_parts(i)).first().copied()
    }

    /// The connection a workload in `namespace` gets by naming it: our Connection first, then
    /// KubeETL's, then a Polyaxon agent connection (agent configs live in the default namespace).
    pub fn usable_connection(&self, namespace: &str, name: &str) -> Option<UsableConnection> {
        if let Some(i) = self
            .first_named(&self.index.connections, namespace, name)
            .or_else(|| self.first_named(&self.index.etl_connections, namespace, name))
        {
            return Some(UsableConnection::Object(i));
        }
        if namespace == self.default_namespace
            && let Some(&(c, i)) = self.index.polyaxon_connections.get(name)
        {
            return Some(UsableConnection::Polyaxon(c, i));
        }
        None
    }

    /// The connection model of a usable connection.
    pub fn connection_model(&self, connection: UsableConnection) -> Option<&ConnectionModel> {
        match connection {
            UsableConnection::Object(i) => match &self.objects[i].body {
                Body::Connection(c) => Some(c),
                _ => None,
            },
            UsableConnection::Polyaxon(c, i) => Some(&self.polyaxon[c].connections[i].model),
        }
    }

    /// Objects with the same identity, in input order.
    pub fn objects_with_key(&self) -> impl Iterator<Item = &[usize]> {
        self.index.by_key.groups()
    }

    /// The objects that declare Secret `name` in `namespace` (Secret, SealedSecret, ExternalSecret).
    pub fn secret_sources(&self, namespace: &str, name: &str) -> &[usize] {
        self.index.secrets.get([namespace, name], |i| self.name_parts(i))
    }

    /// The keys of a declared Secret (from its first declaration).
    pub fn secret_keys(&self, object: usize) -> Option<SecretKeys<'_>> {
        match &self.objects[object].body {
            Body::Secret(data) => Some(SecretKeys::Known(&data.keys)),
            Body::SecretDeclaration(decl) => Some(match &decl.keys {
                Ok(keys) => SecretKeys::Known(keys),
                Err(reason) => SecretKeys::Unknown(reason),
            }),
            _ => None,
        }
    }

    /// The ConfigMap `name` in `namespace`.
    pub fn configmap(&self, namespace: &str, name: &str) -> Option<usize> {
        self.first_named(&self.index.configmaps, namespace, name)
    }

    /// Our Connection `name` in `namespace`.
    pub fn connection(&self, namespace: &str, name: &str) -> Option<usize> {
        self.first_named(&self.index.connections, namespace, name)
    }

    /// A ConnectionType of `flavour` named `name` in `namespace`.
    pub fn connection_type(&self, flavour: Flavour, namespace: &str, name: &str) -> Option<usize> {
        self.index
            .connection_types
            .get(&(flavour, namespace.to_string(), name.to_string()))
            .copied()
    }

    /// The KubeDirectorCluster `name` in `namespace`.
    pub fn kubedirector_cluster(&self, namespace: &str, name: &str) -> Option<usize> {
        self.first_named(&self.index.kd_clusters, namespace, name)
    }

    /// The provenance of whoever made a reference.
    pub fn referrer_provenance(&self, referrer: Referrer) -> Provenance {
        match referrer {
            Referrer::Object(i) => self.objects[i].provenance,
            Referrer::Polyaxon(c, _) => self.polyaxon[c].provenance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Model, Referrer};
    use crate::source::{FileId, LineIndex};

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn objects_stay_the_size_their_docs_give() {
        // `Model::objects` explains its boxing by this size; a change shows here first.
        assert_eq!(std::mem::size_of::<super::Object>(), 368);
    }

    /// Joining parts on two threads gives what appending them one by one gives: objects,
    /// Polyaxon agent configs and references in order, with each reference's object or agent
    /// config index shifted past the earlier parts.
    #[test]
    fn concat_is_appending_in_order() {
        let yaml = "\
apiVersion: v1
kind: ConfigMap
metadata: {name: git-settings, namespace: ns}
---
connections:
- {name: lake, kind: s3, secret: {name: aws-lake}}
---
apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorCluster
metadata: {name: notebook, namespace: ns}
spec: {app: jupyter, connections: {secrets: [aws-lake], configmaps: [git-settings]}}
---
connections:
- {name: repo, kind: git, configMap: {name: git-settings}}
";
        let lines = LineIndex::new(yaml);
        let (documents, problems) =
            crate::parse::parse(FileId(0), yaml, &lines, crate::parse::Limits::default());
        assert!(problems.is_empty(), "{problems:?}");
        let options = crate::model::LowerOptions::default();
        let parts = || -> Vec<Model> {
            documents.iter().map(|d| crate::model::lower(vec![d.clone()], &options).0).collect()
        };
        let mut appended = Model::default();
        parts().into_iter().for_each(|part| appended.append(part));
        let joined = Model::concat(parts(), String::new(), 2);
        assert_eq!(joined.objects.len(), 2);
        assert_eq!(joined.polyaxon.len(), 2);
        assert_eq!(format!("{:?}", joined.references), format!("{:?}", appended.references));
        let from: Vec<Referrer> = joined.references.iter().map(|r| r.from).collect();
        assert!(from.contains(&Referrer::Polyaxon(1, 0)), "{from:?}");
        assert!(from.contains(&Referrer::Object(1)), "{from:?}");
    }
}
