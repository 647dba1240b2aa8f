//! Project automation, run as `cargo xtask <task>`:
//!
//! - `codegen [--check]`: write (or check) the generated files: `crds/connections.yaml` and
//!   `docs/checks.md`;
//! - `bless`: re-run the golden-fixture tests, rewriting `fixtures/*/expected`;
//! - `ci`: every gate CI runs, in order (fmt, clippy, tests, fuzz corpus replay, dogfood);
//! - `bench`: the performance figures of docs/benchmarks.md (see `bench.rs`); `bench --live`:
//!   the live commands against the test API server (see `bench_live.rs`);
//! - `fuzz`: the cargo-fuzz targets: replay the corpus, fuzz for a while, regenerate the
//!   seeds (see `fuzz.rs`).

mod bench;
mod bench_live;
mod dist;
mod fuzz;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Where the committed JSON Schemas are served from (the repository's raw files).
const SCHEMA_BASE_URL: &str =
    "https://raw.githubusercontent.com/connections-dev/kubectl-connections/main/schemas";

fn generated() -> Vec<(String, String)> {
    let mut files = vec![
        ("crds/connections.yaml".to_string(), connections_core::crd::crds_yaml()),
        ("docs/checks.md".to_string(), connections_core::checks::reference_markdown()),
    ];
    for (name, text) in connections_core::crd::json_schemas(SCHEMA_BASE_URL) {
        files.push((format!("schemas/{name}"), text));
    }
    files
}

fn codegen(check: bool) -> Result<(), String> {
    let mut stale = Vec::new();
    for (path, content) in generated() {
        let full = root().join(&path);
        let current = std::fs::read_to_string(&full).unwrap_or_default();
        if current != content {
            if check {
                stale.push(path);
            } else {
                std::fs::create_dir_all(full.parent().unwrap()).map_err(|e| e.to_string())?;
                std::fs::write(&full, content).map_err(|e| format!("{path}: {e}"))?;
                println!("wrote {path}");
            }
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!("stale generated files: {}; run `cargo xtask codegen`", stale.join(", ")))
    }
}

fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    println!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn dogfood() -> Result<(), String> {
    // The debug build the tests just made: the dogfood checks behaviour, not speed.
    run("cargo", &["build", "--locked", "-p", "kubectl-connections"], &[])?;
    let bin = root().join("target/debug/kubectl-connections");
    let bin = bin.to_str().ok_or("non-UTF-8 path")?;
    run(bin, &["validate", "examples/gitops-repo", "--fail-on", "warning"], &[])?;
    let tmp = std::env::temp_dir().join(format!("kc-dogfood-{}", std::process::id()));
    let (a, b) = (tmp.join("a"), tmp.join("b"));
    run(bin, &["render", "examples/gitops-repo", "--out", a.to_str().unwrap()], &[])?;
    run(bin, &["render", "examples/gitops-repo", "--out", b.to_str().unwrap()], &[])?;
    run("diff", &["-r", a.to_str().unwrap(), b.to_str().unwrap()], &[])?;
    run(
        "kubectl",
        &["kustomize", a.to_str().unwrap(), "-o", tmp.join("built.yaml").to_str().unwrap()],
        &[],
    )?;
    let _ = std::fs::remove_dir_all(&tmp);
    println!(
        "dogfood: example validates clean, renders byte-identically twice, and kubectl kustomize accepts it"
    );
    Ok(())
}

fn ci() -> Result<(), String> {
    run("cargo", &["fmt", "--all", "--check"], &[])?;
    codegen(true)?;
    run(
        "cargo",
        &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"],
        &[],
    )?;
    // The test API server tests itself first: the live tests rely on it.
    run("python3", &["tests/apiserver/test_server.py"], &[])?;
    run("cargo", &["test", "--workspace", "--locked"], &[])?;
    // The fuzz crate is a workspace of its own: its style and lints are checked on their own.
    let fuzz_manifest = ["--manifest-path", "fuzz/Cargo.toml"];
    run("cargo", &[&["fmt", "--check"][..], &fuzz_manifest].concat(), &[])?;
    run(
        "cargo",
        &[&["clippy", "--locked", "--all-targets"][..], &fuzz_manifest, &["--", "-D", "warnings"]]
            .concat(),
        &[],
    )?;
    fuzz::fuzz(&root(), &["--replay".to_string()])?;
    dogfood()
}

/// `dist [--binary PATH] [--out DIR] [--fast]` (see [`dist::dist`]); without `--binary`, a release
/// build first.
fn dist(args: &[String]) -> Result<(), String> {
    let value = |flag: &str| {
        args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).map(PathBuf::from)
    };
    let out = value("--out").unwrap_or_else(|| root().join("dist"));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let binary = match value("--binary") {
        Some(binary) => binary,
        None => {
            run("cargo", &["build", "--locked", "--release", "-p", "kubectl-connections"], &[])?;
            root().join("target/release/kubectl-connections")
        }
    };
    dist::dist(&root(), &binary, &out, args.iter().any(|a| a == "--fast")).map(|_| ())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen(args.iter().any(|a| a == "--check")),
        Some("bless") => run(
            "cargo",
            &["test", "-p", "kubectl-connections", "--test", "fixtures"],
            &[("BLESS", "1")],
        ),
        Some("ci") => ci(),
        Some("dogfood") => dogfood(),
        Some("bench") if args.iter().any(|a| a == "--live") => {
            let rest: Vec<String> = args[1..].iter().filter(|a| *a != "--live").cloned().collect();
            bench_live::bench(&root(), &rest)
        }
        Some("bench") => bench::bench(&root(), &args[1..]),
        Some("dist") => dist(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&root(), &args[1..]),
        Some("__measure") => bench::measure_child(&args[1..]),
        _ => Err("usage: cargo xtask <codegen [--check] | bless | ci | dogfood | bench [--live] [options] | dist [--binary PATH] [--out DIR] [--fast] | fuzz --replay | --seconds N [--target T] | --corpus>"
            .to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
