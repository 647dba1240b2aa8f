//! `--output-format github`: workflow commands that GitHub Actions shows as annotations on
//! the pull request (`::error file=...,line=...,col=...,title=...::message`).

use super::Context;
use connections_core::diagnostic::{Diagnostic, Severity};

/// Escapes a message (data) the way the Actions runner expects.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value (file, title).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Writes one annotation per finding.
pub fn write(ctx: &Context<'_>, diagnostics: &[Diagnostic], out: &mut String) {
    for d in diagnostics {
        let (file, line, column) = ctx.location(d);
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{level} file={},line={line},col={column},title={}::{}\n",
            escape_property(&ctx.repository_path(&file)),
            escape_property(d.check.id()),
            escape_data(&message)
        ));
    }
}
