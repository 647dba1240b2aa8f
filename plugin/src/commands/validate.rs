//! `validate`: run every check and report; the exit code says whether anything failed.

use super::{Failure, Outcome, format_findings, judge, print_stdout};
use crate::cli::ValidateArgs;
use crate::settings::{Input, Reporting};

/// Runs `validate`.
pub fn run(args: &ValidateArgs) -> Result<Outcome, Failure> {
    let input = Input::from_args(&args.input, None);
    let reporting = Reporting::from_args(&args.report, Reporting::stdout_is_terminal());
    let checked = super::check_with(
        &input,
        args.cluster_check.then_some(&args.cluster),
        super::Need::Findings,
    )?;
    let diagnostics = &checked.analysis.diagnostics;
    print_stdout(&format_findings(&checked, &input, &reporting, diagnostics))?;
    Ok(judge(diagnostics, &checked.loaded, &reporting))
}
