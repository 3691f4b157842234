//! The `burnrec` command-line tool. See `burnrec --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = burnrec_runner::cli::Cli::parse();
    match burnrec_runner::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("burnrec: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
