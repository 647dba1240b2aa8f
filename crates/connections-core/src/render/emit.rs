//! A YAML emitter for node trees, in the block style kubectl and kustomize print.
//!
//! Values are written in a form that YAML 1.1 (kubectl) and YAML 1.2 (kustomize, editors)
//! readers agree on: `0x1F` is written `31`, and any string that some reader could take for
//! something else (`"on"`, `"0777"`, `"1.0"`, `"null"`) is double-quoted. The one exception is
//! a plain scalar that the two readers already disagree about in the input (`on`, `0777`): it
//! is written exactly as it was, so that no reader sees a different value than before. Multi-line strings use literal
//! blocks where that is exact, double quotes otherwise. Mapping order is kept as given.

use crate::syntax::{Node, NodeValue, Resolved, Scalar, ScalarStyle};

/// Writes one document (no `---` marker) ending in a newline. The text is built in this
/// thread's reused buffer and returned at its exact length: render holds every object's text
/// until the plan is written, and a string grown by doubling keeps up to half of itself
/// unused (megabytes over tens of thousands of objects).
pub fn to_yaml(node: &Node) -> String {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with_borrow_mut(|buffer| {
        buffer.clear();
        write_document(buffer, node);
        let exact = buffer.as_str().to_owned();
        // A buffer grown for one huge document is not kept.
        if buffer.capacity() > 1 << 20 {
            *buffer = String::new();
        }
        exact
    })
}

/// Appends one document (no `---` marker) ending in a newline.
pub fn write_document(out: &mut String, node: &Node) {
    match &node.value {
        NodeValue::Map(entries) if !entries.is_empty() => write_map_entries(out, entries, 0, false),
        NodeValue::Seq(items) if !items.is_empty() => write_seq_items(out, items, 0, false),
        _ => {
            write_inline(out, node, 0);
            out.push('\n');
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = indent;
    while left > 0 {
        let now = left.min(SPACES.len());
        out.push_str(&SPACES[..now]);
        left -= now;
    }
}

/// Entries of a non-empty mapping at `indent`; with `continue_line`, the first entry goes on
/// the current line (after `- `).
fn write_map_entries(
    out: &mut String,
    entries: &[(Node, Node)],
    indent: usize,
    continue_line: bool,
) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 || !continue_line {
            push_indent(out, indent);
        }
        // The key goes straight into the output; the rare one too long for `key: value` is
        // taken back out and written again as an explicit key.
        let start = out.len();
        write_key(out, key);
        // Counting characters only matters for keys of more bytes than the limit.
        if out.len() - start > LONGEST_IMPLICIT_KEY
            && out[start..].chars().count() > LONGEST_IMPLICIT_KEY
        {
            // `? key` on its line, `: value` on the next: no length limit.
            let key_text = out.split_off(start);
            out.push_str("? ");
            out.push_str(&key_text);
            out.push('\n');
            push_indent(out, indent);
        }
        out.push(':');
        write_value_after_key(out, value, indent);
    }
}

/// The longest key written as `key: value`: YAML readers (go-yaml, saphyr) refuse an implicit
/// key longer than 1024 characters, so a longer one is written as an explicit `? key`.
const LONGEST_IMPLICIT_KEY: usize = 1000;

fn write_value_after_key(out: &mut String, value: &Node, indent: usize) {
    match &value.value {
        NodeValue::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            write_map_entries(out, entries, indent + 2, false);
        }
        NodeValue::Seq(items) if !items.is_empty() => {
            out.push('\n');
            write_seq_items(out, items, indent, false);
        }
        NodeValue::Scalar(scalar) => {
            out.push(' ');
            write_scalar(out, scalar, indent, true);
            out.push('\n');
        }
        _ => {
            out.push(' ');
            write_inline(out, value, indent);
            out.push('\n');
        }
    }
}

fn write_seq_items(out: &mut String, items: &[Node], indent: usize, continue_line: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !continue_line {
            push_indent(out, indent);
        }
        out.push('-');
        match &item.value {
            NodeValue::Map(entries) if !entries.is_empty() => {
                out.push(' ');
                write_map_entries(out, entries, indent + 2, true);
            }
            NodeValue::Seq(inner) if !inner.is_empty() => {
                out.push(' ');
                write_seq_items(out, inner, indent + 2, true);
            }
            NodeValue::Scalar(scalar) => {
                out.push(' ');
                write_scalar(out, scalar, indent, false);
                out.push('\n');
            }
            _ => {
                out.push(' ');
                write_inline(out, item, indent);
                out.push('\n');
            }
        }
    }
}

