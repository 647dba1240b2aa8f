//! Properties of the whole pipeline, through the library API the binary uses.

use connections_core::model::LowerOptions;
use connections_core::validate::Offline;
use proptest::prelude::*;
use std::path::Path;

/// Every document of the example repository, as text.
fn example_documents() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/gitops-repo");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files.sort();
    files
        .iter()
        .flat_map(|f| f.split("\n---\n").map(|d| format!("{}\n", d.trim_end())).collect::<Vec<_>>())
        .filter(|d| d.contains("kind:"))
        .collect()
}

/// Loads, checks and renders a folder; returns the files render would write.
fn render(dir: &Path) -> Vec<(String, String)> {
    let mut loaded =
        connections_loader::load(dir, &connections_loader::LoadOptions::default()).unwrap();
    let documents = std::mem::take(&mut loaded.documents);
    let analysis = connections_core::analyse(documents, &LowerOptions::default(), &Offline);
    assert!(
        !analysis
            .diagnostics
            .iter()
            .any(|d| d.severity == connections_core::diagnostic::Severity::Error),
        "{:?}",
        analysis.diagnostics
    );
    connections_core::render::render(&analysis.model).0.files()
}

fn write_layout(
    dir: &Path,
    documents: &[String],
    order: &[usize],
    cuts: &[usize],
    names: &[String],
) {
    let mut file = 0;
    let mut content = String::new();
    for (i, &doc) in order.iter().enumerate() {
        if !content.is_empty() {
            content.push_str("---\n");
        }
        content.push_str(&documents[doc]);
        if cuts.contains(&i) || i + 1 == order.len() {
            let path = dir
                .join(&names[file % names.len()])
                .join(format!("{file:03}-{}.yaml", names[(file * 7) % names.len()]));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &content).unwrap();
            content.clear();
            file += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The same documents in any order, split over any files and folders, give the same bytes.
    #[test]
    fn output_does_not_depend_on_input_order(
        seed in prop::collection::vec(any::<u32>(), 64),
        cuts in prop::collection::vec(0usize..40, 0..12),
        names in prop::collection::vec("[a-z]{1,6}", 1..5),
    ) {
        let documents = example_documents();
        let baseline_dir = tempfile::tempdir().unwrap();
        let identity: Vec<usize> = (0..documents.len()).collect();
        write_layout(baseline_dir.path(), &documents, &identity, &[], &["base".to_string()]);
        let baseline = render(baseline_dir.path());
        prop_assert!(baseline.len() > 20, "the example renders {} files", baseline.len());

        let mut order = identity.clone();
        order.sort_by_key(|&i| seed[i % seed.len()].wrapping_mul(i as u32 + 1));
        let shuffled_dir = tempfile::tempdir().unwrap();
        write_layout(shuffled_dir.path(), &documents, &order, &cuts, &names);
        prop_assert_eq!(render(shuffled_dir.path()), baseline);
    }
}

/// A repository of `n` connections with ConfigMaps, Secrets, Deployments that use them and
/// KubeDirector clusters, plus a dangling reference every 7th connection (so that there are
/// findings to compare too).
fn generated_documents(n: usize) -> Vec<connections_core::syntax::Document> {
    let mut sources = connections_core::source::SourceMap::default();
    let mut documents = Vec::new();
    for i in 0..n {
        let ns = format!("ns-{}", i % 3);
        let secret = if i % 7 == 0 { format!("missing-{i}") } else { format!("conn-{i}-cred") };
        let text = format!(
            "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: conn-{i}, namespace: {ns}}}\nspec:\n  type: postgres\n  schema: {{host: pg-{i}, port: 5432}}\n  secret: {{name: {secret}, items: [password]}}\n  configMap: {{name: conn-{i}-settings}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conn-{i}-settings\n  namespace: {ns}\n  labels: {{kubedirector.hpe.com/cmType: warehouse}}\ndata: {{pool: \"{i}\"}}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: conn-{i}-cred\n  namespace: {ns}\n  labels: {{kubedirector.hpe.com/secretType: cred}}\nstringData: {{password: pw-{i}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: {ns}\n  annotations: {{connections.dev/use: conn-{i}}}\nspec:\n  selector: {{matchLabels: {{app: a{i}}}}}\n  template:\n    metadata: {{labels: {{app: a{i}}}}}\n    spec:\n      containers: [{{name: main, image: app:1}}]\n"
        );
        let (docs, _) = connections_loader::load_text(&mut sources, &format!("c{i}.yaml"), &text);
        documents.extend(docs);
        if i % 10 == 9 {
            let members: Vec<String> = (i - 9..=i).map(|m| format!("conn-{m}-cred")).collect();
            let text = format!(
                "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata: {{name: kd-{i}, namespace: ns-{}}}\nspec:\n  app: notebook\n  connections:\n    secrets: [{}]\n",
                i % 3,
                members.join(", ")
            );
            let (docs, _) =
                connections_loader::load_text(&mut sources, &format!("kd{i}.yaml"), &text);
            documents.extend(docs);
        }
    }
    documents
}

/// Lowering, checking, rendering and the findings-only render give the same result on one
/// thread and on several (the inputs are large enough to be split).
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let run = |threads: usize| {
        let analysis = connections_core::analyse_with(
            generated_documents(400),
            &LowerOptions::default(),
            &Offline,
            threads,
        );
        let (plan, found) = connections_core::render::render_with(&analysis.model, threads);
        let findings = connections_core::render::findings_with(&analysis.model, threads);
        let mut diagnostics = analysis.diagnostics.clone();
        connections_core::diagnostic::sort(&mut diagnostics);
        (format!("{diagnostics:?}"), plan, format!("{found:?}"), format!("{findings:?}"))
    };
    let serial = run(1);
    assert!(serial.0.contains("missing-7"), "the dangling references are found");
    assert!(serial.1.objects.len() > 1000, "{} objects", serial.1.objects.len());
    assert_eq!(serial.1.extra_files.len(), 40, "one configmeta file per KubeDirector cluster");
    for threads in [2, 3, 8] {
        let parallel = run(threads);
        assert_eq!(parallel.0, serial.0, "diagnostics, {threads} threads");
        assert!(parallel.1 == serial.1, "plan, {threads} threads");
        assert_eq!(parallel.2, serial.2, "render findings, {threads} threads");
        assert_eq!(parallel.3, serial.3, "findings, {threads} threads");
    }
}

/// The fast reader of plain block YAML (`yaml_subset`) gives saphyr's events for every file of
/// the fixtures and examples that it takes, and it takes most of them.
#[test]
fn subset_reader_agrees_with_saphyr_on_every_committed_file() {
    let mut stack = vec![workspace_path("fixtures"), workspace_path("examples")];
    let (mut files, mut taken) = (0, 0);
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json") {
                let Ok(text) = std::fs::read_to_string(&path) else { continue };
                files += 1;
                match connections_core::yaml_subset::check_against_saphyr(&text) {
                    Ok(true) => taken += 1,
                    Ok(false) => {}
                    Err(difference) => panic!("{}: {difference}", path.display()),
                }
            }
        }
    }
    assert!(files > 200, "only {files} files found");
    assert!(taken * 2 > files, "the subset reader took only {taken} of {files} files");
}

fn workspace_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}
