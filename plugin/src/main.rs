//! The `kubectl-connections` binary: parse the command line, run a command, map the outcome
//! to the exit-code contract (0 success, 1 findings, 2 operational failure). Thin on purpose:
//! the work happens in `commands`, the core and the loader.

mod cli;
mod commands;
mod completion;
mod health;
mod live;
mod report;
mod seal;
mod settings;
mod timings;

use clap::Parser as _;
use cli::{Cli, Command};
use commands::{Failure, Outcome};
use std::process::ExitCode;

// Reading a large repository makes millions of small allocations on every core; mimalloc
// handles them in about half the time of the system allocator (docs/benchmarks.md). Without
// the default `mimalloc` feature the system allocator serves, for heap profilers.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: connections_alloc::MiMalloc = connections_alloc::MiMalloc;

fn main() -> ExitCode {
    timings::start();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result: Result<Outcome, Failure> = match &cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Render(args) => commands::render::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::List(args) => commands::live::list(args),
        Command::Get(args) => commands::live::get(args),
        Command::Describe(args) => commands::live::describe(args),
        Command::Check(args) => commands::check::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Fn(args) => commands::krm::run(args),
        Command::Argocd(_) => commands::argocd::generate(),
        Command::Completion(args) => completion::script(args),
        Command::Complete(args) => completion::run(args),
        Command::Crd(_) => {
            commands::print_stdout(&connections_core::crd::crds_yaml()).map(|_| Outcome::Success)
        }
    };
    timings::phase("exit");
    timings::report();
    match result {
        Ok(outcome) => outcome.into(),
        Err(Failure(message)) => {
            commands::print_stderr(&format!("error: {message}\n"));
            Outcome::Failure.into()
        }
    }
}