/// Empty collections and scalars, on the current line.
fn write_inline(out: &mut String, node: &Node, indent: usize) {
    match &node.value {
        NodeValue::Map(_) => out.push_str("{}"),
        NodeValue::Seq(_) => out.push_str("[]"),
        NodeValue::Scalar(scalar) => write_scalar(out, scalar, indent, false),
    }
}

fn write_key(out: &mut String, key: &Node) {
    let text = key.key_cow();
    if is_plain_safe(&text) {
        out.push_str(&text);
    } else {
        write_double_quoted(out, &text);
    }
}

fn write_scalar(out: &mut String, scalar: &Scalar, indent: usize, after_key: bool) {
    // A plain scalar that YAML 1.1 (kubectl applying the file) and YAML 1.2 (kustomize, Argo
    // CD, Flux) read differently is written as it was: then every reader gets from the output
    // exactly what it got from the input. The checks warn about it.
    if scalar.style == ScalarStyle::Plain
        && scalar.tag.is_none()
        && crate::syntax::is_plain_word(&scalar.text)
    {
        return write_string(out, &scalar.text, indent, after_key);
    }
    if scalar.style == ScalarStyle::Plain && scalar.tag.is_none() && scalar.is_ambiguous() {
        out.push_str(&scalar.text);
        return;
    }
    // Strings written quoted or as blocks never need resolving: that is the hot path.
    let resolved = match scalar.style {
        // Most plain strings are known without resolving (which allocates a copy of the text).
        ScalarStyle::Plain
            if scalar.tag.is_none() && crate::syntax::plain_is_surely_str(&scalar.text) =>
        {
            Resolved::Str(String::new())
        }
        ScalarStyle::Plain => scalar.resolve(),
        _ if scalar.tag.is_none() => Resolved::Str(String::new()),
        _ => scalar.resolve(),
    };
    match resolved {
        Resolved::Str(_) => write_string(out, &scalar.text, indent, after_key),
        Resolved::Null => out.push_str("null"),
        Resolved::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Resolved::Int(text) => out.push_str(&text),
        Resolved::Float(text) => match text.as_str() {
            "+Inf" => out.push_str(".inf"),
            "-Inf" => out.push_str("-.inf"),
            "NaN" => out.push_str(".nan"),
            _ => out.push_str(&text),
        },
    }
}

/// Writes a string value: plain when every reader agrees, a literal block for multi-line text
/// where exact, double-quoted otherwise.
pub fn write_string(out: &mut String, text: &str, indent: usize, after_key: bool) {
    if is_plain_safe(text) {
        out.push_str(text);
    } else if text.contains('\n') && literal_block_is_exact(text, after_key) {
        write_literal_block(out, text, indent + 2);
    } else {
        write_double_quoted(out, text);
    }
}

/// Whether `text` can be written unquoted and still read back as this string by YAML 1.1
/// (kubectl), YAML 1.2 (kustomize, editors) and JSON-minded readers alike.
pub fn is_plain_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else { return false };
    let last = bytes[bytes.len() - 1];
    if matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
            | b'+'
            | b'='
            | b'<'
            | b'~'
    ) || first.is_ascii_digit()
    {
        return false;
    }
    if last == b' ' || last == b':' {
        return false;
    }
    // `...` ends a document; `.5`, `.inf` and `.nan` are numbers (the resolve check below).
    if text.starts_with("...") {
        return false;
    }
    // This runs for every key and string written: ASCII control characters need escapes, and
    // `: ` and ` #` end a plain scalar early; `all` gathers the high bits (non-ASCII text).
    // Long texts (ciphertexts) in one branch-free pass over byte pairs that the compiler
    // vectorises; short ones (most keys and names, where that pass is mostly its scalar tail)
    // through a table of byte classes. Only text with non-ASCII characters is walked again,
    // for the non-ASCII characters that need escapes too.
    let (bad, all) = if bytes.len() < 32 {
        // A pair is bad when the class of its second byte is the first one's shifted left:
        // `:` then ` `, ` ` then `#` (a control character is bad on its own anyway).
        let (mut bad, mut all, mut previous) = (0u8, 0u8, 0u8);
        for &b in bytes {
            let class = BYTE_CLASS[b as usize];
            bad |= (class & CONTROL) | ((previous << 1) & class);
            all |= b;
            previous = class;
        }
        (bad, all)
    } else {
        let (bad, all) = bytes.iter().zip(&bytes[1..]).fold((0u8, 0u8), |(bad, all), (&a, &b)| {
            let control = (a < 0x20) | (a == 0x7f);
            let pair = ((a == b':') & (b == b' ')) | ((a == b' ') & (b == b'#'));
            (bad | (control | pair) as u8, all | a)
        });
        // The last byte is no pair's first.
        (bad | (last < 0x20 || last == 0x7f) as u8, all | last)
    };
    if bad != 0 {
        return false;
    }
    let ascii = all < 0x80;
    if !ascii
        && text.chars().any(|c| {
            c.is_control()
                || matches!(
                    c,
                    '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                )
        })
    {
        return false;
    }
    // Not a word that some reader takes for a boolean, null or number (y, on, null, 1e3, ...).
    crate::syntax::plain_is_str_everywhere(text)
}

