//! Comparing two renders: per file (one object, or one configmeta file), created, deleted,
//! changed or unchanged, with a unified diff of each change.
//!
//! Both sides are read as kubectl reads them (YAML 1.1 scalars, so `yes` and `true` are the
//! same value) and written back by our emitter, with the old side's keys put in the new
//! side's order: formatting, quoting and key order alone never show as a change. Secret values
//! are masked the way kubectl diff and Flux mask them: `***` for a value that is the same on
//! both sides, `*** (before)` and `*** (after)` for one that changed (compared by SHA-256 of
//! the decoded bytes), so that added, removed and changed keys stay visible while no value is
//! ever shown. A Secret is any object of kind `Secret`, wherever it sits (a `List` too);
//! whatever its `data` holds is masked, and any other string in the document equal to one of
//! its values (a YAML alias, a copy in an annotation) is masked too. A file that is not one
//! YAML or JSON document is shown only as its size. Masked text only ever goes to a display;
//! nothing here writes files.

use crate::render::emit;
use crate::source::{FileId, LineIndex};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// What happened to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Only in the new render.
    Created,
    /// Only in the old one.
    Deleted,
    /// In both, different.
    Changed,
    /// In both, the same.
    Unchanged,
}

impl ChangeKind {
    /// The word used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Deleted => "deleted",
            ChangeKind::Changed => "changed",
            ChangeKind::Unchanged => "unchanged",
        }
    }
}

/// One file's comparison.
#[derive(Clone, Debug)]
pub struct Change {
    /// Path in the rendered layout (`team-data/secret-pg.yaml`, `configmeta/ns/c.json`).
    pub path: String,
    /// `Kind namespace/name` (or the path for configmeta files).
    pub title: String,
    /// What happened.
    pub kind: ChangeKind,
    /// The old text, normalised and masked (empty when created).
    pub before: String,
    /// The new text, normalised and masked (empty when deleted).
    pub after: String,
}

impl Change {
    /// A unified diff with `context` lines around each change, headed `a/<path>` / `b/<path>`
    /// (`/dev/null` for the missing side, as git writes it).
    pub fn unified(&self, context: usize) -> String {
        let old = match self.kind {
            ChangeKind::Created => "/dev/null".to_string(),
            _ => format!("a/{}", self.path),
        };
        let new = match self.kind {
            ChangeKind::Deleted => "/dev/null".to_string(),
            _ => format!("b/{}", self.path),
        };
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(context)
            .header(&old, &new)
            .to_string()
    }

    /// Lines added and removed.
    pub fn counts(&self) -> (usize, usize) {
        let diff = similar::TextDiff::from_lines(&self.before, &self.after);
        let mut added = 0;
        let mut removed = 0;
        for change in diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Insert => added += 1,
                similar::ChangeTag::Delete => removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        (added, removed)
    }
}

/// Counts by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiffSummary {
    /// Created files.
    pub created: usize,
    /// Deleted files.
    pub deleted: usize,
    /// Changed files.
    pub changed: usize,
    /// Unchanged files.
    pub unchanged: usize,
}

impl DiffSummary {
    /// Whether anything differs.
    pub fn has_differences(&self) -> bool {
        self.created + self.deleted + self.changed > 0
    }
}

/// The comparison of two renders.
#[derive(Clone, Debug, Default)]
pub struct Diff {
    /// Every file that differs, in path order.
    pub changes: Vec<Change>,
    /// Counts, unchanged files included.
    pub summary: DiffSummary,
}

/// A file read for comparison: one object (or configmeta document) as kubectl reads it, or
/// something that is not one document.
enum Parsed {
    /// Read from YAML: written back as YAML.
    Yaml(Value),
    /// Read from a `.json` file: written back as pretty JSON.
    Json(Value),
    /// Not a single YAML or JSON document: never shown (it may hold a Secret that could not be
    /// read, so not masked), compared by hash.
    Opaque { bytes: usize, hash: [u8; 32] },
}

