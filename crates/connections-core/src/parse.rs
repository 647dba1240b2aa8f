//! YAML (and JSON) text to spanned node trees, from saphyr-parser's event stream. Pure: the
//! loader reads files and calls this; the core also parses YAML held inside strings (a
//! kubeconfig in a Loft ClusterConnect).
//!
//! We build the tree ourselves rather than take saphyr's because we need four things its
//! loaders do not give together: byte spans on every node (saphyr's markers count characters),
//! duplicate mapping keys as errors, YAML 1.1 merge keys (`<<`, which kubectl honours), and a
//! hard budget on alias expansion and nesting so that a hostile file (the "billion laughs"
//! alias bomb, 10,000 nested brackets) is refused quickly in bounded memory.

use crate::checks::Check;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, LineIndex, Span};
use crate::syntax::{Document, Node, NodeValue, Scalar, ScalarStyle, ScalarTag};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle as SaphyrStyle};
use std::collections::{HashMap, HashSet};

/// Deepest nesting of collections accepted (Kubernetes objects rarely exceed 30).
pub const MAX_DEPTH: usize = 256;

/// Parsing limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of collections.
    pub max_depth: usize,
    /// Nodes that anchors and aliases may copy per file, beyond one per input byte (a copy
    /// costs about 100 bytes of memory, so the bound is about 100 times the file size plus
    /// 10 MB).
    pub alias_nodes_base: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: MAX_DEPTH, alias_nodes_base: 100_000 }
    }
}

/// Converts saphyr markers (line and character column) into byte offsets.
struct Offsets<'t> {
    text: &'t str,
    ascii: bool,
    lines: &'t LineIndex,
}

impl Offsets<'_> {
    fn byte(&self, marker: &Marker) -> u32 {
        if self.ascii {
            return (marker.index() as u32).min(self.text.len() as u32);
        }
        let Some(start) = self.lines.line_start(marker.line()) else {
            return self.text.len() as u32;
        };
        let line = &self.text[start as usize..];
        let within = line.char_indices().nth(marker.col()).map_or(line.len(), |(i, _)| i);
        start + within as u32
    }
}

enum Frame {
    Seq { start: u32, anchor: usize, items: Vec<Node> },
    Map { start: u32, anchor: usize, entries: Vec<(Node, Node)>, key: Option<Node>, seen: KeySet },
}

/// The keys of a mapping being built, for duplicate detection: small mappings (nearly all)
/// are scanned, without copying a key; past 16 entries the keys go into a set.
#[derive(Default)]
struct KeySet {
    set: Option<HashSet<String>>,
}

impl KeySet {
    /// Notes `key`, the next key of `entries`; returns false when it was already there.
    fn insert(&mut self, key: &str, entries: &[(Node, Node)]) -> bool {
        if let Some(set) = &mut self.set {
            return set.insert(key.to_string());
        }
        // `key_matches` compares the written text first and reads a key only when it could
        // mean `key` anyway (`0x1F` and `31`), where `key_cow` read every key of the mapping.
        if entries.iter().any(|(k, _)| k.key_matches(key)) {
            return false;
        }
        if entries.len() >= 16 {
            let mut set: HashSet<String> =
                entries.iter().map(|(k, _)| k.key_cow().into_owned()).collect();
            set.insert(key.to_string());
            self.set = Some(set);
        }
        true
    }
}

struct Builder<'t> {
    file: FileId,
    offsets: Offsets<'t>,
    limits: Limits,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_budget: usize,
    diagnostics: Vec<Diagnostic>,
    /// Emptied child buffers of finished collections, reused by the next ones: a collection
    /// is built in a growing buffer and then copied once into a vector of its exact size, so
    /// trees (kept for the whole run) carry no growth slack and building them reallocates
    /// rarely.
    seq_buffers: Vec<Vec<Node>>,
    map_buffers: Vec<Vec<(Node, Node)>>,
}

/// Stops the parse of a file (after a syntax error or a broken limit).
struct Abort;

