//! The command line, as clap types. Nothing past `settings` sees these types.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str = "Check, render and describe connections (databases, buckets, git, registries, clusters) for GitOps";

const LONG_ABOUT: &str = "\
kubectl-connections reads a Git repository of Kubernetes manifests that declare connections
(connections.dev Connections, KubeDirector clusters, Polyaxon agent configs, KubeETL
Connections, Loft clusters), checks that every referenced Secret, ConfigMap, key and cluster
exists before anything is applied, and renders the objects Argo CD or Flux apply.

Run it as `kubectl connections ...` (installed on PATH as kubectl-connections) or directly.";

const AFTER_HELP: &str = "\
Examples:
  # Check a repository; exit code 1 if anything is broken
  kubectl connections validate ./deploy

  # Render into a folder for Argo CD or Flux (atomic; refuses to write on an error)
  kubectl connections render ./deploy --out ./rendered

  # Why did a check fire?
  kubectl connections explain dangling-secret-ref

Exit codes: 0 success, 1 findings at or above --fail-on, 2 usage or operational error.";

/// kubectl-connections: one model for connections on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "kubectl-connections", bin_name = "kubectl connections", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check every reference, key and name in a repository.
    #[command(after_help = "\
Examples:
  kubectl connections validate                      # the current folder
  kubectl connections validate deploy/ -n team-a    # objects without a namespace are in team-a
  kubectl connections validate --output-format github   # annotations in GitHub Actions
  kubectl connections validate --output-format json | jq '.summary'

Exit codes: 0 clean, 1 findings at or above --fail-on (default: error), 2 unreadable input.")]
    Validate(ValidateArgs),
    /// Render a repository into manifests (a folder with kustomization.yaml, or a stream).
    #[command(after_help = "\
What is written (--out DIR):
  DIR/kustomization.yaml             lists every object file
  DIR/<namespace>/<kind>-<name>.yaml one object per file; cluster-scoped ones under _cluster/
  DIR/.connections/manifest          the files render wrote; a later render removes only these

Input objects pass through (namespace made explicit), workloads annotated
`connections.dev/use: a, b` get the connections' env and volumes, and every Connection gets a
`<name>-connection` ConfigMap with its settings. Build configuration (kustomization.yaml,
Kptfile) and Loft ClusterConnect objects are read but not written.

Render runs every check first and writes nothing if one fails. The write is atomic: on any
failure DIR is left as it was.

Examples:
  kubectl connections render deploy/ --out rendered/
  kubectl connections render deploy/ --stdout | kubectl apply --dry-run=client -f -")]
    Render(RenderArgs),
    /// Explain a check: what it finds, why it matters, an example and the fix.
    #[command(after_help = "Run without an id to list every check.")]
    Explain(ExplainArgs),
    /// List connections, KubeDirector clusters with connections, and Loft clusters.
    #[command(after_help = "\
Examples:
  kubectl connections list                    # the context's namespace
  kubectl connections list -A -o wide         # every namespace, with references and users
  kubectl connections list -l team=data -o name
  kubectl connections list --repo ./deploy    # the same view of a repository, offline")]
    List(ListArgs),
    /// Print one object as YAML or JSON.
    #[command(
        after_help = "Examples:\n  kubectl connections get connection/warehouse -o json\n  kubectl connections get kdcluster/notebook --repo ./deploy"
    )]
    Get(GetArgs),
    /// Show a connection, a KubeDirector cluster or a Loft cluster in detail: every reference
    /// and key and whether it exists, who uses it, and what KubeDirector will include.
    #[command(after_help = "\
Targets: connection/NAME (or a bare NAME), kdcluster/NAME, cluster/NAME (a Loft cluster).
Secret values are never shown: only names, keys, and whether they exist.

Examples:
  kubectl connections describe warehouse -n team-data
  kubectl connections describe kdcluster/jupyter-notebook --repo ./deploy")]
    Describe(DescribeArgs),
    /// Probe a connection: TCP, TLS, HTTP(S), or a real login for PostgreSQL, MySQL/MariaDB
    /// and Redis. Exit code 0 healthy, 1 unhealthy, 2 error.
    #[command(after_help = "\
