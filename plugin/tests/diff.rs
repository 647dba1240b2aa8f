//! `diff` end to end: `--base` in real git repositories built in temporary folders (two
//! commits, a shallow clone, a path that did not exist yet), the CI examples' commands run as
//! CI would run them, usage errors, and exit codes. Per-format output and Secret masking are
//! golden fixtures (fixtures/diff, see tests/fixtures.rs); `--against-cluster` runs against
//! the API emulator in tests/live.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{bin, git, run_in, text, workspace, write};

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
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr,
        "error: revision origin/main is not in this clone (a shallow or single-branch checkout?); fetch it with `git fetch --depth=1 origin +refs/heads/main:refs/remotes/origin/main`\n"
    );
    assert_eq!(text(&out.stdout), "");
    // The command it names works, run as written.
    let fetch = stderr.split('`').nth(1).unwrap();
    let args: Vec<&str> = fetch.split_whitespace().skip(1).collect();
    git(&work, &args);
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
    // Colour on request, and markdown.
    write(tmp.path(), "repo/c.yaml", &connection("c", "h2"));
    let out = run_in(tmp.path(), &["diff", "repo", "--against", "rendered", "--color", "always"]);
    assert!(text(&out.stdout).contains("\u{1b}[31m-    host: h\u{1b}[0m"), "{}", text(&out.stdout));
    let out = run_in(tmp.path(), &["diff", "repo", "--against", "repo", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("<details>"), "{}", text(&out.stdout));
}

/// Reads a CI example as JSON (it is YAML).
fn ci_file(file: &str) -> serde_json::Value {
    use connections_core::source::{FileId, LineIndex};
    let text = std::fs::read_to_string(workspace().join("examples/ci").join(file)).unwrap();
    let (docs, diagnostics) = connections_core::parse::parse(
        FileId::SYNTHETIC,
        &text,
        &LineIndex::new(&text),
        Default::default(),
    );
    assert!(diagnostics.is_empty(), "{file} does not parse");
    connections_core::render::emit::node_to_json(&docs[0].root)
}

/// Runs `commands` with `sh -e` in `dir`, with kubectl-connections and `fakes` on PATH.
fn sh(dir: &Path, fakes: &Path, commands: &[String], env: &[(&str, &str)]) -> Output {
    let bin_dir = Path::new(bin()).parent().unwrap();
    Command::new("sh")
        .args(["-ec", &commands.join("\n")])
        .current_dir(dir)
        .env(
            "PATH",
            format!(
                "{}:{}:{}",
                fakes.display(),
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// A stand-in for `gh` or `curl`: logs its arguments (and the body file it posts) to
/// `calls`, and answers a listing with `answer.json` (passed through the real jq for `gh
/// --jq`, as gh does).
fn fake(fakes: &Path, name: &str) {
    let script = r#"#!/bin/sh
dir=$(dirname "$0")
echo "$*" >> "$dir/calls"
for a in "$@"; do case $a in body=@*|body@*) cat "${a#*@}" >> "$dir/bodies";; esac; done
case "$*" in
  *--method*|*--request*) ;;
  *--jq*) filter=$(echo "$*" | sed 's/.*--jq //'); jq -r "$filter" "$dir/answer.json";;
  *) cat "$dir/answer.json";;
esac
"#;
    write(fakes, name, script);
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(fakes.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A shallow CI checkout of the pull request, with the CI examples copied in.
fn ci_checkout() -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
    let origin = two_commits();
    for script in ["pr-diff.sh", "github-comment.sh", "gitlab-note.sh"] {
        let text = std::fs::read_to_string(workspace().join("examples/ci").join(script)).unwrap();
        write(origin.path(), &format!("examples/ci/{script}"), &text);
    }
    git(origin.path(), &["add", "."]);
    git(origin.path(), &["commit", "-qm", "ci"]);
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(tmp.path(), &["clone", "-q", "--depth=1", "--branch", "feature", &url, "work"]);
    let work = tmp.path().join("work");
    (origin, tmp, work)
}

const MARKER: &str = "<!-- kubectl-connections-diff -->";

