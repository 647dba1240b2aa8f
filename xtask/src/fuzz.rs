//! `cargo xtask fuzz`: the cargo-fuzz targets under `fuzz/` (see `fuzz/fuzz_targets/`).
//!
//! - `fuzz --replay`: builds every target and runs each once over its committed corpus
//!   (libFuzzer `-runs=0`): what CI does, a few minutes on two cores;
//! - `fuzz --seconds N [--target T]`: fuzzes each target (or `T`) for N seconds, one job at a
//!   time, and prints the executions and what was found;
//! - `fuzz --corpus`: regenerates the seed corpus from the fixtures and examples.
//!
//! cargo-fuzz drives libFuzzer, which needs unstable compiler flags: CI has only the stable
//! toolchain, so every build sets `RUSTC_BOOTSTRAP=1` (harmless on nightly). Targets are built
//! without a sanitizer: the code is safe Rust, and what the fuzzer looks for is a panic, a
//! hang (`-timeout`) or memory out of bounds (`-rss_limit_mb`). cargo-fuzz is installed (at a
//! pinned version) when missing.
//!
//! The corpus lives in `fuzz/corpus/<target>/`. Seeds made from the fixtures are named
//! `seed-<hash>` and are replaced by `--corpus`; every other file there (a regression input
//! from a finding, `regression-<what>`) is kept. A fuzzing run adds what it discovers to
//! `fuzz/target/corpus/<target>/`, never to the committed corpus; crashes go to
//! `fuzz/artifacts/<target>/`.

use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The targets, in the order they run.
pub const TARGETS: [&str; 4] = ["loader", "subset", "render", "krm"];

/// The targets with seeds of their own, in the order [`write_corpus`] fills them; `subset`
/// reads one file's text as `loader` does, so it shares the loader's (see [`corpus_dir`]).
const SEEDED: [&str; 3] = ["loader", "render", "krm"];

/// The cargo-fuzz release installed when it is missing.
const CARGO_FUZZ_VERSION: &str = "0.13.1";

/// Limits that turn slowness and memory blow-ups into findings: one input may take this many
/// seconds and the process this many MB.
const TIMEOUT_SECONDS: u32 = 10;
const RSS_LIMIT_MB: u32 = 2048;

/// Seeds larger than this are left out of the corpus (fuzzing mutates small inputs better).
const MAX_SEED_BYTES: usize = 128 * 1024;

/// Files per render seed (the target reads at most 16).
const MAX_FILES: usize = 16;

/// `cargo xtask fuzz [--replay | --corpus | --seconds N] [--target T]`.
pub fn fuzz(root: &Path, args: &[String]) -> Result<(), String> {
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let targets: Vec<&str> = match value("--target") {
        Some(t) if TARGETS.contains(&t.as_str()) => vec![t.as_str()],
        Some(t) => return Err(format!("no fuzz target `{t}`; there are {}", TARGETS.join(", "))),
        None => TARGETS.to_vec(),
    };
    if args.iter().any(|a| a == "--corpus") {
        return write_corpus(root);
    }
    let seconds = match value("--seconds") {
        Some(n) => Some(n.parse::<u32>().map_err(|_| format!("--seconds {n}: not a number"))?),
        None if args.iter().any(|a| a == "--replay") => None,
        None => {
            return Err(
                "usage: cargo xtask fuzz --replay | --seconds N [--target T] | --corpus".into()
            );
        }
    };
    ensure_cargo_fuzz()?;
    build(root, seconds.is_none())?;
    let mut findings = Vec::new();
    for target in targets {
        let run = match seconds {
            None => replay(root, target)?,
            Some(seconds) => explore(root, target, seconds)?,
        };
        println!(
            "fuzz {target}: {} executions in {:.0} s, corpus {} inputs, {}",
            run.executions,
            run.seconds,
            run.corpus,
            if run.findings.is_empty() {
                "no finding".to_string()
            } else {
                format!("{} finding(s)", run.findings.len())
            }
        );
        for finding in &run.findings {
            println!("  finding: {}", finding.display());
        }
        findings.extend(run.findings);
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} finding(s); reproduce one with `RUSTC_BOOTSTRAP=1 cargo fuzz run -s none TARGET FILE`",
            findings.len()
        ))
    }
}

