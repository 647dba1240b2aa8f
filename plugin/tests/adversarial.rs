//! Hostile and odd input through the binary: each case runs under a hard bound on CPU time,
//! address space and wall-clock time (see `common::bounded`), and must end in a clear
//! outcome: processed, or refused with a finding that names the file and where in it.
//!
//! Each case prints what it cost (`cargo test --test adversarial -- --nocapture`), the
//! numbers `docs/reliability.md` records.

use std::path::Path;
use std::time::Duration;

mod common;
use common::bounded::{Bounds, Measured, run_bounded_in};
use common::{GOOD, kubectl_kustomize, run_in, snapshot, text, write};

/// Hostile input is refused within a second of CPU and 256 MiB of address space beyond the
/// binary, whatever the machine's load (the wall-clock bound only catches a child that
/// blocks). Address space is not memory: the allocator reserves more than it touches, by
/// amounts that vary from run to run, and the nested-anchors case (40 MiB resident) failed
/// about one run in a hundred at 128 MiB and in a quarter of runs at the earlier 97 MiB
/// including the binary. The expansions these cases guard against take gigabytes; the
/// memory-specific cases also check the resident peak ([`RESIDENT_MIB`]).
const REFUSED_FAST: Bounds =
    Bounds { cpu_seconds: 1, address_space_mib: 256, wall: Duration::from_secs(10) };

/// The most resident memory a refused alias bomb or anchor nest may take (they take about 17
/// and 40 to 50 MiB in a debug build).
const RESIDENT_MIB: f64 = 96.0;

/// Runs `validate . --output-format json` in `dir` within `bounds`, prints the cost, and
/// returns the measurement with the parsed report.
fn validate_json(dir: &Path, case: &str, bounds: Bounds) -> (Measured, serde_json::Value) {
    let measured = run_bounded_in(dir, &["validate", ".", "--output-format", "json"], bounds);
    println!("{case}: {measured}");
    let report = serde_json::from_slice(&measured.output.stdout).unwrap_or_else(|e| {
        panic!(
            "{case}: not JSON ({e}): {}{}",
            text(&measured.output.stdout),
            text(&measured.output.stderr)
        )
    });
    (measured, report)
}

/// `(check, file, line, column, message)` of every finding of a JSON report.
fn findings(report: &serde_json::Value) -> Vec<(String, String, u64, u64, String)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["check"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn alias_bomb_is_refused_fast_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n",
    );
    let mut prev = 'a';
    for name in "bcdefghi".chars() {
        bomb.push_str(&format!("  {name}: &{name} [{}]\n", vec![format!("*{prev}"); 9].join(",")));
        prev = name;
    }
    write(tmp.path(), "bomb.yaml", &bomb);
    let (measured, report) = validate_json(tmp.path(), "alias bomb", REFUSED_FAST);
    assert!(measured.peak_rss_mib < RESIDENT_MIB, "{measured}");
    assert_eq!(measured.output.status.code(), Some(1), "{}", text(&measured.output.stderr));
    assert!(report["diagnostics"][0]["message"].as_str().unwrap().contains("alias"), "{report}");
    assert_eq!(report["diagnostics"][0]["file"], "bomb.yaml");
}

#[test]
fn nested_anchors_are_refused_fast_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut yaml =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x: ");
    for i in 0..200 {
        yaml.push_str(&format!("&a{i} ["));
    }
    yaml.push_str(&vec!["1"; 50_000].join(","));
    yaml.push_str(&"]".repeat(200));
    yaml.push('\n');
    write(tmp.path(), "deep.yaml", &yaml);
    let (measured, report) = validate_json(tmp.path(), "nested anchors", REFUSED_FAST);
    assert!(measured.peak_rss_mib < RESIDENT_MIB, "{measured}");
    assert_eq!(measured.output.status.code(), Some(1), "{}", text(&measured.output.stderr));
    assert!(report.to_string().contains("anchors and aliases copy too many nodes"), "{report}");
}