#[test]
fn github_actions_example_runs_as_written() {
    let (_origin, tmp, work) = ci_checkout();
    let fakes = tmp.path().join("fakes");
    fake(&fakes, "gh");
    let workflow = ci_file("github-actions.yaml");
    let step = |name: &str| {
        workflow["jobs"]["diff"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no step {name}"))["run"]
            .as_str()
            .unwrap()
            .replace("${{ github.base_ref }}", "main")
            .replace("${{ github.event.pull_request.number }}", "7")
    };
    let summary = tmp.path().join("summary.md");
    let env =
        [("GITHUB_REPOSITORY", "acme/deploy"), ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())];
    let commands = [step("Fetch the target branch"), step("Diff"), step("Comment")];
    // No comment yet: one is created.
    write(&fakes, "answer.json", "[{\"id\": 1, \"body\": \"LGTM\"}]");
    let out = sh(&work, &fakes, &commands, &env);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let comment = std::fs::read_to_string(work.join("connections-diff.md")).unwrap();
    assert!(
        comment.starts_with(&format!(
            "{MARKER}\n## kubectl connections diff\n\nSummary:\n```yaml\nModified (3):\n"
        )),
        "{comment}"
    );
    assert!(comment.contains("*** (after)") && !comment.contains("canary"), "{comment}");
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), comment);
    let calls = std::fs::read_to_string(fakes.join("calls")).unwrap();
    assert!(
        calls.ends_with(
            "api --method POST repos/acme/deploy/issues/7/comments -F body=@connections-diff.md\n"
        ),
        "{calls}"
    );
    assert_eq!(std::fs::read_to_string(fakes.join("bodies")).unwrap(), comment);
    // The next push updates that comment in place.
    write(
        &fakes,
        "answer.json",
        &format!(
            "[{{\"id\": 1, \"body\": \"LGTM\"}}, {{\"id\": 42, \"body\": \"{MARKER}\\nold\"}}]"
        ),
    );
    let out = sh(&work, &fakes, &commands[2..], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let calls = std::fs::read_to_string(fakes.join("calls")).unwrap();
    assert!(
        calls.ends_with(
            "api --method PATCH repos/acme/deploy/issues/comments/42 -F body=@connections-diff.md\n"
        ),
        "{calls}"
    );
}

#[test]
fn gitlab_example_runs_as_written() {
    let (origin, tmp, work) = ci_checkout();
    let fakes = tmp.path().join("fakes");
    fake(&fakes, "curl");
    let base = git(origin.path(), &["rev-parse", "main"]).trim().to_string();
    let job = &ci_file("gitlab-ci.yaml")["connections-diff"];
    let commands: Vec<String> =
        job["script"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    let env = [
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
        ("CI_API_V4_URL", "https://gitlab.example/api/v4"),
        ("CI_PROJECT_ID", "12"),
        ("CI_MERGE_REQUEST_IID", "3"),
        ("GITLAB_TOKEN", "glpat-test"),
    ];
    write(&fakes, "answer.json", "[]");
    let out = sh(&work, &fakes, &commands, &env);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("pr-diff: the rendered output changes"));
    let comment = std::fs::read_to_string(work.join("connections-diff.md")).unwrap();
    assert!(
        comment.starts_with(MARKER) && comment.contains("<details>") && !comment.contains("canary"),
        "{comment}"
    );
    let calls = std::fs::read_to_string(fakes.join("calls")).unwrap();
    assert!(
        calls.ends_with("--fail --silent --show-error --request POST --header PRIVATE-TOKEN: glpat-test --data-urlencode body@connections-diff.md https://gitlab.example/api/v4/projects/12/merge_requests/3/notes\n"),
        "{calls}"
    );
    // A merge request whose manifests do not validate: the note says so, the job fails.
    write(&fakes, "answer.json", &format!("[{{\"id\": 9, \"body\": \"{MARKER}\\nold diff\"}}]"));
    write(
        &work,
        "deploy/cache.yaml",
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: c}\nspec: {type: postgres, schema: {}}\n",
    );
    let out = sh(&work, &fakes, &commands[1..], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let comment = std::fs::read_to_string(work.join("connections-diff.md")).unwrap();
    assert!(comment.contains("The diff could not be made (exit code 2)"), "{comment}");
    let calls = std::fs::read_to_string(fakes.join("calls")).unwrap();
    assert!(
        calls
            .trim_end()
            .ends_with("https://gitlab.example/api/v4/projects/12/merge_requests/3/notes/9"),
        "{calls}"
    );
    assert!(calls.contains("--request PUT"), "{calls}");
}

