//! `fn`: the renderer as a KRM function (kpt, kustomize; `config.kubernetes.io/v1`
//! ResourceList on stdin, one on stdout), and as kustomize's legacy exec generator.
//!
//! The function itself is pure and lives in the core ([`connections_core::krm`], which says
//! what comes out); this shell reads standard input and prints the answer.

use super::{Failure, Need, Outcome, has_errors, print_stdout, print_stdout_parts};
use crate::settings::{Input, SecretOutput};
use connections_core::diagnostic::{Diagnostic, Severity};
use connections_core::krm;
use connections_core::source::SourceMap;
use std::io::Read as _;

/// Runs `fn`.
pub fn run(args: &crate::cli::FnArgs) -> Result<Outcome, Failure> {
    match (args.action.as_str(), &args.config) {
        ("kustomize-generator", Some(config)) => kustomize_generator(config),
        _ => render(),
    }
}

/// `fn kustomize-generator CONFIG`: renders the folder the config names, as
/// `render PATH --stdout` would, for kustomize to take in. Findings go to stderr; with an
/// error nothing is printed and the exit code is 1, which fails the kustomize build.
fn kustomize_generator(config_path: &std::path::Path) -> Result<Outcome, Failure> {
    let text = std::fs::read_to_string(config_path).map_err(|e| {
        Failure(format!("cannot read the generator config {}: {e}", config_path.display()))
    })?;
    let mut sources = SourceMap::new();
    let (documents, _) = connections_loader::load_text(&mut sources, "config", &text);
    let mut config = documents
        .into_iter()
        .next()
        .map(|d| d.root)
        .ok_or_else(|| Failure("the generator config is empty".into()))?;
    let path = config
        .get_mut("spec")
        .and_then(|spec| spec.remove("path"))
        .and_then(|p| p.as_str().map(std::path::PathBuf::from))
        .ok_or_else(|| {
            Failure("the generator config needs `spec.path`: the folder of connections to render, relative to the kustomization".into())
        })?;
    let (lower, store) = krm::settings(Some(&config)).map_err(Failure)?;
    let secrets = store.map_or(SecretOutput::Reference, SecretOutput::External);
    let input = Input {
        root: path,
        lower,
        load: connections_loader::LoadOptions { release_texts: true, ..Default::default() },
        secrets: std::sync::Arc::new(secrets),
    };
    let checked = super::check_with(&input, None, Need::Plan)?;
    let diagnostics = &checked.analysis.diagnostics;
    let shown: Vec<Diagnostic> =
        diagnostics.iter().filter(|d| d.severity > Severity::Info).cloned().collect();
    if !shown.is_empty() {
        let reporting = crate::settings::Reporting {
            format: crate::cli::OutputFormat::Human,
            fail_on: Some(Severity::Error),
            color: false,
        };
        super::print_stderr(&super::format_findings(&checked, &input, &reporting, &shown).concat());
    }
    if has_errors(diagnostics) || checked.loaded.has_unreadable_input() {
        super::print_stderr(&format!(
            "error: {} does not render; nothing was generated\n",
            input.root.display()
        ));
        return Ok(Outcome::Findings);
    }
    print_stdout_parts(checked.plan.stream_parts())?;
    Ok(Outcome::Success)
}

/// `fn render`: the KRM function.
fn render() -> Result<Outcome, Failure> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure(format!("cannot read the ResourceList on standard input: {e}")))?;
    let response = krm::respond(&text, connections_loader::threads()).map_err(Failure)?;
    print_stdout(&response.output)?;
    Ok(if response.failed { Outcome::Findings } else { Outcome::Success })
}