/// 10,000 levels, written each way YAML nests: flow sequences, flow mappings, compact block
/// sequences, and flow sequences and mappings mixed. Block mappings indent each level
/// further, so 10,000 of them take 50 MB; 1,000 (half a megabyte) are as far past the limit.
#[test]
fn ten_thousand_levels_of_nesting_are_refused_fast() {
    const LEVELS: usize = 10_000;
    let head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x: ";
    let mut block_maps =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n");
    for level in 0..1_000 {
        block_maps.push_str(&format!("{}k{level}:\n", " ".repeat(2 + level)));
    }
    block_maps.push_str(&format!("{}v\n", " ".repeat(1_002)));
    let cases = [
        ("flow sequences", format!("{head}{}{}\n", "[".repeat(LEVELS), "]".repeat(LEVELS))),
        ("flow mappings", format!("{head}{}1{}\n", "{a: ".repeat(LEVELS), "}".repeat(LEVELS))),
        ("block sequences", format!("{head}\n    {}x\n", "- ".repeat(LEVELS))),
        (
            "mixed flow",
            format!("{head}{}1{}\n", "[{a: ".repeat(LEVELS / 2), "}]".repeat(LEVELS / 2)),
        ),
        ("1,000 block mappings", block_maps),
    ];
    for (case, yaml) in cases {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "deep.yaml", &yaml);
        let (measured, report) =
            validate_json(tmp.path(), &format!("{LEVELS} levels, {case}"), REFUSED_FAST);
        assert_eq!(measured.output.status.code(), Some(1), "{case}");
        let all = findings(&report);
        assert_eq!(all.len(), 1, "{case}: {all:?}");
        let (check, file, line, column, message) = &all[0];
        assert_eq!((check.as_str(), file.as_str()), ("yaml-syntax", "deep.yaml"), "{case}");
        assert!(*line >= 4 && *column >= 1, "{case}: {all:?}");
        // Ours, or saphyr's own limit on recursion, whichever comes first.
        assert!(
            message.contains("nesting deeper than 256 levels")
                || message.contains("recursion limit exceeded"),
            "{case}: {message}"
        );
    }
}

/// A 200 MB file is refused by the default size limit (64 MiB) before it is read: the
/// finding names the file, its size and the limit, and how to raise it. The file is sparse
/// (it takes no disk), and the memory bound shows that it is not read.
#[test]
fn a_200_mb_file_is_refused_by_the_size_limit_without_being_read() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "app.yaml", GOOD);
    let big = std::fs::File::create(tmp.path().join("big.yaml")).unwrap();
    big.set_len(200_000_000).unwrap();
    let (measured, report) = validate_json(tmp.path(), "200 MB file", REFUSED_FAST);
    assert_eq!(measured.output.status.code(), Some(2), "{}", text(&measured.output.stderr));
    assert_eq!(
        findings(&report),
        [(
            "unreadable-input".to_string(),
            "big.yaml".to_string(),
            1,
            1,
            "this file is 200000000 bytes, over the limit of 67108864 bytes; it is not read (raise it with --max-file-size)".to_string()
        )]
    );
    assert!(measured.peak_rss_mib < 40.0, "{measured}");
    // The limit is the flag's: lowered under the other file, that one is refused too.
    let lowered =
        run_in(tmp.path(), &["validate", ".", "--max-file-size", "100", "--output-format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&lowered.stdout).unwrap();
    let refused: Vec<String> = findings(&report).into_iter().map(|f| f.1).collect();
    assert_eq!(refused, ["app.yaml", "big.yaml"]);
}

/// A NUL byte, which YAML forbids (kubectl: "control characters are not allowed"), is a
/// finding at its line and column, wherever it is.
#[test]
fn nul_bytes_are_findings_at_their_position() {
    let cases: [(&str, &str, (u64, u64)); 5] = [
        (
            "in a quoted value",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: \"x\0y\"\n",
            (5, 8),
        ),
        (
            "in a plain value",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: x\0y\n",
            (5, 7),
        ),
        (
            "in a key",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k\0: v\n",
            (5, 4),
        ),
        ("first byte", "\0apiVersion: v1\n", (1, 1)),
        (
            "an escape character",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: \"\x1b[31m\"\n",
            (5, 7),
        ),
    ];
    for (case, yaml, (line, column)) in cases {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "app.yaml", GOOD);
        write(tmp.path(), "nul.yaml", yaml);
        let (measured, report) = validate_json(tmp.path(), &format!("NUL {case}"), REFUSED_FAST);
        assert_eq!(measured.output.status.code(), Some(1), "{case}");
        let all = findings(&report);
        assert_eq!(all.len(), 1, "{case}: {all:?}");
        let (check, file, at_line, at_column, message) = &all[0];
        assert_eq!(
            (check.as_str(), file.as_str(), *at_line, *at_column),
            ("yaml-syntax", "nul.yaml", line, column),
            "{case}: {all:?}"
        );
        assert!(message.contains("control characters are not allowed"), "{case}: {message}");
        // Shown, but not raw: an escape sequence in a file must not reach the terminal.
        let human = run_in(tmp.path(), &["validate", "."]);
        assert!(text(&human.stdout).contains("nul.yaml:5") || *at_line == 1, "{case}");
        assert!(
            !human.stdout.iter().any(|&b| b == 0 || b == 0x1b),
            "{case}: a control character is shown raw: {}",
            text(&human.stdout)
        );
    }
}

