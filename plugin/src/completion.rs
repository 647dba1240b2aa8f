//! Shell completion: the scripts `completion bash|zsh|fish` prints, and the engine behind the
//! hidden `__complete` subcommand, which answers in Cobra's protocol (the one kubectl ≥ 1.26
//! speaks to `kubectl_complete-connections`): one candidate a line, `value<TAB>description`,
//! then `:<directive>`.
//!
//! Subcommands, flags and enum values come from clap's own description of the command line
//! (`Cli::command()`), so they cannot drift from it. Connection names come from `--repo` when
//! it is given, else from the cluster the command would talk to, within a fixed time limit; a
//! cluster that cannot be reached gives no candidates, never an error on stdout.

use crate::cli::{Cli, Command, CompleteArgs, CompletionArgs, LiveArgs, Shell};
use crate::commands::{Failure, Outcome, print_stdout};
use crate::live::{cluster, kubeconfig};
use clap::{Arg, ArgAction, CommandFactory as _, Parser as _, ValueHint};
use connections_core::model::{Body, Flavour, Model};
use std::time::Duration;

/// How `completion --help` tells users to install the scripts and the kubectl shim.
pub const INSTALL_HELP: &str = "\
Install (the scripts complete `kubectl-connections ...`):
  bash  source <(kubectl-connections completion bash)      # this session
        kubectl-connections completion bash > ~/.local/share/bash-completion/completions/kubectl-connections
  zsh   kubectl-connections completion zsh > \"${fpath[1]}/_kubectl-connections\"   # needs compinit
  fish  kubectl-connections completion fish > ~/.config/fish/completions/kubectl-connections.fish

For `kubectl connections ...` (kubectl 1.26 or later, with kubectl's own completion loaded),
put an executable `kubectl_complete-connections` next to kubectl-connections on PATH; kubectl
runs it (the repository ships it in plugin/completion/):
  printf '#!/bin/sh\\nexec kubectl-connections __complete \"$@\"\\n' > ~/.local/bin/kubectl_complete-connections
  chmod +x ~/.local/bin/kubectl_complete-connections

Connection names are completed from --repo PATH when given, else from the cluster (kubeconfig,
--context, -n as the command would use them; at most 2 seconds).";

/// Cobra's `ShellCompDirective` bits.
pub mod directive {
    /// Let the shell complete file names when there are no candidates.
    pub const DEFAULT: u32 = 0;
    /// No space after the candidate (it continues, like `jsonpath=`).
    pub const NO_SPACE: u32 = 2;
    /// No file names, even when there are no candidates.
    pub const NO_FILE: u32 = 4;
    /// Only directories.
    pub const FILTER_DIRS: u32 = 16;
}

/// How long names may take to arrive from the cluster, connecting included.
pub const CLUSTER_TIME_LIMIT: Duration = Duration::from_secs(2);

/// A candidate and its one-line description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What the word becomes.
    pub value: String,
    /// Shown beside it by shells that can.
    pub description: Option<String>,
}

/// An answer: candidates and a directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    /// Candidates, each starting with the word being completed.
    pub candidates: Vec<Candidate>,
    /// A `directive` bitmask.
    pub directive: u32,
}

impl Completions {
    fn none(directive: u32) -> Completions {
        Completions { candidates: Vec::new(), directive }
    }

    /// Candidates that start with `current`, without file completion.
    fn matching(current: &str, all: impl IntoIterator<Item = Candidate>) -> Completions {
        let candidates = all.into_iter().filter(|c| c.value.starts_with(current)).collect();
        Completions { candidates, directive: directive::NO_FILE }
    }

    /// The answer as Cobra's `__complete` prints it.
    pub fn to_protocol(&self) -> String {
        let mut out = String::new();
        for c in &self.candidates {
            out.push_str(&c.value);
            if let Some(d) = c.description.as_deref().map(one_line).filter(|d| !d.is_empty()) {
                out.push('\t');
                out.push_str(&d);
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive));
        out
    }
}

/// The first line of a help text, without tabs or a trailing period.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").replace('\t', " ");
    line.trim().trim_end_matches('.').to_string()
}

fn candidate(value: impl Into<String>, description: Option<String>) -> Candidate {
    Candidate { value: value.into(), description }
}

/// Runs `completion SHELL`.
pub fn script(args: &CompletionArgs) -> Result<Outcome, Failure> {
    print_stdout(match args.shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
    })?;
    Ok(Outcome::Success)
}

