//! Fuzz target: render. The first byte chooses the settings (bit 0: `--secrets
//! external-secret`, bit 1: default namespace `team-a`, bit 2: `--strict-secrets`); the rest
//! is several files separated by NUL bytes. They go through the whole pipeline (lower,
//! generate, check, render) into a plan, its `kustomization.yaml` and its `--stdout` stream.
//!
//! Beyond "no panic, no hang, bounded memory": every finding points inside its file; when no
//! finding is an error (render writes only then), every file written and the stream read back
//! as YAML; the findings-only render (`validate`) reports exactly what the full render does.

#![no_main]

use connections_core::diagnostic::Severity;
use connections_core::model::LowerOptions;
use connections_core::pipeline::{self, Need, Secrets};
use connections_core::render::external::SecretStore;
use connections_core::source::SourceMap;
use connections_core::validate::Offline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&settings, files)) = bytes.split_first() else { return };
    let mut sources = SourceMap::new();
    let (documents, read) = connections_fuzz::read_files(&mut sources, files);
    let store = SecretStore { name: "vault".into(), kind: "SecretStore".into() };
    let lower = LowerOptions {
        default_namespace: if settings & 2 != 0 { "team-a" } else { "default" }.into(),
        strict_secrets: settings & 4 != 0,
        ..LowerOptions::default()
    };
    let run = pipeline::Settings {
        lower: &lower,
        secrets: if settings & 1 != 0 { Secrets::External(&store) } else { Secrets::Reference },
        need: Need::Plan,
        threads: 1,
    };
    let outcome = pipeline::run(documents, read, &mut sources, &run, &Offline);
    connections_fuzz::assert_spans_in_bounds(&sources, &outcome.analysis.diagnostics);

    // With an error nothing is written (render refuses), so only a clean plan must read back.
    let clean = !outcome.analysis.diagnostics.iter().any(|d| d.severity == Severity::Error);
    for (path, text) in outcome.plan.files().into_iter().filter(|_| clean) {
        if path.ends_with(".yaml") {
            connections_fuzz::assert_reads_back(&path, &text);
        }
    }
    if clean && !outcome.plan.objects.is_empty() {
        let stream = outcome.plan.stream();
        let mut scratch = SourceMap::new();
        let (streamed, _) = connections_loader::load_text(&mut scratch, "stream", &stream);
        assert_eq!(streamed.len(), outcome.plan.objects.len(), "documents in the stream");
    }

    let (_, mut rendered) = pipeline::render(&outcome.analysis.model, &run);
    let (_, mut found) = pipeline::render(
        &outcome.analysis.model,
        &pipeline::Settings { need: Need::Findings, ..run },
    );
    connections_core::diagnostic::sort(&mut rendered);
    connections_core::diagnostic::sort(&mut found);
    assert_eq!(rendered, found, "validate's findings differ from render's");
});
