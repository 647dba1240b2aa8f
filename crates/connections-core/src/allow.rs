//! `.connections-allow.yaml`: the Secrets a repository knowingly commits in plaintext
//! (development fixtures, KubeDirector demos), exempt from `plaintext-secret-in-repo`.
//!
//! ```yaml
//! plaintextSecrets:
//! - name: demo-cred          # required
//!   namespace: dev           # default: the namespace given with -n
//!   reason: KubeDirector demo data, no real credentials
//! ```

use crate::checks::Check;
use crate::diagnostic::Diagnostic;
use crate::syntax::{Document, Node};
use std::collections::BTreeSet;

/// The file name, at the repository root.
pub const FILE_NAME: &str = ".connections-allow.yaml";

/// Reads the allow list from the file's documents; findings for anything malformed (an entry
/// without a name, an unknown key), so that a typo does not silently allow nothing.
pub fn read(
    documents: &[Document],
    default_namespace: &str,
) -> (BTreeSet<(String, String)>, Vec<Diagnostic>) {
    let mut allowed = BTreeSet::new();
    let mut diagnostics = Vec::new();
    let mut problem = |node: &Node, message: String| {
        diagnostics.push(
            Diagnostic::new(Check::InvalidObject, node.span, message)
                .label("not understood")
                .help(format!("see the format at the top of `kubectl connections explain plaintext-secret-in-repo`; {FILE_NAME} lists `plaintextSecrets: [{{name, namespace, reason}}]`")),
        );
    };
    for document in documents {
        let root = &document.root;
        if root.is_null() {
            continue;
        }
        let Some(entries) = root.as_map() else {
            problem(root, format!("{FILE_NAME} must be a mapping with `plaintextSecrets`"));
            continue;
        };
        for (key, value) in entries {
            if key.key_text() != "plaintextSecrets" {
                problem(key, format!("unknown key `{}` in {FILE_NAME}", key.key_text()));
                continue;
            }
            let Some(items) = value.as_seq() else {
                problem(value, "`plaintextSecrets` must be a list".into());
                continue;
            };
            for item in items {
                let Some(fields) = item.as_map() else {
                    problem(item, "each entry needs `name` (and optionally `namespace`)".into());
                    continue;
                };
                for (k, _) in fields {
                    if !matches!(k.key_text().as_str(), "name" | "namespace" | "reason") {
                        problem(
                            k,
                            format!("unknown key `{}` in a `plaintextSecrets` entry", k.key_text()),
                        );
                    }
                }
                let name = match item.get("name") {
                    None => {
                        problem(item, "this entry has no `name`".into());
                        continue;
                    }
                    Some(node) => match node.as_str() {
                        Some(name) if !name.is_empty() => name,
                        _ => {
                            problem(node, "`name` must be a Secret name".into());
                            continue;
                        }
                    },
                };
                // A namespace that is not a string is an error, not "the default namespace":
                // falling back would exempt a Secret nobody listed.
                let namespace = match item.get("namespace") {
                    None => default_namespace,
                    Some(node) => match node.as_str() {
                        Some(ns) if !ns.is_empty() => ns,
                        _ => {
                            problem(node, "`namespace` must be a namespace name".into());
                            continue;
                        }
                    },
                };
                allowed.insert((namespace.to_string(), name.to_string()));
            }
        }
    }
    (allowed, diagnostics)
}