/// Runs `__complete WORDS...`: always exit code 0, as Cobra does; problems only on stderr.
pub fn run(args: &CompleteArgs) -> Result<Outcome, Failure> {
    print_stdout(&complete(&args.words).to_protocol())?;
    Ok(Outcome::Success)
}

/// What the words typed so far say.
struct Typed<'c> {
    /// The deepest subcommand named.
    command: &'c clap::Command,
    /// Its name (`""` at the top).
    name: String,
    /// Positional values given to it.
    positionals: Vec<String>,
    /// Ids of the options given to it, with their values.
    given: Vec<(&'c Arg, Option<String>)>,
    /// An option still waiting for its value (the word being completed).
    pending: Option<&'c Arg>,
    /// `--` was typed: everything after it is positional.
    dash_dash: bool,
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

fn find_long<'c>(command: &'c clap::Command, name: &str) -> Option<&'c Arg> {
    command.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|all| all.contains(&name))
    })
}

fn find_short(command: &clap::Command, c: char) -> Option<&Arg> {
    command.get_arguments().find(|a| {
        a.get_short() == Some(c) || a.get_all_short_aliases().is_some_and(|all| all.contains(&c))
    })
}

/// Walks the words before the one being completed, as clap would parse them.
fn walk<'c>(root: &'c clap::Command, words: &[String]) -> Typed<'c> {
    let mut typed = Typed {
        command: root,
        name: String::new(),
        positionals: Vec::new(),
        given: Vec::new(),
        pending: None,
        dash_dash: false,
    };
    for word in words {
        if let Some(arg) = typed.pending.take() {
            typed.given.push((arg, Some(word.clone())));
            continue;
        }
        if !typed.dash_dash {
            if word == "--" {
                typed.dash_dash = true;
                continue;
            }
            if let Some(flag) = word.strip_prefix("--") {
                let (name, value) = match flag.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (flag, None),
                };
                if let Some(arg) = find_long(typed.command, name) {
                    if takes_value(arg) && value.is_none() {
                        typed.pending = Some(arg);
                    } else {
                        typed.given.push((arg, value));
                    }
                }
                continue;
            }
            if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
                for (i, c) in shorts.char_indices() {
                    let Some(arg) = find_short(typed.command, c) else { break };
                    if takes_value(arg) {
                        let rest = &shorts[i + c.len_utf8()..];
                        let rest = rest.strip_prefix('=').unwrap_or(rest);
                        if rest.is_empty() {
                            typed.pending = Some(arg);
                        } else {
                            typed.given.push((arg, Some(rest.to_string())));
                        }
                        break;
                    }
                    typed.given.push((arg, None));
                }
                continue;
            }
            if typed.positionals.is_empty()
                && let Some(sub) = typed.command.find_subcommand(word)
            {
                typed.command = sub;
                typed.name = sub.get_name().to_string();
                typed.given.clear();
                continue;
            }
        }
        typed.positionals.push(word.clone());
    }
    typed
}

/// Completes the last of `words` (an empty word when there is none).
pub fn complete(words: &[String]) -> Completions {
    let mut root = Cli::command();
    root.build();
    let (current, before) = match words.split_last() {
        Some((last, before)) => (last.as_str(), before),
        None => ("", &[][..]),
    };
    let typed = walk(&root, before);
    if let Some(arg) = typed.pending {
        return values(&typed, before, arg, current, "");
    }
    if !typed.dash_dash && current.starts_with('-') {
        if let Some((flag, value)) = current.split_once('=')
            && let Some(arg) = flag.strip_prefix("--").and_then(|n| find_long(typed.command, n))
        {
            return if takes_value(arg) {
                values(&typed, before, arg, value, &format!("{flag}="))
            } else {
                Completions::none(directive::NO_FILE)
            };
        }
        return flags(&typed, current);
    }
    if typed.positionals.is_empty() && typed.command.has_subcommands() {
        return Completions::matching(
            current,
            typed
                .command
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| candidate(s.get_name(), s.get_about().map(|a| a.to_string()))),
        );
    }
    let positionals: Vec<&Arg> = typed.command.get_positionals().collect();
    let index = typed.positionals.len();
    let arg = positionals.get(index).or_else(|| {
        positionals.last().filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > index))
    });
    match arg {
        Some(arg) => values(&typed, before, arg, current, ""),
        None => Completions::none(directive::NO_FILE),
    }
}

