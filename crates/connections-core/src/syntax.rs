//! The spanned YAML node tree that the loader builds and the core reads.
//!
//! Every node keeps the byte span it was written at, so a check can point at a reference that
//! is well-formed but dangling. Scalars keep their text and style; what a scalar *means* is
//! decided by [`Scalar::resolve`], which follows kubectl (YAML 1.1, as sigs.k8s.io/yaml reads
//! manifests) rather than YAML 1.2: plain `on` is `true` and `0777` is 511 there.

use crate::source::Span;

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    /// Unquoted.
    Plain,
    /// `'single quoted'`.
    SingleQuoted,
    /// `"double quoted"`.
    DoubleQuoted,
    /// `|` block.
    Literal,
    /// `>` block.
    Folded,
}

/// A scalar as written: its (unescaped) text, style and explicit tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// The value text after unescaping and folding (inline up to 24 bytes: most scalars are
    /// short, and a repository holds millions of them).
    pub text: compact_str::CompactString,
    /// How it was written.
    pub style: ScalarStyle,
    /// An explicit tag (`!!str`), if any, by what it means: one byte instead of the tag's text
    /// behind a pointer, so that a node takes 48 bytes instead of 56 (the trees of a large
    /// repository are most of its peak memory).
    pub tag: Option<ScalarTag>,
}

/// An explicit scalar tag, kept as the meaning it gives the text. Its text is not needed:
/// output carries the value the tagged scalar resolves to, never the tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarTag {
    /// `!!str`.
    Str,
    /// `!!null`.
    Null,
    /// `!!bool`.
    Bool,
    /// `!!int`.
    Int,
    /// `!!float`.
    Float,
    /// Any other tag (`!custom`, and `!!binary`, whose text kubectl would base64-decode: not
    /// modelled, its text is read as the string), read as a string.
    Other,
}

impl ScalarTag {
    /// The tag written in full, as the parser resolves it (`!!str` is
    /// `tag:yaml.org,2002:str`).
    pub fn from_full_name(name: &str) -> ScalarTag {
        match name.strip_prefix(TAG_PREFIX) {
            Some("str") => ScalarTag::Str,
            Some("null") => ScalarTag::Null,
            Some("bool") => ScalarTag::Bool,
            Some("int") => ScalarTag::Int,
            Some("float") => ScalarTag::Float,
            _ => ScalarTag::Other,
        }
    }
}

/// What a scalar means to a reader.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    /// `null`, `~` or empty.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer, as canonical decimal text (it may exceed 64 bits).
    Int(String),
    /// A floating-point number, as canonical text.
    Float(String),
    /// A string.
    Str(String),
}

impl Resolved {
    /// The kind of value, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Resolved::Null => "null",
            Resolved::Bool(_) => "boolean",
            Resolved::Int(_) => "integer",
            Resolved::Float(_) => "number",
            Resolved::Str(_) => "string",
        }
    }

    /// The text kubectl would use where a string is needed (a map key, a generated value).
    pub fn to_text(&self) -> String {
        match self {
            Resolved::Null => "null".to_string(),
            Resolved::Bool(b) => b.to_string(),
            Resolved::Int(s) | Resolved::Float(s) | Resolved::Str(s) => s.clone(),
        }
    }
}

const TAG_PREFIX: &str = "tag:yaml.org,2002:";

impl Scalar {
    /// A plain string scalar (for generated nodes). Short text is stored inline: taken as
    /// `&str` it is never copied into a `String` first (generated nodes are mostly short names
    /// and keys, tens of thousands of them in a large render).
    pub fn string(text: impl Into<compact_str::CompactString>) -> Scalar {
        Scalar { text: text.into(), style: ScalarStyle::DoubleQuoted, tag: None }
    }

    /// The meaning kubectl gives this scalar (YAML 1.1 rules of go-yaml v2).
    pub fn resolve(&self) -> Resolved {
        if let Some(tag) = self.tag {
            return resolve_tagged(tag, &self.text);
        }
        if self.style != ScalarStyle::Plain {
            return Resolved::Str(self.text.to_string());
        }
        resolve_yaml11(&self.text)
    }

    /// The meaning a YAML 1.2 core-schema reader gives this scalar.
    pub fn resolve_yaml12(&self) -> Resolved {
        if let Some(tag) = self.tag {
            return resolve_tagged(tag, &self.text);
        }
        if self.style != ScalarStyle::Plain {
            return Resolved::Str(self.text.to_string());
        }
        resolve_yaml12(&self.text)
    }