Credentials come from the connection: inline values, ConfigMaps, and Secrets (read from the
cluster, held in memory, never printed). With --repo, a Secret that only the cluster can
produce (SealedSecret, ExternalSecret) is read from the environment variable a consumer would
get, for example WAREHOUSE_PASSWORD.

Examples:
  kubectl connections check warehouse -n team-data
  WAREHOUSE_PASSWORD=... kubectl connections check warehouse --repo ./deploy -n team-data --timeout 3s")]
    Check(CheckArgs),
    /// Compare what PATH renders with a rendered folder, a git revision, or the cluster.
    /// Exit code 0 no difference, 1 differences, 2 error.
    #[command(after_help = "\
Compare with exactly one of:
  --against DIR     a rendered folder (for example the committed output of `render --out`)
  --base REV        PATH as it is at git revision REV: the pull-request case. The work tree and
                    the index are not touched; REV must be in the clone (in a shallow CI
                    checkout: git fetch --depth=1 origin main)
  --against-cluster the live objects (fields the API server fills in are left out, and so are
                    fields the render does not set, as in kubectl diff)

Secret values are never shown: `***` for a value, `*** (before)` and `*** (after)` for one that
changed (compared by hash), so added, removed and changed keys stay visible.

Examples:
  kubectl connections diff deploy/ --against rendered/
  kubectl connections diff deploy/ --base origin/main --format markdown > comment.md
  kubectl connections diff deploy/ --against-cluster --context prod")]
    Diff(DiffArgs),
    /// Print the CustomResourceDefinitions of Connection and ConnectionType.
    #[command(after_help = "Install them with: kubectl connections crd | kubectl apply -f -")]
    Crd(CrdArgs),
    /// Run as an Argo CD config management plugin (the sidecar's generate command).
    #[command(after_help = "\
