//! Fuzz target: the loader and model lowering. Bytes are read as one YAML file (as the loader
//! reads each file of a repository), then lowered to the model and checked, with the settings
//! file's reading (`.connections-allow.yaml`) on the same documents.
//!
//! Beyond "no panic, no hang, bounded memory": every finding points inside the file.

#![no_main]

use connections_core::model::LowerOptions;
use connections_core::source::SourceMap;
use connections_core::validate::Offline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let mut sources = SourceMap::new();
    let (documents, mut diagnostics) =
        connections_loader::load_text(&mut sources, "input.yaml", &text);
    let (allowed, found) = connections_core::allow::read(&documents, "default");
    diagnostics.extend(found);
    let options = LowerOptions {
        default_namespace: "default".into(),
        allowed_plaintext: allowed,
        ..LowerOptions::default()
    };
    let analysis = connections_core::analyse(documents, &options, &Offline);
    diagnostics.extend(analysis.diagnostics);
    connections_fuzz::assert_spans_in_bounds(&sources, &diagnostics);
});