impl Parsed {
    fn value(&self) -> Option<&Value> {
        match self {
            Parsed::Yaml(v) | Parsed::Json(v) => Some(v),
            Parsed::Opaque { .. } => None,
        }
    }
}

fn parse(path: &str, text: &str) -> Parsed {
    let opaque = Parsed::Opaque { bytes: text.len(), hash: hash(text.as_bytes()) };
    if path.ends_with(".json") {
        return serde_json::from_str(text).map_or(opaque, Parsed::Json);
    }
    let (docs, diagnostics) =
        crate::parse::parse(FileId::SYNTHETIC, text, &LineIndex::new(text), Default::default());
    match docs.as_slice() {
        [doc] if diagnostics.is_empty() => Parsed::Yaml(emit::node_to_json(&doc.root)),
        _ => opaque,
    }
}

fn hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The bytes a Secret `data` value stands for, decoded as the API server does
/// ([`crate::rules::decode_secret_value`]: line breaks skipped, trailing bits allowed);
/// anything that is not base64 is compared as written.
fn secret_bytes(value: &Value) -> Vec<u8> {
    let Some(encoded) = value.as_str() else { return value.to_string().into_bytes() };
    crate::rules::decode_secret_value(encoded)
        .unwrap_or_else(|_| [b"not base64:".as_slice(), encoded.as_bytes()].concat())
}

fn plain_bytes(value: &Value) -> Vec<u8> {
    value.as_str().map_or_else(|| value.to_string().into_bytes(), |s| s.as_bytes().to_vec())
}

/// Where Secret values sit in a document: every object of kind `Secret` (its `data` and
/// `stringData`), and each Secret entry of a configmeta document (its `data`).
struct SecretSite<'v> {
    /// JSON pointer of the object.
    at: String,
    object: &'v serde_json::Map<String, Value>,
}

fn is_secret_object(object: &serde_json::Map<String, Value>) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("Secret")
}

