//! The `burnrec` command-line tool. See `burnrec --help`.

use std::process::ExitCode;

use clap::Parser;

// mimalloc instead of glibc's malloc: Burn allocates and frees tensors of the same sizes every
// training step, and glibc returns those large blocks to the OS (mmap / trim), so every step
// page-faults them back in — the first model trained in a process ran 2.4× slower per epoch
// (ML-100K biased MF, flex: 0.094 s vs 0.039 s; docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