/// Byte classes for [`is_plain_safe`]: the classes of a pair that ends a plain scalar early
/// are each other shifted by one bit (`COLON` then `SPACE`, `SPACE` then `HASH`).
const CONTROL: u8 = 1;
const COLON: u8 = 2;
const SPACE: u8 = 4;
const HASH: u8 = 8;
static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            0..0x20 | 0x7f => CONTROL,
            b':' => COLON,
            b' ' => SPACE,
            b'#' => HASH,
            _ => 0,
        };
        b += 1;
    }
    table
};

fn literal_block_is_exact(text: &str, after_key: bool) -> bool {
    for c in text.chars() {
        if (c.is_control() && c != '\n' && c != '\t')
            || matches!(
                c,
                '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        {
            return false;
        }
    }
    let body = text.trim_end_matches('\n');
    if body.is_empty() {
        return false;
    }
    for line in body.split('\n') {
        // Trailing or whitespace-only lines survive a literal block only with care; quoting is
        // always exact, so prefer it for those rare strings.
        if line.ends_with(' ') || line.ends_with('\t') {
            return false;
        }
    }
    // A first content line that starts with a space needs an indentation indicator, which we
    // only write after a mapping key.
    let first_content = body.split('\n').find(|l| !l.is_empty()).unwrap_or("");
    if first_content.starts_with(' ') || first_content.starts_with('\t') {
        return after_key && !first_content.starts_with('\t');
    }
    true
}

fn write_literal_block(out: &mut String, text: &str, indent: usize) {
    let body = text.trim_end_matches('\n');
    let trailing = text.len() - body.len();
    out.push('|');
    let first_content = body.split('\n').find(|l| !l.is_empty()).unwrap_or("");
    if first_content.starts_with(' ') {
        out.push('2');
    }
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
    }
    // The final line break is written by the caller; a kept (`+`) block needs the extra ones.
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// Writes `"text"` with YAML double-quote escapes.
pub fn write_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            '\u{fffe}' => out.push_str("\\uFFFE"),
            '\u{ffff}' => out.push_str("\\uFFFF"),
            c if c.is_control() => {
                let code = c as u32;
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02X}"));
                } else {
                    out.push_str(&format!("\\u{code:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Converts a JSON value to a node tree (object key order kept).
pub fn node_from_json(value: &serde_json::Value) -> Node {
    use serde_json::Value;
    match value {
        Value::Null => Node::resolved(&Resolved::Null),
        Value::Bool(b) => Node::bool(*b),
        Value::Number(n) => {
            if n.is_f64() {
                let text = format!("{:?}", n.as_f64().unwrap_or(0.0));
                Node::resolved(&Resolved::Float(text))
            } else {
                Node::resolved(&Resolved::Int(n.to_string()))
            }
        }
        Value::String(s) => Node::string(s.clone()),
        Value::Array(items) => Node::seq(items.iter().map(node_from_json).collect()),
        Value::Object(map) => Node::map_of(map.iter().map(|(k, v)| (k.clone(), node_from_json(v)))),
    }
}

/// [`node_to_json`] as compact text, written straight from the tree: the same bytes as
/// `node_to_json(node).to_string()` without building the `Value` (configmeta digests every
/// object a KubeDirector cluster connects, and building the value dominated that). A mapping
/// with two keys of the same text (a `duplicate-key` error, so never rendered) is written
/// with both, where the `Value` would keep one.
pub fn node_to_json_text(node: &Node) -> String {
    let mut out = Vec::with_capacity(256);
    write_json(&mut out, node);
    // Every byte written is UTF-8: the tree's own text, or serde_json's.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `node` as compact JSON. Collections and strings without escapes (nearly all of an
/// object) are written here, which took half the instructions of serde_json's serializer
/// driving [`JsonNode`]; numbers, booleans, nulls and strings that need escapes go through
/// serde_json, so every byte is still serde_json's.
fn write_json(out: &mut Vec<u8>, node: &Node) {
    match &node.value {
        NodeValue::Scalar(s) => match s.as_str() {
            Some(text) => write_json_string(out, text),
            None => write_with_serde_json(out, &JsonNode(node)),
        },
        NodeValue::Seq(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, item);
            }
            out.push(b']');
        }
        NodeValue::Map(entries) => {
            out.push(b'{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_string(out, &key.key_cow());
                out.push(b':');
                write_json(out, value);
            }
            out.push(b'}');
        }
    }
}

/// A JSON string. serde_json escapes `"`, `\` and the bytes below 0x20 and nothing else, so
/// text without them is copied between quotes; the check is one branch-free pass over the
/// bytes (long ciphertexts are most of the bytes), which the compiler vectorises.
fn write_json_string(out: &mut Vec<u8>, text: &str) {
    let escapes =
        text.bytes().fold(false, |found, b| found | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if escapes {
        return write_with_serde_json(out, text);
    }
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

fn write_with_serde_json(out: &mut Vec<u8>, value: &(impl serde::Serialize + ?Sized)) {
    // Writing to a Vec cannot fail, and every scalar is one serde_json accepts.
    let _ = serde_json::to_writer(out, value);
}

/// A node serialised as [`node_to_json`] reads it.
pub struct JsonNode<'a>(pub &'a Node);

impl serde::Serialize for JsonNode<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match &self.0.value {
            NodeValue::Scalar(s) => {
                if let Some(text) = s.as_str() {
                    return serializer.serialize_str(text);
                }
                match s.resolve() {
                    Resolved::Null => serializer.serialize_unit(),
                    Resolved::Bool(b) => serializer.serialize_bool(b),
                    Resolved::Int(text) => {
                        if let Ok(n) = text.parse::<i64>() {
                            serializer.serialize_i64(n)
                        } else if let Ok(n) = text.parse::<u64>() {
                            serializer.serialize_u64(n)
                        } else {
                            match text.parse::<f64>() {
                                // `Value::from` turns a non-finite number into null.
                                Ok(f) if f.is_finite() => serializer.serialize_f64(f),
                                Ok(_) => serializer.serialize_unit(),
                                Err(_) => serializer.serialize_str(&text),
                            }
                        }
                    }
                    Resolved::Float(text) => match text.parse::<f64>() {
                        Ok(f) if f.is_finite() => serializer.serialize_f64(f),
                        _ => serializer.serialize_str(&text),
                    },
                    Resolved::Str(_) => serializer.serialize_str(&s.text),
                }
            }
            NodeValue::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&JsonNode(item))?;
                }
                seq.end()
            }
            NodeValue::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(&key.key_cow(), &JsonNode(value))?;
                }
                map.end()
            }
        }
    }
}