/// The options of the current subcommand that start with `current` (`--long` always, `-s`
/// unless `current` starts with `--`), leaving out those given already that cannot repeat.
fn flags(typed: &Typed<'_>, current: &str) -> Completions {
    let repeats = |a: &Arg| matches!(a.get_action(), ArgAction::Append | ArgAction::Count);
    let mut all = Vec::new();
    for arg in typed.command.get_arguments() {
        if arg.is_positional() || arg.is_hide_set() {
            continue;
        }
        if typed.given.iter().any(|(g, _)| g.get_id() == arg.get_id()) && !repeats(arg) {
            continue;
        }
        let help = arg.get_help().map(|h| h.to_string());
        if let Some(long) = arg.get_long() {
            all.push(candidate(format!("--{long}"), help.clone()));
        }
        if let Some(short) = arg.get_short()
            && !current.starts_with("--")
        {
            all.push(candidate(format!("-{short}"), help));
        }
    }
    Completions::matching(current, all)
}

/// Values for `arg`, which starts with `current`; each candidate gets `prefix` (`--flag=`).
fn values(
    typed: &Typed<'_>,
    before: &[String],
    arg: &Arg,
    current: &str,
    prefix: &str,
) -> Completions {
    let id = arg.get_id().as_str();
    let dynamic: Option<Vec<Candidate>> = match (typed.name.as_str(), arg.get_long(), id) {
        ("get" | "describe" | "check", None, _) => Some(targets(typed, before, current)),
        ("explain", None, "id") => Some(
            connections_core::checks::Check::ALL
                .iter()
                .map(|c| candidate(c.id(), Some(c.docs().summary.to_string())))
                .collect(),
        ),
        (_, Some("context" | "cluster" | "user"), _) => Some(kubeconfig_names(typed, arg)),
        (_, Some("namespace"), _) if live_command(&typed.name) => Some(namespaces(typed, before)),
        _ => None,
    };
    let mut answer = if let Some(all) = dynamic {
        Completions::matching(current, all)
    } else if arg.get_possible_values().iter().any(|v| !v.is_hide_set()) {
        Completions::matching(
            current,
            arg.get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| candidate(v.get_name(), v.get_help().map(|h| h.to_string()))),
        )
    } else if arg.get_long() == Some("output") {
        output_formats(arg, current)
    } else {
        match arg.get_value_hint() {
            ValueHint::DirPath => Completions::none(directive::FILTER_DIRS),
            ValueHint::AnyPath | ValueHint::FilePath | ValueHint::ExecutablePath => {
                Completions::none(directive::DEFAULT)
            }
            _ => Completions::none(directive::NO_FILE),
        }
    };
    for c in &mut answer.candidates {
        c.value.insert_str(0, prefix);
    }
    answer
}

/// kubectl's `-o` vocabulary (cli-runtime's PrintFlags and `get`'s `wide`), offered where this
/// subcommand's own parser accepts it.
fn output_formats(arg: &Arg, current: &str) -> Completions {
    const KUBECTL: &[(&str, &str, &str)] = &[
        ("wide", "wide", "a table with more columns"),
        ("json", "json", "JSON"),
        ("yaml", "yaml", "YAML"),
        ("name", "name", "kind.group/name"),
        ("jsonpath=", "jsonpath={.metadata.name}", "a kubectl JSONPath template"),
    ];
    // The option alone, parsed by clap as the subcommand would parse it.
    let alone = clap::Command::new("probe").arg(arg.clone().required(false));
    let long = arg.get_long().unwrap_or("output");
    let accepted = KUBECTL.iter().filter(|(_, probe, _)| {
        alone
            .clone()
            .try_get_matches_from(["probe".to_string(), format!("--{long}={probe}")])
            .is_ok()
    });
    let mut answer = Completions::matching(
        current,
        accepted.map(|(value, _, help)| candidate(*value, Some(help.to_string()))),
    );
    if !answer.candidates.is_empty() && answer.candidates.iter().all(|c| c.value.ends_with('=')) {
        answer.directive |= directive::NO_SPACE;
    }
    answer
}

fn live_command(name: &str) -> bool {
    matches!(name, "list" | "get" | "describe" | "check")
}

/// The command line as the command itself would parse it, with a stand-in for a positional
/// not typed yet.
fn parse_typed(before: &[String]) -> Option<Cli> {
    let program = std::iter::once("kubectl-connections".to_string());
    Cli::try_parse_from(program.clone().chain(before.iter().cloned()))
        .or_else(|_| {
            Cli::try_parse_from(program.chain(before.iter().cloned()).chain(["x".to_string()]))
        })
        .ok()
}

