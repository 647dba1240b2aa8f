//! `cargo xtask dist [--binary PATH] [--out DIR] [--fast]`: the release archive for this
//! machine's platform and the krew manifest that installs it (`--fast`: light compression, for
//! tests that package a debug binary).
//!
//! The archive `kubectl-connections_<os>_<arch>.tar.gz` holds the binary, the completion shim
//! `kubectl_complete-connections` and the LICENSE (krew-index requires the licence inside the
//! archive), with fixed owners, modes and times so that the same binary gives the same bytes.
//! The manifest is `packaging/krew-manifest.yaml` with `{{VERSION}}` and the sha256 filled in; the
//! platforms not built here are left out, with a note. Without `--binary`, a release build is
//! made first.

use sha2::Digest as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The krew manifest template.
const TEMPLATE: &str = "packaging/krew-manifest.yaml";

/// Go's names (what krew's selectors use) for this machine's OS and architecture.
pub fn platform() -> Result<(&'static str, &'static str), String> {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        other => return Err(format!("no krew platform for OS {other}")),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => return Err(format!("no krew platform for architecture {other}")),
    };
    Ok((os, arch))
}

/// The archive's file name for a platform.
pub fn archive_name(os: &str, arch: &str) -> String {
    format!("kubectl-connections_{os}_{arch}.tar.gz")
}

/// Builds the archive of `binary` into `out` and writes `out/connections.yaml`; returns the
/// archive's path.
pub fn dist(root: &Path, binary: &Path, out: &Path, fast: bool) -> Result<PathBuf, String> {
    let (os, arch) = platform()?;
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let staging = out.join("staging");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
    for (from, to, mode) in [
        (binary.to_path_buf(), "kubectl-connections", 0o755),
        (
            root.join("plugin/completion/kubectl_complete-connections"),
            "kubectl_complete-connections",
            0o755,
        ),
        (root.join("LICENSE"), "LICENSE", 0o644),
    ] {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::copy(&from, staging.join(to)).map_err(|e| format!("{}: {e}", from.display()))?;
        std::fs::set_permissions(staging.join(to), std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("{to}: {e}"))?;
    }
    let archive = out.join(archive_name(os, arch));
    // Reproducible: sorted names, no owners, one fixed time, gzip without name or time.
    // GNU tar's options (macOS: `brew install gnu-tar` gives `gtar`).
    let gnu_tar = ["gtar", "tar"]
        .into_iter()
        .find(|tar| {
            Command::new(tar)
                .arg("--version")
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU tar"))
        })
        .ok_or("dist needs GNU tar (on macOS: brew install gnu-tar)")?;
    let tar = Command::new(gnu_tar)
        .args(["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner"])
        .args(["-cf", "-", "-C"])
        .arg(&staging)
        .args(["kubectl-connections", "kubectl_complete-connections", "LICENSE"])
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if !tar.status.success() {
        return Err(format!("tar failed: {}", String::from_utf8_lossy(&tar.stderr)));
    }
    let mut gzip = Command::new("gzip")
        .args(["-n", if fast { "-1" } else { "-9" }, "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    let mut stdin = gzip.stdin.take().ok_or("gzip has no stdin")?;
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &tar.stdout));
    let compressed = gzip.wait_with_output().map_err(|e| e.to_string())?;
    writer.join().map_err(|_| "gzip writer panicked")?.map_err(|e| e.to_string())?;
    std::fs::write(&archive, &compressed.stdout)
        .map_err(|e| format!("{}: {e}", archive.display()))?;
    std::fs::remove_dir_all(&staging).map_err(|e| e.to_string())?;

    let sha256: String =
        sha2::Sha256::digest(&compressed.stdout).iter().map(|b| format!("{b:02x}")).collect();
    let template = std::fs::read_to_string(root.join(TEMPLATE)).map_err(|e| e.to_string())?;
    let manifest = fill(&template, &version, os, arch, &sha256)?;
    std::fs::write(out.join("connections.yaml"), manifest).map_err(|e| e.to_string())?;
    println!(
        "wrote {} (sha256 {sha256}) and {}",
        archive.display(),
        out.join("connections.yaml").display()
    );
    Ok(archive)
}

/// The manifest for one built platform: the version and sha256 filled in, the platform
/// entries of other platforms (whose archives were not built here) left out.
pub fn fill(
    template: &str,
    version: &str,
    os: &str,
    arch: &str,
    sha256: &str,
) -> Result<String, String> {
    let (head, platforms) = template
        .split_once("  platforms:\n")
        .ok_or_else(|| format!("{TEMPLATE} has no `platforms:` list"))?;
    let built = format!("{{{{SHA256 {os} {arch}}}}}");
    let mut out = format!("{}  platforms:\n", head.replace("{{VERSION}}", version));
    let mut skipped = Vec::new();
    for entry in platforms.split("  - selector:\n").filter(|e| !e.trim().is_empty()) {
        if entry.contains(&built) {
            out.push_str("  - selector:\n");
            out.push_str(&entry.replace(&built, sha256).replace("{{VERSION}}", version));
        } else {
            skipped.push(entry.lines().next().unwrap_or_default().trim().to_string());
        }
    }
    if !out.contains(sha256) {
        return Err(format!("{TEMPLATE} has no platform entry for {os}/{arch}"));
    }
    for platform in skipped {
        eprintln!("note: not built on this machine, left out of the manifest: {platform}");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_manifest_keeps_only_the_built_platform_with_its_sha() {
        let template = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(super::TEMPLATE),
        )
        .unwrap();
        let manifest = super::fill(&template, "v1.2.3", "linux", "amd64", "ab12").unwrap();
        assert!(manifest.contains("version: v1.2.3"));
        assert!(manifest.contains("sha256: \"ab12\""));
        assert!(manifest.contains("download/v1.2.3/kubectl-connections_linux_amd64.tar.gz"));
        assert!(!manifest.contains("darwin") && !manifest.contains("{{"), "{manifest}");
        assert!(super::fill(&template, "v1", "plan9", "amd64", "ab12").is_err());
    }
}