/// A UTF-8 byte order mark is read as kubectl reads it: ignored at the start of a file and
/// of a document, so the render is the one of the file without it.
#[test]
fn a_byte_order_mark_is_ignored_as_kubectl_ignores_it() {
    const BOM: &str = "\u{feff}";
    let plain = GOOD;
    let second = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: second, namespace: apps}\ndata: {a: b}\n";
    let render = |yaml: &str, case: &str| {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "repo/app.yaml", yaml);
        let measured =
            run_bounded_in(&tmp.path().join("repo"), &["render", ".", "--stdout"], REFUSED_FAST);
        println!("byte order mark, {case}: {measured}");
        assert_eq!(measured.output.status.code(), Some(0), "{case}: {}", text_of(&measured));
        // kubectl agrees that the file is readable.
        std::fs::write(tmp.path().join("repo/kustomization.yaml"), "resources: [app.yaml]\n")
            .unwrap();
        let built = kubectl_kustomize(&tmp.path().join("repo"));
        assert!(built.status.success(), "{case}: kubectl kustomize: {}", text(&built.stderr));
        measured.output.stdout
    };
    let without = render(&format!("{plain}{second}"), "none");
    assert_eq!(render(&format!("{BOM}{plain}{second}"), "at the start"), without);
    // After `---`, a mark is inside a document, which YAML forbids; kubectl, which cuts the
    // stream at `---` lines before it parses, takes it. A finding where it is, not a guess.
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "app.yaml", &format!("{plain}---\n{BOM}{}", &second[4..]));
    let (measured, report) = validate_json(tmp.path(), "byte order mark after ---", REFUSED_FAST);
    assert_eq!(measured.output.status.code(), Some(1));
    assert_eq!(
        findings(&report),
        [(
            "yaml-syntax".to_string(),
            "app.yaml".to_string(),
            22,
            1,
            "invalid YAML: a byte order mark must not appear inside a document".to_string()
        )]
    );
}

fn text_of(measured: &Measured) -> String {
    format!("{}{}", text(&measured.output.stdout), text(&measured.output.stderr))
}

/// Copies every file under `from` to `to`, with each line break made `eol(line number)`.
fn copy_with_line_ends(from: &Path, to: &Path, eol: &dyn Fn(usize) -> &'static str) {
    for (path, bytes) in snapshot(from) {
        let text = String::from_utf8(bytes).unwrap();
        let mut converted = String::with_capacity(text.len() * 2);
        for (i, line) in text.split_inclusive('\n').enumerate() {
            match line.strip_suffix('\n') {
                Some(content) => {
                    converted.push_str(content);
                    converted.push_str(eol(i));
                }
                None => converted.push_str(line),
            }
        }
        write(to, &path, &converted);
    }
}

