//! # burnrec-runner
//!
//! The `burnrec` CLI as a library: argument definitions ([`cli`]), the `compare` pipeline
//! ([`compare`]) and report formatting ([`report`]).
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod compare;
pub mod data;
pub mod plots;
pub mod report;

/// Runs one parsed command line.
///
/// # Errors
/// Any data, training or output error, with context naming what failed.
pub fn run(cli: cli::Cli) -> anyhow::Result<()> {
    match cli.command {
        cli::Command::Compare(args) => compare::compare(&args),
        cli::Command::Data(cli::DataCommand::Stats(args)) => data::stats(&args),
        cli::Command::Fetch(args) => data::fetch(&args),
        cli::Command::Bench(cli::BenchCommand::Embedding(args)) => bench::embedding(&args),
    }
}
