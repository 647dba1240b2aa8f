//! Fuzz target: the KRM function (`fn render`): bytes in as the ResourceList on standard
//! input, the ResourceList out (or a refusal).
//!
//! Beyond "no panic, no hang, bounded memory": what comes out reads back as one
//! `ResourceList` document.

#![no_main]

use connections_core::source::SourceMap;
use connections_core::syntax::Node;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let Ok(response) = connections_core::krm::respond(&text, 1) else { return };
    connections_fuzz::assert_reads_back("the function's output", &response.output);
    let mut scratch = SourceMap::new();
    let (documents, _) = connections_loader::load_text(&mut scratch, "output", &response.output);
    let kind = documents[0].root.get("kind").and_then(Node::as_str);
    assert_eq!(kind, Some("ResourceList"), "{}", response.output);
});
