//! The krew package end to end: `cargo xtask dist` packs the binary, the completion shim and
//! the LICENSE and fills the manifest; then the archive is installed the way krew installs
//! it (the platform chosen by the manifest's selector, the sha256 checked, `files` extracted
//! into `store/<plugin>/<version>/`, `bin` linked as `bin/kubectl-<plugin>`), and kubectl
//! finds and runs the plugin from there.

mod common;

use common::{bin, text, workspace};
use connections_core::syntax::Node;
use sha2::Digest as _;
use std::path::Path;
use std::process::Command;

fn str_at<'n>(node: &'n Node, path: &[&str]) -> &'n str {
    node.path(path).and_then(Node::as_str).unwrap_or_else(|| panic!("no {path:?}"))
}

#[test]
fn the_krew_archive_installs_and_kubectl_runs_the_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["run", "--quiet", "-p", "xtask", "--", "dist", "--fast", "--binary", bin(), "--out"])
        .arg(&dist)
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let manifest_text = std::fs::read_to_string(dist.join("connections.yaml")).unwrap();
    let mut sources = connections_core::source::SourceMap::new();
    let (documents, problems) = connections_loader::load_text(&mut sources, "m", &manifest_text);
    assert!(problems.is_empty(), "{problems:?}");
    let manifest = &documents[0].root;
    assert_eq!(str_at(manifest, &["kind"]), "Plugin");
    assert_eq!(str_at(manifest, &["metadata", "name"]), "connections");
    let version = str_at(manifest, &["spec", "version"]);
    assert!(version.starts_with('v') && version[1..].split('.').count() == 3, "{version}");

    // krew's choice of platform: the entry whose selector matches this machine.
    let (os, arch) = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => ("linux", "amd64"),
        ("linux", "aarch64") => ("linux", "arm64"),
        (os, arch) => panic!("no test platform for {os}/{arch}"),
    };
    let platforms = manifest.path(&["spec", "platforms"]).and_then(Node::as_seq).unwrap();
    let platform = platforms
        .iter()
        .find(|p| {
            str_at(p, &["selector", "matchLabels", "os"]) == os
                && str_at(p, &["selector", "matchLabels", "arch"]) == arch
        })
        .expect("a platform for this machine");
    let uri = str_at(platform, &["uri"]);
    let archive = dist.join(uri.rsplit('/').next().unwrap());
    let bytes = std::fs::read(&archive).unwrap();
    let sha256: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(str_at(platform, &["sha256"]), sha256);

    // Extract, then copy `files` into the store as krew does, and link `bin`.
    let unpacked = tmp.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let tar =
        Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(&unpacked).output().unwrap();
    assert!(tar.status.success(), "{}", text(&tar.stderr));
    let krew_root = tmp.path().join("krew");
    let store = krew_root.join("store/connections").join(version);
    std::fs::create_dir_all(&store).unwrap();
    for file in platform.path(&["files"]).and_then(Node::as_seq).unwrap() {
        let from = str_at(file, &["from"]);
        let to = store.join(str_at(file, &["to"])).join(from);
        std::fs::copy(unpacked.join(from), &to).unwrap_or_else(|e| panic!("{from}: {e}"));
    }
    assert!(store.join("LICENSE").is_file(), "krew-index requires the LICENSE in the archive");
    let license = std::fs::read_to_string(store.join("LICENSE")).unwrap();
    assert!(license.contains("Apache License") && license.contains("Version 2.0"));
    let bin_dir = krew_root.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(
        store.join(str_at(platform, &["bin"])),
        bin_dir.join("kubectl-connections"),
    )
    .unwrap();

    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let kubectl = |args: &[&str]| {
        Command::new("kubectl").args(args).env("PATH", &path).env("NO_COLOR", "1").output().unwrap()
    };
    let listed = kubectl(&["plugin", "list"]);
    assert!(
        text(&listed.stdout).contains(&bin_dir.join("kubectl-connections").display().to_string()),
        "{}",
        text(&listed.stdout)
    );
    let example = workspace().join("examples/gitops-repo");
    let validated = kubectl(&["connections", "validate", example.to_str().unwrap()]);
    assert_eq!(validated.status.code(), Some(0), "{}", text(&validated.stderr));
    // The completion shim shipped beside it answers kubectl's protocol.
    let shim = store.join("kubectl_complete-connections");
    let completion = Command::new(&shim).arg("").env("PATH", &path).output().unwrap();
    assert!(text(&completion.stdout).contains("validate"), "{}", text(&completion.stdout));
    assert!(is_executable(&shim));
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}
