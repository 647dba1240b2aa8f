//! JSON written byte for byte as Go's `encoding/json` writes it (what KubeDirector uses for
//! configmeta): compact, map keys sorted bytewise, `<`, `>` and `&` escaped as `\u003c`,
//! `\u003e`, `\u0026`, U+2028 and U+2029 escaped, `\b` `\f` `\n` `\r` `\t` as short escapes
//! (Go 1.22 and later) and other control characters as `\u00XX`.

use std::collections::BTreeMap;

/// A JSON value with Go's map semantics: object keys are sorted bytewise when written.
#[derive(Clone, Debug, PartialEq)]
pub enum GoValue {
    /// `null` (a nil map or slice).
    Null,
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<GoValue>),
    /// A map, written with sorted keys.
    Map(BTreeMap<String, GoValue>),
    /// A struct: members in declaration order.
    Struct(Vec<(&'static str, GoValue)>),
}

impl GoValue {
    /// A map of strings, or `null` when it is empty (Go's nil map after an API round trip).
    pub fn string_map_or_null(map: &BTreeMap<String, String>) -> GoValue {
        if map.is_empty() { GoValue::Null } else { GoValue::string_map(map) }
    }

    /// A map of strings (empty is `{}`).
    pub fn string_map(map: &BTreeMap<String, String>) -> GoValue {
        GoValue::Map(map.iter().map(|(k, v)| (k.clone(), GoValue::Str(v.clone()))).collect())
    }
}

/// Writes `value` compactly.
pub fn write(out: &mut String, value: &GoValue) {
    match value {
        GoValue::Null => out.push_str("null"),
        GoValue::Str(s) => write_string(out, s),
        GoValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        GoValue::Map(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write(out, v);
            }
            out.push('}');
        }
        GoValue::Struct(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write(out, v);
            }
            out.push('}');
        }
    }
}

/// Writes a JSON string with Go's escaping (HTML-safe).
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Converts kubectl's JSON reading of a node tree into a Go value (maps sorted).
pub fn from_json(value: &serde_json::Value) -> GoValue {
    match value {
        serde_json::Value::Null => GoValue::Null,
        serde_json::Value::String(s) => GoValue::Str(s.clone()),
        serde_json::Value::Array(items) => GoValue::Array(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => {
            GoValue::Map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
        // Numbers and booleans are written as JSON writes them.
        other => GoValue::Str(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &GoValue) -> String {
        let mut out = String::new();
        write(&mut out, value);
        out
    }

    #[test]
    fn escapes_like_go() {
        let v = GoValue::Str("a<b>&c\"d\\e\nf\u{1}g\u{7f}h\u{2028}é\u{8}".into());
        assert_eq!(
            text(&v),
            "\"a\\u003cb\\u003e\\u0026c\\\"d\\\\e\\nf\\u0001g\u{7f}h\\u2028é\\b\""
        );
    }

    #[test]
    fn maps_sort_bytewise_structs_keep_order() {
        let mut map = BTreeMap::new();
        map.insert("b".to_string(), GoValue::Null);
        map.insert("B".to_string(), GoValue::Str("x".into()));
        map.insert("a".to_string(), GoValue::Array(vec![]));
        let s =
            GoValue::Struct(vec![("z", GoValue::Map(map)), ("a", GoValue::Map(BTreeMap::new()))]);
        assert_eq!(text(&s), r#"{"z":{"B":"x","a":[],"b":null},"a":{}}"#);
    }
}