fn cargo_fuzz_installed() -> bool {
    Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    if cargo_fuzz_installed() {
        return Ok(());
    }
    crate::run(
        "cargo",
        &["install", "cargo-fuzz", "--locked", "--version", CARGO_FUZZ_VERSION],
        &[],
    )
}

/// `cargo fuzz` with its arguments, run at the repository root on the stable toolchain.
fn cargo_fuzz(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("cargo");
    command.arg("fuzz").args(args).env("RUSTC_BOOTSTRAP", "1").current_dir(root);
    command
}

/// The cargo-fuzz flags of a build: replay uses the dev profile (unoptimised, so CI compiles
/// the targets in about half the time; with debug assertions and overflow checks on, which
/// only adds checks), fuzzing the default optimised build (executions per second matter).
fn profile_flags(replay: bool) -> &'static [&'static str] {
    if replay { &["--sanitizer", "none", "--dev"] } else { &["--sanitizer", "none"] }
}

fn build(root: &Path, replay: bool) -> Result<(), String> {
    let mut args = vec!["build"];
    args.extend(profile_flags(replay));
    println!("$ RUSTC_BOOTSTRAP=1 cargo fuzz {}", args.join(" "));
    let status =
        cargo_fuzz(root, &args).status().map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo fuzz build failed ({status})")) }
}

/// What one target's run did.
struct Run {
    executions: u64,
    seconds: f64,
    corpus: usize,
    findings: Vec<PathBuf>,
}

/// The committed corpus of `target`. The subset reader's target reads one file's text, as the
/// loader's does, so it replays and starts from the loader's seeds.
fn corpus_dir(root: &Path, target: &str) -> PathBuf {
    let seeds = if target == "subset" { "loader" } else { target };
    root.join("fuzz/corpus").join(seeds)
}

fn artifacts(root: &Path, target: &str) -> BTreeSet<PathBuf> {
    std::fs::read_dir(root.join("fuzz/artifacts").join(target))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|entries| entries.flatten().count()).unwrap_or(0)
}

/// Runs `cargo fuzz run TARGET CORPUS... -- OPTIONS`, echoing libFuzzer's status lines, and
/// reads the executions from its closing `Done N runs` line.
fn run_target(
    root: &Path,
    target: &str,
    corpora: &[&Path],
    options: &[String],
    replay: bool,
) -> Result<Run, String> {
    let before = artifacts(root, target);
    let started = std::time::Instant::now();
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(profile_flags(replay).iter().map(|f| f.to_string()));
    args.push(target.into());
    args.extend(corpora.iter().map(|c| c.display().to_string()));
    args.push("--".into());
    args.extend(options.iter().cloned());
    args.push(format!("-timeout={TIMEOUT_SECONDS}"));
    args.push(format!("-rss_limit_mb={RSS_LIMIT_MB}"));
    args.push(format!("-max_len={MAX_SEED_BYTES}"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    println!("$ RUSTC_BOOTSTRAP=1 cargo fuzz {}", args.join(" "));
    let output = cargo_fuzz(root, &args)
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    let log = String::from_utf8_lossy(&output.stderr);
    let mut executions = None;
    for line in log.lines() {
        let status = ["INITED", "DONE", "Done ", "ERROR", "SUMMARY", "panicked", "Test unit"];
        if status.iter().any(|s| line.contains(s)) || line.starts_with("==") {
            eprintln!("  {line}");
        }
        // `#N\tINITED ...`, `#N\tNEW ...`, `#N\tDONE ...`: N counts every execution so far.
        let counted = match line.strip_prefix('#') {
            Some(rest) => rest.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()),
            None => line.strip_prefix("Done ").and_then(|rest| {
                rest.split_whitespace().next().and_then(|n| n.parse::<u64>().ok())
            }),
        };
        executions = executions.max(counted);
    }
    let findings: Vec<PathBuf> =
        artifacts(root, target).into_iter().filter(|p| !before.contains(p)).collect();
    if !output.status.success() && findings.is_empty() {
        // libFuzzer failed without leaving an input behind (a build or usage error).
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "fuzz target {target} failed ({}):\n{}",
            output.status,
            tail.join("\n")
        ));
    }
    Ok(Run {
        executions: executions.unwrap_or(0),
        seconds: started.elapsed().as_secs_f64(),
        corpus: corpora.iter().map(|c| count_files(c)).sum(),
        findings,
    })
}

