//! Render: the model in, a [`Plan`] of output files out (DESIGN.md §5).
//!
//! Kubernetes objects of the input pass through (with their namespace made explicit and null
//! metadata dropped), workloads that use connections get env and volumes injected, and each
//! `connections.dev` Connection gets its settings ConfigMap. Build configuration (kustomize,
//! kpt) and create-only objects (Loft `ClusterConnect`) are inputs only. The plan is sorted by
//! path, so its bytes do not depend on the order files were read in.

pub mod binding;
pub mod configmeta;
pub mod emit;
pub mod external;
pub mod generate;
pub mod gojson;
pub mod loft;
pub mod project;
pub mod sealed;

use crate::diagnostic::Diagnostic;
use crate::model::{Body, Model, Object};
use crate::par;
use crate::syntax::Node;
use foldhash::fast::FixedState;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// One object of the output.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedObject {
    /// Path relative to the output folder, e.g. `data/secret-pg.yaml`.
    pub path: String,
    /// The YAML document (no `---`), ending in a newline.
    pub yaml: String,
    /// The input object (model index) this renders; `None` for generated objects.
    pub input: Option<usize>,
}

/// What render produces: objects, plus other files (configmeta).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Objects, sorted by path.
    pub objects: Vec<PlannedObject>,
    /// Other files by path (not listed in the kustomization): KubeDirector configmeta.
    pub extra_files: BTreeMap<String, String>,
    /// Input documents that are not Kubernetes objects, copied by path so that rendering the
    /// output again gives the same output (Polyaxon agent configs, which the workloads' projected
    /// connections come from); not listed in the kustomization, not part of the stream.
    pub kept_inputs: BTreeMap<String, String>,
}

/// The output folder for cluster-scoped objects.
pub const CLUSTER_DIR: &str = "_cluster";

/// The output folder for Polyaxon agent configs (like [`CLUSTER_DIR`], not a possible
/// namespace name).
pub const POLYAXON_DIR: &str = "_polyaxon";

