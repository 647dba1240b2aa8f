//! `--output-format sarif`: a SARIF 2.1.0 log (OASIS), the format code scanning reads
//! (GitHub's `upload-sarif` action shows each result on the pull request's lines).
//!
//! One run; the tool's rules are every check, with its summary, why and fix from the check
//! registry (`explain` prints the same), so a result's rule explains itself in the UI.
//! Locations are relative to the top of the Git work tree (what code scanning resolves them
//! against), 1-based lines and columns.

use super::Context;
use connections_core::checks::Check;
use connections_core::diagnostic::{Diagnostic, Severity};
use serde_json::json;

/// SARIF's name for a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Writes the log and a newline.
pub fn write(ctx: &Context<'_>, diagnostics: &[Diagnostic], out: &mut String) {
    let rules: Vec<serde_json::Value> = Check::ALL
        .iter()
        .map(|check| {
            let docs = check.docs();
            json!({
                "id": check.id(),
                "shortDescription": {"text": docs.summary},
                "fullDescription": {"text": docs.why},
                "help": {"text": docs.fix},
                "defaultConfiguration": {"level": level(check.severity())},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let (file, line, column) = ctx.location(d);
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str(&format!(" (help: {help})"));
            }
            let mut result = json!({
                "ruleId": d.check.id(),
                "ruleIndex": Check::ALL.iter().position(|c| *c == d.check).unwrap_or(0),
                "level": level(d.severity),
                "message": {"text": super::printable(&message)},
            });
            if !file.is_empty() {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri_path(&ctx.repository_path(&file))},
                        "region": {"startLine": line, "startColumn": column},
                    }
                }]);
            }
            if !d.path.is_empty() {
                result["properties"] = json!({"fieldPath": d.path});
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kubectl-connections",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    out.push_str(&serde_json::to_string_pretty(&log).unwrap_or_default());
    out.push('\n');
}

/// A relative path as a URI reference: every byte outside RFC 3986's unreserved characters
/// and `/` percent-encoded (spaces and `#` in file names would otherwise break it).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_become_uri_references() {
        assert_eq!(super::uri_path("deploy/apps/pg.yaml"), "deploy/apps/pg.yaml");
        assert_eq!(super::uri_path("a b/#1 ä.yaml"), "a%20b/%231%20%C3%A4.yaml");
    }
}
