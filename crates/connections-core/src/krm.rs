//! The KRM function (`kubectl connections fn render`, for kpt and kustomize): a
//! `config.kubernetes.io/v1` ResourceList's text in, the ResourceList to print out. The
//! plugin reads standard input and prints [`respond`]'s answer; everything between is here, so
//! that it is pure and can be tested (and fuzzed) without a process.
//!
//! The items are checked and rendered as a repository would be. Out come: the items, in their
//! order, with the workloads that use connections patched and KubeDirector clusters annotated
//! (everything else exactly as it came in, the Kptfile included); then the generated objects,
//! each with `config.kubernetes.io/path` in render's output layout, so that `kpt fn render`
//! writes them where `render --out` would. A generated object the package already holds (the
//! output of an earlier run, written into the package) replaces that item in place and keeps
//! its path, index and id annotations, so running the function again changes nothing.
//!
//! Every finding becomes a `results` entry with its severity, `resourceRef`, `field.path` and
//! `file` (the item's path and index annotations). With an error, the items come back
//! unchanged (kpt shows the results) and the exit code is 1.

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Body, LowerOptions};
use crate::parse;
use crate::pipeline::{self, Need, Secrets};
use crate::render::emit;
use crate::render::external::SecretStore;
use crate::source::{FileId, SourceFile, SourceMap};
use crate::syntax::{Document, Node};
use crate::validate::Offline;
use std::collections::HashMap;

/// Where kpt and kustomize say an item comes from (the internal forms first).
const PATH_ANNOTATIONS: [&str; 2] =
    ["internal.config.kubernetes.io/path", "config.kubernetes.io/path"];
const INDEX_ANNOTATIONS: [&str; 2] =
    ["internal.config.kubernetes.io/index", "config.kubernetes.io/index"];
/// Annotation prefixes orchestrators use to track items; kept on an item we replace.
const ORCHESTRATOR_PREFIXES: [&str; 3] =
    ["config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/"];

/// The settings the functionConfig can give.
const SETTINGS: [&str; 5] =
    ["namespace", "secrets", "secret-store", "secret-store-kind", "strict-secrets"];

/// Reads the functionConfig: a ConfigMap's `data` (what `kpt fn eval -- key=value` and a
/// Kptfile's `configMap:` make), or the `spec` of any other object. The secrets mode is
/// `None` for `reference` (the default) and the store for `external-secret`; an unknown or
/// invalid setting is refused with the message to show.
pub fn settings(config: Option<&Node>) -> Result<(LowerOptions, Option<SecretStore>), String> {
    let mut lower = LowerOptions { default_namespace: "default".into(), ..LowerOptions::default() };
    let mut values: HashMap<String, String> = HashMap::new();
    let fields = config.and_then(|c| c.get("data").or_else(|| c.get("spec")));
    for (key, value) in fields.and_then(Node::as_map).unwrap_or_default() {
        let key = key.key_text();
        if !SETTINGS.contains(&key.as_str()) {
            return Err(format!(
                "functionConfig: unknown setting `{key}`; known: {}",
                SETTINGS.join(", ")
            ));
        }
        let text = value.as_scalar().map(|s| s.resolve().to_text()).unwrap_or_default();
        values.insert(key, text);
    }
    if let Some(namespace) = values.get("namespace") {
        crate::rules::dns1123_label(namespace)
            .map_err(|reason| format!("functionConfig: namespace {reason}"))?;
        lower.default_namespace = namespace.clone();
    }
    lower.strict_secrets = match values.get("strict-secrets").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(format!(
                "functionConfig: strict-secrets is `true` or `false`, not `{other}`"
            ));
        }
    };
    let secrets = match values.get("secrets").map(String::as_str) {
        None | Some("reference") => None,
        Some("external-secret") => {
            let name = values.get("secret-store").cloned().ok_or_else(|| {
                "functionConfig: secrets=external-secret needs secret-store".to_string()
            })?;
            crate::rules::dns1123_subdomain(&name).map_err(|reason| {
                format!("functionConfig: secret-store: a secret store name {reason}")
            })?;
            let kind = values.get("secret-store-kind").map_or("SecretStore", String::as_str);
            if !["SecretStore", "ClusterSecretStore"].contains(&kind) {
                return Err(format!(
                    "functionConfig: secret-store-kind is SecretStore or ClusterSecretStore, not `{kind}`"
                ));
            }
            Some(SecretStore { name, kind: kind.to_string() })
        }
        Some(other) => {
            return Err(format!(
                "functionConfig: secrets is `reference` or `external-secret` in a KRM function, not `{other}` (sealing needs a certificate file: use `render --secrets sealed`)"
            ));
        }
    };
    Ok((lower, secrets))
}