Renders the working folder (Argo CD runs the command in the application's source path) as
`render . --stdout --fail-if-empty` would, with settings from the Application: plugin
parameters (PARAM_<NAME>) first, then plugin env (ARGOCD_ENV_<NAME>):
  SECRETS            reference (default), external-secret, sealed (plaintext is refused)
  SECRET_STORE       the store of --secrets external-secret
  SECRET_STORE_KIND  SecretStore (default) or ClusterSecretStore
  CERT               the sealing certificate (a path in the source or the sidecar)
  SCOPE              strict (default), namespace-wide, cluster-wide
  NAMESPACE          namespace of objects that name none (default: ARGOCD_APP_NAMESPACE)
  STRICT_SECRETS     true: committed plaintext Secrets are errors
Anything else it is given is an error. On any error nothing is printed on stdout and the exit
code is non-zero: Argo CD then keeps the last good manifests instead of pruning.
examples/argocd holds the plugin.yaml, the repo-server sidecar patch and an Application.")]
    Argocd(ArgocdArgs),
    /// Run as a KRM function (kpt, kustomize): a ResourceList on stdin, one on stdout.
    #[command(after_help = "\
Reads a config.kubernetes.io/v1 ResourceList on standard input and writes one on standard
output: the items with workloads that use connections patched, generated objects added (each
with config.kubernetes.io/path in render's output layout), and `results` holding every finding
with its severity, resourceRef, field path and file. Items it does not own (the Kptfile, build
configuration) pass through unchanged. Exit code 1 when a result is an error (the items then
come back unchanged), 2 when the input is not a ResourceList.

functionConfig (a ConfigMap's `data`): namespace (default `default`), secrets
(`reference` or `external-secret`), secret-store, secret-store-kind, strict-secrets.

kubectl kustomize cannot run KRM exec functions (it skips them and exits 0); it runs legacy
exec plugins: examples/kustomize shows the plugin layout that calls `fn kustomize-generator`.

Examples:
  kpt fn eval PKG --exec \"kubectl-connections fn render\" -o unwrap -- secrets=reference
  kpt fn render PKG --allow-exec     # Kptfile: pipeline.mutators: [{exec: \"kubectl-connections fn render\"}]")]
    Fn(FnArgs),
    /// Print a shell completion script (bash, zsh or fish).
    #[command(after_help = crate::completion::INSTALL_HELP)]
    Completion(CompletionArgs),
    /// Cobra's completion protocol, for the shell scripts and `kubectl_complete-connections`:
    /// the words typed after `kubectl connections`, the last one being completed.
    #[command(name = "__complete", hide = true, disable_help_flag = true)]
    Complete(CompleteArgs),
}

/// `completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Shells `completion` writes scripts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash 4 or later.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish 3.1 or later.
    Fish,
}

/// `__complete`.
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The words after the program name; the last is the (possibly empty) word being completed.
    #[arg(num_args = 0.., trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// kubectl's connection flags. kubectl passes them to a plugin as plain arguments, so every
/// subcommand accepts them.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Cluster")]
pub struct ClusterArgs {
    /// Path to the kubeconfig file to use (this file only, no merging with KUBECONFIG).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use instead of the context's.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use instead of the context's.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// How long to wait for a request: seconds (`5`) or a duration (`1m30s`); `0` waits forever.
    #[arg(long, value_name = "DURATION", default_value = "0")]
    pub request_timeout: String,
    /// The API server's address, instead of the kubeconfig's.
    #[arg(short = 's', long, value_name = "URL")]
    pub server: Option<String>,
    /// A bearer token, instead of the kubeconfig user's credentials.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Act as this user (impersonation).
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// Act as a member of this group (impersonation; repeatable).
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// A PEM file of certificate authorities to trust for the API server.
    #[arg(long, value_name = "FILE")]
    pub certificate_authority: Option<PathBuf>,
    /// Do not verify the API server's certificate (insecure).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// The name the API server's certificate must have, if not its address.
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
}

/// What the live commands share.
#[derive(Debug, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    /// Cluster.
    pub cluster: ClusterArgs,
    /// Namespace (default: the context's namespace, else `default`).
    #[arg(short = 'n', long = "namespace", value_name = "NAMESPACE", value_parser = parse_namespace)]
    pub namespace: Option<String>,
    /// Read a repository instead of the cluster (offline).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    /// Where to read.
    pub live: LiveArgs,
    /// List across all namespaces.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Output format: wide, json, yaml, name, or jsonpath=TEMPLATE (kubectl's dialect).
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_parser = parse_list_format)]
    pub output: Option<ListFormat>,
    /// Add a LABELS column to the table.
    #[arg(long)]
    pub show_labels: bool,
    /// Only objects whose labels match (`key=value`, `key!=value`, `key`, comma-separated).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Omit the header line of tables.
    #[arg(long)]
    pub no_headers: bool,
}

/// `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// `connection/NAME` (or a bare NAME), `kdcluster/NAME` or `cluster/NAME`.
    pub target: String,
    #[command(flatten)]
    /// Where to read.
    pub live: LiveArgs,
    /// Output format: yaml, json, name, or jsonpath=TEMPLATE (kubectl's dialect).
    #[arg(short = 'o', long = "output", value_name = "FORMAT", default_value = "yaml", value_parser = parse_object_format)]
    pub output: ObjectFormat,
}

/// `describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// `connection/NAME` (or a bare NAME), `kdcluster/NAME` or `cluster/NAME`.
    pub target: String,
    #[command(flatten)]
    /// Where to read.
    pub live: LiveArgs,
    /// Refused with a name, as kubectl does.
    #[arg(short = 'A', long = "all-namespaces", hide = true)]
    pub all_namespaces: bool,
}

/// `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The connection (`NAME` or `connection/NAME`).
    pub name: String,
    #[command(flatten)]
    /// Where to read.
    pub live: LiveArgs,
    /// How long the probe may take: seconds or a duration (`5s`, `1m`). Default 5 s.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
}

/// `fn`.
#[derive(Debug, Args)]
pub struct FnArgs {
    /// `render`: a KRM function (ResourceList in and out). `kustomize-generator CONFIG`: a
    /// kustomize legacy exec generator plugin, the only plugin form `kubectl kustomize
    /// --enable-alpha-plugins` runs (it skips KRM exec functions without a word).
    #[arg(value_parser = ["render", "kustomize-generator"], default_value = "render")]
    pub action: String,
    /// The generator's config file (kustomize passes it): a ConnectionRenderer whose `spec`
    /// has `path` (the folder to render, relative to the kustomization) and the settings of
    /// a functionConfig.
    #[arg(value_name = "CONFIG", required_if_eq("action", "kustomize-generator"))]
    pub config: Option<std::path::PathBuf>,
}