impl Builder<'_> {
    fn span(&self, start: u32, end: u32) -> Span {
        Span::new(self.file, start, end)
    }

    fn error(&mut self, check: Check, start: u32, message: String, label: &str) -> Abort {
        self.diagnostics
            .push(Diagnostic::new(check, self.span(start, start), message).label(label));
        Abort
    }

    /// Keeps a copy of an anchored node for its aliases. The copy costs as much as an alias
    /// expansion, so it is charged to the same budget: nested anchors around a large node
    /// would otherwise cost time and memory quadratic in the file size.
    fn register(&mut self, anchor: usize, node: &Node, at: u32) -> Result<(), Abort> {
        if anchor == 0 {
            return Ok(());
        }
        let size = node.count_nodes();
        if size > self.alias_budget {
            return Err(self.error(
                Check::YamlSyntax,
                at,
                "anchors and aliases copy too many nodes (a YAML alias bomb?); refusing to read this file".into(),
                "anchor over the limit",
            ));
        }
        self.alias_budget -= size;
        self.anchors.insert(anchor, (node.clone(), size));
        Ok(())
    }

    fn push_value(&mut self, node: Node) -> Result<(), Abort> {
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match top {
            Frame::Seq { items, .. } => items.push(node),
            Frame::Map { entries, key, seen, .. } => match key.take() {
                None => {
                    // kubectl turns keys into JSON object keys: booleans and numbers become their
                    // text, but a null or a collection cannot be a key.
                    let problem = match &node.value {
                        NodeValue::Seq(_) | NodeValue::Map(_) => Some(
                            "a mapping key must be a scalar; kubectl rejects a list or a mapping as a key",
                        ),
                        NodeValue::Scalar(s) if s.is_null() => Some(
                            "a mapping key must not be null (empty, `~` or `null`); kubectl rejects it",
                        ),
                        _ => None,
                    };
                    if let Some(problem) = problem {
                        self.diagnostics.push(
                            Diagnostic::new(Check::YamlSyntax, node.span, problem)
                                .label("invalid key"),
                        );
                    }
                    let text = node.key_cow();
                    // Merge keys may repeat only as duplicates, which is an error too.
                    if !seen.insert(&text, entries) {
                        let first =
                            entries.iter().find(|(k, _)| k.key_cow() == text).map(|(k, _)| k.span);
                        let mut d = Diagnostic::new(
                            Check::DuplicateKey,
                            node.span,
                            format!("mapping key `{text}` appears twice"),
                        )
                        .label("duplicate key")
                        .help("YAML forbids duplicate keys and readers disagree about which one wins; keep one");
                        if let Some(first) = first {
                            d = d.related(first, "first occurrence");
                        }
                        self.diagnostics.push(d);
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }

    /// Takes one event spanning the bytes `start..end`.
    fn event(&mut self, event: Event<'_>, start: u32, end: u32) -> Result<(), Abort> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let style = match style {
                    SaphyrStyle::Plain => ScalarStyle::Plain,
                    SaphyrStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                    SaphyrStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                    SaphyrStyle::Literal => ScalarStyle::Literal,
                    SaphyrStyle::Folded => ScalarStyle::Folded,
                };
                let tag =
                    tag.map(|t| ScalarTag::from_full_name(&[&*t.handle, &*t.suffix].concat()));
                let node = Node {
                    span: self.span(start, end),
                    value: NodeValue::Scalar(Scalar { text: text.as_ref().into(), style, tag }),
                };
                self.register(anchor, &node, start)?;
                self.push_value(node)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= self.limits.max_depth {
                    return Err(self.error(
                        Check::YamlSyntax,
                        start,
                        format!(
                            "nesting deeper than {} levels; refusing to read further",
                            self.limits.max_depth
                        ),
                        "too deep",
                    ));
                }
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq { start, anchor, items: self.seq_buffers.pop().unwrap_or_default() }
                } else {
                    Frame::Map {
                        start,
                        anchor,
                        entries: self.map_buffers.pop().unwrap_or_default(),
                        key: None,
                        seen: KeySet::default(),
                    }
                };
                self.stack.push(frame);
                Ok(())
            }
            Event::SequenceEnd => {
                let Some(Frame::Seq { start, anchor, items: mut buffer }) = self.stack.pop() else {
                    return Ok(());
                };
                let mut items = Vec::with_capacity(buffer.len());
                items.append(&mut buffer);
                self.seq_buffers.push(buffer);
                let node =
                    Node { span: self.span(start, end.max(start)), value: NodeValue::Seq(items) };
                self.register(anchor, &node, start)?;
                self.push_value(node)
            }
            Event::MappingEnd => {
                let Some(Frame::Map { start, anchor, entries: mut buffer, .. }) = self.stack.pop()
                else {
                    return Ok(());
                };
                let mut exact = Vec::with_capacity(buffer.len());
                exact.append(&mut buffer);
                let entries = self.merge(exact);
                self.map_buffers.push(buffer);
                let node =
                    Node { span: self.span(start, end.max(start)), value: NodeValue::Map(entries) };
                self.register(anchor, &node, start)?;
                self.push_value(node)
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    return Err(self.error(
                        Check::YamlSyntax,
                        start,
                        "alias to an unknown anchor".into(),
                        "unknown anchor",
                    ));
                };
                if *size > self.alias_budget {
                    return Err(self.error(
                        Check::YamlSyntax,
                        start,
                        "aliases expand to too many nodes (a YAML alias bomb?); refusing to read this file".into(),
                        "alias expansion over the limit",
                    ));
                }
                self.alias_budget -= *size;
                let mut node = node.clone();
                node.span = self.span(start, end);
                self.push_value(node)
            }
            Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::StreamStart
            | Event::StreamEnd
            | Event::Nothing => Ok(()),
        }
    }

    /// Applies YAML 1.1 merge keys (`<<: *base` or `<<: [*a, *b]`): merged entries never
    /// override keys written in the mapping, and earlier merge sources win over later ones.
    fn merge(&mut self, entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
        let is_merge = |k: &Node| matches!(&k.value, NodeValue::Scalar(s) if s.text == "<<" && s.style == ScalarStyle::Plain);
        if !entries.iter().any(|(k, _)| is_merge(k)) {
            return entries;
        }
        let mut own = Vec::with_capacity(entries.len());
        let mut sources = Vec::new();
        for (k, v) in entries {
            if is_merge(&k) {
                match v.value {
                    NodeValue::Map(m) => sources.push(m),
                    NodeValue::Seq(items) => {
                        for item in items {
                            match item.value {
                                NodeValue::Map(m) => sources.push(m),
                                _ => self.diagnostics.push(
                                    Diagnostic::new(
                                        Check::YamlSyntax,
                                        item.span,
                                        "a merge key (`<<`) takes mappings only",
                                    )
                                    .label("not a mapping"),
                                ),
                            }
                        }
                    }
                    _ => self.diagnostics.push(
                        Diagnostic::new(
                            Check::YamlSyntax,
                            v.span,
                            "a merge key (`<<`) takes a mapping or a list of mappings",
                        )
                        .label("not a mapping"),
                    ),
                }
            } else {
                own.push((k, v));
            }
        }
        let mut present: HashSet<String> = own.iter().map(|(k, _)| k.key_text()).collect();
        for source in sources {
            for (k, v) in source {
                if present.insert(k.key_text()) {
                    own.push((k, v));
                }
            }
        }
        own
    }
}