fn live_args(cli: &Cli) -> Option<&LiveArgs> {
    match &cli.command {
        Command::List(a) => Some(&a.live),
        Command::Get(a) => Some(&a.live),
        Command::Describe(a) => Some(&a.live),
        Command::Check(a) => Some(&a.live),
        _ => None,
    }
}

/// Contexts, clusters or users of the kubeconfig the command would read.
fn kubeconfig_names(typed: &Typed<'_>, arg: &Arg) -> Vec<Candidate> {
    let file = typed.given.iter().find_map(|(a, v)| {
        (a.get_long() == Some("kubeconfig")).then(|| v.clone().map(std::path::PathBuf::from))?
    });
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let env = std::env::var_os("KUBECONFIG");
    let Ok(config) = kubeconfig::kubeconfig_paths(file.as_deref(), env.as_deref(), home.as_deref())
        .and_then(|paths| kubeconfig::load(&paths))
    else {
        return Vec::new();
    };
    let names: Vec<String> = match arg.get_long() {
        Some("context") => config.contexts.iter().map(|c| c.name.clone()).collect(),
        Some("cluster") => config.clusters.iter().map(|c| c.name.clone()).collect(),
        _ => config.auth_infos.iter().map(|u| u.name.clone()).collect(),
    };
    names.into_iter().map(|n| candidate(n, None)).collect()
}

/// Something a live command can show, as read from a repository or a cluster.
struct Named {
    /// `connection`, `connection.etl.dataworkz.nl`, `kdcluster`, `cluster` or `polyaxon`.
    kind: &'static str,
    name: String,
    namespace: Option<String>,
    description: String,
}

/// Targets of `get`, `describe` and `check`.
fn targets(typed: &Typed<'_>, before: &[String], current: &str) -> Vec<Candidate> {
    let Some(cli) = parse_typed(before) else { return Vec::new() };
    let Some(live) = live_args(&cli) else { return Vec::new() };
    let command = typed.name.as_str();
    let (objects, namespace) = match &live.repo {
        Some(_) => repository_objects(live),
        None => cluster_objects(live, command != "check"),
    };
    let qualified = current.contains('/');
    let mut out = Vec::new();
    for o in objects {
        if o.namespace.as_deref().is_some_and(|ns| ns != namespace) {
            continue;
        }
        let is_connection = matches!(o.kind, "connection" | "connection.etl.dataworkz.nl");
        let description = Some(o.description.clone());
        let bare = match command {
            "check" => is_connection,
            "describe" => is_connection || o.kind == "polyaxon",
            _ => is_connection && !current.is_empty() && !qualified,
        };
        if bare {
            out.push(candidate(o.name.clone(), description.clone()));
        }
        let full = match command {
            "check" => o.kind == "connection" && qualified,
            "describe" => !is_connection || qualified,
            _ => true,
        };
        if full && (o.kind != "polyaxon" || qualified) {
            out.push(candidate(format!("{}/{}", o.kind, o.name), description));
        }
    }
    out.dedup();
    out
}

fn repository_objects(live: &LiveArgs) -> (Vec<Named>, String) {
    let fallback = live.namespace.clone().unwrap_or_else(|| "default".into());
    let view = crate::commands::live::block_on(crate::commands::live::view(live, false, None));
    let Ok(Ok(view)) = view else {
        eprintln!("completion: cannot read the repository");
        return (Vec::new(), fallback);
    };
    (model_objects(&view.model), view.namespace)
}

fn model_objects(model: &Model) -> Vec<Named> {
    let mut out = Vec::new();
    for o in model.objects.iter().filter(|o| crate::live::views::listed(o)) {
        let kind = match &o.body {
            Body::Connection(c) if c.flavour == Flavour::KubeEtl => "connection.etl.dataworkz.nl",
            Body::Connection(_) => "connection",
            Body::KubeDirectorCluster(_) => "kdcluster",
            Body::LoftCluster => "cluster",
            _ => continue,
        };
        out.push(Named {
            kind,
            name: o.name.value.clone(),
            namespace: o.namespace.as_ref().map(|_| o.namespace_str().to_string()),
            description: crate::live::views::type_of(o),
        });
    }
    for config in &model.polyaxon {
        for c in &config.connections {
            if let Some(name) = &c.name {
                out.push(Named {
                    kind: "polyaxon",
                    name: name.value.clone(),
                    namespace: None,
                    description: c.kind.as_ref().map_or(String::new(), |k| k.value.clone()),
                });
            }
        }
    }
    out.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    out
}

