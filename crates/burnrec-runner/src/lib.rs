//! # burnrec-runner
//!
//! The `burnrec` CLI as a library: argument definitions ([`cli`]), one module per command
//! ([`compare`], [`train`], [`evaluate`], [`recommend`], [`similar`], [`serve`], [`bench`],
//! [`data`], [`models`]) and what they share: [`common`] (training flags, held-out metrics), [`engine`]
//! (answers from a model directory), [`modeldir`] (the model directory on disk), [`report`]
//! and [`plots`]. Models come only from the catalogue, `burnrec_zoo`; no command imports
//! another.
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod common;
pub mod compare;
pub mod data;
pub mod embed;
pub mod engine;
pub mod evaluate;
pub mod modeldir;
pub mod models;
pub mod plots;
pub mod recommend;
pub mod report;
pub mod serve;
pub mod similar;
pub mod train;

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
        cli::Command::Bench(cli::BenchCommand::Encoder(args)) => bench::encoder(&args),
        cli::Command::Train(args) => train::train(&args),
        cli::Command::Evaluate(args) => evaluate::evaluate(&args),
        cli::Command::Recommend(args) => recommend::recommend(&args),
        cli::Command::Similar(args) => similar::similar(&args),
        cli::Command::Serve(args) => serve::serve(&args),
        cli::Command::Embed(args) => embed::embed(&args),
        cli::Command::Models(args) => models::models(&args),
    }
}
