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