    /// Whether YAML 1.1 (kubectl) and YAML 1.2 readers disagree about this scalar.
    pub fn is_ambiguous(&self) -> bool {
        // Text both surely read as a string is decided without resolving (which allocates).
        self.style == ScalarStyle::Plain
            && self.tag.is_none()
            && !plain_is_surely_str(&self.text)
            && {
                let a = resolve_yaml11(&self.text);
                let b = resolve_yaml12(&self.text);
                a != b
            }
    }

    /// Whether kubectl reads this scalar as null: [`Scalar::resolve`] without building a result
    /// (asked of every key and many values, so it must not allocate).
    pub fn is_null(&self) -> bool {
        match &self.tag {
            None => {
                self.style == ScalarStyle::Plain
                    && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
            }
            Some(_) => self.resolve() == Resolved::Null,
        }
    }

    /// The scalar as text when kubectl reads it as a string, else `None`.
    pub fn as_str(&self) -> Option<&str> {
        let is_str = match (&self.tag, self.style) {
            (None, ScalarStyle::Plain) => plain_is_str(&self.text),
            (None, _) => true,
            (Some(_), _) => matches!(self.resolve(), Resolved::Str(_)),
        };
        is_str.then_some(self.text.as_str())
    }
}

fn resolve_tagged(tag: ScalarTag, text: &str) -> Resolved {
    match tag {
        ScalarTag::Null => Resolved::Null,
        ScalarTag::Bool | ScalarTag::Int | ScalarTag::Float => resolve_yaml11(text),
        ScalarTag::Str | ScalarTag::Other => Resolved::Str(text.to_string()),
    }
}

/// Whether [`resolve_yaml11`] reads `text` as a string, resolving only number-like text.
fn plain_is_str(text: &str) -> bool {
    plain_str_unless_number(text, |text| matches!(resolve_yaml11(text), Resolved::Str(_)))
}

/// Whether YAML 1.1 and 1.2 readers alike take this plain text for a string, judged by its
/// first byte alone: numbers, booleans, nulls and infinities all start with one of a few
/// bytes. `false` means "look closer", not "not a string".
pub fn is_plain_word(text: &str) -> bool {
    match text.as_bytes().first() {
        None => false,
        Some(b) => {
            !(b.is_ascii_digit()
                || matches!(
                    b,
                    b'-' | b'+'
                        | b'.'
                        | b'y'
                        | b'Y'
                        | b'n'
                        | b'N'
                        | b'o'
                        | b'O'
                        | b't'
                        | b'T'
                        | b'f'
                        | b'F'
                        | b'~'
                ))
        }
    }
}

/// The YAML 1.1 words that are not strings (nulls, booleans, infinities), resolved.
fn yaml11_word(text: &str) -> Option<Resolved> {
    // None of the words is longer than five bytes (`false`, `-.inf`). This runs for nearly
    // every key and string read, most of them longer: the length settles it before the
    // comparisons below.
    if text.len() > 5 {
        return None;
    }
    Some(match text {
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Resolved::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float("+Inf".into()),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float("-Inf".into()),
        ".nan" | ".NaN" | ".NAN" => Resolved::Float("NaN".into()),
        _ => return None,
    })
}