impl Plan {
    /// `kustomization.yaml`, listing every object file.
    pub fn kustomization(&self) -> String {
        let mut out =
            String::from("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
        if self.objects.is_empty() {
            out.push_str("resources: []\n");
            return out;
        }
        out.push_str("resources:\n");
        for object in &self.objects {
            out.push_str("- ");
            emit::write_string(&mut out, &object.path, 0, false);
            out.push('\n');
        }
        out
    }

    /// Every file to write, by relative path, sorted (kustomization, objects, extra files).
    pub fn files(&self) -> Vec<(String, String)> {
        self.file_views().into_iter().map(|(p, c)| (p.to_string(), c.into_owned())).collect()
    }

    /// [`Plan::files`] without copying what the plan holds (every object's text: tens of
    /// megabytes at 10,000 connections); only the kustomization is made here.
    pub fn file_views(&self) -> Vec<(&str, Cow<'_, str>)> {
        let mut files: Vec<(&str, Cow<'_, str>)> = self
            .objects
            .iter()
            .map(|o| (o.path.as_str(), Cow::Borrowed(o.yaml.as_str())))
            .collect();
        files.push(("kustomization.yaml", Cow::Owned(self.kustomization())));
        files.extend(self.extra_files.iter().map(|(p, c)| (p.as_str(), Cow::Borrowed(c.as_str()))));
        files.extend(self.kept_inputs.iter().map(|(p, c)| (p.as_str(), Cow::Borrowed(c.as_str()))));
        // Paths are unique, so this is the order of the whole pairs too.
        files.sort_by(|a, b| a.0.cmp(b.0));
        files
    }

    /// All objects as one multi-document YAML stream, in path order.
    pub fn stream(&self) -> String {
        let mut out = String::with_capacity(self.objects.iter().map(|o| o.yaml.len() + 4).sum());
        self.stream_parts().for_each(|part| out.push_str(part));
        out
    }

    /// [`Plan::stream`] in pieces, for writing it out without building it first (at
    /// 10,000 connections the stream is about 45 MB).
    pub fn stream_parts(&self) -> impl Iterator<Item = &str> {
        self.objects.iter().enumerate().flat_map(|(i, object)| {
            let separator = if i > 0 { "---\n" } else { "" };
            [separator, object.yaml.as_str()]
        })
    }
}

struct Entry {
    dir: String,
    kind: String,
    group: String,
    name: String,
    /// The object as YAML (emitted where the entry is made, so that the tree is dropped on
    /// the thread that built it).
    yaml: String,
    /// The input object carries our `generated-from` annotation (earlier output read back).
    generated: bool,
    /// Made by this render.
    fresh: bool,
    /// The input object (model index), for entries that render one.
    input: Option<usize>,
}

/// The generated settings ConfigMap of every Connection, by object index.
fn settings_configmaps(
    model: &Model,
    threads: usize,
) -> BTreeMap<usize, generate::SettingsConfigMap> {
    // Only connections have one: mapping every object held a result slot per object while
    // the map was built, at `validate`'s peak memory (3 MB at 10,000 connections).
    let connections: Vec<usize> = (0..model.objects.len())
        .filter(|&i| matches!(model.objects[i].body, Body::Connection(_)))
        .collect();
    par::map(&connections, threads, |&i| generate::settings_configmap(model, i).map(|cm| (i, cm)))
        .into_iter()
        .flatten()
        .collect()
}

/// What [`render`] would report (an invalid volume name, a projection conflict), without
/// writing anything, on up to `threads` threads: only the workloads that use connections are
/// projected, on copies that are then dropped. `validate` runs this instead of a whole render.
pub fn findings_with(model: &Model, threads: usize) -> Vec<Diagnostic> {
    let settings = settings_configmaps(model, threads);
    let workloads: Vec<usize> = model
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(&o.body, Body::Workload(w) if !w.uses.is_empty()))
        .map(|(i, _)| i)
        .collect();
    let per_workload = par::map(&workloads, threads, |&i| {
        let object = &model.objects[i];
        let mut node = Cow::Borrowed(&object.root);
        normalise(object, &mut node);
        let mut diagnostics = Vec::new();
        project::project(model, i, node.to_mut(), &settings, &mut diagnostics);
        diagnostics
    });
    per_workload.into_iter().flatten().collect()
}

/// Choices a render takes beyond the model.
#[derive(Clone, Copy, Default)]
pub struct RenderOptions<'a> {
    /// With `--secrets sealed`: every plaintext Secret of the output (committed, or generated
    /// from a Loft kubeconfig) is written as a SealedSecret instead.
    pub seal: Option<(&'a dyn sealed::Sealer, sealed::Scope)>,
    /// Only the objects are wanted, as a stream: the plan's files beside them
    /// ([`Plan::extra_files`], [`Plan::kept_inputs`]) stay empty. Building the configmeta
    /// files took about 2 % of `render --stdout`'s CPU time at 1,000 connections.
    pub stream_only: bool,
}

/// Renders the model. Call only when the checks found no error; render's own findings (an
/// invalid volume name, a projection conflict) come back with the plan.
pub fn render(model: &Model) -> (Plan, Vec<Diagnostic>) {
    render_with(model, 1)
}

/// The output entry of input object `i` (`None` for inputs that are not output), with the
/// findings of projecting connections into it.
fn input_entry(
    model: &Model,
    i: usize,
    settings: &BTreeMap<usize, generate::SettingsConfigMap>,
    options: RenderOptions,
) -> Option<(Entry, Vec<Diagnostic>)> {
    let object = &model.objects[i];
    if matches!(object.body, Body::LocalConfig | Body::ClusterConnect(_)) {
        return None;
    }
    let mut diagnostics = Vec::new();
    // Most objects pass through as written: those are emitted from the model's own tree, and
    // only an object that changes is copied, at its first change (copying every tree was a
    // tenth of render).
    let mut node = Cow::Borrowed(&object.root);
    normalise(object, &mut node);
    if let Body::Workload(w) = &object.body
        && !w.uses.is_empty()
    {
        project::project(model, i, node.to_mut(), settings, &mut diagnostics);
    }
    if let Body::KubeDirectorCluster(kd) = &object.body
        && !(kd.clusters.is_empty() && kd.configmaps.is_empty() && kd.secrets.is_empty())
        && let Some(metadata) = node.to_mut().get_mut("metadata")
        && let Some(annotations) = metadata.map_at("annotations")
    {
        annotations.set(
            configmeta::CONNECTIONS_HASH,
            Node::string(configmeta::connections_hash(model, i)),
        );
    }
    // Connections are read literally: Flux must not substitute `${` in them either.
    if matches!(object.body, Body::Connection(_) | Body::ConnectionType(_))
        && generate::holds_substitution_marker(&object.root)
        && let Some(annotations) =
            node.to_mut().map_at("metadata").and_then(|m| m.map_at("annotations"))
    {
        let (key, value) = generate::FLUX_SUBSTITUTE_DISABLED;
        annotations.set(key, Node::string(value));
    }
    let generated =
        object.root.path(&["metadata", "annotations", generate::GENERATED_FROM]).is_some();
    // Every plaintext Secret is sealed: SOPS-encrypted ones are declarations, not `Secret`s.
    if let (Body::Secret(data), Some((sealer, scope))) = (&object.body, options.seal) {
        let sealed = sealed::seal_secret(
            &node,
            object.namespace_str(),
            &object.name.value,
            &data.values,
            sealer,
            scope,
        );
        let mut entry = entry(object, i, &sealed, generated);
        entry.kind = "SealedSecret".into();
        entry.group = "bitnami.com".into();
        return Some((entry, diagnostics));
    }
    Some((entry(object, i, &node, generated), diagnostics))
}

/// [`render`] on up to `threads` threads; the plan does not depend on the count.
pub fn render_with(model: &Model, threads: usize) -> (Plan, Vec<Diagnostic>) {
    render_with_options(model, threads, RenderOptions::default())
}

/// [`render_with`], with choices such as sealing.
pub fn render_with_options(
    model: &Model,
    threads: usize,
    options: RenderOptions,
) -> (Plan, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let settings = settings_configmaps(model, threads);
    let indices: Vec<usize> = (0..model.objects.len()).collect();
    let inputs = par::map(&indices, threads, |&i| input_entry(model, i, &settings, options));
    let mut entries = Vec::with_capacity(model.objects.len() + settings.len());
    for (entry, mut found) in inputs.into_iter().flatten() {
        entries.push(entry);
        diagnostics.append(&mut found);
    }
    for object in &model.objects {
        if let Body::ClusterConnect(connect) = &object.body
            && let Some((cluster, secret)) = loft::convert(object, connect)
        {
            let (secret, secret_group, secret_kind) = match options.seal {
                Some((sealer, scope)) => {
                    let values = sealed::node_values(&secret);
                    let sealed = sealed::seal_secret(
                        &secret,
                        loft::SECRET_NAMESPACE,
                        &loft::secret_name(&object.name.value),
                        &values,
                        sealer,
                        scope,
                    );
                    (sealed, "bitnami.com", "SealedSecret")
                }
                None => (secret, "", "Secret"),
            };
            for (node, dir, group, kind, name) in [
                (
                    cluster,
                    CLUSTER_DIR.to_string(),
                    "storage.loft.sh",
                    "Cluster",
                    object.name.value.clone(),
                ),
                (
                    secret,
                    loft::SECRET_NAMESPACE.to_string(),
                    secret_group,
                    secret_kind,
                    loft::secret_name(&object.name.value),
                ),
            ] {
                entries.push(Entry {
                    dir,
                    kind: kind.into(),
                    group: group.into(),
                    name,
                    yaml: emit::to_yaml(&node),
                    generated: true,
                    fresh: true,
                    input: None,
                });
            }
        }
    }
    let generated: Vec<(&usize, &generate::SettingsConfigMap)> = settings.iter().collect();
    entries.extend(par::map(&generated, threads, |&(&i, cm)| {
        let object = &model.objects[i];
        Entry {
            dir: object.namespace_str().to_string(),
            kind: "ConfigMap".into(),
            group: String::new(),
            name: cm.name.clone(),
            yaml: emit::to_yaml(&generate::settings_configmap_node(object, cm)),
            generated: true,
            fresh: true,
            input: None,
        }
    }));
    let clusters: Vec<usize> =
        if options.stream_only { Vec::new() } else { configmeta::clusters(model).collect() };
    // The configmeta files are built while the paths are planned, which then keeps to one
    // thread; with no configmeta files (a stream) the planning spreads over every thread.
    let plan_threads = if clusters.is_empty() { threads } else { 1 };
    let (mut plan, files) = par::join(
        threads,
        || plan(entries, plan_threads),
        |threads| {
            par::map(&clusters, threads, |&i| {
                (
                    configmeta::path(&model.objects[i]),
                    configmeta::configmeta_with(model, i, options.seal.is_some()),
                )
            })
        },
    );
    plan.extra_files.extend(files);
    if !options.stream_only {
        plan.kept_inputs = model
            .polyaxon
            .iter()
            .enumerate()
            .map(|(c, config)| {
                (format!("{POLYAXON_DIR}/agent-config-{c}.yaml"), emit::to_yaml(&config.root))
            })
            .collect();
    }
    (plan, diagnostics)
}

fn entry(object: &Object, input: usize, node: &Node, generated: bool) -> Entry {
    Entry {
        input: Some(input),
        dir: object.namespace.as_ref().map_or_else(|| CLUSTER_DIR.to_string(), |n| n.value.clone()),
        kind: object.kind.value.clone(),
        group: object.group.clone(),
        name: object.name.value.clone(),
        yaml: emit::to_yaml(node),
        generated,
        fresh: false,
    }
}

/// Whether [`drop_null_template_timestamps`] has anything to drop. This walks every object
/// written, so scalar values (most of them, and neither a `metadata` mapping nor holding one)
/// are passed over before their key is looked at.
fn holds_null_template_timestamp(node: &Node) -> bool {
    use crate::syntax::NodeValue;
    match &node.value {
        NodeValue::Map(entries) => entries.iter().any(|(key, value)| match &value.value {
            NodeValue::Scalar(_) => false,
            NodeValue::Map(meta) if key.key_matches("metadata") => {
                meta.iter().any(|(k, v)| k.key_matches("creationTimestamp") && v.is_null())
                    || holds_null_template_timestamp(value)
            }
            _ => holds_null_template_timestamp(value),
        }),
        NodeValue::Seq(items) => items.iter().any(|item| {
            !matches!(item.value, NodeValue::Scalar(_)) && holds_null_template_timestamp(item)
        }),
        NodeValue::Scalar(_) => false,
    }
}

/// Makes the namespace explicit and drops null metadata fields and `creationTimestamp`, which
/// `kubectl get -o yaml` leaves behind and which only add noise to diffs.
/// The tree is copied only if something changes (most objects are written without any).
fn normalise(object: &Object, node: &mut Cow<'_, Node>) {
    // SOPS's MAC covers every value of the file, encrypted or not: adding or dropping a field
    // would make decryption fail. SOPS files pass through as written.
    if node.get("sops").and_then(Node::as_map).is_some() {
        return;
    }
    if holds_null_template_timestamp(node) {
        drop_null_template_timestamps(node.to_mut());
    }
    let Some(entries) = node.get("metadata").and_then(Node::as_map) else { return };
    let dropped = |(k, v): &(Node, Node)| v.is_null() || k.key_matches("creationTimestamp");
    let add_namespace = object.namespace.as_ref().filter(|_| !object.namespace_written);
    if !entries.iter().any(dropped) && add_namespace.is_none() {
        return;
    }
    let Some(entries) = node.to_mut().get_mut("metadata").and_then(Node::as_map_mut) else {
        return;
    };
    entries.retain(|entry| !dropped(entry));
    if let Some(ns) = add_namespace {
        let at = entries.iter().position(|(k, _)| k.key_matches("name")).map_or(0, |p| p + 1);
        entries.insert(at, (Node::string("namespace"), Node::string(ns.value.clone())));
    }
}

/// `kubectl get -o yaml` leaves `creationTimestamp: null` in pod templates too.
fn drop_null_template_timestamps(node: &mut Node) {
    match &mut node.value {
        crate::syntax::NodeValue::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                if key.key_matches("metadata")
                    && let Some(meta) = value.as_map_mut()
                {
                    meta.retain(|(k, v)| !(k.key_matches("creationTimestamp") && v.is_null()));
                }
                drop_null_template_timestamps(value);
            }
        }
        crate::syntax::NodeValue::Seq(items) => {
            items.iter_mut().for_each(drop_null_template_timestamps)
        }
        crate::syntax::NodeValue::Scalar(_) => {}
    }
}