/// `crd` (accepts the cluster flags kubectl passes, and ignores them).
#[derive(Debug, Args)]
pub struct CrdArgs {
    #[command(flatten)]
    /// Ignored.
    pub cluster: ClusterArgs,
    /// Ignored (kubectl users pass it out of habit).
    #[arg(short = 'n', long = "namespace", value_name = "NAMESPACE", hide = true)]
    pub namespace: Option<String>,
}

fn jsonpath_template(value: &str) -> Option<Result<String, String>> {
    let template = value.strip_prefix("jsonpath=").or_else(|| value.strip_prefix("jsonpath:"))?;
    Some(if template.is_empty() {
        Err("jsonpath= needs a template, e.g. jsonpath={.items[*].metadata.name}".into())
    } else {
        Ok(template.to_string())
    })
}

fn parse_list_format(value: &str) -> Result<ListFormat, String> {
    if let Some(template) = jsonpath_template(value) {
        return template.map(ListFormat::JsonPath);
    }
    Ok(match value {
        "wide" => ListFormat::Wide,
        "json" => ListFormat::Json,
        "yaml" => ListFormat::Yaml,
        "name" => ListFormat::Name,
        other => {
            return Err(format!(
                "{other:?} is not an output format; use wide, json, yaml, name or jsonpath=TEMPLATE"
            ));
        }
    })
}

fn parse_object_format(value: &str) -> Result<ObjectFormat, String> {
    if let Some(template) = jsonpath_template(value) {
        return template.map(ObjectFormat::JsonPath);
    }
    Ok(match value {
        "json" => ObjectFormat::Json,
        "yaml" => ObjectFormat::Yaml,
        "name" => ObjectFormat::Name,
        other => {
            return Err(format!(
                "{other:?} is not an output format; use yaml, json, name or jsonpath=TEMPLATE"
            ));
        }
    })
}

/// `list -o`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListFormat {
    /// A table with more columns.
    Wide,
    /// JSON (a `List` when there are several objects).
    Json,
    /// YAML (a `List` when there are several objects).
    Yaml,
    /// `kind.group/name` per line.
    Name,
    /// A kubectl JSONPath template applied to the `List`.
    JsonPath(String),
}

/// `get -o`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectFormat {
    /// YAML.
    Yaml,
    /// JSON.
    Json,
    /// `kind.group/name`.
    Name,
    /// A kubectl JSONPath template applied to the object.
    JsonPath(String),
}

