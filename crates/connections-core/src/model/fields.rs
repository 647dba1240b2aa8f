//! Typed reads of fields from the node tree, recording a diagnostic for every wrong type.
//!
//! Lowering never stops at the first problem: a reader returns `None` for a field it cannot
//! use and the caller carries on, so one run reports every finding.

use crate::checks::Check;
use crate::diagnostic::Diagnostic;
use crate::source::{Span, Spanned};
use crate::syntax::{Node, NodeValue};

/// Collects diagnostics while lowering one document.
pub struct Fields<'d> {
    /// Where findings go.
    pub diagnostics: &'d mut Vec<Diagnostic>,
    /// Whether the fields being read hold secret values (Secret data, credentials): then
    /// findings name types and keys but never echo a value. (Reporters mask the values in the
    /// source lines they show, from `Model::secret_spans`.)
    pub redact: bool,
}

// Lowering builds a path for nearly every field it reads, so `join` and `index` concatenate
// instead of going through `format!`, whose machinery cost several times the copying.

/// `parent.key`, or `key` at the root.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { [parent, ".", key].concat() }
}

/// `parent[index]`.
pub fn index(parent: &str, i: usize) -> String {
    // The decimal digits of `i`, written from the end of a buffer long enough for any usize.
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = i;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    [parent, "[", std::str::from_utf8(&digits[at..]).unwrap_or_default(), "]"].concat()
}

fn describe(node: &Node, redact: bool) -> String {
    match &node.value {
        NodeValue::Scalar(s) if redact => format!("a value of type {}", s.resolve().type_name()),
        NodeValue::Scalar(s) => {
            let resolved = s.resolve();
            format!("{} `{}`", resolved.type_name(), s.text)
        }
        NodeValue::Seq(_) => "a list".to_string(),
        NodeValue::Map(_) => "a mapping".to_string(),
    }
}

