//! Validated settings, resolved once from the command line. Commands read these, never clap.

use crate::cli::{
    ColorChoice, FailOn, InputArgs, OutputFormat, ReportArgs, SealScope, SecretsMode, StoreKind,
};
use crate::commands::Failure;
use crate::seal::CertSealer;
use connections_core::diagnostic::Severity;
use connections_core::model::LowerOptions;
use connections_core::render::external::SecretStore;
use connections_core::render::sealed::{self, Scope, Values};
use connections_core::source::Span;
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
    /// How Secrets that connections need reach the cluster (`--secrets`); shared, because
    /// `--values -` can be read only once.
    pub secrets: std::sync::Arc<SecretOutput>,
}

/// What `--secrets` asks for, with everything it needs read and checked.
#[derive(Debug, Default)]
pub enum SecretOutput {
    /// The Secrets must exist; nothing is generated.
    #[default]
    Reference,
    /// ExternalSecrets fetching from this store.
    External(SecretStore),
    /// SealedSecrets from supplied values, and every plaintext Secret of the output sealed.
    Sealed {
        /// Encrypts with the controller's public key.
        sealer: CertSealer,
        /// Where the values may be decrypted.
        scope: Scope,
        /// The supplied values.
        values: Values,
    },
    /// Plain Secrets from supplied values (`render --stdout --allow-plaintext` only).
    Plaintext {
        /// The supplied values.
        values: Values,
    },
}

impl SecretOutput {
    /// The mode as the core's pipeline takes it.
    pub fn pipeline(&self) -> connections_core::pipeline::Secrets<'_> {
        use connections_core::pipeline::Secrets;
        match self {
            SecretOutput::Reference => Secrets::Reference,
            SecretOutput::External(store) => Secrets::External(store),
            SecretOutput::Sealed { sealer, scope, values } => {
                Secrets::Sealed { sealer, scope: *scope, values }
            }
            SecretOutput::Plaintext { values } => Secrets::Plaintext { values },
        }
    }
}

/// The environment variable that may hold the values file's text (for CI secret stores).
pub const VALUES_ENV: &str = "KUBECTL_CONNECTIONS_VALUES";

/// Reads `--values` (a file, `-` for standard input) or, without it, [`VALUES_ENV`]. A file
/// inside the repository is refused: it would be read as input, and committed.
fn read_values(args: &InputArgs) -> Result<Values, Failure> {
    let (name, text) = match &args.values {
        Some(path) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| Failure(format!("--values -: cannot read standard input: {e}")))?;
            ("(standard input)".to_string(), text)
        }
        Some(path) => {
            if let (Ok(file), Ok(root)) = (path.canonicalize(), args.path.canonicalize())
                && file.starts_with(&root)
            {
                return Err(Failure(format!(
                    "--values {} lies inside the repository {}: secret values must stay out of Git. Keep the file elsewhere (or pass it through {VALUES_ENV})",
                    path.display(),
                    args.path.display()
                )));
            }
            if tracked_by_git(path) {
                return Err(Failure(format!(
                    "--values {} is tracked by Git: secret values must stay out of Git. Remove it from the repository (and rotate the values), keep it elsewhere, or pass it through {VALUES_ENV}",
                    path.display()
                )));
            }
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure(format!("--values {}: cannot read it: {e}", path.display()))
            })?;
            (path.display().to_string(), text)
        }
        None => match std::env::var(VALUES_ENV) {
            Ok(text) => (format!("${VALUES_ENV}"), text),
            Err(_) => return Ok(Values::new()),
        },
    };
    let mut sources = connections_core::source::SourceMap::new();
    let (documents, diagnostics) = connections_loader::load_text(&mut sources, &name, &text);
    let mut problems: Vec<(Span, String)> =
        diagnostics.into_iter().map(|d| (d.span, d.message)).collect();
    if problems.is_empty() {
        match sealed::supplied(documents, &args.namespace) {
            Ok(values) => return Ok(values),
            Err(found) => problems = found,
        }
    }
    problems.sort_by_key(|(span, _)| span.start);
    let lines: Vec<String> = problems
        .iter()
        .map(|(span, message)| match sources.line_col(*span) {
            Some((line, _)) => format!("  {name}:{line}: {message}"),
            None => format!("  {name}: {message}"),
        })
        .collect();
    Err(Failure(format!("the secret values cannot be used:\n{}", lines.join("\n"))))
}

/// Whether Git tracks `path` (`git ls-files --error-unmatch`); `false` without Git or outside
/// a work tree.
fn tracked_by_git(path: &std::path::Path) -> bool {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return false };
    let dir = if dir.as_os_str().is_empty() { std::path::Path::new(".") } else { dir };
    std::process::Command::new("git")
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(name)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

impl SecretOutput {
    fn from_args(args: &InputArgs) -> Result<SecretOutput, Failure> {
        Ok(match args.secrets {
            SecretsMode::Reference => SecretOutput::Reference,
            SecretsMode::ExternalSecret => SecretOutput::External(SecretStore {
                name: args.secret_store.clone().unwrap_or_default(),
                kind: match args.secret_store_kind {
                    StoreKind::SecretStore => "SecretStore",
                    StoreKind::ClusterSecretStore => "ClusterSecretStore",
                }
                .to_string(),
            }),
            SecretsMode::Sealed => {
                let path = args.cert.clone().unwrap_or_default();
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Failure(format!("--cert {}: cannot read it: {e}", path.display()))
                })?;
                let sealer = CertSealer::from_pem(&text)
                    .map_err(|e| Failure(format!("--cert {}: {e}", path.display())))?;
                let scope = match args.scope {
                    SealScope::Strict => Scope::Strict,
                    SealScope::NamespaceWide => Scope::NamespaceWide,
                    SealScope::ClusterWide => Scope::ClusterWide,
                };
                SecretOutput::Sealed { sealer, scope, values: read_values(args)? }
            }
            SecretsMode::Plaintext => SecretOutput::Plaintext { values: read_values(args)? },
        })
    }
}

impl Input {
    /// Resolves input arguments; `exclude` is the output folder, never read. Fails when a
    /// file the secrets mode needs (`--cert`, `--values`) cannot be used.
    pub fn from_args(args: &InputArgs, exclude: Option<PathBuf>) -> Result<Input, Failure> {
        Ok(Input {
            root: args.path.clone(),
            lower: LowerOptions {
                default_namespace: args.namespace.clone(),
                strict_secrets: args.strict_secrets,
                ..LowerOptions::default()
            },
            load: LoadOptions {
                max_file_size: args.max_file_size,
                exclude,
                // Texts are read back for the files findings point into (check_with).
                release_texts: true,
                ..LoadOptions::default()
            },
            secrets: std::sync::Arc::new(SecretOutput::from_args(args)?),
        })
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
