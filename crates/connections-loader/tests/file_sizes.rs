//! Files are read through a reused buffer and sized only when they fill it: files on either
//! side of the buffer's size must come back whole, and the size limit must hold on both sides.

use connections_core::checks::Check;
use connections_loader::{LoadOptions, load};

/// A ConfigMap of about `bytes` bytes.
fn configmap(name: &str, bytes: usize) -> String {
    let head = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: ");
    let fill = "x".repeat(bytes.saturating_sub(head.len() + 1));
    format!("{head}{fill}\n")
}

#[test]
fn small_and_large_files_are_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    // Below, at and above the 256 KiB reading buffer, and several times it.
    let sizes = [100, 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1, 3 * 256 * 1024 + 7];
    let mut total = 0;
    for (i, size) in sizes.iter().enumerate() {
        let text = configmap(&format!("cm-{i}"), *size);
        assert_eq!(text.len(), *size);
        total += text.len() as u64;
        std::fs::write(dir.path().join(format!("cm-{i}.yaml")), text).unwrap();
    }
    let loaded = load(dir.path(), &LoadOptions::default()).unwrap();
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    assert_eq!(loaded.bytes, total);
    assert_eq!(loaded.documents.len(), sizes.len());
    for (_, source) in loaded.sources.files() {
        let i: usize = source.path["cm-".len()..source.path.len() - ".yaml".len()].parse().unwrap();
        assert_eq!(source.text, configmap(&format!("cm-{i}"), sizes[i]), "{}", source.path);
    }
}

#[test]
fn the_size_limit_holds_below_and_above_the_buffer() {
    for (limit, size) in [(1_000, 1_001), (1_000, 5_000), (300_000, 300_001), (300_000, 900_000)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big.yaml"), configmap("big", size)).unwrap();
        std::fs::write(dir.path().join("fits.yaml"), configmap("fits", limit as usize)).unwrap();
        let options = LoadOptions { max_file_size: limit, ..LoadOptions::default() };
        let loaded = load(dir.path(), &options).unwrap();
        let refused: Vec<_> =
            loaded.diagnostics.iter().filter(|d| d.check == Check::UnreadableInput).collect();
        assert_eq!(refused.len(), 1, "limit {limit}, size {size}: {:?}", loaded.diagnostics);
        assert_eq!(
            refused[0].message,
            format!(
                "this file is {size} bytes, over the limit of {limit} bytes; it is not read (raise it with --max-file-size)"
            )
        );
        assert_eq!(loaded.documents.len(), 1, "the file at the limit is read");
    }
}
