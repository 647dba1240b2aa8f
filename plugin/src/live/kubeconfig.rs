//! kubeconfig loading the way kubectl does it (ecosystem.md §1.4).
//!
//! `--kubeconfig` means that one file, no merging. Otherwise `KUBECONFIG` is a list of files
//! merged in order, first definition wins, **files that do not exist are skipped** (kube-rs's
//! `Kubeconfig::from_env` fails on them, so the list is built here); an empty `KUBECONFIG`
//! counts as unset. Otherwise `~/.kube/config`. Then `--context`, `--cluster` and `--user`
//! pick from the merged result, and the namespace is `-n`, else the context's, else `default`.

use kube::config::{KubeConfigOptions, Kubeconfig};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Splits a `KUBECONFIG` value: `:` separates on Unix, `;` on Windows; empty entries are dropped.
pub fn split_kubeconfig_env(value: &OsStr, windows: bool) -> Vec<PathBuf> {
    let text = value.to_string_lossy();
    let separator = if windows { ';' } else { ':' };
    text.split(separator).filter(|p| !p.is_empty()).map(PathBuf::from).collect()
}

/// The files to read, in merge order.
pub fn kubeconfig_paths(
    flag: Option<&Path>,
    env: Option<&OsStr>,
    home: Option<&Path>,
) -> Result<Vec<PathBuf>, String> {
    if let Some(path) = flag {
        if !path.exists() {
            return Err(format!("--kubeconfig {}: no such file", path.display()));
        }
        return Ok(vec![path.to_path_buf()]);
    }
    if let Some(value) = env.filter(|v| !v.is_empty()) {
        let paths: Vec<PathBuf> =
            split_kubeconfig_env(value, cfg!(windows)).into_iter().filter(|p| p.exists()).collect();
        if paths.is_empty() {
            return Err(format!(
                "none of the files in KUBECONFIG ({}) exists",
                value.to_string_lossy()
            ));
        }
        return Ok(paths);
    }
    let default = home.map(|h| h.join(".kube").join("config"));
    match default {
        Some(path) if path.exists() => Ok(vec![path]),
        _ => Err("no kubeconfig: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config"
            .to_string()),
    }
}

/// Reads and merges the files (first definition of every name wins, as kubectl merges).
pub fn load(paths: &[PathBuf]) -> Result<Kubeconfig, String> {
    let mut merged: Option<Kubeconfig> = None;
    for path in paths {
        let config = Kubeconfig::read_from(path).map_err(|e| parse_error(path, &e))?;
        merged = Some(match merged {
            None => config,
            Some(m) => m.merge(config).map_err(|e| format!("{}: {e}", path.display()))?,
        });
    }
    merged.ok_or_else(|| "no kubeconfig files".to_string())
}

/// A kubeconfig error without the file's text: parse errors quote the offending lines, and a
/// kubeconfig holds tokens. Only the file and the position are named.
fn parse_error(path: &Path, error: &kube::config::KubeconfigError) -> String {
    let text = error.to_string();
    if let kube::config::KubeconfigError::ReadConfig(io, _) = error {
        return format!("{}: cannot read the kubeconfig: {io}", path.display());
    }
    let position = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0] == "line" && w[1].parse::<u32>().is_ok())
        .map(|w| format!(" (near line {})", w[1]))
        .unwrap_or_default();
    format!("{}: not a valid kubeconfig{position}", path.display())
}

/// The context that will be used: `--context`, else `current-context`.
pub fn context_name(config: &Kubeconfig, options: &KubeConfigOptions) -> Option<String> {
    options.context.clone().or_else(|| config.current_context.clone())
}