fn secret_sites<'v>(value: &'v Value, at: &str, out: &mut Vec<SecretSite<'v>>) {
    match value {
        Value::Object(object) => {
            let configmeta_entry =
                at.starts_with("/connections/secrets/") && at.matches('/').count() == 4;
            if is_secret_object(object) || configmeta_entry {
                out.push(SecretSite { at: at.to_string(), object });
            }
            for (k, v) in object {
                secret_sites(v, &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                secret_sites(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The hash of each Secret value of a document, by `<object pointer>/<key>`: `data` decoded,
/// `stringData` as written (it wins over `data`, as on the API server). A `data` that is not
/// a map is one value. Also every string a value is written as, for scrubbing copies.
fn secret_values(value: &Value) -> (BTreeMap<String, [u8; 32]>, BTreeSet<String>) {
    let mut hashes = BTreeMap::new();
    let mut texts = BTreeSet::new();
    let mut sites = Vec::new();
    secret_sites(value, "", &mut sites);
    for site in sites {
        for (field, decode) in [("data", true), ("stringData", false)] {
            let Some(held) = site.object.get(field) else { continue };
            let bytes = |v: &Value| if decode { secret_bytes(v) } else { plain_bytes(v) };
            match held {
                Value::Object(map) => {
                    for (k, v) in map {
                        hashes.insert(format!("{}/{k}", site.at), hash(&bytes(v)));
                        collect_texts(v, &mut texts);
                        if decode && let Ok(text) = String::from_utf8(secret_bytes(v)) {
                            texts.insert(text);
                        }
                    }
                }
                Value::Null => {}
                other => {
                    hashes.insert(format!("{}/{field}", site.at), hash(&bytes(other)));
                    collect_texts(other, &mut texts);
                }
            }
        }
    }
    // Short strings would mask unrelated words; a value that short is no secret worth the name.
    texts.retain(|t| t.chars().count() >= 4);
    (hashes, texts)
}

fn collect_texts(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_texts(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_texts(v, out)),
        _ => {}
    }
}

/// The annotation in which client-side apply keeps a whole object, Secret values included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Replaces every Secret value by its mark, the last applied configuration of a Secret by
/// `***`, and any other string equal to a Secret value by `***`.
fn mask(value: &mut Value, marks: &BTreeMap<String, &'static str>, texts: &BTreeSet<String>) {
    let mut sites = Vec::new();
    secret_sites(value, "", &mut sites);
    let pointers: Vec<String> = sites.into_iter().map(|s| s.at).collect();
    for at in pointers {
        let Some(Value::Object(object)) = value.pointer_mut(&at) else { continue };
        for field in ["data", "stringData"] {
            match object.get_mut(field) {
                Some(Value::Object(map)) => {
                    for (k, v) in map.iter_mut() {
                        let mark = marks.get(&format!("{at}/{k}")).copied().unwrap_or("***");
                        *v = Value::String(mark.into());
                    }
                }
                Some(Value::Null) | None => {}
                Some(other) => {
                    let mark = marks.get(&format!("{at}/{field}")).copied().unwrap_or("***");
                    *other = Value::String(mark.into());
                }
            }
        }
        if let Some(Value::Object(annotations)) =
            object.get_mut("metadata").and_then(|m| m.get_mut("annotations"))
            && let Some(applied) = annotations.get_mut(LAST_APPLIED)
        {
            *applied = Value::String("***".into());
        }
        if let Some(Value::Object(annotations)) = object.get_mut("annotations")
            && let Some(applied) = annotations.get_mut(LAST_APPLIED)
        {
            *applied = Value::String("***".into());
        }
    }
    scrub(value, texts);
}

fn scrub(value: &mut Value, texts: &BTreeSet<String>) {
    match value {
        Value::String(s) if texts.contains(s.as_str()) => *s = "***".into(),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, texts)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub(v, texts)),
        _ => {}
    }
}

/// Puts `before`'s keys in `after`'s order (keys only `before` has go last), recursively, so
/// that order alone never shows as a change.
fn align(before: &mut Value, after: &Value) {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let mut taken = std::mem::take(old);
            for (k, v) in new {
                if let Some(mut kept) = taken.shift_remove(k) {
                    align(&mut kept, v);
                    old.insert(k.clone(), kept);
                }
            }
            old.extend(taken);
        }
        (Value::Array(old), Value::Array(new)) => {
            for (o, n) in old.iter_mut().zip(new) {
                align(o, n);
            }
        }
        _ => {}
    }
}

/// Writes a file for display: masked, in its format.
fn display(parsed: &Parsed, value: Option<Value>, path: &str, mark: &str) -> String {
    match (parsed, value) {
        (Parsed::Opaque { bytes, .. }, _) => format!(
            "# {path}: not a single YAML or JSON document; its content is not shown (it may hold secrets): {bytes} bytes{mark}\n"
        ),
        (Parsed::Json(_), Some(value)) => {
            let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
            text.push('\n');
            text
        }
        (_, Some(value)) => emit::to_yaml(&emit::node_from_json(&value)),
        (_, None) => String::new(),
    }
}

fn title(path: &str, parsed: &Parsed) -> String {
    let Some(value) = parsed.value() else { return path.to_string() };
    let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
    match (text("/kind"), text("/metadata/name"), text("/metadata/namespace")) {
        (Some(kind), Some(name), Some(ns)) => format!("{kind} {ns}/{name}"),
        (Some(kind), Some(name), None) => format!("{kind} {name}"),
        _ => path.to_string(),
    }
}