/// Parses every document of one file. Syntax errors end the file's parse; documents before the
/// error are kept (kubectl would refuse the file, and the finding says so).
pub fn parse(
    file: FileId,
    text: &str,
    lines: &LineIndex,
    limits: Limits,
) -> (Vec<Document>, Vec<Diagnostic>) {
    // Most files are plain block YAML, which the subset reader takes several times faster
    // than saphyr, giving the same events; saphyr reads the rest and judges every error. A
    // file the subset reader declines part way is read again from the start.
    let mut tree = Tree::new(file, text, lines, limits);
    match crate::yaml_subset::read(text, &mut tree) {
        crate::yaml_subset::Read::Whole | crate::yaml_subset::Read::Stopped => {
            return (tree.documents, tree.builder.diagnostics);
        }
        crate::yaml_subset::Read::Declined => {}
    }
    let mut tree = Tree::new(file, text, lines, limits);
    for next in Parser::new_from_str(text) {
        match next {
            Ok((Event::StreamEnd, _)) => break,
            // The same sink as the subset reader's.
            Ok((event, span)) => {
                let start = tree.builder.offsets.byte(&span.start);
                let end = tree.builder.offsets.byte(&span.end);
                if crate::yaml_subset::Sink::event(&mut tree, event, start, end).is_err() {
                    break;
                }
            }
            Err(error) => {
                // An error at the very end (an unclosed bracket) is shown on the last content:
                // at the start of its last character, which may be several bytes long.
                let content = text.trim_end();
                let last_character = content.char_indices().next_back().map_or(0, |(i, _)| i);
                let offset = tree.builder.offsets.byte(error.marker()).min(last_character as u32);
                let message = error.info().to_string();
                tree.builder.diagnostics.push(
                    Diagnostic::new(
                        Check::YamlSyntax,
                        Span::new(file, offset, offset),
                        format!("invalid YAML: {message}"),
                    )
                    .label(message),
                );
                break;
            }
        }
    }
    (tree.documents, tree.builder.diagnostics)
}