/// A file-name-safe form of a name: names the API server accepts may still hold characters
/// that are unsafe in paths (`:` in RBAC names); those get a hash suffix to stay unique.
pub(crate) fn file_stem(kind: &str, name: &str) -> String {
    let safe = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !name.starts_with('.');
    // A kind (or `kind.group`) is checked by lowering, but a path is no place to trust that;
    // a long group is cut (objects it then confuses get a hash of their identity, in `plan`).
    let kind: String = kind
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let kind = kind.trim_start_matches('.');
    // A file name may have at most 255 bytes; names may have 253. Long ones are cut and get a
    // hash, so that they stay unique.
    const MAX_STEM: usize = 255 - ".yaml".len() - 9;
    if safe && kind.len() + 1 + name.len() <= MAX_STEM {
        // Every output object takes this branch: a concatenation, not `format!`.
        [kind, "-", name].concat()
    } else if safe {
        let keep = MAX_STEM.saturating_sub(kind.len() + 1).min(name.len());
        let hash = generate::content_hash([(name, name.as_bytes())]);
        format!("{kind}-{}-{}", &name[..keep], &hash[..8])
    } else {
        let cleaned: String =
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '_' }
                })
                .take(200)
                .collect();
        let hash = generate::content_hash([(name, name.as_bytes())]);
        format!("{kind}-{cleaned}-{}", &hash[..8])
    }
}

