//! Texts released after parsing are read back only for the files findings point into, and
//! only if the file still holds the bytes that were parsed.

use connections_core::checks::Check;
use connections_core::diagnostic::Diagnostic;
use connections_core::source::Span;
use connections_loader::{LoadOptions, load};

#[test]
fn texts_come_back_for_findings_and_only_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    for name in ["a", "b", "c"] {
        std::fs::write(dir.path().join(format!("{name}.yaml")), doc(name)).unwrap();
    }
    let options = LoadOptions { release_texts: true, ..LoadOptions::default() };
    let mut loaded = load(dir.path(), &options).unwrap();
    assert_eq!(loaded.documents.len(), 3);
    assert_eq!(loaded.bytes, 3 * doc("a").len() as u64);
    let file = |path: &str| {
        loaded.sources.files().find(|(_, f)| f.path == path).map(|(id, _)| id).unwrap()
    };
    let (a, b, c) = (file("a.yaml"), file("b.yaml"), file("c.yaml"));
    for (_, source) in loaded.sources.files() {
        assert!(source.text.is_empty() && source.released.is_some(), "{}", source.path);
    }
    // Lines are known without the text.
    let name_at = doc("a").find("name").unwrap() as u32;
    assert_eq!(loaded.sources.line_col(Span::new(a, name_at, name_at)), Some((4, 3)));

    // b changes after it was parsed: its old spans must not point into new bytes.
    std::fs::write(dir.path().join("b.yaml"), doc("changed")).unwrap();
    let finding = |file| Diagnostic::new(Check::YamlSyntax, Span::new(file, 0, 1), "x");
    loaded.restore_texts(dir.path(), &[finding(a), finding(b)]);
    let source = |id| loaded.sources.get(id).unwrap();
    assert_eq!(source(a).text, doc("a"));
    assert!(source(a).released.is_none());
    assert!(source(b).text.is_empty() && source(b).released.is_some());
    // No finding points into c: it stays released.
    assert!(source(c).text.is_empty() && source(c).released.is_some());
}