impl Fields<'_> {
    /// Records a finding.
    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// Records an `invalid-field-type` finding.
    pub fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        let mut d = Diagnostic::new(
            Check::InvalidFieldType,
            node.span,
            format!("`{path}` must be {expected}, found {}", describe(node, self.redact)),
        )
        .path(path)
        .label(format!("expected {expected}"));
        if let NodeValue::Scalar(s) = &node.value
            && expected == "a string"
        {
            d = d.help(if s.is_ambiguous() && !self.redact {
                format!(
                    "kubectl reads the plain scalar `{}` as {} and YAML 1.2 tools as {}; quote it: \"{}\"",
                    s.text,
                    s.resolve().type_name(),
                    s.resolve_yaml12().type_name(),
                    s.text
                )
            } else {
                "quote the value to make it a string".to_string()
            });
        }
        self.push(d);
    }

    /// A string field; `None` if absent or null. Other types are reported.
    pub fn string(&mut self, parent: &Node, key: &str, path: &str) -> Option<Spanned<String>> {
        let node = parent.get(key)?;
        self.string_node_at(node, || join(path, key))
    }

    /// A node that must be a string; `None` if null. Other types are reported.
    pub fn string_node(&mut self, node: &Node, path: &str) -> Option<Spanned<String>> {
        self.string_node_at(node, || path.to_string())
    }

    /// [`Fields::string_node`] with the field's path built only for a finding: nearly every
    /// field is fine, and formatting paths up front was a visible share of lowering.
    fn string_node_at(
        &mut self,
        node: &Node,
        path: impl FnOnce() -> String,
    ) -> Option<Spanned<String>> {
        if node.is_null() {
            return None;
        }
        match node.as_str() {
            Some(s) => Some(Spanned::new(s.to_string(), node.span)),
            None => {
                self.wrong_type(node, &path(), "a string");
                None
            }
        }
    }

    /// A mapping field; `None` if absent or null. Other types are reported.
    pub fn map<'n>(&mut self, parent: &'n Node, key: &str, path: &str) -> Option<&'n Node> {
        let node = parent.get(key)?;
        match &node.value {
            NodeValue::Map(_) => Some(node),
            _ => self.map_node(node, &join(path, key)),
        }
    }

    /// A node that must be a mapping; `None` if null.
    pub fn map_node<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n Node> {
        match &node.value {
            NodeValue::Map(_) => Some(node),
            _ if node.is_null() => None,
            _ => {
                self.wrong_type(node, path, "a mapping");
                None
            }
        }
    }

    /// A sequence field's items; empty if absent or null. Other types are reported.
    pub fn seq<'n>(&mut self, parent: &'n Node, key: &str, path: &str) -> &'n [Node] {
        match parent.get(key) {
            None => &[],
            Some(node) => match &node.value {
                NodeValue::Seq(items) => items,
                _ if node.is_null() => &[],
                _ => {
                    self.wrong_type(node, &join(path, key), "a list");
                    &[]
                }
            },
        }
    }

    /// A list of strings.
    pub fn string_list(&mut self, parent: &Node, key: &str, path: &str) -> Vec<Spanned<String>> {
        let items = self.seq(parent, key, path);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = self.string_node_at(item, || index(&join(path, key), i)) {
                out.push(s);
            }
        }
        out
    }

    /// A boolean field; `None` if absent or null.
    pub fn boolean(&mut self, parent: &Node, key: &str, path: &str) -> Option<bool> {
        let node = parent.get(key)?;
        if node.is_null() {
            return None;
        }
        match node.as_scalar().map(|s| s.resolve()) {
            Some(crate::syntax::Resolved::Bool(b)) => Some(b),
            _ => {
                self.wrong_type(node, &join(path, key), "a boolean");
                None
            }
        }
    }

    /// An integer field; `None` if absent or null.
    pub fn integer(&mut self, parent: &Node, key: &str, path: &str) -> Option<Spanned<i64>> {
        let node = parent.get(key)?;
        if node.is_null() {
            return None;
        }
        match node.as_scalar().map(|s| s.resolve()) {
            Some(crate::syntax::Resolved::Int(text)) => match text.parse::<i64>() {
                Ok(v) => Some(Spanned::new(v, node.span)),
                Err(_) => {
                    self.wrong_type(node, &join(path, key), "an integer in 64 bits");
                    None
                }
            },
            _ => {
                self.wrong_type(node, &join(path, key), "an integer");
                None
            }
        }
    }

    /// Entries of a map whose values must all be strings (labels, annotations, ConfigMap data).
    /// Reports wrong types, and plain scalars that kubectl reads differently from YAML 1.2.
    pub fn string_map(
        &mut self,
        map: &Node,
        path: &str,
    ) -> Vec<(Spanned<String>, Spanned<String>)> {
        let Some(entries) = map.as_map() else { return Vec::new() };
        let mut out = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let key_text = key.key_text();
            let field = || join(path, &key_text);
            self.check_ambiguous_key(key, field);
            if let Some(scalar) = value.as_scalar()
                && scalar.is_ambiguous()
                && scalar.resolve_yaml12().type_name() == "string"
            {
                // YAML 1.2 readers (kustomize, Argo CD, Flux, editors) read the string, kubectl
                // applying this file itself does not. Render keeps the scalar as written, so
                // every reader gets what it would get from the input; say what differs.
                let message = if self.redact {
                    format!(
                        "kubectl reads this plain scalar as a {}, while kustomize and YAML 1.2 tools read a string",
                        scalar.resolve().type_name()
                    )
                } else {
                    format!(
                        "kubectl reads the plain scalar `{}` as {} `{}`, while kustomize and YAML 1.2 tools read the string \"{}\"",
                        scalar.text,
                        scalar.resolve().type_name(),
                        scalar.resolve().to_text(),
                        scalar.text
                    )
                };
                let help = if self.redact {
                    "quote the value".to_string()
                } else {
                    format!("quote it: \"{}\"", scalar.text)
                };
                self.push(
                    Diagnostic::new(Check::AmbiguousYamlScalar, value.span, message)
                        .path(field())
                        .label("ambiguous plain scalar")
                        .help(help),
                );
                out.push((
                    Spanned::new(key_text, key.span),
                    Spanned::new(scalar.text.to_string(), value.span),
                ));
                continue;
            }
            if value.is_null() {
                // kubectl drops null entries of string maps without complaint.
                continue;
            }
            if let Some(v) = self.string_node_at(value, field) {
                out.push((Spanned::new(key_text, key.span), v));
            }
        }
        out
    }

    /// Reports keys of `node` not in `known` (`unknown-field`), suggesting a near match.
    pub fn unknown_fields(&mut self, node: &Node, path: &str, known: &[&str]) {
        for (key, _) in node.as_map().unwrap_or(&[]) {
            let text = key.key_cow();
            if !known.contains(&text.as_ref()) {
                let suggestion = known
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(&text))
                    .copied()
                    .or_else(|| crate::suggest::closest(&text, known.iter().copied()));
                let mut d = Diagnostic::new(
                    Check::UnknownField,
                    key.span,
                    format!("`{}` is not a field of `{path}`; it is ignored", join(path, &text)),
                )
                .path(join(path, &text))
                .label("unknown field");
                d = match suggestion {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("known fields: {}", known.join(", "))),
                };
                self.push(d);
            }
        }
    }

    /// Reports a plain key that kubectl reads as something other than the written text; the
    /// key's path is built only then.
    pub fn check_ambiguous_key(&mut self, key: &Node, field: impl FnOnce() -> String) {
        if is_ambiguous_key(key)
            && let Some(scalar) = key.as_scalar()
        {
            self.push(
                Diagnostic::new(
                    Check::AmbiguousYamlScalar,
                    key.span,
                    format!(
                        "kubectl reads the plain key `{}` as `{}`",
                        scalar.text,
                        scalar.resolve().to_text()
                    ),
                )
                .path(field())
                .label("ambiguous plain key")
                .help(format!("quote it: \"{}\"", scalar.text)),
            );
        }
    }
}

/// A plain key that kubectl reads as something other than its text (`on`, `0x1F`). A key read
/// as a string is its own text, so only the rest are resolved (which allocates).
fn is_ambiguous_key(key: &Node) -> bool {
    key.as_scalar().is_some_and(|scalar| {
        scalar.style == crate::syntax::ScalarStyle::Plain
            && scalar.as_str().is_none()
            && scalar.resolve().to_text() != scalar.text
    })
}

/// A span to blame for a missing field: the parent's key if known, else the parent.
pub fn span_of(node: Option<&Node>, fallback: Span) -> Span {
    node.map(|n| n.span).unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::{index, join};

    #[test]
    fn paths_read_as_their_format_strings_would() {
        assert_eq!(join("", "spec"), "spec");
        assert_eq!(join("spec", "type"), "spec.type");
        for i in [0, 7, 9, 10, 99, 100, 12_345, usize::MAX] {
            assert_eq!(index("containers", i), format!("containers[{i}]"));
            assert_eq!(index("", i), format!("[{i}]"));
        }
    }
}