/// Compares two sets of rendered files (path to content).
pub fn diff(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Diff {
    let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Diff::default();
    for path in paths {
        let old = before.get(path).map(|t| parse(path, t));
        let new = after.get(path).map(|t| parse(path, t));
        let (old_hashes, old_texts) =
            old.as_ref().and_then(Parsed::value).map(secret_values).unwrap_or_default();
        let (new_hashes, new_texts) =
            new.as_ref().and_then(Parsed::value).map(secret_values).unwrap_or_default();
        let texts: BTreeSet<String> = old_texts.into_iter().chain(new_texts).collect();
        let (mut old_marks, mut new_marks) = (BTreeMap::new(), BTreeMap::new());
        for (key, hash) in &old_hashes {
            if new_hashes.get(key).is_some_and(|h| h != hash) {
                old_marks.insert(key.clone(), "*** (before)");
                new_marks.insert(key.clone(), "*** (after)");
            }
        }
        let mut old_value = old.as_ref().and_then(Parsed::value).cloned();
        let new_value = new.as_ref().and_then(Parsed::value).cloned().map(|mut v| {
            mask(&mut v, &new_marks, &texts);
            v
        });
        if let Some(v) = old_value.as_mut() {
            mask(v, &old_marks, &texts);
            if let Some(n) = &new_value {
                align(v, n);
            }
        }
        // Opaque files: a changed one is marked, as a changed Secret value is.
        let opaque_changed = match (&old, &new) {
            (Some(Parsed::Opaque { hash: a, .. }), Some(Parsed::Opaque { hash: b, .. })) => a != b,
            _ => false,
        };
        let (old_mark, new_mark) =
            if opaque_changed { (" (before)", " (after)") } else { ("", "") };
        let before_text =
            old.as_ref().map(|p| display(p, old_value, path, old_mark)).unwrap_or_default();
        let after_text =
            new.as_ref().map(|p| display(p, new_value, path, new_mark)).unwrap_or_default();
        let kind = match (&old, &new) {
            (None, Some(_)) => ChangeKind::Created,
            (Some(_), None) => ChangeKind::Deleted,
            // Equal masked text can hide a changed value only if no mark differs; marks do.
            _ if before_text == after_text => ChangeKind::Unchanged,
            _ => ChangeKind::Changed,
        };
        match kind {
            ChangeKind::Created => out.summary.created += 1,
            ChangeKind::Deleted => out.summary.deleted += 1,
            ChangeKind::Changed => out.summary.changed += 1,
            ChangeKind::Unchanged => {
                out.summary.unchanged += 1;
                continue;
            }
        }
        let title = title(path, new.as_ref().or(old.as_ref()).expect("one side exists"));
        out.changes.push(Change {
            path: path.clone(),
            title,
            kind,
            before: before_text,
            after: after_text,
        });
    }
    out
}

/// Which object a rendered file holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    /// `v1`, `apps/v1`.
    pub api_version: String,
    /// `Secret`.
    pub kind: String,
    /// `None` for cluster-scoped objects (and namespaced ones the render left without one).
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectId {
    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(group, _)| group)
    }

    /// The API version within the group.
    pub fn version(&self) -> &str {
        self.api_version.rsplit_once('/').map_or(self.api_version.as_str(), |(_, v)| v)
    }

    /// The path render would give the object, for objects found only in the cluster.
    pub fn path(&self) -> String {
        format!(
            "{}/{}.yaml",
            self.namespace.as_deref().unwrap_or(crate::render::CLUSTER_DIR),
            crate::render::file_stem(&self.kind, &self.name)
        )
    }
}