fn annotation<'n>(item: &'n Node, names: &[&str]) -> Option<&'n str> {
    let annotations = item.path(&["metadata", "annotations"])?;
    names.iter().find_map(|name| annotations.get(name).and_then(Node::as_str))
}

/// A result's `file`: the item's path and index annotations (`None` without a path).
fn file_ref(item: &Node) -> Option<Node> {
    let path = annotation(item, &PATH_ANNOTATIONS)?;
    let mut file = vec![("path", Node::string(path))];
    if let Some(index) = annotation(item, &INDEX_ANNOTATIONS).and_then(|i| i.parse().ok()) {
        file.push(("index", Node::int(index)));
    }
    Some(Node::map_of(file))
}

/// `(apiVersion, kind, namespace, name)` of an item.
fn identity(item: &Node) -> (String, String, String, String) {
    let text = |path: &[&str]| item.path(path).and_then(Node::as_str).unwrap_or("").to_string();
    (
        text(&["apiVersion"]),
        text(&["kind"]),
        text(&["metadata", "namespace"]),
        text(&["metadata", "name"]),
    )
}

/// The `results` entry of a finding about `item`.
fn result(diagnostic: &Diagnostic, item: Option<&Node>) -> Node {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!(" (help: {help})"));
    }
    let mut fields = vec![("message", Node::string(message)), ("severity", Node::string(severity))];
    if let Some(item) = item {
        let (api_version, kind, namespace, name) = identity(item);
        let mut reference = vec![
            ("apiVersion", Node::string(api_version)),
            ("kind", Node::string(kind)),
            ("name", Node::string(name)),
        ];
        if !namespace.is_empty() {
            reference.push(("namespace", Node::string(namespace)));
        }
        fields.push(("resourceRef", Node::map_of(reference)));
    }
    if !diagnostic.path.is_empty() {
        fields.push(("field", Node::map_of([("path", Node::string(diagnostic.path.clone()))])));
    }
    if let Some(file) = item.and_then(file_ref) {
        fields.push(("file", file));
    }
    fields.push(("tags", Node::map_of([("check", Node::string(diagnostic.check.id()))])));
    Node::map_of(fields)
}

/// Copies the orchestrator's annotations (path, index, id) of `from` onto `to`.
fn keep_tracking(from: &Node, to: &mut Node) {
    let Some(entries) = from.path(&["metadata", "annotations"]).and_then(Node::as_map) else {
        return;
    };
    let Some(annotations) = to.map_at("metadata").and_then(|m| m.map_at("annotations")) else {
        return;
    };
    for (key, value) in entries {
        let key = key.key_text();
        if ORCHESTRATOR_PREFIXES.iter().any(|p| key.starts_with(p)) {
            annotations.set(&key, value.clone());
        }
    }
}

/// Parses `text` as the file `name`, added to `sources`.
fn parse_text(sources: &mut SourceMap, name: &str, text: &str) -> (Vec<Document>, Vec<Diagnostic>) {
    let file = sources.add(SourceFile::new(name, text));
    let source = sources.get(file).expect("just added");
    parse::parse(file, &source.text, &source.lines, parse::Limits::default())
}

/// Parses one YAML document render produced.
fn parse_rendered(yaml: &str) -> Result<Node, String> {
    let mut scratch = SourceMap::new();
    let (mut documents, _) = parse_text(&mut scratch, "rendered", yaml);
    documents.pop().map(|d| d.root).ok_or_else(|| "render produced an empty document".to_string())
}