/// The namespace: `-n`, else the context's, else `default`.
pub fn namespace(flag: Option<&str>, config: &Kubeconfig, context: Option<&str>) -> String {
    if let Some(ns) = flag {
        return ns.to_string();
    }
    context
        .and_then(|name| config.contexts.iter().find(|c| c.name == name))
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone())
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// The longest timeout accepted: beyond it, time arithmetic overflows and nobody waits anyway.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// kubectl's `--request-timeout`: a bare non-negative integer is seconds, otherwise a Go
/// duration (`1m30s`, `1.5h`, `250ms`); `0` means no timeout.
pub fn parse_request_timeout(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    let invalid = || {
        format!(
            "invalid --request-timeout {text:?}: use seconds (`5`) or a duration (`1m30s`); `0` means none"
        )
    };
    let too_long = || {
        format!("--request-timeout {text:?} is longer than a year; use `0` to wait without a limit")
    };
    if let Ok(seconds) = text.parse::<u64>() {
        if seconds > MAX_TIMEOUT.as_secs() {
            return Err(too_long());
        }
        return Ok((seconds > 0).then(|| Duration::from_secs(seconds)));
    }
    if text.starts_with('-') || text.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len =
            rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(invalid)?;
        if number_len == 0 {
            return Err(invalid());
        }
        let value: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    if total > MAX_TIMEOUT.as_secs_f64() {
        return Err(too_long());
    }
    Ok((total > 0.0).then(|| Duration::from_secs_f64(total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn config(current: &str, contexts: &[(&str, &str, Option<&str>)]) -> String {
        let mut out =
            format!("apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n");
        let mut clusters: Vec<&str> = contexts.iter().map(|c| c.1).collect();
        clusters.dedup();
        for cluster in clusters {
            out.push_str(&format!(
                "- name: {cluster}\n  cluster: {{server: https://{cluster}.example:6443}}\n"
            ));
        }
        out.push_str("users:\n- name: u\n  user: {token: t}\ncontexts:\n");
        for (name, cluster, ns) in contexts {
            let ns = ns.map(|n| format!(", namespace: {n}")).unwrap_or_default();
            out.push_str(&format!(
                "- name: {name}\n  context: {{cluster: {cluster}, user: u{ns}}}\n"
            ));
        }
        out
    }

    #[test]
    fn kubeconfig_env_merges_in_order_skipping_missing_files() {
        let tmp = tempfile::tempdir().unwrap();
        let a = write(
            tmp.path(),
            "a",
            &config("first", &[("first", "ca", None), ("shared", "ca", Some("from-a"))]),
        );
        let b = write(
            tmp.path(),
            "b",
            &config("second", &[("second", "cb", None), ("shared", "cb", Some("from-b"))]),
        );
        let env =
            format!("{}:{}:{}", a.display(), tmp.path().join("missing").display(), b.display());
        let paths = kubeconfig_paths(None, Some(OsStr::new(&env)), None).unwrap();
        assert_eq!(paths, vec![a.clone(), b.clone()]);
        let merged = load(&paths).unwrap();
        // The first current-context wins; a context defined twice keeps its first definition.
        assert_eq!(merged.current_context.as_deref(), Some("first"));
        let shared = merged.contexts.iter().filter(|c| c.name == "shared").collect::<Vec<_>>();
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].context.as_ref().unwrap().cluster, "ca");
        assert!(merged.contexts.iter().any(|c| c.name == "second"));
        // --kubeconfig ignores KUBECONFIG.
        assert_eq!(kubeconfig_paths(Some(&b), Some(OsStr::new(&env)), None).unwrap(), vec![b]);
    }

    #[test]
    fn empty_kubeconfig_env_counts_as_unset() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(".kube")).unwrap();
        let home_config =
            write(&tmp.path().join(".kube"), "config", &config("c", &[("c", "x", None)]));
        assert_eq!(
            kubeconfig_paths(None, Some(OsStr::new("")), Some(tmp.path())).unwrap(),
            vec![home_config]
        );
        assert!(kubeconfig_paths(None, None, Some(&tmp.path().join("nowhere"))).is_err());
    }

    #[test]
    fn windows_separator() {
        assert_eq!(
            split_kubeconfig_env(OsStr::new("C:\\a\\config;;D:\\b"), true),
            vec![PathBuf::from("C:\\a\\config"), PathBuf::from("D:\\b")]
        );
        assert_eq!(
            split_kubeconfig_env(OsStr::new("/a::/b"), false),
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
    }

    #[test]
    fn namespace_precedence() {
        let merged =
            Kubeconfig::from_yaml(&config("c", &[("c", "x", Some("team")), ("bare", "x", None)]))
                .unwrap();
        assert_eq!(namespace(Some("flag"), &merged, Some("c")), "flag");
        assert_eq!(namespace(None, &merged, Some("c")), "team");
        assert_eq!(namespace(None, &merged, Some("bare")), "default");
        let options = KubeConfigOptions { context: Some("bare".into()), ..Default::default() };
        assert_eq!(context_name(&merged, &options).as_deref(), Some("bare"));
        assert_eq!(context_name(&merged, &KubeConfigOptions::default()).as_deref(), Some("c"));
    }

    #[test]
    fn request_timeouts_parse_like_kubectl() {
        assert_eq!(parse_request_timeout("5").unwrap(), Some(Duration::from_secs(5)));
        assert_eq!(parse_request_timeout("1m30s").unwrap(), Some(Duration::from_secs(90)));
        assert_eq!(parse_request_timeout("250ms").unwrap(), Some(Duration::from_millis(250)));
        assert_eq!(parse_request_timeout("1.5h").unwrap(), Some(Duration::from_secs(5400)));
        assert_eq!(parse_request_timeout("0").unwrap(), None);
        for bad in
            ["-1", "", "5x", "m", "1m-2s", "99999999999999999999h", "18446744073709551615", "9000h"]
        {
            assert!(parse_request_timeout(bad).is_err(), "{bad}");
        }
    }
}