/// Where and how to read a repository.
#[derive(Debug, Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// The repository (or a single file) to read.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
    /// Namespace of namespaced objects that do not name one (as `kubectl apply -n`).
    #[arg(short = 'n', long = "namespace", value_name = "NAMESPACE", default_value = "default", value_parser = parse_namespace)]
    pub namespace: String,
    /// Largest input file read, in bytes; larger files are reported, not read.
    #[arg(long, value_name = "BYTES", default_value_t = connections_loader::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Make `plaintext-secret-in-repo` an error: a Secret committed with readable values
    /// fails the run unless it is SOPS-encrypted or listed in `.connections-allow.yaml` at the
    /// repository root.
    #[arg(long)]
    pub strict_secrets: bool,
    /// How the Secrets connections need reach the cluster. `reference`: they must exist
    /// (declared in the repository as a Secret, SealedSecret, ExternalSecret or SOPS file,
    /// or in the cluster with --cluster-check). `external-secret`: render an ExternalSecret
    /// (external-secrets.io/v1) for each one the repository does not declare, fetching it
    /// from --secret-store (remote key `<namespace>/<secret>`, or the Connection's
    /// `connections.dev/remote-key` annotation). `sealed`: render a SealedSecret
    /// (bitnami.com/v1alpha1), encrypted offline with --cert, for each one whose values
    /// --values supplies, and seal every plaintext Secret of the output. `plaintext`: render
    /// plain Secrets from --values; only with --stdout and --allow-plaintext.
    #[arg(long, value_enum, default_value_t = SecretsMode::Reference, help_heading = "Secrets")]
    pub secrets: SecretsMode,
    /// The store ExternalSecrets fetch from (needed with --secrets external-secret).
    #[arg(
        long,
        value_name = "NAME",
        value_parser = parse_store_name,
        required_if_eq("secrets", "external-secret"),
        help_heading = "Secrets"
    )]
    pub secret_store: Option<String>,
    /// The kind of --secret-store.
    #[arg(long, value_enum, default_value_t = StoreKind::SecretStore, help_heading = "Secrets")]
    pub secret_store_kind: StoreKind,
    /// The sealed-secrets controller's public certificate, PEM (`kubeseal --fetch-cert`); an
    /// RSA `PUBLIC KEY` also works. Needed with --secrets sealed; no cluster is contacted.
    #[arg(
        long,
        value_name = "CERT.pem",
        required_if_eq("secrets", "sealed"),
        help_heading = "Secrets"
    )]
    pub cert: Option<PathBuf>,
    /// Where sealed values may be decrypted: `strict` (this name in this namespace),
    /// `namespace-wide` (any name in this namespace) or `cluster-wide`.
    #[arg(long, value_enum, default_value_t = SealScope::Strict, help_heading = "Secrets")]
    pub scope: SealScope,
    /// Secret values for --secrets sealed or plaintext: a file of Secret manifests (`data` or
    /// `stringData`, as `kubectl create secret --dry-run=client -o yaml` writes), kept
    /// outside the repository; `-` reads standard input. Without it, the manifests are read
    /// from the environment variable KUBECTL_CONNECTIONS_VALUES, if set.
    #[arg(long, value_name = "FILE", help_heading = "Secrets")]
    pub values: Option<PathBuf>,
    /// Confirm --secrets plaintext: the output then holds readable secret values. Refused
    /// into a file in a Git work tree and under Argo CD (ARGOCD_APP_NAME set), which caches
    /// generated manifests unencrypted.
    #[arg(long, help_heading = "Secrets")]
    pub allow_plaintext: bool,
}

/// Sealed-secrets scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SealScope {
    /// Decryptable only as this Secret name in this namespace.
    Strict,
    /// Decryptable under any name in this namespace.
    NamespaceWide,
    /// Decryptable under any name in any namespace.
    ClusterWide,
}

/// How Secrets that connections need reach the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SecretsMode {
    /// Reference Secrets that must exist; the output carries no new value.
    Reference,
    /// Render ExternalSecrets for the Secrets the repository does not declare.
    ExternalSecret,
    /// Render SealedSecrets, encrypted offline with --cert, from --values; seal every
    /// plaintext Secret of the output.
    Sealed,
    /// Render plain Secrets from --values (only with --stdout and --allow-plaintext).
    Plaintext,
}

/// External Secrets Operator store kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// A namespaced `SecretStore`.
    #[value(name = "SecretStore")]
    SecretStore,
    /// A cluster-wide `ClusterSecretStore`.
    #[value(name = "ClusterSecretStore")]
    ClusterSecretStore,
}

/// How findings are shown.
#[derive(Debug, Args)]
#[command(next_help_heading = "Findings")]
pub struct ReportArgs {
    /// Format of findings.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub output_format: OutputFormat,
    /// Lowest severity that makes the run fail (exit code 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// When to use colour in human output (`NO_COLOR` is honoured).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    /// Input.
    pub input: InputArgs,
    #[command(flatten)]
    /// Cluster (used with `--cluster-check`).
    pub cluster: ClusterArgs,
    /// A Secret, ConfigMap or KubeDirectorCluster the repository does not declare may exist in
    /// the cluster instead: look it up there (names and keys only, never values).
    #[arg(long, help_heading = "Checks")]
    pub cluster_check: bool,
    #[command(flatten)]
    /// Findings.
    pub report: ReportArgs,
}

