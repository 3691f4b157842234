//! Command-line definitions (clap derive); doc comments are the help text.

use std::path::PathBuf;

use burnrec_data::{DatasetSpec, DelimitedFormat};
use burnrec_model::Backend;
use clap::{Args, Parser, Subcommand};

/// burnrec: recommender systems in pure Rust on Burn.
#[derive(Debug, Parser)]
#[command(name = "burnrec", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train classic and Burn models on one seeded train/test split and compare RMSE/MAE.
    Compare(CompareArgs),
}

/// Where the ratings come from.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Dataset: `bundled` (MovieLens latest-small, compiled in), `ml-100k:PATH`, `ml-1m:PATH`,
    /// `ml-latest:PATH` (PATH = the dataset's folder or its ratings file) or `csv:PATH`.
    #[arg(long, default_value = "bundled", value_parser = parse_spec)]
    pub dataset: DatasetSpec,
    /// csv: field separator, e.g. `,` `;` `\t` (write `tab` or `\t` for a tab) or `::`.
    #[arg(long, default_value = ",")]
    pub sep: String,
    /// csv: the first line is a header.
    #[arg(long)]
    pub header: bool,
    /// csv: 0-based column of the user id.
    #[arg(long, default_value_t = 0)]
    pub user_col: usize,
    /// csv: 0-based column of the item id.
    #[arg(long, default_value_t = 1)]
    pub item_col: usize,
    /// csv: 0-based column of the rating.
    #[arg(long, default_value_t = 2)]
    pub rating_col: usize,
    /// csv: 0-based column of the Unix timestamp (none by default).
    #[arg(long)]
    pub timestamp_col: Option<usize>,
}

impl DataArgs {
    /// The generic-CSV layout given by the flags.
    pub fn csv_format(&self) -> DelimitedFormat {
        let sep = match self.sep.as_str() {
            "tab" | "\\t" => "\t".to_string(),
            s => s.to_string(),
        };
        DelimitedFormat {
            sep,
            header: self.header,
            user_col: self.user_col,
            item_col: self.item_col,
            rating_col: self.rating_col,
            timestamp_col: self.timestamp_col,
        }
    }
}

fn parse_spec(s: &str) -> Result<DatasetSpec, String> {
    s.parse().map_err(|e: burnrec_data::DataError| e.to_string())
}

/// The models `compare` knows, in report order.
pub const MODELS: [&str; 4] = ["global-mean", "baseline", "svd", "burn-mf"];

/// `burnrec compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Input data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Burn backend for the neural models.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Seed of the split and of every model.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fraction of ratings held out for testing.
    #[arg(long, default_value_t = 0.2)]
    pub test_ratio: f64,
    /// Epochs for the trained models (`svd`, `burn-mf`); default: each model's own
    /// (svd 20, burn-mf 20).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Comma-separated models to run (global-mean, baseline, svd, burn-mf); default: all.
    #[arg(long, value_delimiter = ',', value_parser = parse_model)]
    pub models: Option<Vec<String>>,
    /// Score raw predictions instead of clipping them to the training rating range.
    #[arg(long)]
    pub no_clip: bool,
    /// Also write the rows as a JSON array to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Hide progress bars.
    #[arg(long)]
    pub quiet: bool,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse()
}

fn parse_model(s: &str) -> Result<String, String> {
    if MODELS.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!("unknown model `{s}`: expected one of {}", MODELS.join(", ")))
    }
}