/// CRLF line ends, and CRLF and LF mixed in one file, are read like LF: the example
/// repository renders to the same bytes, and findings are at the same lines and columns,
/// their source lines shown without a carriage return.
#[test]
fn crlf_and_mixed_line_ends_are_read_like_lf() {
    let example = common::workspace().join("examples/gitops-repo");
    let tmp = tempfile::tempdir().unwrap();
    let render = |repo: &Path, case: &str| {
        let out = tmp.path().join(format!("out-{case}"));
        let measured = run_bounded_in(
            repo,
            &["render", ".", "--out", out.to_str().unwrap()],
            Bounds { cpu_seconds: 10, address_space_mib: 1024, wall: Duration::from_secs(60) },
        );
        println!("line ends, {case}: {measured}");
        assert_eq!(measured.output.status.code(), Some(0), "{case}: {}", text_of(&measured));
        snapshot(&out)
    };
    let lf = render(&example, "lf");
    assert!(lf.len() > 20, "{} files", lf.len());
    let crlf_repo = tmp.path().join("crlf");
    copy_with_line_ends(&example, &crlf_repo, &|_| "\r\n");
    let mixed_repo = tmp.path().join("mixed");
    copy_with_line_ends(&example, &mixed_repo, &|i| {
        if i.is_multiple_of(2) { "\r\n" } else { "\n" }
    });
    assert!(std::fs::read(crlf_repo.join("platform/secret-store.yaml")).unwrap().contains(&b'\r'));
    assert_eq!(render(&crlf_repo, "crlf"), lf, "CRLF input renders differently");
    assert_eq!(render(&mixed_repo, "mixed"), lf, "mixed input renders differently");

    // Findings: the same positions, and no carriage return in what is shown.
    let broken = |dir: &Path, eol: &dyn Fn(usize) -> &'static str| {
        let source = tempfile::tempdir().unwrap();
        let yaml = GOOD.replace("use: cache", "use: cahce").replace("port: 6379", "port: [6379");
        write(source.path(), "app.yaml", &GOOD.replace("use: cache", "use: cahce"));
        write(source.path(), "broken.yaml", &yaml);
        copy_with_line_ends(source.path(), dir, eol);
        let json = run_in(dir, &["validate", ".", "--output-format", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let mut shown = Vec::new();
        for format in ["human", "github", "sarif"] {
            shown.extend(run_in(dir, &["validate", ".", "--output-format", format]).stdout);
        }
        (findings(&report), shown)
    };
    let (lf_findings, _) = broken(&tmp.path().join("broken-lf"), &|_| "\n");
    assert!(lf_findings.len() >= 2, "{lf_findings:?}");
    for (case, eol) in [
        ("crlf", &(|_| "\r\n") as &dyn Fn(usize) -> &'static str),
        ("mixed", &|i: usize| if i.is_multiple_of(3) { "\r\n" } else { "\n" }),
    ] {
        let (found, shown) = broken(&tmp.path().join(format!("broken-{case}")), eol);
        assert_eq!(found, lf_findings, "{case}");
        let shown = text(&shown);
        assert!(
            !shown.contains('\r') && !shown.contains("\\r"),
            "{case}: a carriage return is shown: {shown}"
        );
    }
}

#[test]
fn invalid_utf8_is_a_finding_with_its_position() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "ok.yaml", GOOD);
    std::fs::write(
        tmp.path().join("bad.yaml"),
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\xff\xfe}\n",
    )
    .unwrap();
    let (measured, report) = validate_json(tmp.path(), "invalid UTF-8", REFUSED_FAST);
    assert_eq!(measured.output.status.code(), Some(1));
    let d = &report["diagnostics"][0];
    assert_eq!(d["check"], "yaml-syntax");
    assert_eq!(d["file"], "bad.yaml");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(3), Some(19)));
}

