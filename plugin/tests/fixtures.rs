//! Golden fixtures: every folder under `fixtures/` with an `input/` is a case.
//!
//! For each case the real binary runs with the case folder as working directory:
//! - `validate input [args]` (human output, no colour): compared with `expected/validate.txt`,
//!   whose first lines record the command and its exit code;
//! - when that passes (exit 0), `render input --out DIR [args]`: the written tree (without the
//!   bookkeeping folder) is compared with `expected/rendered/`.
//!
//! - when the case has `against/` (a folder an earlier render wrote), `diff input --against
//!   against [diff-args]` in each format: compared with `expected/diff.txt`, `diff.md` and `diff.json`,
//!   and no Secret value of the case (nor its base64 form), and no string holding `canary`,
//!   may appear in any of them.
//!
//! `args` (optional) holds extra arguments, one per line. `cargo xtask bless` (BLESS=1)
//! rewrites the expectations; review the diff before committing it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| !v.is_empty())
}

/// Every case folder (one that holds `input/`), sorted.
pub fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![fixtures_root()];
    while let Some(dir) = stack.pop() {
        if dir.join("input").exists() {
            out.push(dir);
            continue;
        }
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                if entry.path().is_dir() {
                    stack.push(entry.path());
                }
            }
        }
    }
    out.sort();
    out
}