/// What the function answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The ResourceList to print on standard output.
    pub output: String,
    /// Some finding is an error (exit code 1; the items came back unchanged).
    pub failed: bool,
}

/// The function: a ResourceList's text in, the ResourceList to print out (see the module
/// docs), with lowering and render on up to `threads` threads. Input that is not one readable
/// ResourceList, and an invalid functionConfig, are refused with the message to show (exit
/// code 2).
pub fn respond(text: &str, threads: usize) -> Result<Response, String> {
    let mut sources = SourceMap::new();
    let (mut documents, problems) =
        parse_text(&mut sources, "(ResourceList on standard input)", text);
    if let Some(problem) = problems.iter().find(|d| d.severity == Severity::Error) {
        let line = sources.line_col(problem.span).map_or(0, |(line, _)| line);
        return Err(format!(
            "standard input is not a readable ResourceList: line {line}: {}",
            problem.message
        ));
    }
    let list = match documents.len() {
        1 => documents.remove(0).root,
        n => {
            return Err(format!(
                "standard input holds {n} YAML documents; a KRM function reads one ResourceList"
            ));
        }
    };
    if list.get("kind").and_then(Node::as_str) != Some("ResourceList") {
        return Err(
            "standard input is not a ResourceList (config.kubernetes.io/v1); run this through kpt or kustomize, or pipe `kpt fn source DIR` into it".into(),
        );
    }
    let items: Vec<Node> = match list.get("items") {
        None => Vec::new(),
        Some(node) if node.is_null() => Vec::new(),
        Some(node) => node.as_seq().ok_or("ResourceList `items` is not a list")?.to_vec(),
    };
    let (lower, store) = settings(list.get("functionConfig"))?;
    let file = FileId(0);
    let documents =
        items.iter().enumerate().map(|(index, item)| Document { file, index, root: item.clone() });
    let settings = pipeline::Settings {
        lower: &lower,
        secrets: store.as_ref().map_or(Secrets::Reference, Secrets::External),
        need: Need::Plan,
        threads,
    };
    let checked = pipeline::run(documents.collect(), Vec::new(), &mut sources, &settings, &Offline);
    let diagnostics = &checked.analysis.diagnostics;

    // Which item a finding is about: the one whose text holds its position.
    let starts: Vec<u32> = items.iter().map(|i| i.span.start).collect();
    let item_at = |d: &Diagnostic| -> Option<&Node> {
        if d.span.file != file || !d.span.is_real() {
            return None;
        }
        let after = starts.partition_point(|&s| s <= d.span.start);
        after.checked_sub(1).map(|k| &items[k])
    };
    let mut results: Vec<Node> = diagnostics.iter().map(|d| result(d, item_at(d))).collect();

    let lists = owned_in_lists(&checked, &items);
    for &k in &lists {
        results.push(Node::map_of([
            (
                "message",
                Node::string(
                    "this item is a List holding a workload that uses connections (or a KubeDirector cluster): the function patches one object per item, and patching a member would drop the others; write the List's members as separate items",
                ),
            ),
            ("severity", Node::string("error")),
            ("file", file_ref(&items[k]).unwrap_or_else(|| Node::map(Vec::new()))),
        ]));
    }
    let failed = diagnostics.iter().any(|d| d.severity == Severity::Error) || !lists.is_empty();
    let out_items = if failed { items } else { rendered_items(&checked, items, &mut results)? };
    let mut fields = vec![
        (
            "apiVersion",
            list.get("apiVersion")
                .cloned()
                .unwrap_or_else(|| Node::string("config.kubernetes.io/v1")),
        ),
        ("kind", Node::string("ResourceList")),
        ("items", Node::seq(out_items)),
    ];
    if let Some(config) = list.get("functionConfig") {
        fields.push(("functionConfig", config.clone()));
    }
    if !results.is_empty() {
        fields.push(("results", Node::seq(std::mem::take(&mut results))));
    }
    Ok(Response { output: emit::to_yaml(&Node::map_of(fields)), failed })
}

