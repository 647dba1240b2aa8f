//! RE2 (Go `regexp`) patterns on top of the `regex` crate.
//!
//! The syntaxes nearly agree; the differences that change results are handled here: Go's
//! Perl classes are ASCII-only (`\d` is `[0-9]`, `\w` is `[0-9A-Za-z_]`, `\s` is
//! `[\t\n\f\r ]`, `\b` an ASCII word boundary) where the regex crate's are Unicode-aware, and
//! Go supports `\Q...\E` literal quoting. Matching is unanchored, as Go's `regexp.Match`.

use regex::Regex;

/// Compiles an RE2 pattern with Go's meaning; the error is a short reason.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(&translate(pattern))
        .map_err(|e| e.to_string().lines().last().unwrap_or("invalid").trim().to_string())
}

fn translate(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let next = chars[i + 1];
            if next == 'Q' {
                // Literal text up to `\E` (or the end).
                let rest: String = chars[i + 2..].iter().collect();
                let (literal, after) = match rest.find("\\E") {
                    Some(end) => (&rest[..end], end + 2),
                    None => (rest.as_str(), rest.len()),
                };
                out.push_str(&regex::escape(literal));
                i += 2 + rest[..after].chars().count();
                continue;
            }
            let ascii = match (next, in_class) {
                ('d', false) => Some("[0-9]"),
                ('D', false) => Some("[^0-9]"),
                ('w', false) => Some("[0-9A-Za-z_]"),
                ('W', false) => Some("[^0-9A-Za-z_]"),
                ('s', false) => Some("[\\t\\n\\f\\r ]"),
                ('S', false) => Some("[^\\t\\n\\f\\r ]"),
                ('b', false) => Some("(?-u:\\b)"),
                ('B', false) => Some("(?-u:\\B)"),
                ('d', true) => Some("0-9"),
                ('w', true) => Some("0-9A-Za-z_"),
                ('s', true) => Some("\\t\\n\\f\\r "),
                _ => None,
            };
            match ascii {
                Some(replacement) => out.push_str(replacement),
                None => {
                    out.push(c);
                    out.push(next);
                }
            }
            i += 2;
            continue;
        }
        match c {
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn perl_classes_are_ascii_like_go() {
        let digits = compile(r"^\d+$").unwrap();
        assert!(digits.is_match("123"));
        assert!(!digits.is_match("١٢٣"), "Arabic-Indic digits are not \\d in Go");
        let word = compile(r"^\w+$").unwrap();
        assert!(!word.is_match("héllo"));
        assert!(compile(r"^[\w.-]+$").unwrap().is_match("a.b-c_d"));
        assert!(!compile(r"^[\w]+$").unwrap().is_match("é"));
        assert!(compile(r"\bfoo\b").unwrap().is_match("a foo b"));
    }

    #[test]
    fn quoting_and_unanchored_matching() {
        let quoted = compile(r"^\Qa.b\E$").unwrap();
        assert!(quoted.is_match("a.b") && !quoted.is_match("axb"));
        assert!(compile("b").unwrap().is_match("abc"), "regexp.Match is unanchored");
        assert!(compile("(?<=x)y").is_err());
    }
}
