//! `validate`: run every check and report; the exit code says whether anything failed.

use super::{Failure, Outcome, format_findings, judge, print_stdout_parts};
use crate::cli::ValidateArgs;
use crate::settings::{Input, Reporting};

/// Runs `validate`.
pub fn run(args: &ValidateArgs) -> Result<Outcome, Failure> {
    let input = Input::from_args(&args.input, None)?;
    let reporting = Reporting::from_args(&args.report, Reporting::stdout_is_terminal());
    let checked = super::check_with(
        &input,
        args.cluster_check.then_some(&args.cluster),
        super::Need::Findings,
    )?;
    let diagnostics = &checked.analysis.diagnostics;
    let report = format_findings(&checked, &input, &reporting, diagnostics);
    crate::timings::phase("report");
    print_stdout_parts(report.iter().map(String::as_str))?;
    crate::timings::phase("print");
    let outcome = judge(diagnostics, &checked.loaded, &reporting);
    super::release_at_exit(checked);
    Ok(outcome)
}