/// Whether object `o` is one the function patches.
fn owned(model: &crate::model::Model, o: usize) -> bool {
    match &model.objects[o].body {
        Body::Workload(w) => !w.uses.is_empty(),
        Body::KubeDirectorCluster(_) => true,
        _ => false,
    }
}

/// Items that are a `kind: List` (any `*List` with `items`, one member or many) holding an
/// object the function would patch.
fn owned_in_lists(checked: &pipeline::Outcome, items: &[Node]) -> Vec<usize> {
    let model = &checked.analysis.model;
    let is_list = |k: usize| {
        items[k].get("kind").and_then(Node::as_str).is_some_and(|kind| kind.ends_with("List"))
            && items[k].get("items").is_some()
    };
    let mut lists: Vec<usize> = model
        .objects
        .iter()
        .enumerate()
        .filter(|(o, object)| object.provenance.file == FileId(0) && owned(model, *o))
        .map(|(_, object)| object.provenance.index)
        .filter(|&k| k < items.len() && is_list(k))
        .collect();
    lists.sort_unstable();
    lists.dedup();
    lists
}

/// The output items of a clean run (see the module docs).
fn rendered_items(
    checked: &pipeline::Outcome,
    items: Vec<Node>,
    results: &mut Vec<Node>,
) -> Result<Vec<Node>, String> {
    let model = &checked.analysis.model;
    // Objects the secrets mode generated come from another (synthetic) source. An item may
    // hold several objects (a `kind: List`).
    let mut objects_of_item: HashMap<usize, Vec<usize>> = HashMap::new();
    for (o, object) in model.objects.iter().enumerate() {
        if object.provenance.file == FileId(0) {
            objects_of_item.entry(object.provenance.index).or_default().push(o);
        }
    }
    let mut rendered_object: HashMap<usize, &str> = HashMap::new();
    let mut generated = Vec::new();
    for planned in &checked.plan.objects {
        // Objects the secrets mode made joined the model from another source: to kpt they
        // are generated like the settings ConfigMaps.
        match planned.input.filter(|&o| model.objects[o].provenance.file == FileId(0)) {
            Some(o) => {
                rendered_object.insert(o, &planned.yaml);
            }
            None => generated.push(planned),
        }
    }
    let mut out: Vec<Node> = items.clone();
    for (k, item) in items.iter().enumerate() {
        // Lists holding an object to patch were refused (`owned_in_lists`).
        let Some(&[o]) = objects_of_item.get(&k).map(Vec::as_slice) else { continue };
        if owned(model, o)
            && let Some(yaml) = rendered_object.get(&o)
        {
            let mut node = parse_rendered(yaml)?;
            keep_tracking(item, &mut node);
            out[k] = node;
        }
    }
    // Earlier output held in the package is replaced where it stands.
    let by_identity: HashMap<_, usize> =
        items.iter().enumerate().map(|(k, item)| (identity(item), k)).collect();
    let mut added = Vec::new();
    for planned in generated {
        let mut node = parse_rendered(&planned.yaml)?;
        match by_identity.get(&identity(&node)) {
            Some(&k) => {
                keep_tracking(&items[k], &mut node);
                out[k] = node;
            }
            None => {
                if let Some(annotations) =
                    node.map_at("metadata").and_then(|m| m.map_at("annotations"))
                {
                    for name in PATH_ANNOTATIONS {
                        annotations.set(name, Node::string(planned.path.clone()));
                    }
                }
                added.push(node);
            }
        }
    }
    let configmeta = checked.plan.extra_files.len();
    if configmeta > 0 {
        results.push(Node::map_of([
            (
                "message",
                Node::string(format!(
                    "{configmeta} KubeDirector configmeta file{} not written: they are not Kubernetes objects; `kubectl connections render --out DIR` writes them",
                    if configmeta == 1 { " is" } else { "s are" }
                )),
            ),
            ("severity", Node::string("info")),
        ]));
    }
    out.extend(added);
    Ok(out)
}
