//! Validated settings, resolved once from the command line. Commands read these, never clap.

use crate::cli::{ColorChoice, FailOn, InputArgs, OutputFormat, ReportArgs};
use connections_core::diagnostic::Severity;
use connections_core::model::LowerOptions;
use connections_loader::LoadOptions;
use std::io::IsTerminal as _;
use std::path::PathBuf;

/// How to read the repository.
#[derive(Debug)]
pub struct Input {
    /// The path as the user gave it (shown in messages).
    pub root: PathBuf,
    /// Lowering options.
    pub lower: LowerOptions,
    /// Loader options.
    pub load: LoadOptions,
    /// With `--secrets external-secret`: the store generated ExternalSecrets fetch from.
    pub external_secrets: Option<connections_core::render::external::SecretStore>,
}

impl Input {
    /// Resolves input arguments; `exclude` is the output folder, never read.
    pub fn from_args(args: &InputArgs, exclude: Option<PathBuf>) -> Input {
        Input {
            root: args.path.clone(),
            lower: LowerOptions {
                default_namespace: args.namespace.clone(),
                strict_secrets: args.strict_secrets,
                ..LowerOptions::default()
            },
            load: LoadOptions {
                max_file_size: args.max_file_size,
                exclude,
                ..LoadOptions::default()
            },
            external_secrets: match args.secrets {
                crate::cli::SecretsMode::Reference => None,
                crate::cli::SecretsMode::ExternalSecret => {
                    Some(connections_core::render::external::SecretStore {
                        name: args.secret_store.clone().unwrap_or_default(),
                        kind: match args.secret_store_kind {
                            crate::cli::StoreKind::SecretStore => "SecretStore",
                            crate::cli::StoreKind::ClusterSecretStore => "ClusterSecretStore",
                        }
                        .to_string(),
                    })
                }
            },
        }
    }
}

/// How findings are shown and judged.
#[derive(Clone, Debug)]
pub struct Reporting {
    /// Output format.
    pub format: OutputFormat,
    /// Lowest severity that fails the run (`None`: never).
    pub fail_on: Option<Severity>,
    /// Whether human output is coloured.
    pub color: bool,
}

impl Reporting {
    /// Resolves report arguments; `to_terminal` says whether findings go to a terminal.
    pub fn from_args(args: &ReportArgs, to_terminal: bool) -> Reporting {
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        let fail_on = match args.fail_on {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Never => None,
        };
        Reporting { format: args.output_format, fail_on, color }
    }

    /// Whether stdout is a terminal.
    pub fn stdout_is_terminal() -> bool {
        std::io::stdout().is_terminal()
    }

    /// Whether stderr is a terminal.
    pub fn stderr_is_terminal() -> bool {
        std::io::stderr().is_terminal()
    }
}