fn plan(mut entries: Vec<Entry>, threads: usize) -> Plan {
    let mut paths: Vec<String> = par::map(&entries, threads, |e| plan_path(e, false, ""));
    // Nearly every render: no identity twice and no two paths alike, so the plan is the
    // entries sorted by path. Found by sorting first: with every path in lower-case ASCII,
    // paths alike without case are equal, and equal ones sit side by side once sorted; an
    // identity twice gives a path twice. File names are always lower-case ASCII
    // (`file_stem`); only a folder (a namespace written with capitals) can fail the check.
    // This saves the two hash maps of the general case, which ran on one thread while the
    // others waited (about 2 ms of `render --stdout` at 1,000 connections).
    if paths.iter().all(|path| is_folded(path)) {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_unstable_by(|&a, &b| paths[a].cmp(&paths[b]));
        if order.windows(2).all(|pair| paths[pair[0]] != paths[pair[1]]) {
            let chosen = order.into_iter().map(|i| (i, std::mem::take(&mut paths[i])));
            return planned(&mut entries, chosen);
        }
    }
    plan_with_clashes(entries, paths)
}

/// The output path of entry `e`: `<dir>/<kind>-<name><suffix>.yaml`, with the group in the
/// file name when `qualify` is set. Made whole in one allocation: appending the extension
/// afterwards reallocated every path, on one thread.
fn plan_path(e: &Entry, qualify: bool, suffix: &str) -> String {
    let kind: Cow<'_, str> = if qualify && !e.group.is_empty() {
        [e.kind.as_str(), ".", &e.group].concat().into()
    } else {
        e.kind.as_str().into()
    };
    [e.dir.as_str(), "/", &file_stem(&kind, &e.name), suffix, ".yaml"].concat()
}