#[test]
fn symlink_loops_and_links_out_of_the_tree_are_findings_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write(&repo, "app.yaml", GOOD);
    write(tmp.path(), "outside.yaml", GOOD);
    std::os::unix::fs::symlink("loop-b.yaml", repo.join("loop-a.yaml")).unwrap();
    std::os::unix::fs::symlink("loop-a.yaml", repo.join("loop-b.yaml")).unwrap();
    std::os::unix::fs::symlink("../outside.yaml", repo.join("escape.yaml")).unwrap();
    std::os::unix::fs::symlink(".", repo.join("self")).unwrap();
    std::os::unix::fs::symlink("..", repo.join("parent")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", repo.join("absolute.yaml")).unwrap();
    let (measured, report) = validate_json(&repo, "symlinks", REFUSED_FAST);
    assert_eq!(measured.output.status.code(), Some(2), "{}", text_of(&measured));
    let messages: Vec<(String, String)> =
        findings(&report).into_iter().map(|(_, file, _, _, message)| (file, message)).collect();
    assert_eq!(
        messages,
        vec![
            ("absolute.yaml".to_string(), "this symlink points to `/etc/passwd`, outside the repository; it is not followed".to_string()),
            ("escape.yaml".to_string(), "this symlink points to `../outside.yaml`, outside the repository; it is not followed".to_string()),
            ("loop-a.yaml".to_string(), "this symlink is a loop; it is not followed".to_string()),
            ("loop-b.yaml".to_string(), "this symlink is a loop; it is not followed".to_string()),
            ("parent".to_string(), "this symlink points to `..`, outside the repository; it is not followed".to_string()),
        ]
    );
    let render = run_bounded_in(&repo, &["render", ".", "--out", "../rendered"], REFUSED_FAST);
    assert_eq!(render.output.status.code(), Some(2));
    assert!(!tmp.path().join("rendered").exists(), "nothing written on unreadable input");
}

/// Names that would make a path (`../`, `/`), look like another name (a Cyrillic `а` for
/// the Latin `a`) or are too long, written wherever a name becomes part of an output path:
/// an object's name and namespace, its kind and API group, a Connection (whose settings
/// ConfigMap is named after it), a KubeDirector cluster (its configmeta file) and a Loft
/// ClusterConnect (its Cluster and Secret). Each is a finding at the name, and render
/// writes nothing, inside or outside the output folder.
#[test]
fn hostile_names_are_findings_and_never_reach_an_output_path() {
    let long = "a".repeat(300);
    let hostile = ["../escape", "a/b", "c\u{430}che", long.as_str(), "..", "/etc"];
    let templates: [(&str, &str); 9] = [
        (
            "ConfigMap name",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"NAME\", namespace: apps}\ndata: {a: b}\n",
        ),
        (
            "namespace",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: \"NAME\"}\ndata: {a: b}\n",
        ),
        (
            "kind",
            "apiVersion: example.com/v1\nkind: \"NAME\"\nmetadata: {name: thing, namespace: apps}\n",
        ),
        (
            "API group",
            "apiVersion: \"NAME/v1\"\nkind: Thing\nmetadata: {name: thing, namespace: apps}\n",
        ),
        (
            "custom resource name",
            "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: \"NAME\", namespace: apps}\n",
        ),
        (
            "Role name",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: \"NAME\", namespace: apps}\n",
        ),
        (
            "Connection name",
            "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {name: \"NAME\", namespace: apps}\nspec:\n  type: redis\n  schema: {host: redis.apps.svc}\n",
        ),
        (
            "KubeDirectorCluster name",
            "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata: {name: \"NAME\", namespace: apps}\nspec:\n  app: notebook\n  connections: {configmaps: [settings]}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\n  labels: {kubedirector.hpe.com/cmType: x}\ndata: {a: b}\n",
        ),
        (
            "ClusterConnect name",
            "apiVersion: management.loft.sh/v1\nkind: ClusterConnect\nmetadata: {name: \"NAME\"}\nspec:\n  config: |\n    apiVersion: v1\n    kind: Config\n    current-context: d\n    clusters: [{name: d, cluster: {server: \"https://k.example.com\"}}]\n    users: [{name: d, user: {token: t}}]\n    contexts: [{name: d, context: {cluster: d, user: d}}]\n",
        ),
    ];
    let mut cases = 0;
    for (place, template) in templates {
        for name in hostile {
            let case = format!("{place} {:?}", if name.len() > 20 { "a × 300" } else { name });
            let tmp = tempfile::tempdir().unwrap();
            let repo = tmp.path().join("repo");
            write(&repo, "app.yaml", GOOD);
            write(&repo, "hostile.yaml", &template.replace("NAME", name));
            let before = snapshot(tmp.path());
            let render = run_bounded_in(&repo, &["render", ".", "--out", "../out"], REFUSED_FAST);
            println!("{case}: {render}");
            // The API server takes any name without `/` or `%` for custom resources of other
            // groups and RBAC objects: those render, under a file name made safe.
            let accepted = matches!(place, "custom resource name" | "Role name")
                && (name == long || name.contains('\u{430}'));
            if accepted {
                assert_eq!(render.output.status.code(), Some(0), "{case}: {}", text_of(&render));
                let written = snapshot(&tmp.path().join("out"));
                let outside: Vec<_> = snapshot(tmp.path())
                    .into_iter()
                    .filter(|(p, _)| !p.starts_with("out/"))
                    .collect();
                assert_eq!(outside, before, "{case}: render wrote outside its folder");
                for (path, _) in &written {
                    assert!(
                        path.split('/').all(|part| part.len() <= 255
                            && part != ".."
                            && part
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))),
                        "{case}: unsafe output path {path:?}"
                    );
                }
                let hostile_files = written
                    .iter()
                    .filter(|(p, _)| p.starts_with("apps/thing-") || p.starts_with("apps/role-"))
                    .count();
                assert_eq!(
                    hostile_files,
                    1,
                    "{case}: {:?}",
                    written.iter().map(|w| &w.0).collect::<Vec<_>>()
                );
                cases += 1;
                continue;
            }
            assert_eq!(render.output.status.code(), Some(1), "{case}: {}", text_of(&render));
            assert_eq!(snapshot(tmp.path()), before, "{case}: render wrote something");
            let (_, report) = validate_json(&repo, &case, REFUSED_FAST);
            let found: Vec<_> = findings(&report)
                .into_iter()
                .filter(|(check, ..)| check == "invalid-name" || check == "invalid-object")
                .collect();
            assert!(
                found.iter().any(|(_, file, line, ..)| file == "hostile.yaml" && *line >= 1),
                "{case}: {:?}",
                findings(&report)
            );
            assert!(
                found.iter().any(|(.., message)| message.contains(name)),
                "{case}: the finding does not name it: {found:?}"
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 54);
}

