//! `--output-format json`: one object with every finding and a summary (DESIGN.md §10).

use super::Context;
use connections_core::diagnostic::{Diagnostic, Summary};
use serde_json::json;

/// Writes `{"diagnostics":[...],"summary":{"errors":N,"warnings":N}}` and a newline.
pub fn write(ctx: &Context<'_>, diagnostics: &[Diagnostic], summary: &Summary, out: &mut String) {
    let items: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let (file, line, column) = ctx.location(d);
            json!({
                "check": d.check.id(),
                "severity": d.severity.as_str(),
                "message": d.message,
                "file": file,
                "line": line,
                "column": column,
                "path": d.path,
                "help": d.help,
            })
        })
        .collect();
    let report = json!({
        "diagnostics": items,
        "summary": {"errors": summary.errors, "warnings": summary.warnings},
    });
    out.push_str(&serde_json::to_string_pretty(&report).unwrap_or_default());
    out.push('\n');
}