/// The documents of one file as its events arrive.
struct Tree<'t> {
    builder: Builder<'t>,
    documents: Vec<Document>,
}

impl<'t> Tree<'t> {
    fn new(file: FileId, text: &'t str, lines: &'t LineIndex, limits: Limits) -> Self {
        let builder = Builder {
            file,
            offsets: Offsets { text, ascii: text.is_ascii(), lines },
            limits,
            stack: Vec::new(),
            root: None,
            anchors: HashMap::new(),
            alias_budget: limits.alias_nodes_base.saturating_add(text.len()),
            diagnostics: Vec::new(),
            seq_buffers: Vec::new(),
            map_buffers: Vec::new(),
        };
        Tree { builder, documents: Vec::new() }
    }

    fn end_document(&mut self) {
        let root = self
            .builder
            .root
            .take()
            .unwrap_or_else(|| Node::resolved(&crate::syntax::Resolved::Null));
        let file = self.builder.file;
        self.documents.push(Document { file, index: self.documents.len(), root });
        self.builder.anchors.clear();
    }
}

impl<'t> crate::yaml_subset::Sink<'t> for Tree<'_> {
    fn event(
        &mut self,
        event: Event<'t>,
        start: u32,
        end: u32,
    ) -> Result<(), crate::yaml_subset::Stop> {
        if let Event::DocumentEnd = event {
            self.end_document();
            return Ok(());
        }
        self.builder.event(event, start, end).map_err(|Abort| crate::yaml_subset::Stop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Resolved;

    fn parse_str(text: &str) -> (Vec<Document>, Vec<Diagnostic>) {
        parse(FileId(0), text, &LineIndex::new(text), Limits::default())
    }

    #[test]
    fn tags_in_every_written_form_are_read_alike() {
        // Only a tag's meaning is kept: shorthand, verbatim and `%TAG`-declared forms of the
        // same tag must read alike, and any other tag reads as its text (also `!!binary`,
        // which kubectl would decode: see `ScalarTag::Other`).
        let text = "\
%TAG !core! tag:yaml.org,2002:
---
short: !!str 0777
verbatim: !<tag:yaml.org,2002:str> 0x1F
declared: !core!str 10
int: !!int \"12\"
nothing: !!null x
boolean: !!bool yes
float: !!float 1.5
binary: !!binary aGk=
custom: !custom 12
";
        let (docs, diags) = parse_str(text);
        assert!(diags.is_empty(), "{diags:?}");
        let read = |key: &str| docs[0].root.get(key).and_then(Node::as_scalar).unwrap().resolve();
        let string = |s: &str| Resolved::Str(s.to_string());
        assert_eq!(read("short"), string("0777"));
        assert_eq!(read("verbatim"), string("0x1F"));
        assert_eq!(read("declared"), string("10"));
        assert_eq!(read("int"), Resolved::Int("12".into()));
        assert_eq!(read("nothing"), Resolved::Null);
        assert_eq!(read("boolean"), Resolved::Bool(true));
        assert_eq!(read("float"), Resolved::Float("1.5".into()));
        assert_eq!(read("binary"), string("aGk="));
        assert_eq!(read("custom"), string("12"));
    }

    #[test]
    fn an_error_at_the_end_points_at_the_last_character_not_into_it() {
        // Found by the loader fuzz target: the offset was one byte before the end, inside a
        // three-byte character, and the column shown was wrong.
        for last in ["\u{FFFD}", "é", "語", "😀", "x"] {
            let text = format!("a: 1\nj{last}{last}{last}\n");
            let (_, diagnostics) = parse_str(&text);
            let error = diagnostics.iter().find(|d| d.check == Check::YamlSyntax).unwrap();
            let offset = error.span.start as usize;
            assert!(text.is_char_boundary(offset), "{offset} cuts a character of {text:?}");
            assert_eq!(offset, text.trim_end().len() - last.len(), "{text:?}");
        }
    }

    #[test]
    fn spans_are_byte_offsets() {
        let text = "a: näme\nb: [x, \"y\"]\n";
        let (docs, diags) = parse_str(text);
        assert!(diags.is_empty(), "{diags:?}");
        let root = &docs[0].root;
        let b = root.get("b").unwrap().as_seq().unwrap();
        let y = &b[1];
        assert_eq!(&text[y.span.start as usize..y.span.end as usize], "\"y\"");
        let a = root.get("a").unwrap();
        assert_eq!(&text[a.span.start as usize..a.span.end as usize], "näme");
    }

    #[test]
    fn multi_document_and_empty_documents() {
        let (docs, diags) = parse_str("---\na: 1\n---\n# only a comment\n---\nb: 2\n");
        assert!(diags.is_empty());
        assert_eq!(docs.len(), 3);
        assert!(docs[1].root.is_null());
        assert_eq!(docs[2].index, 2);
    }

    #[test]
    fn duplicate_keys_are_errors_with_both_locations() {
        let (_, diags) = parse_str("data:\n  host: a\n  host: b\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].check, Check::DuplicateKey);
        assert_eq!(diags[0].related.len(), 1);
    }

    /// The subset reader hands its events over as it reads; a file it declines part way (a
    /// block scalar in the second document) is read again by saphyr from the start, and
    /// nothing of the first attempt stays: one finding, each document once, spans the same.
    #[test]
    fn a_file_declined_part_way_is_read_again_whole() {
        let text = "a: 1\na: 2\n---\nb: |\n  block\n";
        assert!(crate::yaml_subset::events(text).is_none(), "the subset reader must decline");
        let (docs, diags) = parse_str(text);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].check, Check::DuplicateKey);
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].index, docs[1].index), (0, 1));
        assert_eq!(docs[1].root.get("b").and_then(Node::as_str), Some("block\n"));
        // The first document alone is read by the subset reader: the same tree and finding.
        let (alone, alone_diags) = parse_str("a: 1\na: 2\n");
        assert_eq!(alone[0].root, docs[0].root);
        assert_eq!(alone_diags[0].span, diags[0].span);
    }

    /// The subset reader stops where the tree builder refuses a file (too deep for the limits):
    /// one finding, the documents before it kept, nothing read after it.
    #[test]
    fn reading_ends_where_the_builder_refuses() {
        let text = "a: 1\n---\nb:\n  c:\n    d: 1\n";
        assert!(crate::yaml_subset::events(text).is_some(), "the subset reader must take it");
        let limits = Limits { max_depth: 2, ..Limits::default() };
        let (docs, diags) = parse(FileId(0), text, &LineIndex::new(text), limits);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].check, Check::YamlSyntax);
        assert_eq!(diags[0].span.start as usize, text.find("d: 1").unwrap());
        assert_eq!(docs.len(), 1);
        assert!(docs[0].root.get("a").is_some());
    }

    #[test]
    fn merge_keys_follow_yaml11() {
        let (docs, diags) = parse_str("base: &b {x: 1, z: 2}\nuse:\n  <<: *b\n  z: 3\n");
        assert!(diags.is_empty(), "{diags:?}");
        let use_ = docs[0].root.get("use").unwrap();
        assert_eq!(use_.get("x").unwrap().as_scalar().unwrap().text, "1");
        assert_eq!(use_.get("z").unwrap().as_scalar().unwrap().text, "3");
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
        let (_, diags) = parse_str(bomb);
        assert!(diags.iter().any(|d| d.message.contains("alias")), "{diags:?}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let (_, diags) = parse_str(&text);
        // saphyr's own recursion limit or ours, whichever comes first: a finding, not a crash.
        assert!(diags.iter().any(|d| d.check == Check::YamlSyntax), "{diags:?}");
    }

    #[test]
    fn keys_kubectl_cannot_use_are_errors() {
        let (_, diags) = parse_str("a:\n  ? [x, y]\n  : c\n  ~: d\n  1.0: fine\n");
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "a mapping key must be a scalar; kubectl rejects a list or a mapping as a key",
                "a mapping key must not be null (empty, `~` or `null`); kubectl rejects it"
            ]
        );
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        let text = "a: 1\rb: [x\r";
        let (_, diags) = parse_str(text);
        let lines = LineIndex::new(text);
        assert_eq!(lines.line_col(text, diags[0].span.start).0, 2);
    }

    #[test]
    fn syntax_errors_keep_earlier_documents() {
        let (docs, diags) = parse_str("a: 1\n---\nb: [unclosed\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(diags[0].check, Check::YamlSyntax);
    }
}