/// Whether `text` starts the way every YAML 1.1 and 1.2 number does (digit, sign or dot).
fn starts_like_number(text: &str) -> bool {
    matches!(text.as_bytes().first(), Some(b) if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'))
}

/// Whether plain `text` is a string to YAML 1.1 and 1.2 readers alike, decided without
/// resolving it: not one of their special words (YAML 1.2's are a subset of YAML 1.1's), and
/// either not starting the way a number does or holding a byte no number has (`10Gi`).
/// `false` only means resolving is needed to know.
pub fn plain_is_surely_str(text: &str) -> bool {
    plain_str_unless_number(text, |_| false)
}

/// Whether plain `text` reads as a string in YAML 1.1 (kubectl) and YAML 1.2 (kustomize,
/// editors) alike. Decided without allocating for everything but number-like text. The
/// YAML 1.2 core schema's special words are a subset of YAML 1.1's.
pub fn plain_is_str_everywhere(text: &str) -> bool {
    plain_str_unless_number(text, |text| {
        matches!(resolve_yaml11(text), Resolved::Str(_))
            && matches!(resolve_yaml12(text), Resolved::Str(_))
    })
}

/// The one shape of the checks above: a plain word is a string, a special word is not, other
/// text is unless it starts like a number and has [`has_number_shape`], and then
/// `number_like_is_str` decides.
fn plain_str_unless_number(text: &str, number_like_is_str: impl FnOnce(&str) -> bool) -> bool {
    is_plain_word(text)
        || (yaml11_word(text).is_none()
            && (!starts_like_number(text) || !has_number_shape(text) || number_like_is_str(text)))
}

/// Whether every byte of `text` is one that an integer or float can hold as go-yaml v2
/// (kubectl) or a YAML 1.2 core-schema reader resolves them: digits, hex digits, `x`, `o`, `b`,
/// `.`, `_` and signs (neither resolves YAML 1.1's sexagesimal `1:20`). Number-like text with
/// any other byte (`10Gi`, `500m`, `1.0-rc1`) is a string to both, known without resolving it,
/// which allocates.
fn has_number_shape(text: &str) -> bool {
    text.bytes().all(|b| {
        b.is_ascii_hexdigit()
            || matches!(b, b'x' | b'X' | b'o' | b'O' | b'b' | b'B' | b'.' | b'_' | b'+' | b'-')
    })
}

/// go-yaml v2's plain scalar resolution, which is what kubectl applies to manifests.
fn resolve_yaml11(text: &str) -> Resolved {
    if let Some(word) = yaml11_word(text) {
        return word;
    }
    if !starts_like_number(text) {
        return Resolved::Str(text.to_string());
    }
    // go-yaml drops underscores before parsing; most numbers have none to drop.
    let plain = if text.contains('_') {
        std::borrow::Cow::Owned(text.replace('_', ""))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    if let Some(value) = parse_go_int(&plain) {
        return Resolved::Int(value);
    }
    if is_yaml_float(&plain) {
        return Resolved::Float(canonical_float(&plain));
    }
    Resolved::Str(text.to_string())
}

/// The YAML 1.2 core schema (what serde-saphyr and most editors use).
fn resolve_yaml12(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float("+Inf".into());
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float("-Inf".into()),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float("NaN".into()),
        _ => {}
    }
    let (sign, digits) = split_sign(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Resolved::Int(canonical_decimal(sign, digits));
    }
    if let Some(oct) = text.strip_prefix("0o")
        && !oct.is_empty()
        && oct.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return Resolved::Int(radix_to_decimal(false, oct, 8));
    }
    if let Some(hex) = text.strip_prefix("0x")
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Resolved::Int(radix_to_decimal(false, hex, 16));
    }
    if is_yaml_float(text) {
        return Resolved::Float(canonical_float(text));
    }
    Resolved::Str(text.to_string())
}