/// Every committed input once.
fn replay(root: &Path, target: &str) -> Result<Run, String> {
    let corpus = corpus_dir(root, target);
    if count_files(&corpus) == 0 {
        return Err(format!("{} is empty; run `cargo xtask fuzz --corpus`", corpus.display()));
    }
    run_target(root, target, &[&corpus], &["-runs=0".to_string()], true)
}

/// Fuzzing for `seconds`, starting from the committed corpus and what earlier runs found.
fn explore(root: &Path, target: &str, seconds: u32) -> Result<Run, String> {
    let work = root.join("fuzz/target/corpus").join(target);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let corpus = corpus_dir(root, target);
    run_target(
        root,
        target,
        &[&work, &corpus],
        &[format!("-max_total_time={seconds}"), "-print_final_stats=1".to_string()],
        false,
    )
}

/// One test case's input files, by path relative to its input folder, sorted.
struct Case {
    /// Files by relative path.
    files: Vec<(String, Vec<u8>)>,
    /// Default namespace other than `default` (the case's `args` say `-n NAME`).
    namespace: Option<String>,
}

fn files_under(dir: &Path, wanted: &dyn Fn(&Path) -> bool) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && wanted(&path)
                && let Ok(bytes) = std::fs::read(&path)
            {
                let relative = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((relative, bytes));
            }
        }
    }
    out.sort();
    out
}