/// Whether `path` is already as it compares without case: lower-case ASCII.
fn is_folded(path: &str) -> bool {
    path.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase())
}

/// The plan of the `chosen` entries, `(index, path)`, in the order given (sorted by path).
fn planned(entries: &mut [Entry], chosen: impl Iterator<Item = (usize, String)>) -> Plan {
    let objects = chosen
        .map(|(i, path)| PlannedObject {
            path,
            yaml: std::mem::take(&mut entries[i].yaml),
            input: entries[i].input,
        })
        .collect();
    Plan { objects, extra_files: BTreeMap::new(), kept_inputs: BTreeMap::new() }
}

/// [`plan`] where identities repeat or paths are alike without case; `all_paths` are every
/// entry's unqualified path, as [`plan`] made them (on every thread).
fn plan_with_clashes(mut entries: Vec<Entry>, all_paths: Vec<String>) -> Plan {
    // One entry per identity. The same identity twice is either generated output fed back in
    // as input (the fresh one replaces it) or a duplicate, which the checks report as an error.
    fn identity(e: &Entry) -> (&str, &str, &str, &str) {
        (&e.group, &e.kind, &e.dir, &e.name)
    }
    let mut by_identity: HashMap<_, usize, FixedState> =
        HashMap::with_capacity_and_hasher(entries.len(), FixedState::default());
    let mut kept: Vec<bool> = vec![true; entries.len()];
    for (i, e) in entries.iter().enumerate() {
        match by_identity.get(&identity(e)) {
            None => {
                by_identity.insert(identity(e), i);
            }
            Some(&first) if e.fresh && entries[first].generated => {
                kept[first] = false;
                by_identity.insert(identity(e), i);
            }
            Some(_) => kept[i] = false,
        }
    }
    let live: Vec<usize> = (0..entries.len()).filter(|&i| kept[i]).collect();

    // Paths by position in `live`. Where two objects would share a path (compared without
    // case, for case-insensitive filesystems), the group goes into the file name; where that
    // is not enough (kinds that differ only in case), a short hash of the identity is added.
    let mut paths: Vec<String> =
        all_paths.into_iter().zip(kept).filter_map(|(path, kept)| kept.then_some(path)).collect();
    for round in 0..2 {
        let mut by_path: HashMap<Cow<'_, str>, Vec<usize>, FixedState> =
            HashMap::with_capacity_and_hasher(paths.len(), FixedState::default());
        for (at, path) in paths.iter().enumerate() {
            let folded = if is_folded(path) {
                Cow::Borrowed(path.as_str())
            } else {
                Cow::Owned(path.to_lowercase())
            };
            by_path.entry(folded).or_default().push(at);
        }
        let shared: Vec<usize> = by_path.into_values().filter(|v| v.len() > 1).flatten().collect();
        if shared.is_empty() {
            break;
        }
        for at in shared {
            let e = &entries[live[at]];
            paths[at] = if round == 0 {
                plan_path(e, true, "")
            } else {
                let id = format!("{}/{}/{}/{}", e.group, e.kind, e.dir, e.name);
                let hash = generate::content_hash([(id.as_str(), &b""[..])]);
                plan_path(e, true, &["-", &hash[..8]].concat())
            };
        }
    }
    let mut chosen: Vec<(usize, String)> = live.into_iter().zip(paths).collect();
    // Stable: the paths are not proven unique here.
    chosen.sort_by(|a, b| a.1.cmp(&b.1));
    planned(&mut entries, chosen.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(group: &str, kind: &str, name: &str) -> Entry {
        Entry {
            dir: "ns".into(),
            kind: kind.into(),
            group: group.into(),
            name: name.into(),
            yaml: format!("{kind} {name}\n"),
            generated: false,
            fresh: false,
            input: None,
        }
    }

    /// The model of `yaml`, which must parse cleanly, with `default_namespace`.
    fn model_of(yaml: &str, default_namespace: &str) -> Model {
        let lines = crate::source::LineIndex::new(yaml);
        let (docs, problems) = crate::parse::parse(
            crate::source::FileId(0),
            yaml,
            &lines,
            crate::parse::Limits::default(),
        );
        assert!(problems.is_empty(), "{problems:?}");
        let options = crate::model::LowerOptions {
            default_namespace: default_namespace.into(),
            ..Default::default()
        };
        crate::model::lower(docs, &options).0
    }

    /// `render --stdout` gets the same objects without the files beside them.
    #[test]
    fn a_stream_only_render_builds_the_same_objects_and_no_configmeta() {
        let yaml = "\
apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorCluster
metadata: {name: nb, namespace: ns}
spec:
  connections: {configmaps: [cm]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: ns, labels: {kubedirector.hpe.com/cmType: git}}
data: {a: x}
---
artifactsStore: {name: store, kind: host_path, schema: {hostPath: /data, mountPath: /data}}
connections: []
";
        let model = model_of(yaml, "default");
        let (full, _) = render_with_options(&model, 2, RenderOptions::default());
        let stream_only = RenderOptions { stream_only: true, ..RenderOptions::default() };
        let (stream, _) = render_with_options(&model, 2, stream_only);
        assert_eq!(full.extra_files.keys().collect::<Vec<_>>(), ["configmeta/ns/nb.json"]);
        assert_eq!(full.kept_inputs.keys().collect::<Vec<_>>(), ["_polyaxon/agent-config-0.yaml"]);
        assert_eq!(stream.objects, full.objects);
        assert!(stream.extra_files.is_empty() && stream.kept_inputs.is_empty());
        assert_eq!(configmeta::clusters(&model).count(), 1);
    }

    /// An object written as kubectl would print it stays borrowed (no copy); one with
    /// `kubectl get -o yaml` leftovers or without its namespace is copied and cleaned.
    #[test]
    fn normalise_copies_only_what_it_changes() {
        let yaml = "\
apiVersion: v1
kind: ConfigMap
metadata: {name: clean, namespace: ns}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: leftovers, namespace: ns, creationTimestamp: null}
spec:
  template:
    metadata: {creationTimestamp: null, labels: {a: b}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: bare}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: claims, namespace: ns}
spec:
  volumeClaimTemplates:
  - metadata: {name: data, creationTimestamp: null}
";
        let model = model_of(yaml, "ns");
        let normalised = |i: usize| {
            let mut node = Cow::Borrowed(&model.objects[i].root);
            normalise(&model.objects[i], &mut node);
            node
        };
        assert!(matches!(normalised(0), Cow::Borrowed(_)));
        let leftovers = normalised(1);
        assert!(matches!(leftovers, Cow::Owned(_)));
        assert_eq!(
            emit::to_yaml(&leftovers),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: leftovers\n  namespace: ns\nspec:\n  template:\n    metadata:\n      labels:\n        a: b\n"
        );
        let bare = normalised(2);
        assert!(matches!(bare, Cow::Owned(_)));
        assert_eq!(bare.path(&["metadata", "namespace"]).and_then(Node::as_str), Some("ns"));
        // A leftover only in a mapping inside a list.
        let claims = normalised(3);
        assert!(matches!(claims, Cow::Owned(_)));
        assert!(emit::to_yaml(&claims).ends_with("  - metadata:\n      name: data\n"));
    }

    /// Objects whose paths would be the same without case get their group in the file name,
    /// and then a hash of their identity when that is not enough; the others keep the plain
    /// form.
    #[test]
    fn paths_that_would_clash_without_case_are_told_apart() {
        let entries = || {
            vec![
                entry("a.example.com", "Widget", "x"),
                entry("b.example.com", "Widget", "x"),
                entry("c.io", "Gadget", "y"),
                entry("c.io", "GADGET", "y"),
                entry("", "ConfigMap", "z"),
            ]
        };
        let plan = plan(entries(), 2);
        let paths: Vec<&str> = plan.objects.iter().map(|o| o.path.as_str()).collect();
        let one_thread = super::plan(entries(), 1);
        assert_eq!(one_thread.objects.iter().map(|o| o.path.as_str()).collect::<Vec<_>>(), paths);
        assert!(paths.contains(&"ns/widget.a.example.com-x.yaml"), "{paths:?}");
        assert!(paths.contains(&"ns/widget.b.example.com-x.yaml"), "{paths:?}");
        assert!(paths.contains(&"ns/configmap-z.yaml"), "{paths:?}");
        let gadgets: Vec<&&str> =
            paths.iter().filter(|p| p.starts_with("ns/gadget.c.io-y-")).collect();
        assert_eq!(gadgets.len(), 2, "{paths:?}");
        let folded: std::collections::BTreeSet<String> =
            paths.iter().map(|p| p.to_lowercase()).collect();
        assert_eq!(folded.len(), paths.len(), "{paths:?}");
        // Sorted by path, each with its own text.
        assert!(paths.windows(2).all(|w| w[0] < w[1]), "{paths:?}");
        let widget_a = plan.objects.iter().find(|o| o.path.contains(".a.example.com")).unwrap();
        assert_eq!(widget_a.yaml, "Widget x\n");
    }

    /// Without shared paths the shortcut gives what the general planning gives; an identity
    /// twice (earlier output read back beside the fresh object) is left to the general
    /// planning, which keeps the fresh one.
    #[test]
    fn the_plan_without_clashes_is_the_general_plan() {
        let entries = || {
            vec![
                entry("", "ConfigMap", "b"),
                entry("apps", "Deployment", "a"),
                entry("", "Secret", "c"),
                entry("", "ConfigMap", "a"),
            ]
        };
        let shortcut = plan(entries(), 2);
        assert_eq!(shortcut.objects.len(), 4);
        let all = entries();
        let paths = all.iter().map(|e| plan_path(e, false, "")).collect();
        assert_eq!(shortcut, plan_with_clashes(all, paths));
        let mut earlier = entry("", "ConfigMap", "a");
        (earlier.generated, earlier.yaml) = (true, "earlier\n".into());
        let mut fresh = entry("", "ConfigMap", "a");
        (fresh.fresh, fresh.yaml) = (true, "fresh\n".into());
        let planned = plan(vec![earlier, entry("", "Secret", "c"), fresh], 2);
        let texts: Vec<&str> = planned.objects.iter().map(|o| o.yaml.as_str()).collect();
        assert_eq!(texts, ["fresh\n", "Secret c\n"]);
        // Folders alike without case (namespaces written with capitals) still get told apart.
        let mut upper = entry("", "ConfigMap", "a");
        upper.dir = "NS".into();
        let planned = plan(vec![upper, entry("", "ConfigMap", "a")], 2);
        let folded: std::collections::BTreeSet<String> =
            planned.objects.iter().map(|o| o.path.to_lowercase()).collect();
        assert_eq!(folded.len(), 2, "{:?}", planned.objects);
    }
}
