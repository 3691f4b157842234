//! # burnrec-runner
//!
//! The `burnrec` CLI as a library: argument definitions ([`cli`]), the `compare` pipeline
//! ([`compare`]) and report formatting ([`report`]).
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod compare;
pub mod data;
pub mod engine;
pub mod modeldir;
pub mod plots;
pub mod product;
pub mod report;
pub mod serve;

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
        cli::Command::Train(args) => product::train(&args),
        cli::Command::Evaluate(args) => product::evaluate(&args),
        cli::Command::Recommend(args) => product::recommend(&args),
        cli::Command::Similar(args) => product::similar(&args),
        cli::Command::Serve(args) => serve::serve(&args),
    }
}