/// Runs the future `make` returns on a thread and runtime of its own, and waits at most
/// [`CLUSTER_TIME_LIMIT`] for it. A thread, not only a timeout inside the runtime: kube runs
/// exec credential plugins (`aws eks get-token`, a login waiting for a browser) synchronously
/// inside the future, where no timer can interrupt them. Whatever is still running is left
/// behind; the process exits right after.
fn bounded<T, F>(make: impl FnOnce() -> F + Send + 'static) -> Option<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, Failure>>,
{
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        let _ = sender.send(runtime.block_on(make()));
    });
    match receiver.recv_timeout(CLUSTER_TIME_LIMIT) {
        Ok(Ok(value)) => Some(value),
        Ok(Err(Failure(message))) => {
            eprintln!("completion: {message}");
            None
        }
        Err(_) => {
            eprintln!("completion: the cluster did not answer within {CLUSTER_TIME_LIMIT:?}");
            None
        }
    }
}

/// The cluster's connections (and, with `more`, KubeDirector and Loft clusters) in the
/// namespace the command would use.
fn cluster_objects(live: &LiveArgs, more: bool) -> (Vec<Named>, String) {
    let mut args = live.cluster.clone();
    if kubeconfig::parse_request_timeout(&args.request_timeout).ok().flatten().is_none() {
        args.request_timeout = format!("{}s", CLUSTER_TIME_LIMIT.as_secs());
    }
    let namespace = live.namespace.clone();
    let found = bounded(move || async move {
        let cluster = cluster::connect(&args, namespace.as_deref()).await?;
        let scope = cluster::Scope::Namespace(cluster.namespace.clone());
        let kind = |name: &str, group: &str| {
            cluster::KINDS.iter().find(|k| k.kind == name && k.group == group).copied()
        };
        let mut wanted = vec![(cluster::CONNECTION, "connection")];
        if more {
            wanted.extend(
                kind("KubeDirectorCluster", "kubedirector.hpe.com").map(|k| (k, "kdcluster")),
            );
            wanted.extend(kind("Cluster", "storage.loft.sh").map(|k| (k, "cluster")));
        }
        let mut out = Vec::new();
        for (i, (kind, short)) in wanted.into_iter().enumerate() {
            let listed = match cluster.list(&kind, &scope, None).await {
                Ok(listed) => listed.unwrap_or_default(),
                // Connections must list; the other kinds are a bonus.
                Err(failure) if i == 0 => return Err(failure),
                Err(_) => Vec::new(),
            };
            for item in listed {
                let text = |route: &[&str]| {
                    route
                        .iter()
                        .try_fold(&item, |v, k| v.get(k))
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                };
                let Some(name) = text(&["metadata", "name"]) else { continue };
                out.push(Named {
                    kind: short,
                    name,
                    namespace: text(&["metadata", "namespace"]),
                    description: text(&["spec", "type"]).unwrap_or_default(),
                });
            }
        }
        Ok((out, cluster.namespace.clone()))
    });
    found.unwrap_or_else(|| (Vec::new(), String::new()))
}

/// Namespaces for `-n` of a live command: the repository's with `--repo`, else the cluster's.
fn namespaces(typed: &Typed<'_>, before: &[String]) -> Vec<Candidate> {
    // `-n` itself waits for the value being completed: the command line is parsed without it.
    let before = match typed.pending {
        Some(_) => &before[..before.len().saturating_sub(1)],
        None => before,
    };
    let Some(cli) = parse_typed(before) else { return Vec::new() };
    let Some(live) = live_args(&cli) else { return Vec::new() };
    let mut names: Vec<String> = if live.repo.is_some() {
        repository_objects(live).0.into_iter().filter_map(|o| o.namespace).collect()
    } else {
        let mut args = live.cluster.clone();
        if kubeconfig::parse_request_timeout(&args.request_timeout).ok().flatten().is_none() {
            args.request_timeout = format!("{}s", CLUSTER_TIME_LIMIT.as_secs());
        }
        bounded(move || async move {
            let cluster = cluster::connect(&args, None).await?;
            let api: kube::Api<k8s_openapi::api::core::v1::Namespace> =
                kube::Api::all(cluster.client.clone());
            let params = kube::api::ListParams::default();
            let list = cluster
                .read("list namespaces", || api.list(&params))
                .await?
                .map_err(|status| Failure(status.message))?;
            Ok(list.items.into_iter().filter_map(|n| n.metadata.name).collect())
        })
        .unwrap_or_default()
    };
    names.sort();
    names.dedup();
    names.into_iter().map(|n| candidate(n, None)).collect()
}

