//! The pure core of kubectl-connections: model, checks and render.
//!
//! Data flow: the loader parses files into [`syntax::Document`]s; [`model::lower`] turns them
//! into typed objects and references; [`validate::check`] finds problems; [`render::render`]
//! produces a [`render::Plan`] of output files. Nothing here touches the filesystem, the
//! network, the environment or a clock: that is what makes output byte-stable and the core
//! testable with plain values. The rule is enforced by clippy (`disallowed-methods`, see
//! `clippy.toml`) for this crate.
//!
//! Invariants:
//! - findings are data ([`diagnostic::Diagnostic`]), never early returns: one run reports all;
//! - no Secret value appears in a diagnostic message, label or help;
//! - the plan is sorted by path, so it does not depend on input order.
#![deny(clippy::disallowed_methods)]

pub mod allow;
pub mod binding;
pub mod checks;
pub mod crd;
pub mod diagnostic;
pub mod diff;
pub mod krm;
pub mod model;
pub mod par;
pub mod parse;
pub mod pipeline;
pub mod re2;
pub mod render;
pub mod rules;
pub mod source;
pub mod suggest;
pub mod syntax;
pub mod uri;
pub mod validate;
pub mod yaml_subset;

use diagnostic::Diagnostic;
use model::{LowerOptions, Model};
use syntax::Document;

/// A lowered and checked repository.
#[derive(Debug)]
pub struct Analysis {
    /// The model.
    pub model: Model,
    /// Every finding of lowering and checking, unsorted.
    pub diagnostics: Vec<Diagnostic>,
}

/// Lowers the documents and runs every check.
pub fn analyse(
    documents: Vec<Document>,
    options: &LowerOptions,
    external: &dyn validate::ExternalObjects,
) -> Analysis {
    analyse_with(documents, options, external, 1)
}

/// [`analyse`] with lowering and checks on up to `threads` threads; the result does not
/// depend on it.
pub fn analyse_with(
    documents: Vec<Document>,
    options: &LowerOptions,
    external: &dyn validate::ExternalObjects,
    threads: usize,
) -> Analysis {
    let (model, mut diagnostics) = model::lower_with(documents, options, threads);
    diagnostics.extend(validate::check_with(&model, external, threads));
    Analysis { model, diagnostics }
}