/// `render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    /// Input.
    pub input: InputArgs,
    #[command(flatten)]
    /// Cluster (used with `--cluster-check`).
    pub cluster: ClusterArgs,
    /// A Secret, ConfigMap or KubeDirectorCluster the repository does not declare may exist in
    /// the cluster instead: look it up there (names and keys only, never values).
    #[arg(long, help_heading = "Checks")]
    pub cluster_check: bool,
    /// Write the output into this folder (replaced atomically; must be outside PATH).
    #[arg(
        long,
        value_name = "DIR",
        value_hint = clap::ValueHint::DirPath,
        required_unless_present = "stdout",
        conflicts_with = "stdout",
        help_heading = "Output"
    )]
    pub out: Option<PathBuf>,
    /// Print every object as one multi-document YAML stream instead.
    #[arg(long, help_heading = "Output")]
    pub stdout: bool,
    /// Exit 1 and write nothing when the render yields no object: an empty stream makes Argo
    /// CD, with auto-prune, delete every resource of the application.
    #[arg(long, help_heading = "Output")]
    pub fail_if_empty: bool,
    #[command(flatten)]
    /// Findings.
    pub report: ReportArgs,
}

/// `argocd`.
#[derive(Debug, Args)]
pub struct ArgocdArgs {
    /// `generate`: render the application's source folder (the working folder) to stdout.
    #[arg(value_parser = ["generate"])]
    pub action: String,
}

/// `diff`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("baseline").required(true).args(["against", "base", "against_cluster"])))]
pub struct DiffArgs {
    #[command(flatten)]
    /// Input.
    pub input: InputArgs,
    /// Compare with this rendered folder.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath, help_heading = "Compare with")]
    pub against: Option<PathBuf>,
    /// Compare with PATH as it is at this git revision (`origin/main`, a commit, a tag).
    #[arg(long, value_name = "REV", help_heading = "Compare with")]
    pub base: Option<String>,
    /// Compare with the objects in the cluster.
    #[arg(long, help_heading = "Compare with")]
    pub against_cluster: bool,
    /// How to show the differences.
    #[arg(long, value_enum, default_value_t = DiffFormat::Unified, help_heading = "Output")]
    pub format: DiffFormat,
    /// Longest markdown output, in characters: GitHub takes 65,536 per comment, GitLab
    /// 1,000,000 per note. Past it, sections are left out with a visible notice.
    #[arg(long, value_name = "CHARS", default_value_t = GITHUB_COMMENT_LIMIT, value_parser = clap::value_parser!(u32).range(512..), help_heading = "Output")]
    pub markdown_limit: u32,
    #[command(flatten)]
    /// Cluster (used with `--against-cluster`).
    pub cluster: ClusterArgs,
    #[command(flatten)]
    /// Findings.
    pub report: ReportArgs,
}

/// The longest comment GitHub accepts, in characters.
pub const GITHUB_COMMENT_LIMIT: u32 = 65_536;

/// Formats of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// `diff -u` style, coloured on a terminal.
    Unified,
    /// A pull-request comment: a summary, then one collapsed section per changed object.
    Markdown,
    /// `{"changes":[...],"summary":{...}}`.
    Json,
}

/// `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A check id, such as `dangling-secret-ref`.
    pub id: Option<String>,
    #[command(flatten)]
    /// Ignored.
    pub cluster: ClusterArgs,
    /// Ignored (kubectl users pass it out of habit).
    #[arg(short = 'n', long = "namespace", value_name = "NAMESPACE", hide = true)]
    pub namespace: Option<String>,
}

/// A namespace name must be a DNS-1123 label, as the API server requires.
/// A secret store's name: an object name (DNS-1123 subdomain).
pub fn parse_store_name(value: &str) -> Result<String, String> {
    connections_core::rules::dns1123_subdomain(value)
        .map(|()| value.to_string())
        .map_err(|reason| format!("a secret store name {reason}"))
}

fn parse_namespace(value: &str) -> Result<String, String> {
    connections_core::rules::dns1123_label(value)
        .map(|()| value.to_string())
        .map_err(|reason| format!("namespace {reason}"))
}

/// Formats of findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people: the source line, underlined.
    Human,
    /// `{"diagnostics":[...],"summary":{...}}`.
    Json,
    /// GitHub Actions workflow annotations.
    Github,
    /// A SARIF 2.1.0 log, for code scanning (`github/codeql-action/upload-sarif`).
    Sarif,
}

/// Severity thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on errors only.
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Never fail because of findings.
    Never,
}

/// Colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When the output is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}