/// Converts a node tree to JSON the way kubectl does (YAML 1.1 scalars, keys as strings).
pub fn node_to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &node.value {
        NodeValue::Scalar(s) => match s.resolve() {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(text) => text
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| text.parse::<u64>().map(Value::from))
                .unwrap_or_else(|_| {
                    text.parse::<f64>().map(Value::from).unwrap_or(Value::String(text))
                }),
            Resolved::Float(text) => match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Value::from(f),
                _ => Value::String(text),
            },
            Resolved::Str(_) => Value::String(s.text.to_string()),
        },
        NodeValue::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        NodeValue::Map(entries) => {
            Value::Object(entries.iter().map(|(k, v)| (k.key_text(), node_to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn doc(entries: Vec<(&str, Node)>) -> Node {
        Node::map_of(entries)
    }

    #[test]
    fn block_style_like_kubectl() {
        let node = doc(vec![
            ("apiVersion", Node::string("v1")),
            ("kind", Node::string("ConfigMap")),
            ("metadata", doc(vec![("name", Node::string("x")), ("labels", Node::map(vec![]))])),
            (
                "items",
                Node::seq(vec![doc(vec![("key", Node::string("a")), ("path", Node::string("a"))])]),
            ),
            ("list", Node::seq(vec![Node::string("on"), Node::int(3)])),
        ]);
        assert_eq!(
            to_yaml(&node),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {}\nitems:\n- key: a\n  path: a\nlist:\n- \"on\"\n- 3\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for text in [
            "on", "yes", "y", "0777", "1.0", "null", "~", "", "true", "-x", "a: b", "a #b",
            "12:30", "<<",
        ] {
            assert!(!is_plain_safe(text), "{text:?} must be quoted");
        }
        for text in ["hello", "pg.data.svc", "http://x/y?z=1", "a-b_c", "Ünïcode", "v1.2"] {
            assert!(is_plain_safe(text), "{text:?} may be plain");
        }
        // Control characters and the pairs that end a plain scalar, at every place of a short
        // text, of texts around the length where the check changes method (32 bytes), and of
        // one long enough to be scanned in vector-wide steps.
        let long = "AgB3xK9".repeat(20);
        let near = "abcdefghij".repeat(3);
        for base in ["abcdef", &near[..27], &near[..28], &near[..29], &near, long.as_str()] {
            for at in 0..=base.len() {
                for inserted in ["\t", "\u{7f}", "\n", ": x", " #x", "\u{85}", "\u{2028}"] {
                    let text = format!("x{}{inserted}{}y", &base[..at], &base[at..]);
                    assert!(!is_plain_safe(&text), "{text:?} must be quoted");
                }
                let fine = format!("x{}:y#z{}y", &base[..at], &base[at..]);
                assert!(is_plain_safe(&fine), "{fine:?} may be plain");
            }
            assert!(!is_plain_safe(&format!("x{base}\u{7f}")), "a control character last");
        }
    }

    #[test]
    fn keys_too_long_for_an_implicit_key_are_written_explicitly_and_read_back() {
        // Found by the krm fuzz target: a 12,779-character annotation key was written as
        // `key: value`, which no YAML reader accepts past 1024 characters.
        let long = "k".repeat(LONGEST_IMPLICIT_KEY + 1);
        let fits = "f".repeat(LONGEST_IMPLICIT_KEY);
        let quoted = format!("{}\n", "x".repeat(LONGEST_IMPLICIT_KEY));
        let inner = doc(vec![(long.as_str(), Node::string("v")), ("short", Node::int(1))]);
        let node = doc(vec![
            (long.as_str(), inner.clone()),
            ("list", Node::seq(vec![inner.clone(), Node::seq(vec![inner.clone()])])),
            (quoted.as_str(), Node::seq(vec![Node::string("a")])),
            (fits.as_str(), Node::string("v")),
        ]);
        let yaml = to_yaml(&node);
        assert!(yaml.contains(&format!("? {long}\n:\n  ? {long}\n  : v\n  short: 1\n")), "{yaml}");
        assert!(yaml.ends_with(&format!("\n{fits}: v\n")), "{yaml}");
        let lines = crate::source::LineIndex::new(&yaml);
        let limits = crate::parse::Limits::default();
        let (documents, problems) = crate::parse::parse(FileId(0), &yaml, &lines, limits);
        assert!(problems.is_empty(), "{problems:?}\n{yaml}");
        assert_eq!(documents.len(), 1);
        assert_eq!(to_yaml(&documents[0].root), yaml, "reads back as it was");
    }

    /// The streaming JSON writer must give exactly the bytes of the `Value` route: the
    /// configmeta connections hash digests them, so one changed byte changes every hash.
    #[test]
    fn json_text_is_the_value_route_byte_for_byte() {
        let yaml = "\
plain: word
quoted: \"on\"
yes11: on
nothing: ~
empty:
int: 0777
hex: 0x1F
big: 123456789012345678901234567890
huge: 1e400
negative: -12
unsigned: 18446744073709551615
float: 1.50
exp: 6.02e+23
inf: .inf
nan: .NaN
sep: 1_000
tagged: !!str 12
bool: !!bool yes
escapes: \"tab\\there <&> \\u2028 \\u0001 \\\"\"
\"quote\\\"key\\\\ <\": escaped key
only_quotes: 'he said \"hi\"'
only_backslash: 'C:\\dir'
only_tab: \"a\\tb\"
list: [1, two, {k: v}, [], {}]
3: int key
true: bool key
1.5: float key
nested: {a: {b: [null, false, \"\"]}}
";
        let lines = crate::source::LineIndex::new(yaml);
        let (documents, problems) =
            crate::parse::parse(FileId(0), yaml, &lines, crate::parse::Limits::default());
        assert!(problems.is_empty(), "{problems:?}");
        let root = &documents[0].root;
        assert_eq!(node_to_json_text(root), node_to_json(root).to_string());
        for (_, value) in root.as_map().unwrap() {
            assert_eq!(node_to_json_text(value), node_to_json(value).to_string());
        }
    }

    #[test]
    fn multi_line_strings_use_literal_blocks() {
        let node = doc(vec![
            ("a", Node::string("x\ny\n")),
            ("b", Node::string("x\ny")),
            ("c", Node::string("x\n\n")),
        ]);
        assert_eq!(to_yaml(&node), "a: |\n  x\n  y\nb: |-\n  x\n  y\nc: |+\n  x\n\n");
        let odd = doc(vec![("a", Node::string("x \ny"))]);
        assert_eq!(to_yaml(&odd), "a: \"x \\ny\"\n");
    }
}
