//! `explain`: the documentation of a check, or the list of all checks.

use super::{Failure, Outcome, print_stdout};
use crate::cli::ExplainArgs;
use connections_core::checks::Check;

fn indent(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| if l.is_empty() { String::new() } else { format!("    {l}") })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text `explain ID` prints.
pub fn explain_text(check: Check) -> String {
    let docs = check.docs();
    format!(
        "{} ({})\n\n{}\n\nWhy it matters\n{}\n\nExample\n{}\n\nHow to fix\n{}\n",
        check.id(),
        check.severity(),
        docs.summary,
        indent(docs.why),
        indent(docs.example),
        indent(docs.fix)
    )
}

/// Runs `explain`.
pub fn run(args: &ExplainArgs) -> Result<Outcome, Failure> {
    match &args.id {
        Some(id) => match Check::from_id(id) {
            Some(check) => {
                print_stdout(&explain_text(check))?;
                Ok(Outcome::Success)
            }
            None => Err(Failure(format!(
                "no check is called `{id}`; run `kubectl connections explain` to list them"
            ))),
        },
        None => {
            let width = Check::ALL.iter().map(|c| c.id().len()).max().unwrap_or(0);
            let mut out = String::new();
            for check in Check::ALL {
                out.push_str(&format!(
                    "{:width$}  {:7}  {}\n",
                    check.id(),
                    check.severity().as_str(),
                    check.docs().summary
                ));
            }
            print_stdout(&out)?;
            Ok(Outcome::Success)
        }
    }
}