/// A rendered object file as the API server will store it: scalars read as kubectl reads them
/// and a Secret's `stringData` folded into base64 `data`. `None` for files that are not
/// objects (`kustomization.yaml`, configmeta).
pub fn stored_object(text: &str) -> Option<(ObjectId, serde_json::Value)> {
    use base64::Engine as _;
    let (docs, diagnostics) =
        crate::parse::parse(FileId::SYNTHETIC, text, &LineIndex::new(text), Default::default());
    let [doc] = docs.as_slice() else { return None };
    if !diagnostics.is_empty() {
        return None;
    }
    let mut value = emit::node_to_json(&doc.root);
    let text_at = |value: &serde_json::Value, pointer: &str| {
        value.pointer(pointer).and_then(|v| v.as_str()).map(str::to_string)
    };
    let id = ObjectId {
        api_version: text_at(&value, "/apiVersion")?,
        kind: text_at(&value, "/kind")?,
        namespace: text_at(&value, "/metadata/namespace"),
        name: text_at(&value, "/metadata/name")?,
    };
    if id.kind == "Secret"
        && id.api_version == "v1"
        && let Some(map) = value.as_object_mut()
        && let Some(serde_json::Value::Object(plain)) = map.remove("stringData")
    {
        let data =
            map.entry("data").or_insert_with(|| serde_json::Value::Object(Default::default()));
        if let Some(data) = data.as_object_mut() {
            for (k, v) in plain {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                data.insert(
                    k,
                    base64::engine::general_purpose::STANDARD.encode(text.as_bytes()).into(),
                );
            }
        }
    }
    Some((id, value))
}

/// Drops what the API server fills in and a render never sets: `status`, `uid`,
/// `resourceVersion`, `generation`, `creationTimestamp`, `managedFields`, and the annotations
/// kubectl and controllers add (the last applied configuration holds Secret values).
pub fn strip_server_fields(live: &mut serde_json::Value) {
    let Some(map) = live.as_object_mut() else { return };
    map.remove("status");
    let Some(meta) = map.get_mut("metadata").and_then(|m| m.as_object_mut()) else { return };
    for field in [
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        meta.remove(field);
    }
    if let Some(annotations) = meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
        annotations.remove(LAST_APPLIED);
        annotations.remove("deployment.kubernetes.io/revision");
        if annotations.is_empty() {
            meta.remove("annotations");
        }
    }
}

/// The live object reduced to the fields the desired one sets, in the desired key order, so
/// that only what applying would change shows: fields others added (defaults, controllers'
/// labels) stay out, as in `kubectl diff`. Two exceptions show everything live holds: the
/// keys of `data`, `stringData` and `binaryData` (a key gone from the repository must show as
/// removed) and list items beyond the desired ones.
pub fn project_live(desired: &serde_json::Value, live: &serde_json::Value) -> serde_json::Value {
    project(desired, live, 0)
}

fn project(
    desired: &serde_json::Value,
    live: &serde_json::Value,
    depth: usize,
) -> serde_json::Value {
    use serde_json::Value;
    match (desired, live) {
        (Value::Object(want), Value::Object(have)) => {
            let mut out = serde_json::Map::new();
            for (k, v) in want {
                match have.get(k) {
                    Some(l) => {
                        let whole = depth == 0
                            && matches!(k.as_str(), "data" | "stringData" | "binaryData");
                        out.insert(
                            k.clone(),
                            if whole { in_order_of(v, l) } else { project(v, l, depth + 1) },
                        );
                    }
                    // The API server drops empty maps, lists and nulls: no change.
                    None if is_empty(v) => {
                        out.insert(k.clone(), v.clone());
                    }
                    None => {}
                }
            }
            Value::Object(out)
        }
        (Value::Array(want), Value::Array(have)) => Value::Array(
            have.iter()
                .enumerate()
                .map(|(i, l)| want.get(i).map_or_else(|| l.clone(), |w| project(w, l, depth + 1)))
                .collect(),
        ),
        _ => live.clone(),
    }
}