/// A million tiny documents in one file are processed, at a cost per document that does
/// not grow with the file: empty documents (`---` alone) are skipped, and documents that are
/// not objects (`--- x`) each get their note, every one located. (Before, the human format
/// read each note's file from its first byte, which took minutes here, and the JSON format
/// built the whole report as one value tree first, 4 KB per note.)
#[test]
fn a_million_tiny_documents_are_processed_at_a_bounded_cost_each() {
    const DOCUMENTS: usize = 1_000_000;
    let bounds =
        Bounds { cpu_seconds: 120, address_space_mib: 4096, wall: Duration::from_secs(300) };
    // The human format of a million notes takes minutes of CPU in a debug build (its text is
    // ten times the JSON's); a tenth of them shows it linear as well.
    let runs = [
        ("empty", "---\n", DOCUMENTS, ["json", "human"].as_slice()),
        ("scalar", "--- x\n", DOCUMENTS, &["json"]),
        ("scalar", "--- x\n", DOCUMENTS / 10, &["human"]),
    ];
    for (case, document, documents, formats) in runs {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "docs.yaml", &document.repeat(documents));
        let notes = if case == "empty" { 0 } else { documents };
        for &format in formats {
            let case = format!("{documents} {case} documents, {format}");
            let measured =
                run_bounded_in(tmp.path(), &["validate", ".", "--output-format", format], bounds);
            let per_document = measured.cpu.as_secs_f64() * 1e6 / documents as f64;
            println!("{case}: {measured} ({per_document:.1} µs of CPU a document)");
            assert_eq!(
                measured.output.status.code(),
                Some(0),
                "{case}: {}",
                text(&measured.output.stderr)
            );
            let stdout = text(&measured.output.stdout);
            let located = match format {
                "json" => stdout.matches("\"file\": \"docs.yaml\"").count(),
                _ => stdout.matches("─[docs.yaml:").count(),
            };
            assert_eq!(located, notes, "{case}");
            // Linear: a debug build spends under 100 µs of CPU a document on a loaded machine.
            assert!(per_document < 100.0, "{case}: {per_document:.1} µs a document");
            if format == "json" && notes > 0 {
                let last = format!("\"line\": {documents},");
                assert!(stdout.contains(&last), "{case}: the last note is not at the last line");
            }
        }
    }
}
