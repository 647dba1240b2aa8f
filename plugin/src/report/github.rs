//! `--output-format github`: workflow commands that GitHub Actions shows as annotations on
//! the pull request (`::error file=...,line=...,col=...,title=...::message`).

use super::Context;
use connections_core::diagnostic::{Diagnostic, Severity};

/// Escapes a message (data) the way the Actions runner expects; other control characters,
/// which the runner would print as they are, are written as `\u{..}` escapes.
fn escape_data(text: &str) -> String {
    super::printable(text).replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A name from the input must not end the annotation (line breaks) or act on the CI log
    /// (escape sequences, C1 controls).
    #[test]
    fn data_escapes_line_breaks_percent_and_control_characters() {
        let escaped = escape_data("a\u{1b}[31mred\u{9b}2J 50%\r\n::error::x");
        assert_eq!(escaped, "a\\u{1b}[31mred\\u{9b}2J 50%25%0D%0A::error::x");
        assert!(!escaped.chars().any(char::is_control));
    }
}
