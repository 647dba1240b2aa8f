//! `--output-format json`: one object with every finding and a summary (DESIGN.md §10).

use super::Context;
use connections_core::diagnostic::{Diagnostic, Summary};
use serde_json::json;

/// Writes `{"diagnostics":[...],"summary":{"errors":N,"warnings":N}}` and a newline, as
/// `serde_json`'s pretty printer lays it out. One finding is made a JSON value at a time: a
/// value tree of every finding costs several times the text (a million findings, gigabytes).
pub fn write(ctx: &Context<'_>, diagnostics: &[Diagnostic], summary: &Summary, out: &mut String) {
    out.push_str("{\n  \"diagnostics\": [");
    for (i, d) in diagnostics.iter().enumerate() {
        let (file, line, column) = ctx.location(d);
        let item = json!({
            "check": d.check.id(),
            "severity": d.severity.as_str(),
            "message": d.message,
            "file": file,
            "line": line,
            "column": column,
            "path": d.path,
            "help": d.help,
        });
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        push_indented(out, &item, "    ", true);
    }
    out.push_str(if diagnostics.is_empty() { "],\n" } else { "\n  ],\n" });
    out.push_str("  \"summary\": ");
    let summary = json!({"errors": summary.errors, "warnings": summary.warnings});
    push_indented(out, &summary, "  ", false);
    out.push_str("\n}\n");
}

/// `value` pretty-printed, each line indented by `indent` (the first only with `indent_first`:
/// not after a key). Strings hold no raw line break in JSON, so lines are the printer's.
fn push_indented(out: &mut String, value: &serde_json::Value, indent: &str, indent_first: bool) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if i > 0 || indent_first {
            out.push_str(indent);
        }
        out.push_str(line);
    }
}