/// The fixture cases (folders with `input/`) and the examples (each top folder a case).
fn cases(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut stack = vec![root.join("fixtures")];
    let mut dirs = Vec::new();
    while let Some(dir) = stack.pop() {
        if dir.join("input").is_dir() {
            dirs.push(dir);
            continue;
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    dirs.sort();
    for dir in dirs {
        let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
        let args: Vec<&str> = args.split_whitespace().collect();
        let namespace = args
            .iter()
            .position(|a| *a == "-n" || *a == "--namespace")
            .and_then(|i| args.get(i + 1))
            .map(|n| n.to_string());
        cases.push(Case { files: files_under(&dir.join("input"), &|_| true), namespace });
    }
    let yaml = |p: &Path| {
        p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            || p.file_name().is_some_and(|n| n == "Kptfile")
    };
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    examples.sort();
    for dir in examples {
        cases.push(Case { files: files_under(&dir, &yaml), namespace: None });
    }
    cases.retain(|c| !c.files.is_empty());
    cases
}

/// A render seed: the settings byte, then the files separated by NUL bytes (see
/// `fuzz/fuzz_targets/render.rs`).
fn render_seed(case: &Case, external_secrets: bool) -> Vec<u8> {
    let mut settings = 0u8;
    if external_secrets {
        settings |= 1;
    }
    if case.namespace.as_deref() == Some("team-a") {
        settings |= 2;
    }
    let mut out = vec![settings];
    for (i, (_, bytes)) in case.files.iter().take(MAX_FILES).enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(bytes);
    }
    out
}

/// A KRM seed: the case's documents as the items of a ResourceList (with kpt's path and index
/// annotations), as `kpt fn source` would make it, and a functionConfig with the case's
/// namespace and, when asked, `secrets: external-secret`.
fn krm_seed(case: &Case, external_secrets: bool) -> Vec<u8> {
    use connections_core::source::{SourceFile, SourceMap};
    use connections_core::syntax::Node;
    let mut items = Vec::new();
    for (path, bytes) in &case.files {
        let Ok(text) = std::str::from_utf8(bytes) else { continue };
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new(path.as_str(), text));
        let source = sources.get(file).unwrap();
        let limits = connections_core::parse::Limits::default();
        let (documents, _) =
            connections_core::parse::parse(file, &source.text, &source.lines, limits);
        for document in documents {
            let mut item = document.root;
            if item.as_map().is_none() {
                continue;
            }
            if let Some(annotations) = item.map_at("metadata").and_then(|m| m.map_at("annotations"))
            {
                annotations.set("config.kubernetes.io/path", Node::string(path.as_str()));
                annotations.set("internal.config.kubernetes.io/path", Node::string(path.as_str()));
                let index = Node::string(document.index.to_string());
                annotations.set("config.kubernetes.io/index", index.clone());
                annotations.set("internal.config.kubernetes.io/index", index);
            }
            items.push(item);
        }
    }
    let mut data = Vec::new();
    if let Some(namespace) = &case.namespace {
        data.push(("namespace", Node::string(namespace.as_str())));
    }
    if external_secrets {
        data.push(("secrets", Node::string("external-secret")));
        data.push(("secret-store", Node::string("vault")));
    }
    let mut list = vec![
        ("apiVersion", Node::string("config.kubernetes.io/v1")),
        ("kind", Node::string("ResourceList")),
        ("items", Node::seq(items)),
    ];
    if !data.is_empty() {
        let config = Node::map_of([
            ("apiVersion", Node::string("v1")),
            ("kind", Node::string("ConfigMap")),
            ("metadata", Node::map_of([("name", Node::string("connections"))])),
            ("data", Node::map_of(data)),
        ]);
        list.push(("functionConfig", config));
    }
    connections_core::render::emit::to_yaml(&Node::map_of(list)).into_bytes()
}

/// Writes the seeds of every target (`seed-<hash>`), replacing the earlier seeds and keeping
/// every other input.
fn write_corpus(root: &Path) -> Result<(), String> {
    let cases = cases(root);
    let mut seeds: [Vec<Vec<u8>>; SEEDED.len()] = Default::default();
    for (k, case) in cases.iter().enumerate() {
        seeds[0].extend(case.files.iter().map(|(_, bytes)| bytes.clone()));
        // Every third case also with ExternalSecrets, so that mode is in the corpus too.
        let external = k % 3 == 2;
        seeds[1].push(render_seed(case, false));
        seeds[2].push(krm_seed(case, false));
        if external {
            seeds[1].push(render_seed(case, true));
            seeds[2].push(krm_seed(case, true));
        }
    }
    for (target, seeds) in SEEDED.iter().zip(seeds) {
        let dir = corpus_dir(root, target);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())?.flatten() {
            if entry.file_name().to_string_lossy().starts_with("seed-") {
                std::fs::remove_file(entry.path()).map_err(|e| e.to_string())?;
            }
        }
        let mut written = BTreeSet::new();
        let mut bytes = 0;
        for seed in seeds.into_iter().filter(|s| s.len() <= MAX_SEED_BYTES) {
            let name = format!("seed-{}", &hex(&Sha256::digest(&seed))[..16]);
            if written.insert(name.clone()) {
                bytes += seed.len();
                std::fs::write(dir.join(&name), &seed).map_err(|e| format!("{name}: {e}"))?;
            }
        }
        println!("fuzz/corpus/{target}: {} seeds, {} KB", written.len(), bytes / 1024);
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