#[test]
fn base_refuses_paths_git_would_not_check_out() {
    let tmp = two_commits();
    let repo = tmp.path();
    // A tree holding `..` as a name (twice: out of the temporary folder): git mktree takes it,
    // checkout would refuse it.
    let blob = {
        let out = Command::new("git")
            .args(["hash-object", "-w", "--stdin"])
            .current_dir(repo)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child.stdin.take().unwrap().write_all(b"escaped: true\n")?;
                child.wait_with_output()
            })
            .unwrap();
        text(&out.stdout).trim().to_string()
    };
    let mktree = |input: String| {
        let out = Command::new("git")
            .args(["mktree"])
            .current_dir(repo)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child.stdin.take().unwrap().write_all(input.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        text(&out.stdout).trim().to_string()
    };
    let evil = mktree(format!("100644 blob {blob}\tescaped.yaml\n"));
    let up = mktree(format!("040000 tree {evil}\t..\n"));
    let up = mktree(format!("040000 tree {up}\t..\n"));
    let deploy = mktree(format!("040000 tree {up}\tdeploy\n"));
    let commit = git(repo, &["commit-tree", &deploy, "-m", "crafted"]).trim().to_string();
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["diff", "deploy", "--base", &commit])
        .current_dir(repo)
        .env("TMPDIR", scratch.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("holds a path git would refuse to check out"),
        "{}",
        text(&out.stderr)
    );
    // Nothing was written, and the temporary folder is gone.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn base_that_does_not_validate_is_an_error_that_shows_no_value() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q"]);
    // The base holds a password inline (an error); the pull request fixes it.
    write(
        repo,
        "deploy/c.yaml",
        "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: db, namespace: apps}\nspec:\n  type: postgres\n  schema: {host: pg}\n  credentials:\n    password: {value: canary-inline-password}\n",
    );
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "base"]);
    write(repo, "deploy/c.yaml", &connection("db", "pg"));
    git(repo, &["checkout", "-q", "--detach"]);
    let out = run_in(repo, &["diff", "deploy", "--base", "HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("deploy at HEAD does not validate (1 error), so it cannot be shown safely"),
        "{stderr}"
    );
    assert!(!stderr.contains("canary") && !text(&out.stdout).contains("canary"), "{stderr}");
}

#[test]
fn against_a_folder_does_not_follow_symbolic_links() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "repo/c.yaml", &connection("c", "h"));
    write(
        tmp.path(),
        "outside/env.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: canary-outside}\n",
    );
    std::fs::create_dir(tmp.path().join("rendered")).unwrap();
    std::os::unix::fs::symlink(
        tmp.path().join("outside/env.yaml"),
        tmp.path().join("rendered/env.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("..", tmp.path().join("rendered/loop")).unwrap();
    let out = run_in(tmp.path(), &["diff", "repo", "--against", "rendered"]);
    assert_eq!(out.status.code(), Some(1));
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(!all.contains("canary"), "{all}");
    assert!(all.contains("rendered/env.yaml is a symbolic link; not followed"), "{all}");
    assert!(all.contains("rendered/loop is a symbolic link; not followed"), "{all}");
}

#[test]
fn external_diff_program_gets_masked_files_like_kubectl_diff() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "repo/s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: apps}\nstringData: {password: canary-external-new}\n",
    );
    write(
        tmp.path(),
        "old/s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: apps}\nstringData: {password: canary-external-old}\n",
    );
    let rendered = tmp.path().join("rendered");
    let out = run_in(tmp.path(), &["render", "old", "--out", rendered.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["diff", "repo", "--against", "rendered"])
        .current_dir(tmp.path())
        .env("KUBECTL_EXTERNAL_DIFF", "diff -u -r")
        .env("TMPDIR", scratch.path())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("/before/apps/secret-s.yaml"), "{stdout}");
    assert!(
        stdout.contains("-  password: \"*** (before)\"\n+  password: \"*** (after)\"\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("canary"), "{stdout}");
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0, "temporary files left");
    let out = Command::new(bin())
        .args(["diff", "repo", "--against", "rendered"])
        .current_dir(tmp.path())
        .env("KUBECTL_EXTERNAL_DIFF", "no-such-diff-program")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("KUBECTL_EXTERNAL_DIFF: cannot run no-such-diff-program"));
}
