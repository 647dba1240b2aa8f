//! Property: whatever node tree the renderer emits, the loader reads back the same values
//! (as kubectl reads them). This is what makes the emitter's quoting rules safe.

use connections_core::render::emit::{node_to_json, to_yaml};
use connections_core::source::{FileId, LineIndex};
use connections_core::syntax::{Node, Resolved};
use connections_loader::yaml::{Limits, parse};
use proptest::prelude::*;

fn scalar() -> impl Strategy<Value = Node> {
    prop_oneof![
        // Strings that look like other things, and arbitrary text with line breaks and controls.
        prop::sample::select(vec![
            "on",
            "yes",
            "n",
            "0777",
            "1_000",
            "0x1F",
            "1.0",
            "1e3",
            "null",
            "~",
            "",
            "true",
            "-",
            "- x",
            "a: b",
            "#x",
            "x #y",
            "'q'",
            "\"d\"",
            "|",
            ">",
            "*a",
            "&a",
            "!t",
            "%p",
            "@x",
            "`x",
            "<<",
            "=",
            ".inf",
            "2001-12-14",
            " lead",
            "trail ",
            "\ttab",
            "a\nb",
            "a\n",
            "a\n\n",
            "\n",
            "\n\nx",
            " x\ny",
            "x\n y",
            "\u{85}",
            "\u{2028}",
            "\u{feff}x",
            "ünï",
            "\\",
            "a\\nb",
            "\r\n",
            "\u{fffe}",
            "x\u{ffff}",
            "\u{7f}",
            "\u{9f}",
            "\r",
            "a\rb",
        ])
        .prop_map(Node::string),
        "\\PC{0,20}".prop_map(Node::string),
        any::<String>().prop_map(Node::string),
        "[ -~\\n\\t]{0,30}".prop_map(Node::string),
        any::<i64>().prop_map(Node::int),
        any::<bool>().prop_map(Node::bool),
        Just(Node::resolved(&Resolved::Null)),
        (-1.0e9f64..1.0e9).prop_map(|f| Node::resolved(&Resolved::Float(format!("{f:?}")))),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9._/-]{0,12}",
        "\\PC{0,8}",
        prop::sample::select(vec!["on", "y", "1", "-x", "a: b", ""]).prop_map(String::from)
    ]
}

fn tree() -> impl Strategy<Value = Node> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Node::seq),
            prop::collection::btree_map(key(), inner, 0..5).prop_map(|m| Node::map(
                m.into_iter().map(|(k, v)| (Node::string(k), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn emitted_yaml_reads_back_identically(entries in prop::collection::btree_map(key(), tree(), 1..6)) {
        let root = Node::map(entries.into_iter().map(|(k, v)| (Node::string(k), v)).collect());
        let yaml = to_yaml(&root);
        let (docs, diagnostics) = parse(FileId(0), &yaml, &LineIndex::new(&yaml), Limits::default());
        prop_assert!(diagnostics.is_empty(), "{diagnostics:?}\n{yaml}");
        prop_assert_eq!(docs.len(), 1);
        prop_assert_eq!(node_to_json(&docs[0].root), node_to_json(&root), "\n{}", yaml);
    }
}
