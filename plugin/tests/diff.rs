//! `diff` end to end: `--base` in real git repositories built in temporary folders (two
//! commits, a shallow clone, a path that did not exist yet), the CI examples' commands run as
//! CI would run them, usage errors, and exit codes. Per-format output and Secret masking are
//! golden fixtures (fixtures/diff, see tests/fixtures.rs); `--against-cluster` runs against
//! the API emulator in tests/live.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-connections")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin()).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn connection(name: &str, host: &str) -> String {
    format!(
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: {name}, namespace: apps}}\nspec:\n  type: redis\n  schema: {{host: {host}}}\n"
    )
}

const SECRET_OLD: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: cache, namespace: apps}\nstringData: {password: canary-base-password}\n";
const SECRET_NEW: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: cache, namespace: apps}\nstringData: {password: canary-head-password}\n";

/// A repository with `main` (the base) and a second commit on `feature` (the pull request).
fn two_commits() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q"]);
    write(repo, "deploy/cache.yaml", &connection("cache", "redis-old.internal"));
    write(repo, "deploy/secret.yaml", SECRET_OLD);
    write(repo, "README.md", "not a manifest\n");
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "base"]);
    git(repo, &["checkout", "-qb", "feature"]);
    write(repo, "deploy/cache.yaml", &connection("cache", "redis.internal"));
    write(repo, "deploy/secret.yaml", SECRET_NEW);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "pull request"]);
    tmp
}