/// `completion bash`: asks `__complete` for every completion.
const BASH: &str = r#"# bash completion for kubectl-connections.
# Load it with: source <(kubectl-connections completion bash)
# For `kubectl connections`, kubectl runs kubectl_complete-connections instead.
__kubectl_connections_complete() {
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words lines
    read -r -a words <<< "$line"
    local cur=""
    if [[ $line != *[[:space:]] ]] && (( ${#words[@]} > 1 )); then
        cur=${words[${#words[@]}-1]}
        unset 'words[${#words[@]}-1]'
    fi
    local out
    out=$("${words[0]}" __complete "${words[@]:1}" "$cur" 2>/dev/null) || return 0
    mapfile -t lines <<< "$out"
    local last=${lines[${#lines[@]}-1]}
    [[ $last == :* ]] || return 0
    local directive=${last#:}
    unset 'lines[${#lines[@]}-1]'
    COMPREPLY=()
    (( directive & 1 )) && return 0
    if (( directive & 16 )); then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return 0
    fi
    # bash completes the part after the last `=` of `--flag=value`.
    local prefix=""
    if [[ $cur == *=* && $COMP_WORDBREAKS == *=* ]]; then
        prefix=${cur%"${cur##*=}"}
    fi
    local entry
    for entry in "${lines[@]}"; do
        entry=${entry%%$'\t'*}
        [[ -n $entry ]] && COMPREPLY+=("${entry#"$prefix"}")
    done
    if (( directive & 2 )); then compopt -o nospace 2>/dev/null; fi
    if (( directive & 32 )); then compopt -o nosort 2>/dev/null; fi
    # No candidates: file names (complete -o default) unless the directive says no.
    if (( ${#COMPREPLY[@]} == 0 && (directive & 4) )); then compopt +o default 2>/dev/null; fi
    return 0
}
complete -o default -F __kubectl_connections_complete kubectl-connections
"#;

/// `completion zsh`: asks `__complete` for every completion.
const ZSH: &str = r#"#compdef kubectl-connections
# zsh completion for kubectl-connections.
# Install: kubectl-connections completion zsh > "${fpath[1]}/_kubectl-connections"
# or load it in this session: source <(kubectl-connections completion zsh)
_kubectl-connections() {
    local -a args lines candidates nospace
    local out last directive line value description
    args=("${(@)words[2,CURRENT-1]}")
    out=$(${words[1]} __complete "${(@Q)args}" "${(Q)PREFIX}" 2>/dev/null) || return 1
    lines=("${(@f)out}")
    last=${lines[-1]}
    [[ $last == :* ]] || return 1
    directive=${last#:}
    lines=("${(@)lines[1,-2]}")
    (( directive & 1 )) && return 1
    if (( directive & 16 )); then
        _path_files -/
        return
    fi
    for line in "${lines[@]}"; do
        [[ -z $line ]] && continue
        value=${line%%$'\t'*}
        description=""
        [[ $line == *$'\t'* ]] && description=${line#*$'\t'}
        candidates+=("${value//:/\\:}${description:+:$description}")
    done
    if (( ${#candidates} )); then
        (( directive & 2 )) && nospace=(-S '')
        _describe -t values 'kubectl-connections' candidates "${nospace[@]}"
        return
    fi
    (( directive & 4 )) && return 1
    _files
}
if [[ $funcstack[1] == _kubectl-connections ]]; then
    _kubectl-connections "$@"
else
    compdef _kubectl-connections kubectl-connections
fi
"#;

/// `completion fish`: asks `__complete` for every completion.
const FISH: &str = r#"# fish completion for kubectl-connections.
# Install: kubectl-connections completion fish > ~/.config/fish/completions/kubectl-connections.fish
function __kubectl_connections_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l program $words[1]
    set -e words[1]
    set -l out (command $program __complete $words $cur 2>/dev/null)
    or return
    set -l last $out[-1]
    string match -q -- ':*' "$last"
    or return
    set -l directive (string sub -s 2 -- $last)
    set -e out[-1]
    if test (math "bitand($directive, 1)") -ne 0
        return
    end
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories $cur
        return
    end
    if test (count $out) -gt 0
        printf '%s\n' $out
        return
    end
    if test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path $cur
    end
end
complete -c kubectl-connections -f -a '(__kubectl_connections_complete)'
"#;