fn split_sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix('+') {
        (false, rest)
    } else {
        (false, text)
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseUint`: sign, then `0x`, `0o`, `0b` or a
/// leading `0` for octal. Returns canonical decimal text.
fn parse_go_int(text: &str) -> Option<String> {
    let (negative, rest) = split_sign(text);
    // The prefixes in either case (`0x`, `0X`); digits are read in either case too.
    let (digits, radix) = match rest.as_bytes() {
        [b'0', p, ..] if p.eq_ignore_ascii_case(&b'x') => (&rest[2..], 16),
        [b'0', p, ..] if p.eq_ignore_ascii_case(&b'o') => (&rest[2..], 8),
        [b'0', p, ..] if p.eq_ignore_ascii_case(&b'b') => (&rest[2..], 2),
        [b'0', _, ..] => (&rest[1..], 8),
        _ => (rest, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Go parses into 64 bits; larger values are not integers to it (they may be floats).
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        if magnitude > i64::MAX as u64 + 1 {
            return None;
        }
        if magnitude == 0 {
            return Some("0".into());
        }
        return Some(format!("-{magnitude}"));
    }
    Some(magnitude.to_string())
}

fn radix_to_decimal(negative: bool, digits: &str, radix: u32) -> String {
    match u128::from_str_radix(digits, radix) {
        Ok(v) if negative && v != 0 => format!("-{v}"),
        Ok(v) => v.to_string(),
        Err(_) => digits.to_string(),
    }
}

fn canonical_decimal(negative: bool, digits: &str) -> String {
    let trimmed = digits.trim_start_matches('0');
    let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
    if negative && trimmed != "0" { format!("-{trimmed}") } else { trimmed.to_string() }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, shared by YAML 1.1 and 1.2.
fn is_yaml_float(text: &str) -> bool {
    let (_, rest) = split_sign(text);
    let bytes = rest.as_bytes();
    let mut i = 0;
    let int_digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        frac_digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
            i += 1;
        }
        let exp = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == bytes.len()
}

/// A float's text in a form every YAML and JSON reader agrees on.
fn canonical_float(text: &str) -> String {
    let simple = {
        let (_, rest) = split_sign(text);
        let b = rest.as_bytes();
        // `1.5`, `0.25`, `12.0`: digits, a dot and digits, no exponent, no leading zeros.
        let dot = rest.find('.');
        matches!(dot, Some(d) if d > 0 && d + 1 < b.len()
            && b[..d].iter().all(u8::is_ascii_digit) && b[d + 1..].iter().all(u8::is_ascii_digit)
            && !(d > 1 && b[0] == b'0'))
    };
    if simple {
        return text.trim_start_matches('+').to_string();
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => {
            let s = format!("{v:?}");
            if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
                s
            } else {
                format!("{s}.0")
            }
        }
        _ => text.to_string(),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, which sigs.k8s.io/yaml uses for float keys.
fn go_float_key(text: &str) -> String {
    // sigs.k8s.io/yaml then writes infinities and NaN the YAML way (its `yamlKeyToString`),
    // and a float too large for 32 bits is an infinity there.
    match text {
        "+Inf" => return ".inf".to_string(),
        "-Inf" => return "-.inf".to_string(),
        "NaN" => return ".nan".to_string(),
        _ => {}
    }
    let Ok(value) = text.parse::<f32>() else { return text.to_string() };
    if value.is_infinite() {
        return if value < 0.0 { "-.inf" } else { ".inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Shortest digits and exponent, from Rust's shortest round-trip form (`1.5e-5`).
    let sci = format!("{:e}", value.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if value < 0.0 { "-" } else { "" };
    // With the shortest precision Go picks %e when the exponent is below -4 or at least 6.
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let (esign, eabs) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
        return format!("{sign}{first}{frac}e{esign}{eabs:02}");
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{sign}{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{sign}{int}.{frac}")
    }
}

/// A YAML node with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the node was written ([`Span::SYNTHETIC`] for generated nodes).
    pub span: Span,
    /// The node's content.
    pub value: NodeValue,
}

/// The content of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeValue {
    /// A scalar.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in written order (keys unique after resolution; the loader rejects duplicates).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// A generated string node.
    pub fn string(text: impl Into<compact_str::CompactString>) -> Node {
        Node { span: Span::SYNTHETIC, value: NodeValue::Scalar(Scalar::string(text)) }
    }

    /// A generated scalar node that reads as the given resolved value.
    pub fn resolved(value: &Resolved) -> Node {
        let (text, style) = match value {
            Resolved::Str(s) => (s.clone(), ScalarStyle::DoubleQuoted),
            other => (other.to_text(), ScalarStyle::Plain),
        };
        Node {
            span: Span::SYNTHETIC,
            value: NodeValue::Scalar(Scalar { text: text.into(), style, tag: None }),
        }
    }

    /// A generated boolean node.
    pub fn bool(value: bool) -> Node {
        Node::resolved(&Resolved::Bool(value))
    }

    /// A generated integer node.
    pub fn int(value: i64) -> Node {
        Node::resolved(&Resolved::Int(value.to_string()))
    }

    /// A generated mapping node.
    pub fn map(entries: Vec<(Node, Node)>) -> Node {
        Node { span: Span::SYNTHETIC, value: NodeValue::Map(entries) }
    }

    /// A generated mapping node from string keys.
    pub fn map_of<K: Into<compact_str::CompactString>>(
        entries: impl IntoIterator<Item = (K, Node)>,
    ) -> Node {
        Node::map(entries.into_iter().map(|(k, v)| (Node::string(k), v)).collect())
    }

    /// A generated sequence node.
    pub fn seq(items: Vec<Node>) -> Node {
        Node { span: Span::SYNTHETIC, value: NodeValue::Seq(items) }
    }

    /// The scalar, if this is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            NodeValue::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text, if this is a scalar kubectl reads as a string.
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().and_then(Scalar::as_str)
    }

    /// The mapping entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The mapping entries, mutably, if this is a mapping.
    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Node, Node)>> {
        match &mut self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is a null scalar (kubectl's reading).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar(s) if s.is_null())
    }

    /// [`Node::key_text`], borrowed when the key is a string (nearly always).
    pub fn key_cow(&self) -> std::borrow::Cow<'_, str> {
        match self.as_str() {
            Some(text) => std::borrow::Cow::Borrowed(text),
            None => std::borrow::Cow::Owned(self.key_text()),
        }
    }

    /// The map key as kubectl turns it into a JSON object key (sigs.k8s.io/yaml: booleans and
    /// integers as their text, floats with Go's `FormatFloat(f, 'g', -1, 32)`).
    pub fn key_text(&self) -> String {
        if let Some(text) = self.as_str() {
            return text.to_string();
        }
        match &self.value {
            NodeValue::Scalar(s) => match s.resolve() {
                Resolved::Float(text) => go_float_key(&text),
                other => other.to_text(),
            },
            NodeValue::Seq(_) => "[sequence]".to_string(),
            NodeValue::Map(_) => "{mapping}".to_string(),
        }
    }

    /// The value of `key` in a mapping (`None` if absent or not a mapping).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.key_matches(key)).map(|(_, v)| v)
    }

    /// The entry `(key node, value node)` of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?.iter().find(|(k, _)| k.key_matches(key)).map(|(k, v)| (k, v))
    }

    /// The value of `key` in a mapping, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut()?.iter_mut().find(|(k, _)| k.key_matches(key)).map(|(_, v)| v)
    }

    /// Follows a chain of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// Follows a chain of mapping keys, mutably.
    pub fn path_mut(&mut self, keys: &[&str]) -> Option<&mut Node> {
        let mut node = self;
        for key in keys {
            node = node.get_mut(key)?;
        }
        Some(node)
    }

    /// Sets `key` to `value` in a mapping, replacing an existing entry in place or appending.
    /// Does nothing on a non-mapping.
    pub fn set(&mut self, key: &str, value: Node) {
        if let Some(entries) = self.as_map_mut() {
            if let Some(slot) = entries.iter_mut().find(|(k, _)| k.key_matches(key)) {
                slot.1 = value;
            } else {
                entries.push((Node::string(key), value));
            }
        }
    }

    /// Removes `key` from a mapping, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let entries = self.as_map_mut()?;
        let index = entries.iter().position(|(k, _)| k.key_matches(key))?;
        Some(entries.remove(index).1)
    }

    /// The mapping at `key`, created (or replacing a null) if missing. `None` if `self` is
    /// not a mapping or `key` holds something other than a mapping or null.
    pub fn map_at(&mut self, key: &str) -> Option<&mut Node> {
        let needs_new = match self.get(key) {
            None => true,
            Some(n) if n.is_null() => true,
            Some(n) => n.as_map().is_none(),
        };
        if needs_new {
            if self.get(key).is_some_and(|n| !n.is_null()) {
                return None;
            }
            self.set(key, Node::map(Vec::new()));
        }
        self.get_mut(key)
    }

    /// The sequence items at `key`, created (or replacing a null) if missing.
    pub fn seq_at(&mut self, key: &str) -> Option<&mut Vec<Node>> {
        match self.get(key) {
            None => self.set(key, Node::seq(Vec::new())),
            Some(n) if n.is_null() => self.set(key, Node::seq(Vec::new())),
            Some(n) if n.as_seq().is_none() => return None,
            Some(_) => {}
        }
        match &mut self.get_mut(key)?.value {
            NodeValue::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Whether this map key's [`Node::key_text`] is `key`, without allocating.
    pub fn key_matches(&self, key: &str) -> bool {
        match &self.value {
            // Fast path: most keys are plain strings.
            NodeValue::Scalar(s) if s.text == key => s.as_str().is_some() || self.key_text() == key,
            // Only a plain scalar read as something else (`0x1F` as `31`) can match `key` with
            // other text. Such readings start with a digit, a sign or a dot, or are one of
            // three words, so a lower-case field name (nearly every lookup) never needs the
            // reading; and a plain string resolves to itself.
            NodeValue::Scalar(s) => {
                (s.style == ScalarStyle::Plain || s.tag.is_some())
                    && (!key.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
                        || matches!(key, "null" | "true" | "false"))
                    && !(s.tag.is_none() && plain_is_str(&s.text))
                    && self.key_text() == key
            }
            _ => false,
        }
    }

    /// Counts the nodes in this subtree (for size budgets).
    pub fn count_nodes(&self) -> usize {
        match &self.value {
            NodeValue::Scalar(_) => 1,
            NodeValue::Seq(items) => 1 + items.iter().map(Node::count_nodes).sum::<usize>(),
            NodeValue::Map(entries) => {
                1 + entries.iter().map(|(k, v)| k.count_nodes() + v.count_nodes()).sum::<usize>()
            }
        }
    }
}

/// One YAML document of one file.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file it came from.
    pub file: crate::source::FileId,
    /// 0-based index of the document in its file.
    pub index: usize,
    /// The root node.
    pub root: Node,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Scalar {
        Scalar { text: text.into(), style: ScalarStyle::Plain, tag: None }
    }

    #[test]
    fn kubectl_reads_yaml11_booleans_and_octals() {
        assert_eq!(plain("on").resolve(), Resolved::Bool(true));
        assert_eq!(plain("y").resolve(), Resolved::Bool(true));
        assert_eq!(plain("OFF").resolve(), Resolved::Bool(false));
        assert_eq!(plain("0777").resolve(), Resolved::Int("511".into()));
        assert_eq!(plain("0x1F").resolve(), Resolved::Int("31".into()));
        assert_eq!(plain("0b101").resolve(), Resolved::Int("5".into()));
        assert_eq!(plain("0X1f").resolve(), Resolved::Int("31".into()));
        assert_eq!(plain("0O17").resolve(), Resolved::Int("15".into()));
        assert_eq!(plain("-0B11").resolve(), Resolved::Int("-3".into()));
        assert_eq!(plain("0").resolve(), Resolved::Int("0".into()));
        assert_eq!(plain("-0").resolve(), Resolved::Int("0".into()));
        assert_eq!(plain("0x").resolve(), Resolved::Str("0x".into()));
        assert_eq!(plain("08").resolve(), Resolved::Float("8.0".into()));
        assert_eq!(plain("0x_1F").resolve(), Resolved::Int("31".into()));
        assert_eq!(plain("1_000").resolve(), Resolved::Int("1000".into()));
        assert_eq!(plain("-12").resolve(), Resolved::Int("-12".into()));
        assert_eq!(plain("1.5").resolve(), Resolved::Float("1.5".into()));
        assert_eq!(plain("1e3").resolve(), Resolved::Float("1000.0".into()));
        assert_eq!(plain("~").resolve(), Resolved::Null);
        assert_eq!(plain("2001-12-14").resolve(), Resolved::Str("2001-12-14".into()));
        assert_eq!(plain("v1.2").resolve(), Resolved::Str("v1.2".into()));
    }

    #[test]
    fn ambiguity_is_where_yaml11_and_yaml12_differ() {
        for text in ["on", "yes", "n", "0777", "1_000", "0b11"] {
            assert!(plain(text).is_ambiguous(), "{text}");
        }
        for text in ["true", "5432", "hello", "1.5", "null", "0o17", "0x10"] {
            assert!(!plain(text).is_ambiguous(), "{text}");
        }
        let quoted = Scalar { text: "on".into(), style: ScalarStyle::DoubleQuoted, tag: None };
        assert!(!quoted.is_ambiguous());
        assert_eq!(quoted.as_str(), Some("on"));
    }

    /// The shortcut never calls a non-string a string: where it says "surely", both readers
    /// resolve the text to itself.
    #[test]
    fn surely_a_string_is_a_string_to_both_readers() {
        let words = [
            "", "~", "null", "NULL", "y", "Y", "yes", "on", "On", "off", "n", "no", "true",
            "False", ".inf", "-.Inf", "+.inf", ".nan", ".NaN", "0", "-1", "+1", "1e3", "0x1F",
            "0o17", "0b11", "0777", "1_000", ".5", "-.5", "1.0", "12:30", "-", "+", ".", "..",
            "hello", "ns-1", "nothing", "onion", "yes-no", "tr", "0abc", "-x", ".hidden", "n/a",
        ];
        // Number-like text, with and without a byte that no number holds.
        let shapes = [
            "10Gi", "4Gi", "500m", "1.2.3", "1.2-rc1", "0x1G", "1e3x", "-1:30", "+5h", "0o19",
            "1E3", "0X1F", "0B11", "0O17", "1_000Mi", "-0x_1F", "1e+3", ".5E-2",
        ];
        let mut surely = 0;
        for text in words.into_iter().chain(shapes) {
            // The checks built on the shortcut still agree with resolving, where it cannot say.
            let yaml11 = matches!(resolve_yaml11(text), Resolved::Str(_));
            let yaml12 = matches!(resolve_yaml12(text), Resolved::Str(_));
            assert_eq!(plain(text).as_str().is_some(), yaml11, "{text:?}");
            assert_eq!(plain_is_str_everywhere(text), yaml11 && yaml12, "{text:?}");
            if plain_is_surely_str(text) {
                surely += 1;
                assert_eq!(resolve_yaml11(text), Resolved::Str(text.into()), "{text:?}");
                assert_eq!(resolve_yaml12(text), Resolved::Str(text.into()), "{text:?}");
                assert!(!plain(text).is_ambiguous(), "{text:?}");
            }
        }
        assert!(surely >= 6, "the shortcut takes the ordinary strings");
        assert!(!plain_is_surely_str("5432") && !plain_is_surely_str("no"));
        // Quantities are numbers to no reader, and known as strings without resolving.
        assert!(plain_is_surely_str("10Gi") && plain_is_surely_str("500m"));
    }

    #[test]
    fn float_keys_read_like_go() {
        for (text, key) in [
            ("1.0", "1"),
            ("1e3", "1000"),
            ("1.5", "1.5"),
            ("1e6", "1e+06"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("-2.5", "-2.5"),
            ("123456.0", "123456"),
            (".inf", ".inf"),
            ("-.Inf", "-.inf"),
            (".NaN", ".nan"),
            ("1e39", ".inf"),
            ("-1e39", "-.inf"),
        ] {
            let node = Node { span: Span::SYNTHETIC, value: NodeValue::Scalar(plain(text)) };
            assert_eq!(node.key_text(), key, "{text}");
        }
    }

    /// `key_matches` skips resolving where it can; it must still agree with `key_text` on
    /// every kind of key, including those kubectl reads as something other than their text.
    #[test]
    fn key_matches_agrees_with_key_text() {
        let keys = [
            "name",
            "0x1F",
            "on",
            "off",
            "yes",
            "n",
            "~",
            "null",
            "true",
            "1.0",
            "1e3",
            "0777",
            "1_000",
            "-12",
            "+5",
            ".5",
            "NaN",
            ".inf",
            "-.inf",
            "2001-12-14",
            "v1.2",
            "y",
        ];
        let queries = [
            "name",
            "31",
            "true",
            "false",
            "null",
            "1",
            "1000",
            "511",
            "-12",
            "5",
            "0.5",
            "+Inf",
            "-Inf",
            "NaN",
            "2001-12-14",
            "v1.2",
            "on",
            "0x1F",
            "y",
            "n",
            "",
        ];
        let tags = [None, Some("null"), Some("bool"), Some("int"), Some("float"), Some("str")];
        for text in keys {
            for style in [ScalarStyle::Plain, ScalarStyle::DoubleQuoted] {
                for tag in tags {
                    let tag = tag.map(|t| ScalarTag::from_full_name(&format!("{TAG_PREFIX}{t}")));
                    let scalar = Scalar { text: text.into(), style, tag };
                    let node = Node { span: Span::SYNTHETIC, value: NodeValue::Scalar(scalar) };
                    for query in queries {
                        assert_eq!(
                            node.key_matches(query),
                            node.key_text() == query,
                            "key {text:?} ({style:?}, {tag:?}), query {query:?}"
                        );
                    }
                }
            }
        }
        let is_null = |text: &str| plain(text).is_null();
        assert!(["", "~", "null", "Null", "NULL"].into_iter().all(is_null));
        assert!(!["nil", "none", "0", "NuLL"].into_iter().any(is_null));
    }

    #[test]
    fn nodes_stay_small() {
        // Millions of nodes are kept for a whole run; growing them shows in peak memory.
        assert!(std::mem::size_of::<Node>() <= 48, "{}", std::mem::size_of::<Node>());
    }

    #[test]
    fn str_tag_forces_a_string() {
        let s = Scalar {
            text: "0777".into(),
            style: ScalarStyle::Plain,
            tag: Some(ScalarTag::from_full_name("tag:yaml.org,2002:str")),
        };
        assert_eq!(s.resolve(), Resolved::Str("0777".into()));
    }
}