fn is_empty(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::Object(map) => map.is_empty(),
        serde_json::Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// Every entry of `live`, those `desired` has first and in its order (the API server sorts
/// keys; order alone must not show as a change).
fn in_order_of(desired: &serde_json::Value, live: &serde_json::Value) -> serde_json::Value {
    let (Some(want), Some(have)) = (desired.as_object(), live.as_object()) else {
        return live.clone();
    };
    let mut out = serde_json::Map::new();
    for k in want.keys() {
        if let Some(v) = have.get(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in have {
        if !out.contains_key(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    serde_json::Value::Object(out)
}

/// An object as YAML text, the form [`diff`] compares.
pub fn object_yaml(value: &serde_json::Value) -> String {
    emit::to_yaml(&emit::node_from_json(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect()
    }

    fn one(before: &str, after: &str) -> Diff {
        diff(&files(&[("a/secret-s.yaml", before)]), &files(&[("a/secret-s.yaml", after)]))
    }

    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\ndata: {same: c2FtZQ==, changed: b2xk, removed: eA==}\n";

    #[test]
    fn secret_values_are_masked_but_changes_stay_visible() {
        let new = SECRET
            .replace("changed: b2xk", "changed: bmV3")
            .replace(", removed: eA==", ", added: eQ==");
        let d = one(SECRET, &new);
        assert_eq!(d.summary, DiffSummary { changed: 1, ..Default::default() });
        let unified = d.changes[0].unified(3);
        for expected in [
            "-  changed: \"*** (before)\"",
            "+  changed: \"*** (after)\"",
            "-  removed: \"***\"",
            "+  added: \"***\"",
            "   same: \"***\"",
        ] {
            assert!(unified.contains(expected), "{expected} in\n{unified}");
        }
        for value in ["c2FtZQ==", "b2xk", "bmV3", "eA==", "eQ==", "old", "new"] {
            assert!(!unified.contains(value), "{value} leaked:\n{unified}");
        }
    }

    #[test]
    fn values_compare_decoded_across_data_string_data_and_line_wrapping() {
        // The same bytes as `data`, wrapped `data` and `stringData`: no value changed.
        let data =
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  k: c2VjcmV0LXZhbHVl\n";
        let wrapped = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  k: \"c2VjcmV0\\nLXZhbHVl\"\n";
        let plain =
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  k: secret-value\n";
        assert_eq!(one(data, wrapped).summary.changed, 0);
        let moved = one(data, plain);
        let unified = moved.changes[0].unified(3);
        assert!(unified.contains("-data:\n+stringData:\n   k: \"***\""), "{unified}");
        assert!(!unified.contains("(before)") && !unified.contains("secret-value"), "{unified}");
        // stringData wins over data for the same key, as on the API server.
        let both = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  k: b3RoZXI=\nstringData:\n  k: secret-value\n";
        let unified = one(plain, both).changes[0].unified(3);
        assert!(!unified.contains("(before)"), "{unified}");
        // Text that is not base64 is compared as itself, and still masked.
        let broken = data.replace("c2VjcmV0LXZhbHVl", "not*base64");
        let unified = one(data, &broken).changes[0].unified(3);
        assert!(unified.contains("*** (after)") && !unified.contains("not*base64"), "{unified}");
    }

    #[test]
    fn docker_config_and_last_applied_are_masked() {
        let docker = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\".dockerconfigjson\":\"eyJhdXRocyI6e319\"}}'\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: eyJhdXRocyI6e319\n";
        let changed = docker.replace("eyJhdXRocyI6e319\n", "eyJhdXRocyI6eyJyIjp7fX19\n");
        let d = one(docker, &changed);
        let unified = d.changes[0].unified(3);
        assert!(unified.contains("+  .dockerconfigjson: \"*** (after)\""), "{unified}");
        assert!(unified.contains("    kubectl.kubernetes.io/last-applied-configuration: \"***\""));
        assert!(!unified.contains("eyJ"), "{unified}");
    }

    #[test]
    fn unparseable_files_are_not_shown() {
        let broken = "apiVersion: v1\nkind: Secret\ndata: {k: [unclosed\n";
        let d = diff(&files(&[]), &files(&[("a/secret-s.yaml", broken)]));
        let unified = d.changes[0].unified(3);
        assert!(unified.contains("its content is not shown"), "{unified}");
        assert!(!unified.contains("unclosed"), "{unified}");
        let two = "a: 1\n---\nb: 2\n";
        let d = diff(&files(&[]), &files(&[("x.yaml", two)]));
        assert!(d.changes[0].after.contains("not a single YAML or JSON document"));
    }

    #[test]
    fn formatting_alone_is_no_change_and_created_deleted_are_counted() {
        let a = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {x: \"1\"}\n";
        let b = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x: '1'\n";
        let d = diff(
            &files(&[("c.yaml", a), ("gone.yaml", a)]),
            &files(&[("c.yaml", b), ("new.yaml", a)]),
        );
        assert_eq!(d.summary, DiffSummary { created: 1, deleted: 1, changed: 0, unchanged: 1 });
        assert_eq!(
            d.changes.iter().map(|c| (c.path.as_str(), c.kind)).collect::<Vec<_>>(),
            [("gone.yaml", ChangeKind::Deleted), ("new.yaml", ChangeKind::Created)]
        );
    }

    #[test]
    fn configmeta_is_pretty_printed_and_its_secret_data_masked() {
        let old = r#"{"connections":{"clusters":{},"configmaps":{},"secrets":{"t":[{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"k\":\"b2xk\"}}"},"data":{"k":"b2xk"},"labels":{},"metadata":{"name":"s"}}]}}}"#;
        let new = old.replace("b2xk", "bmV3");
        let d =
            diff(&files(&[("configmeta/a/c.json", old)]), &files(&[("configmeta/a/c.json", &new)]));
        let unified = d.changes[0].unified(2);
        assert!(unified.contains("-            \"k\": \"*** (before)\""), "{unified}");
        assert!(unified.contains("+            \"k\": \"*** (after)\""), "{unified}");
        assert!(!unified.contains("b2xk") && !unified.contains("bmV3"), "{unified}");
    }

    #[test]
    fn stored_objects_fold_string_data_and_read_scalars_like_kubectl() {
        let (id, value) = stored_object(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\nstringData: {k: v}\ndata: {j: dw==}\n",
        )
        .unwrap();
        assert_eq!(id.path(), "a/secret-s.yaml");
        assert_eq!(value["data"], serde_json::json!({"j": "dw==", "k": "dg=="}));
        assert!(value.get("stringData").is_none());
        let (id, value) = stored_object(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {paused: yes, replicas: 2}\n",
        )
        .unwrap();
        assert_eq!(
            (id.group(), id.version(), id.path()),
            ("apps", "v1", "_cluster/deployment-d.yaml".into())
        );
        assert_eq!(value["spec"], serde_json::json!({"paused": true, "replicas": 2}));
        assert!(
            stored_object(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
            )
            .is_none()
        );
    }

    #[test]
    fn live_objects_are_projected_onto_what_the_render_sets() {
        let desired = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "labels": {"a": "1"}},
            "data": {"x": "1"},
            "list": [{"name": "e", "value": "1"}],
        });
        let mut live = serde_json::json!({
            "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "c", "uid": "u", "resourceVersion": "9", "labels": {"a": "1", "added-by": "controller"},
                          "annotations": {LAST_APPLIED: "{}"}},
            "data": {"stale": "y", "x": "2"},
            "list": [{"name": "e", "value": "1", "defaulted": true}, {"name": "extra"}],
            "status": {"phase": "x"},
        });
        strip_server_fields(&mut live);
        assert!(live["metadata"].get("annotations").is_none() && live.get("status").is_none());
        let projected = project_live(&desired, &live);
        assert_eq!(
            projected,
            serde_json::json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c", "labels": {"a": "1"}},
                "data": {"x": "2", "stale": "y"},
                "list": [{"name": "e", "value": "1"}, {"name": "extra"}],
            })
        );
        // Key order follows the desired object, so order alone never shows as a change.
        assert!(object_yaml(&projected).starts_with("apiVersion: v1\nkind: ConfigMap\n"));
    }

    #[test]
    fn every_shape_of_secret_is_masked() {
        let leaks = |before: &str, after: &str, path: &str| {
            let d = diff(&files(&[(path, before)]), &files(&[(path, after)]));
            d.changes.iter().map(|c| c.unified(3)).collect::<String>()
        };
        // `data` that is not a map, a Secret without apiVersion, a List of Secrets, a Secret
        // written as JSON, an alias copying a value out of `data`.
        let cases = [
            ("s.yaml", "kind: Secret\nmetadata: {name: s}\ndata: Y2FuYXJ5LXNjYWxhcg==\n"),
            (
                "s.yaml",
                "kind: Secret\nmetadata: {name: s}\nstringData: {k: canary-no-api-version}\n",
            ),
            (
                "l.yaml",
                "apiVersion: v1\nkind: List\nitems:\n- kind: Secret\n  metadata: {name: s}\n  stringData: {k: canary-in-a-list}\n",
            ),
            (
                "s.json",
                "{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"s\"}, \"stringData\": {\"k\": \"canary-as-json\"}}",
            ),
            (
                "s.yaml",
                "kind: Secret\nstringData: {k: &v canary-aliased}\nmetadata:\n  name: s\n  annotations: {copy: *v}\n",
            ),
            (
                "s.yaml",
                "kind: Secret\nmetadata: {name: s}\nstringData: {k: [canary-nested, {deeper: canary-deeper}]}\n",
            ),
        ];
        for (path, text) in cases {
            let changed = text
                .replace("canary", "CANARY")
                .replace("Y2FuYXJ5LXNjYWxhcg==", "Q0FOQVJZLXNjYWxhcg==");
            let shown =
                leaks(text, &changed, path) + &leaks("", text, path) + &leaks(text, "", path);
            for needle in ["canary", "CANARY", "Y2FuYXJ5", "Q0FOQVJZ"] {
                assert!(!shown.contains(needle), "{needle} leaked from {text}:\n{shown}");
            }
            assert!(shown.contains("*** (after)"), "the change is not marked for {text}:\n{shown}");
        }
    }

    #[test]
    fn key_order_quoting_and_yaml11_spelling_are_no_change() {
        let a = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {paused: true, replicas: 2}\n";
        let b = "kind: Deployment\napiVersion: apps/v1\nmetadata: {name: d}\nspec: {replicas: 2, paused: yes}\n";
        let d = diff(&files(&[("d.yaml", a)]), &files(&[("d.yaml", b)]));
        assert_eq!(d.summary.unchanged, 1, "{:?}", d.changes.first().map(|c| c.unified(3)));
        // A real change shows in the new side's key order.
        let c = b.replace("replicas: 2", "replicas: 3");
        let d = diff(&files(&[("d.yaml", a)]), &files(&[("d.yaml", &c)]));
        let unified = d.changes[0].unified(1);
        assert!(unified.contains("-  replicas: 2\n+  replicas: 3\n   paused: true\n"), "{unified}");
    }

    #[test]
    fn opaque_files_show_their_size_and_whether_they_changed() {
        let d = diff(&files(&[("x.yaml", "a: [1\n")]), &files(&[("x.yaml", "a: [2\n")]));
        let unified = d.changes[0].unified(0);
        assert!(
            unified.contains("6 bytes (before)") && unified.contains("6 bytes (after)"),
            "{unified}"
        );
        assert!(!unified.contains("sha256"), "{unified}");
        let same = diff(&files(&[("x.yaml", "a: [1\n")]), &files(&[("x.yaml", "a: [1\n")]));
        assert_eq!(same.summary.unchanged, 1);
    }

    #[test]
    fn empty_fields_the_server_drops_are_no_change() {
        let desired = serde_json::json!({"metadata": {"name": "c", "labels": {}}, "data": {}, "spec": {"x": null, "list": []}});
        let live = serde_json::json!({"metadata": {"name": "c"}, "spec": {}});
        assert_eq!(project_live(&desired, &live), desired);
    }
}