fn extra_args(case: &Path) -> Vec<String> {
    std::fs::read_to_string(case.join("args"))
        .map(|t| t.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

fn run(case: &Path, args: &[String]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kubectl-connections"))
        .args(args)
        .current_dir(case)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn read_tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == ".connections" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(rel, std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    out
}

fn write_tree(root: &Path, files: &BTreeMap<String, String>) {
    let _ = std::fs::remove_dir_all(root);
    for (rel, content) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// Runs one case; returns a description of each mismatch.
fn check_case(case: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let name = case.strip_prefix(fixtures_root()).unwrap().display().to_string();
    let extra = extra_args(case);
    let mut args: Vec<String> = vec!["validate".into(), "input".into()];
    args.extend(extra.iter().cloned());
    let (code, stdout, stderr) = run(case, &args);
    let actual =
        format!("$ kubectl connections {}\nexit code: {code}\n\n{stdout}{stderr}", args.join(" "));
    let expected_path = case.join("expected/validate.txt");
    if blessing() {
        std::fs::create_dir_all(case.join("expected")).unwrap();
        std::fs::write(&expected_path, &actual).unwrap();
    } else {
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            problems.push(format!("{name}: validate output differs\n{}", diff(&expected, &actual)));
        }
    }

    if case.join("against").is_dir() {
        problems.extend(check_diff_case(case, &name));
    }

    let rendered_path = case.join("expected/rendered");
    if code == 0 {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let mut args: Vec<String> =
            vec!["render".into(), "input".into(), "--out".into(), out.display().to_string()];
        args.extend(extra);
        let (code, _, stderr) = run(case, &args);
        if code != 0 {
            problems.push(format!("{name}: render failed with {code}: {stderr}"));
            return problems;
        }
        let actual = read_tree(&out);
        if blessing() {
            write_tree(&rendered_path, &actual);
        } else {
            let expected = read_tree(&rendered_path);
            if expected != actual {
                let keys: std::collections::BTreeSet<_> =
                    expected.keys().chain(actual.keys()).collect();
                for key in keys {
                    let (e, a) = (expected.get(key), actual.get(key));
                    if e != a {
                        problems.push(format!(
                            "{name}: rendered/{key} differs\n{}",
                            diff(
                                e.map_or("<missing>", String::as_str),
                                a.map_or("<missing>", String::as_str)
                            )
                        ));
                    }
                }
            }
        }
    } else if blessing() {
        let _ = std::fs::remove_dir_all(&rendered_path);
    } else if rendered_path.exists() {
        problems.push(format!("{name}: expected/rendered exists but validate failed"));
    }
    problems
}

/// `diff input --against against` in every format, against its expectations; no Secret value
/// may show.
fn check_diff_case(case: &Path, name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let secrets = secret_values(case);
    assert!(!secrets.is_empty() || !name.contains("secret"), "{name}: no Secret values found");
    for (format, file) in [("unified", "diff.txt"), ("markdown", "diff.md"), ("json", "diff.json")]
    {
        let mut args: Vec<String> = ["diff", "input", "--against", "against", "--format", format]
            .iter()
            .map(|a| a.to_string())
            .collect();
        args.extend(
            std::fs::read_to_string(case.join("diff-args"))
                .map(|t| t.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        let (code, stdout, stderr) = run(case, &args);
        let actual = format!(
            "$ kubectl connections {}\nexit code: {code}\n\n{stdout}{stderr}",
            args.join(" ")
        );
        // Every secret in these fixtures holds "canary" (Loft kubeconfig tokens too, which are
        // not in a Secret's data until render puts them there).
        if actual.contains("canary") {
            problems.push(format!("{name}: `diff --format {format}` shows a canary value"));
        }
        for value in &secrets {
            if actual.contains(value.as_str()) {
                problems.push(format!(
                    "{name}: `diff --format {format}` shows the Secret value {value:?}"
                ));
            }
        }
        let path = case.join("expected").join(file);
        if blessing() {
            std::fs::create_dir_all(case.join("expected")).unwrap();
            std::fs::write(&path, &actual).unwrap();
        } else {
            let expected = std::fs::read_to_string(&path).unwrap_or_default();
            if expected != actual {
                problems.push(format!(
                    "{name}: diff --format {format} differs\n{}",
                    diff(&expected, &actual)
                ));
            }
        }
    }
    problems
}

/// Every Secret value under a case's `input/` and `against/`, as written and decoded.
fn secret_values(case: &Path) -> Vec<String> {
    use base64::Engine as _;
    use connections_core::source::{FileId, LineIndex};
    let mut out = Vec::new();
    for dir in ["input", "against"] {
        for text in read_tree(&case.join(dir)).values() {
            let (docs, _) = connections_core::parse::parse(
                FileId::SYNTHETIC,
                text,
                &LineIndex::new(text),
                Default::default(),
            );
            for doc in docs {
                if doc.root.get("kind").and_then(|k| k.as_str()) != Some("Secret") {
                    continue;
                }
                for field in ["data", "stringData"] {
                    for (_, v) in doc.root.get(field).and_then(|m| m.as_map()).unwrap_or(&[]) {
                        let Some(text) = v.as_str() else { continue };
                        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                        out.push(compact.clone());
                        if field == "data"
                            && let Ok(bytes) =
                                base64::engine::general_purpose::STANDARD.decode(&compact)
                        {
                            out.push(String::from_utf8_lossy(&bytes).into_owned());
                        } else {
                            out.push(base64::engine::general_purpose::STANDARD.encode(text));
                        }
                    }
                }
            }
        }
    }
    // Short values would match by chance; the fixtures' values are long.
    out.retain(|v| v.len() >= 8);
    out.sort();
    out.dedup();
    out
}

fn diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .header("expected", "actual")
        .context_radius(3)
        .to_string()
}

#[test]
fn golden_fixtures() {
    let cases = cases();
    assert!(cases.len() > 10, "fixtures not found under {}", fixtures_root().display());
    let problems: Vec<String> = cases.iter().flat_map(|c| check_case(c)).collect();
    assert!(
        problems.is_empty(),
        "{} mismatches (run `cargo xtask bless` if intended):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// Every check has a case named after it that triggers it, and a case `<id>-ok` (the same
/// input, fixed) that does not.
#[test]
fn every_check_has_a_triggering_and_a_clean_fixture() {
    let mut missing = Vec::new();
    for check in connections_core::checks::Check::ALL {
        let id = check.id();
        for (case, should_fire) in [(id.to_string(), true), (format!("{id}-ok"), false)] {
            let dir = fixtures_root().join("checks").join(&case);
            if !dir.join("input").exists() {
                missing.push(format!("fixtures/checks/{case} is missing"));
                continue;
            }
            let mut args: Vec<String> =
                vec!["validate".into(), "input".into(), "--output-format".into(), "json".into()];
            args.extend(extra_args(&dir));
            let (_, stdout, stderr) = run(&dir, &args);
            let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
                panic!("{case}: JSON output does not parse ({e}): {stdout}{stderr}")
            });
            let fired = report["diagnostics"].as_array().unwrap().iter().any(|d| d["check"] == id);
            if fired != should_fire {
                missing.push(format!(
                    "fixtures/checks/{case}: `{id}` {}",
                    if should_fire { "does not fire" } else { "fires but should not" }
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