#[test]
fn base_renders_the_revision_without_touching_the_work_tree() {
    let tmp = two_commits();
    let repo = tmp.path();
    // An uncommitted change and a staged one: the work tree side includes both, and neither
    // is disturbed.
    write(repo, "deploy/extra.yaml", &connection("extra", "extra.internal"));
    git(repo, &["add", "deploy/extra.yaml"]);
    write(repo, "deploy/cache.yaml", &connection("cache", "redis-wip.internal"));
    let status = git(repo, &["status", "--porcelain"]);
    let index = std::fs::read(repo.join(".git/index")).unwrap();

    let out = run_in(repo, &["diff", "deploy", "--base", "main"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    for expected in [
        "-    host: redis-old.internal\n+    host: redis-wip.internal\n",
        "--- /dev/null\n+++ b/apps/connection-extra.yaml\n",
        "-  password: \"*** (before)\"\n+  password: \"*** (after)\"\n",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("canary") && !text(&out.stderr).contains("canary"));
    assert_eq!(
        text(&out.stderr).lines().last(),
        Some("3 changed, 2 created, 0 deleted, 0 unchanged")
    );
    assert_eq!(git(repo, &["status", "--porcelain"]), status);
    assert_eq!(std::fs::read(repo.join(".git/index")).unwrap(), index, "the index changed");

    // From inside the folder, PATH defaults to `.`; against the same commit nothing differs.
    git(repo, &["stash", "-q", "--include-untracked"]);
    let out = run_in(&repo.join("deploy"), &["diff", "--base", "HEAD"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn base_where_the_path_did_not_exist_shows_everything_created() {
    let tmp = two_commits();
    let repo = tmp.path();
    write(repo, "new-team/cache.yaml", &connection("cache", "redis.internal"));
    let out = run_in(repo, &["diff", "new-team", "--base", "main", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["summary"],
        serde_json::json!({"created": 2, "deleted": 0, "changed": 0, "unchanged": 0})
    );
}

#[test]
fn missing_revision_in_a_shallow_clone_says_how_to_fetch_it() {
    let origin = two_commits();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(tmp.path(), &["clone", "-q", "--depth=1", "--branch", "feature", &url, "work"]);
    let work = tmp.path().join("work");
    let out = run_in(&work, &["diff", "deploy", "--base", "origin/main"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: revision origin/main is not in this clone (a shallow or single-branch checkout?); fetch it with `git fetch --depth=1 origin main`\n"
    );
    assert_eq!(text(&out.stdout), "");
    // The fix it names works.
    git(
        &work,
        &["fetch", "-q", "--depth=1", "origin", "+refs/heads/main:refs/remotes/origin/main"],
    );
    let out = run_in(&work, &["diff", "deploy", "--base", "origin/main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let not_git = tempfile::tempdir().unwrap();
    write(not_git.path(), "c.yaml", &connection("c", "h"));
    let out = run_in(not_git.path(), &["diff", ".", "--base", "main"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: --base needs a git repository, and . is not in one"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_and_invalid_input_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "repo/c.yaml", &connection("c", "h"));
    let repo = tmp.path().join("repo");
    let repo = repo.to_str().unwrap();
    for (args, message) in [
        (vec!["diff", repo], "the following required arguments were not provided"),
        (vec!["diff", repo, "--against", "x", "--base", "main"], "cannot be used with"),
        (
            vec!["diff", repo, "--against", "/nonexistent/rendered"],
            "--against /nonexistent/rendered: no such folder",
        ),
        (vec!["diff", repo, "--against", ".", "--format", "html"], "invalid value 'html'"),
    ] {
        let out = run_in(tmp.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(message), "{args:?}: {}", text(&out.stderr));
    }
    // A repository that does not validate has nothing to compare; its findings are shown.
    write(
        tmp.path(),
        "broken/c.yaml",
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: c}\nspec: {type: postgres, schema: {}}\n",
    );
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let out = run_in(tmp.path(), &["diff", "broken", "--against", "empty"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("invalid-connection-schema"), "{stderr}");
    assert!(stderr.ends_with("error: broken does not validate, so there is nothing to compare; fix the errors above\n"), "{stderr}");
}

#[test]
fn against_a_folder_reads_only_what_render_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "repo/c.yaml", &connection("c", "h"));
    let rendered = tmp.path().join("rendered");
    let out = run_in(tmp.path(), &["render", "repo", "--out", rendered.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A file someone else put there is not render's output, so it is no deletion.
    write(&rendered, "NOTES.md", "hand-written\n");
    let out = run_in(tmp.path(), &["diff", "repo", "--against", "rendered"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stderr), "0 changed, 0 created, 0 deleted, 2 unchanged\n");
    // The rendered folder inside the repository is not read as input.
    let out = run_in(tmp.path(), &["render", "repo", "--out", "repo/rendered"]);
    assert_eq!(out.status.code(), Some(2), "render refuses to write inside its input");
    // Colour on request, and markdown without differences.
    write(tmp.path(), "repo/c.yaml", &connection("c", "h2"));
    let out = run_in(tmp.path(), &["diff", "repo", "--against", "rendered", "--color", "always"]);
    assert!(text(&out.stdout).contains("\u{1b}[31m-    host: h\u{1b}[0m"), "{}", text(&out.stdout));
    let out = run_in(tmp.path(), &["diff", "repo", "--against", "repo", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
}

/// Reads a CI example and returns the `run`/`script` commands of the steps CI would run,
/// with the CI variables given.
fn ci_commands(file: &str, pick: &dyn Fn(&serde_json::Value) -> Vec<String>) -> Vec<String> {
    use connections_core::source::{FileId, LineIndex};
    let text = std::fs::read_to_string(workspace().join("examples/ci").join(file)).unwrap();
    let (docs, diagnostics) = connections_core::parse::parse(
        FileId::SYNTHETIC,
        &text,
        &LineIndex::new(&text),
        Default::default(),
    );
    assert!(diagnostics.is_empty(), "{file} does not parse");
    let json = connections_core::render::emit::node_to_json(&docs[0].root);
    pick(&json)
}

/// Runs `commands` with `sh` in `dir`, kubectl-connections on PATH.
fn sh(dir: &Path, commands: &[String], env: &[(&str, &str)]) -> Output {
    let bin_dir = Path::new(bin()).parent().unwrap();
    Command::new("sh")
        .args(["-ec", &commands.join("\n")])
        .current_dir(dir)
        .env("PATH", format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default()))
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// A shallow CI checkout of the pull request, with the CI example copied in.
fn ci_checkout() -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
    let origin = two_commits();
    let script = std::fs::read_to_string(workspace().join("examples/ci/pr-diff.sh")).unwrap();
    write(origin.path(), "examples/ci/pr-diff.sh", &script);
    git(origin.path(), &["add", "."]);
    git(origin.path(), &["commit", "-qm", "ci"]);
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(tmp.path(), &["clone", "-q", "--depth=1", "--branch", "feature", &url, "work"]);
    let work = tmp.path().join("work");
    (origin, tmp, work)
}

#[test]
fn github_actions_example_runs_as_written() {
    let (_origin, _tmp, work) = ci_checkout();
    let commands = ci_commands("github-actions.yaml", &|w| {
        w["jobs"]["diff"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| matches!(s["name"].as_str(), Some("Fetch the target branch" | "Diff")))
            .map(|s| s["run"].as_str().unwrap().replace("${{ github.base_ref }}", "main"))
            .collect()
    });
    assert_eq!(commands.len(), 2, "{commands:?}");
    let out = sh(&work, &commands, &[]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let comment = std::fs::read_to_string(work.join("connections-diff.md")).unwrap();
    assert!(
        comment.starts_with("## kubectl connections diff\n\nSummary:\n```yaml\nModified (3):\n"),
        "{comment}"
    );
    assert!(comment.contains("*** (after)") && !comment.contains("canary"), "{comment}");
}

#[test]
fn gitlab_example_runs_as_written_up_to_posting() {
    let (_origin, _tmp, work) = ci_checkout();
    let commands = ci_commands("gitlab-ci.yaml", &|w| {
        w["connections-diff"]["script"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            // Posting the note needs the GitLab API.
            .filter(|s| !s.starts_with("curl"))
            .collect()
    });
    assert_eq!(commands.len(), 2, "{commands:?}");
    let out = sh(&work, &commands, &[("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("pr-diff: the rendered output changes"));
    let comment = std::fs::read_to_string(work.join("connections-diff.md")).unwrap();
    assert!(comment.contains("<details>") && !comment.contains("canary"), "{comment}");
    // A merge request whose manifests do not validate fails the job, with no comment file.
    write(
        &work,
        "deploy/cache.yaml",
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: c}\nspec: {type: postgres, schema: {}}\n",
    );
    let out = sh(&work, &commands[1..], &[("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!work.join("connections-diff.md").exists());
}
