//! Command-line definitions (clap derive); doc comments are the help text.

use std::path::PathBuf;

use burnrec_data::{Column, DataError, Dataset, DatasetSpec, DelimitedFormat, DuplicatePolicy, LoadOptions};
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
#[allow(clippy::large_enum_variant)] // parsed once per run; boxing would only complicate the derive
pub enum Command {
    /// Train classic and Burn models on one seeded train/test split and compare RMSE/MAE.
    Compare(CompareArgs),
    /// Inspect a dataset.
    #[command(subcommand)]
    Data(DataCommand),
    /// Benchmarks that report to stdout (table or JSON).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Download an official MovieLens archive into the cache ($BURNREC_DATA or the platform
    /// cache dir), verify its sha256 and unpack it; then use it as `--dataset NAME`.
    Fetch(FetchArgs),
    /// Train one model and save it as a model directory (written atomically).
    Train(TrainArgs),
    /// Re-evaluate a saved model directory on its held-out part (or a dataset's).
    Evaluate(EvaluateArgs),
    /// Top-N items for a training user (`--user`) or a new user given their history
    /// (`--history`, fold-in).
    Recommend(RecommendArgs),
    /// The items most similar to an item (cosine of item factors, or item-knn neighbours).
    Similar(SimilarArgs),
    /// Serve a model directory over HTTP/JSON (axum): /recommend, /similar, /health, /metrics,
    /// /admin/reload.
    Serve(ServeArgs),
    /// Item embeddings from a pretrained sentence encoder (e.g. all-MiniLM-L6-v2) over each
    /// item's text (title, genres, tags), with the item id map, cached per encoder and text.
    Embed(EmbedArgs),
    /// List every model of the catalogue: family, feedback, the data it needs, what it can do
    /// when served, and its paper.
    Models(ModelsArgs),
}

/// `burnrec models`.
#[derive(Debug, Clone, Args)]
pub struct ModelsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `burnrec train`.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Model to train: any name `compare --models` accepts, e.g. `als`, `svd`, `item-knn`,
    /// `ease`, `content`, `hybrid` (`--set als.…` / `content.…`), `burn-mf`, `neumf`.
    #[arg(long, value_parser = parse_model)]
    pub model: String,
    /// Input data.
    #[command(flatten)]
    pub data: DataArgs,
    /// The sentence encoder, for models over item text.
    #[command(flatten)]
    pub text: TextArgs,
    /// Burn backend (neural models).
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Seed of the split and of the model.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// What to train on: `none` (every interaction; nothing held out), `random` (hold out
    /// `--test-ratio`) or `leave-one-out` (each user's latest interaction; one drawn at random,
    /// seeded, when the data has no timestamps). With a held-out
    /// part, its metrics go into the model directory's summary.
    #[arg(long, value_enum, default_value_t = TrainSplit::None)]
    pub split: TrainSplit,
    /// Held-out fraction of `--split random`.
    #[arg(long, default_value_t = 0.2)]
    pub test_ratio: f64,
    /// Epochs (or iterations) when the model has them; default: the model's own.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Carve a validation part of this fraction from the training part (seed + 1), as in
    /// `compare`: the model trains on the rest, and a neural model logs a validation metric
    /// per epoch (RMSE for burn-mf, NDCG@K for the implicit ones).
    #[arg(long, value_name = "F")]
    pub valid_ratio: Option<f64>,
    /// Early stopping of a neural model after N epochs without improvement of the validation
    /// metric, keeping the best epoch (needs `--valid-ratio`).
    #[arg(long, value_name = "N", requires = "valid_ratio")]
    pub patience: Option<usize>,
    /// Set a model parameter, `MODEL.PARAM=VALUE` (repeatable), as in `compare`.
    #[arg(long = "set", value_name = "MODEL.PARAM=VALUE")]
    pub set: Vec<String>,
    /// Cut-off K of the held-out top-N metrics.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Output model directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace `--out` if it exists.
    #[arg(long)]
    pub force: bool,
    /// Hide progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// `burnrec evaluate`.
#[derive(Debug, Clone, Args)]
pub struct EvaluateArgs {
    /// Model directory written by `burnrec train`.
    #[arg(long, value_name = "DIR")]
    pub model_dir: PathBuf,
    /// The data to evaluate on (give the flags used for training to re-make its held-out part
    /// with the model's split settings). Raw ids are mapped through the model's id maps;
    /// interactions of users or items it never saw are counted and left out.
    #[command(flatten)]
    pub data: DataArgs,
    /// Burn backend to load neural models on.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Cut-off K of the top-N metrics.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Also write the row as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `burnrec recommend`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["user", "history", "user_features"])))]
pub struct RecommendArgs {
    /// Model directory written by `burnrec train`.
    #[arg(long, value_name = "DIR")]
    pub model_dir: PathBuf,
    /// Raw id of a user in the training data.
    #[arg(long)]
    pub user: Option<String>,
    /// Raw item ids of a new user's history, comma-separated (fold-in), oldest first: the
    /// sequential models (sasrec) read the order, the others only the set.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub history: Option<Vec<String>>,
    /// A new user's side features, comma-separated `field=value` (deep-hybrid only), e.g.
    /// `gender=F,age=31,occupation=writer`.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub user_features: Option<Vec<String>>,
    /// How many items (1 to 1000).
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Keep the items the user already has (training items, or the history's).
    #[arg(long)]
    pub include_seen: bool,
    /// An unknown `--user` gets the most popular items (marked as such) instead of an error.
    #[arg(long)]
    pub popular_fallback: bool,
    /// `--history` ids the model does not know are left out (and named) instead of an error,
    /// as long as one known id remains.
    #[arg(long, requires = "history")]
    pub skip_unknown: bool,
    /// With `--user`: one more candidate, an item known only by this text (e.g. a film added
    /// after training: `"Paddington 3 (2025). Genres: Animation, Comedy."`), scored by the
    /// model's own rule (text-knn, deep-hybrid-text); listed as `(new item)` if it ranks in the
    /// top k, and its rank printed either way.
    #[arg(long, value_name = "TEXT", requires = "user", conflicts_with_all = ["history", "user_features", "popular_fallback"])]
    pub item_text: Option<String>,
    /// Sentence-encoder folder for `--item-text` (default: the one the model was trained with).
    #[arg(long, value_name = "PATH")]
    pub encoder: Option<PathBuf>,
    /// Burn backend to load neural models on.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `burnrec similar`.
#[derive(Debug, Clone, Args)]
pub struct SimilarArgs {
    /// Model directory written by `burnrec train`.
    #[arg(long, value_name = "DIR")]
    pub model_dir: PathBuf,
    /// Raw item id.
    #[arg(long, required_unless_present = "item_text", conflicts_with = "item_text")]
    pub item: Option<String>,
    /// An item known only by its text instead (e.g. one added after training): the items whose
    /// text embeddings are closest by cosine (models over item text: text-knn,
    /// deep-hybrid-text).
    #[arg(long, value_name = "TEXT")]
    pub item_text: Option<String>,
    /// Sentence-encoder folder for `--item-text` (default: the one the model was trained with).
    #[arg(long, value_name = "PATH")]
    pub encoder: Option<PathBuf>,
    /// How many items (1 to 1000).
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Burn backend to load neural models on.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `burnrec serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Model directory written by `burnrec train`.
    #[arg(long, value_name = "DIR")]
    pub model_dir: PathBuf,
    /// Sentence-encoder folder for queries by text (models over item text; default: the one
    /// the model was trained with).
    #[arg(long, value_name = "PATH")]
    pub encoder: Option<PathBuf>,
    /// Address to listen on (`127.0.0.1:0` picks a free port and prints it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Burn backend to load neural models on.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Largest request body accepted, bytes (larger: 413).
    #[arg(long, default_value_t = 65536)]
    pub max_body_bytes: usize,
    /// Worker threads of the HTTP runtime (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// After SIGTERM / Ctrl-C, wait at most this many seconds for requests in flight.
    #[arg(long, default_value_t = 30.0)]
    pub shutdown_timeout: f64,
}

/// `burnrec bench …`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Training-step time of a biased MF (user and item tables of ROWS rows each) on synthetic
    /// batches, with dense embedding updates (Burn's Adam on the whole tables) and row-sparse
    /// ones (lazy Adam on the batch's rows): does the step cost follow the batch or the
    /// catalogue?
    Embedding(EmbeddingBenchArgs),
    /// Sentence-encoder throughput: texts/s encoding every item text of a dataset (no cache),
    /// for the side-by-side with sentence-transformers on PyTorch
    /// (`scripts/encoder_torch_bench.py`).
    Encoder(EncoderBenchArgs),
}

/// `burnrec bench encoder`.
#[derive(Debug, Clone, Args)]
pub struct EncoderBenchArgs {
    /// Input data (its item texts are encoded).
    #[command(flatten)]
    pub data: DataArgs,
    /// The encoder (`--encoder`, `--encoder-batch-size`, `--max-tags`; the cache flags are
    /// ignored: nothing is cached).
    #[command(flatten)]
    pub text: TextArgs,
    /// Burn backend.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Timed passes over all texts (the median is reported), after one untimed warm-up pass
    /// over the first batch.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Encode only the first N texts (default: all).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print one JSON object instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

/// `burnrec bench embedding`.
#[derive(Debug, Clone, Args)]
pub struct EmbeddingBenchArgs {
    /// Table sizes (rows of the user table and of the item table), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    pub rows: Vec<usize>,
    /// Embedding width d.
    #[arg(long, default_value_t = 32)]
    pub dim: usize,
    /// Ratings per training step.
    #[arg(long, default_value_t = 4096)]
    pub batch: usize,
    /// Modes to time, comma-separated: `dense`, `sparse`.
    #[arg(long, value_delimiter = ',', default_value = "dense,sparse", value_parser = ["dense", "sparse"])]
    pub modes: Vec<String>,
    /// Steps per timed epoch.
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Timed epochs (the step time is the median over them of epoch time / steps).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Burn backend.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Print a JSON array (one object per rows × mode) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `burnrec embed`.
#[derive(Debug, Clone, Args)]
pub struct EmbedArgs {
    /// Input data (item titles and side files).
    #[command(flatten)]
    pub data: DataArgs,
    /// The encoder and its cache.
    #[command(flatten)]
    pub text: TextArgs,
    /// Burn backend to encode on.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Output: `.safetensors` (tensor `embeddings` F32 [n_items, d]; metadata `item_ids`,
    /// a JSON array of raw item ids in row order, `encoder`, `texts`) or `.tsv` (raw item id,
    /// then d values, one item a line).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// The sentence encoder of the models over item text (`text-knn`), and its embedding cache.
#[derive(Debug, Clone, Args)]
pub struct TextArgs {
    /// Sentence-encoder folder (Hugging Face sentence-transformers layout: config.json,
    /// model.safetensors, tokenizer.json, …), e.g. all-MiniLM-L6-v2. Default:
    /// `$BURNREC_ENCODER`, else the copy of `burnrec fetch all-MiniLM-L6-v2`.
    #[arg(long, value_name = "PATH")]
    pub encoder: Option<PathBuf>,
    /// Texts per encoder batch (sorted by length, padded to the batch's longest).
    #[arg(long, default_value_t = burnrec_text::DEFAULT_BATCH_SIZE)]
    pub encoder_batch_size: usize,
    /// Most tags per item text (datasets with tags, e.g. ml-latest); the text is
    /// `TITLE. Genres: …. Tags: ….`.
    #[arg(long, default_value_t = 10)]
    pub max_tags: usize,
    /// Folder of the embedding cache (one safetensors file per encoder; texts are encoded
    /// once). Default: `embeddings/` in the data cache (`$BURNREC_DATA` or the platform cache
    /// dir).
    #[arg(long, value_name = "DIR")]
    pub embedding_cache: Option<PathBuf>,
    /// Encode every text even if cached (the cache is not read or written).
    #[arg(long)]
    pub no_embedding_cache: bool,
}

/// `burnrec data …`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Users, items, ratings, density, rating histogram, per-user/per-item count quantiles,
    /// time span, and the loading policies in force.
    Stats(StatsArgs),
}

/// `burnrec data stats`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Input data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `burnrec fetch`.
#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// Archive: ml-100k, ml-1m, ml-10m, ml-20m, ml-25m or ml-latest-small; or a pretrained
    /// model: all-MiniLM-L6-v2 (the sentence encoder of `text-knn`, from the Hugging Face hub,
    /// every file sha256-pinned; then the default `--encoder`).
    pub name: String,
    /// Download again even if the cache already holds it.
    #[arg(long)]
    pub force: bool,
    /// Download from this URL instead of files.grouplens.org (a mirror); for a model, the
    /// address that replaces https://huggingface.co.
    #[arg(long)]
    pub url: Option<String>,
    /// Expected sha256 (hex) instead of the pinned one.
    #[arg(long)]
    pub sha256: Option<String>,
    /// Cache folder (default: $BURNREC_DATA or the platform cache dir).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// Where the ratings come from, and the loading policies.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Dataset: `bundled` (MovieLens latest-small, compiled in), `ml-100k:PATH`, `ml-1m:PATH`,
    /// `ml-latest:PATH`, `lastfm:PATH` (PATH = the dataset's folder or its ratings file),
    /// `csv:PATH`, or a name fetched by `burnrec fetch` (e.g. `ml-1m`). Default: `bundled`;
    /// for `evaluate`, the dataset the model was trained on, read with the loading flags it was
    /// trained with (its directory records both).
    #[arg(long, value_parser = parse_spec)]
    pub dataset: Option<DatasetSpec>,
    /// Duplicated (user, item) pairs: `error` (stop, naming both lines), `first`, `last`, or
    /// `mean` (keeping the latest timestamp).
    #[arg(long, default_value = "error", value_parser = parse_duplicates)]
    pub duplicates: DuplicatePolicy,
    /// Declared rating scale `MIN,MAX` (e.g. `1,5`): a rating outside it is an error naming the
    /// line. Default: inferred from the data.
    #[arg(long, value_parser = parse_scale)]
    pub scale: Option<(f32, f32)>,
    /// Implicit conversion: keep only ratings >= T, as positives of value 1. Default: keep
    /// values (ratings stay ratings; play counts stay counts, used as confidences).
    #[arg(long, value_name = "T")]
    pub implicit_threshold: Option<f32>,
    /// Keep only users with at least N interactions (after the threshold; applied with
    /// `--min-item-interactions` until both hold — a k-core filter). Users and items left
    /// without interactions are dropped and the rest re-indexed. Default: no filter.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_user_interactions: u32,
    /// Keep only items with at least N interactions (see `--min-user-interactions`).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_item_interactions: u32,
    /// csv: field separator, e.g. `,` `;` `|` `::`, or `tab` (also `\t`).
    #[arg(long, default_value = ",")]
    pub sep: String,
    /// csv: the first line is a header (needed for named columns).
    #[arg(long)]
    pub header: bool,
    /// csv: user-id column: a 0-based position or a header name.
    #[arg(long, default_value = "0", value_parser = parse_column)]
    pub user_col: Column,
    /// csv: item-id column: a 0-based position or a header name.
    #[arg(long, default_value = "1", value_parser = parse_column)]
    pub item_col: Column,
    /// csv: rating column (position or name), or `none` for implicit files where every line
    /// is an interaction of value 1.
    #[arg(long, default_value = "2")]
    pub rating_col: String,
    /// csv: Unix-timestamp column (position or name); none by default.
    #[arg(long, value_parser = parse_column)]
    pub timestamp_col: Option<Column>,
}

impl DataArgs {
    /// The loading policies and generic-CSV layout given by the flags.
    ///
    /// # Errors
    /// If `--rating-col` is neither `none` nor a column.
    pub fn load_options(&self) -> Result<LoadOptions, DataError> {
        let sep = match self.sep.as_str() {
            "tab" | "\\t" => "\t".to_string(),
            s => s.to_string(),
        };
        let rating = match self.rating_col.as_str() {
            "none" => None,
            c => Some(c.parse()?),
        };
        Ok(LoadOptions {
            duplicates: self.duplicates,
            scale: self.scale,
            implicit_threshold: self.implicit_threshold,
            min_user_interactions: self.min_user_interactions,
            min_item_interactions: self.min_item_interactions,
            csv: DelimitedFormat {
                sep,
                header: self.header,
                user: self.user_col.clone(),
                item: self.item_col.clone(),
                rating,
                timestamp: self.timestamp_col.clone(),
            },
        })
    }

    /// Loads the dataset.
    ///
    /// # Errors
    /// Any loading error, with the dataset spec as context.
    pub fn load(&self) -> anyhow::Result<Dataset> {
        self.load_as(&self.spec(), &self.load_options()?)
    }

    /// Loads `spec` with `opts` (e.g. those a model directory records), with the same hints as
    /// [`DataArgs::load`].
    ///
    /// # Errors
    /// Any loading error, with the dataset spec as context.
    pub fn load_as(&self, spec: &DatasetSpec, opts: &LoadOptions) -> anyhow::Result<Dataset> {
        spec.load(opts).map_err(|e| {
            // What the CLI can do about two common mistakes.
            let hint = match &e {
                DataError::Parse { line: 1, .. } if matches!(spec, DatasetSpec::Csv(_)) && !opts.csv.header => " (if line 1 holds column names, pass --header)",
                DataError::Duplicate { .. } => " (to keep one of them, pass --duplicates first, last or mean)",
                _ => "",
            };
            anyhow::Error::new(e).context(format!("loading dataset `{spec}`{hint}"))
        })
    }

    /// The `--dataset` given, else `bundled`.
    pub fn spec(&self) -> DatasetSpec {
        self.dataset.clone().unwrap_or(DatasetSpec::Bundled)
    }
}

fn parse_duplicates(s: &str) -> Result<DuplicatePolicy, String> {
    s.parse().map_err(|e: DataError| e.to_string())
}

fn parse_column(s: &str) -> Result<Column, String> {
    s.parse().map_err(|e: DataError| e.to_string())
}

fn parse_scale(s: &str) -> Result<(f32, f32), String> {
    let err = || format!("expected MIN,MAX (e.g. 1,5), found `{s}`");
    let (a, b) = s.split_once(',').ok_or_else(err)?;
    let (lo, hi): (f32, f32) = (a.trim().parse().map_err(|_| err())?, b.trim().parse().map_err(|_| err())?);
    if lo.is_finite() && hi.is_finite() && lo < hi { Ok((lo, hi)) } else { Err(format!("scale `{s}` needs MIN < MAX")) }
}

fn parse_spec(s: &str) -> Result<DatasetSpec, String> {
    s.parse().map_err(|e: DataError| e.to_string())
}

/// `compare --split`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitKind {
    /// A seeded random split (`--test-ratio`).
    Random,
    /// Each user's latest rating (ties to the larger item id; without timestamps one drawn
    /// at random, seeded).
    #[value(alias = "loo")]
    LeaveOneOut,
    /// ML-100K's own u1…u5.base/.test files (needs `--dataset ml-100k:PATH`).
    #[value(name = "official-5fold")]
    Official5Fold,
    /// The folds listed in `--folds-file`.
    FoldsFile,
    /// A `--test-ratio` share of the items leaves training entirely.
    ColdItems,
}

impl SplitKind {
    /// Whether the split brings its own folds (`official-5fold`, `folds-file`).
    pub fn fixed_folds(self) -> bool {
        matches!(self, SplitKind::Official5Fold | SplitKind::FoldsFile)
    }

    /// The flag value, as typed.
    pub fn name(self) -> &'static str {
        match self {
            SplitKind::Random => "random",
            SplitKind::LeaveOneOut => "leave-one-out",
            SplitKind::Official5Fold => "official-5fold",
            SplitKind::FoldsFile => "folds-file",
            SplitKind::ColdItems => "cold-items",
        }
    }
}

/// `compare --protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// RMSE / MAE of the explicit models.
    Rating,
    /// Full ranking: every item but the user's training items.
    Full,
    /// The held-out item against sampled negatives (needs `--split leave-one-out`).
    Sampled,
    /// Every protocol the split allows.
    All,
}

/// `train --split`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainSplit {
    /// Every interaction trains; nothing is held out.
    None,
    /// Hold out `--test-ratio` at random.
    Random,
    /// Hold out each user's latest interaction.
    #[value(alias = "loo")]
    LeaveOneOut,
}

impl TrainSplit {
    /// The name the model directory's manifest records.
    pub fn name(self) -> &'static str {
        match self {
            TrainSplit::None => "none",
            TrainSplit::Random => "random",
            TrainSplit::LeaveOneOut => "leave-one-out",
        }
    }
}

/// `burnrec compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Input data.
    #[command(flatten)]
    pub data: DataArgs,
    /// The sentence encoder, for models over item text.
    #[command(flatten)]
    pub text: TextArgs,
    /// Burn backend for the neural models: `flex` (CPU), `ndarray` (CPU), `wgpu` (GPU), or
    /// `cuda` in builds with the `cuda` cargo feature.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    pub backend: Backend,
    /// Seed of the split and of every model.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fraction of ratings held out for testing (random split; with `--split cold-items` the
    /// fraction of items). Not with `--folds`, whose test parts are a K-th each.
    #[arg(long, default_value_t = 0.2, conflicts_with = "folds")]
    pub test_ratio: f64,
    /// Split: `random` (ratio `--test-ratio`), `leave-one-out` (each user's latest rating;
    /// ties to the larger item id; without timestamps one drawn at random, seeded), `official-5fold` (ML-100K's own
    /// u1…u5.base/.test files; needs `--dataset ml-100k:PATH`), `folds-file` (the folds
    /// listed in `--folds-file`), or `cold-items` (a `--test-ratio` share of the items, drawn
    /// with `--seed`, leave training entirely: every interaction with them is test; the full
    /// protocol then ranks among those cold items only).
    #[arg(long, value_enum, default_value_t = SplitKind::Random)]
    pub split: SplitKind,
    /// With `--split folds-file`: a TSV of `user<TAB>item<TAB>fold` (raw ids, fold 0…K−1 in
    /// which that rating is the test part; `#` lines and one header line ignored), e.g. the
    /// peers' `mls_kfold5_seed0_folds.tsv`. Every rating must be listed exactly once.
    #[arg(long, value_name = "PATH")]
    pub folds_file: Option<PathBuf>,
    /// Protocols, comma-separated: `rating` (RMSE/MAE), `full` (full ranking: every item but
    /// the user's training items), `sampled` (held-out item vs sampled negatives; needs
    /// `--split leave-one-out`), or `all` (every protocol the split allows: `sampled` only
    /// with `--split leave-one-out`).
    #[arg(long, value_enum, default_value = "rating", value_delimiter = ',')]
    pub protocol: Vec<Protocol>,
    /// K-fold cross-validation instead of one split: every model on each of K random folds;
    /// the table shows the mean and `<metric>_std` (rating and full protocols).
    #[arg(long, value_name = "K")]
    pub folds: Option<usize>,
    /// Carve a validation part of this fraction from the *train* part (seed + 1): every model
    /// trains on the rest, and trained neural models log a validation metric per epoch
    /// (RMSE for burn-mf, NDCG@K full ranking for the implicit ones; learning curves in
    /// `--plots`).
    #[arg(long, value_name = "F")]
    pub valid_ratio: Option<f64>,
    /// With `--split leave-one-out`: the validation part is each user's latest *training*
    /// interaction (their second-latest overall, by the split's own rule), the validation of
    /// the sequential-recommendation literature (RecBole, SASRec); the test items are never
    /// looked at for tuning.
    #[arg(long, conflicts_with = "valid_ratio")]
    pub valid_latest: bool,
    /// Early stopping for the neural models: stop after N epochs without improvement of the
    /// validation metric and keep the best epoch's weights (needs `--valid-ratio` or
    /// `--valid-latest`).
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// Cut-off K of the top-N metrics.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Sampled protocol: negatives per user (distinct, never positives, seeded by --seed).
    #[arg(long, default_value_t = 99)]
    pub negatives: usize,
    /// Sampled protocol: read each user's candidate negatives from this file instead
    /// (`user<TAB>heldout_item<TAB>neg,neg,…` with raw ids; `#` lines ignored), e.g. the NCF
    /// paper's published lists.
    #[arg(long)]
    pub negatives_file: Option<PathBuf>,
    /// Full ranking: users scored per block (memory is block × items scores).
    #[arg(long, default_value_t = 256)]
    pub block_users: usize,
    /// Epochs (or iterations) for every model that has them (`n_epochs` / `iterations`);
    /// default: each model's own.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Comma-separated models to run: classic `global-mean, normal, baseline, baseline-sgd,
    /// svd, pmf, svdpp, nmf, slope-one, knn-basic, knn-means, knn-zscore, knn-baseline,
    /// popularity, pure-svd, als, bpr, item-knn, ease, content, text-knn, hybrid`, neural
    /// `burn-mf`, `mf`, `gmf`, `mlp`, `neumf`, `deep-hybrid`, `deep-hybrid-text` (on
    /// `--backend`), or the groups `all-classic`, `all-rating`, `all-top-n`
    /// (`burnrec models` lists them). Default: global-mean, baseline, svd, burn-mf.
    #[arg(long, value_delimiter = ',', value_parser = parse_model)]
    pub models: Option<Vec<String>>,
    /// Full ranking: paired bootstrap of per-user NDCG@K for these pairs `A:B` of models run
    /// (comma-separated or repeated; prints A − B with its 95 % interval, 2000 resamples over
    /// users). Without it: the best model against the runner-up.
    #[arg(long, value_name = "A:B", value_delimiter = ',', value_parser = parse_pair)]
    pub bootstrap: Vec<(String, String)>,
    /// Set a model parameter, `MODEL.PARAM=VALUE` (repeatable; PARAM may be dotted, e.g.
    /// `knn-baseline.sim.name=pearson_baseline`, `als.factors=64`, `neumf.train.lr=0.002`,
    /// `burn-mf.dim=128`). The names are the fields of each model's params documented in
    /// burnrec-classic and burnrec-model (MfParams, NcfParams, DeepParams).
    #[arg(long = "set", value_name = "MODEL.PARAM=VALUE")]
    pub set: Vec<String>,
    /// Score raw predictions instead of clipping them to the training rating range.
    #[arg(long)]
    pub no_clip: bool,
    /// Also write the rows as a JSON array to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also write the rows as CSV to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Also write the rows as a Markdown table to this file.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Write charts (PNG and SVG) into this folder: learning curves of the trained neural
    /// models and a bar chart of the headline metric (NDCG@K, else sampled NDCG@K, else RMSE).
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Hide progress bars.
    #[arg(long)]
    pub quiet: bool,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse()
}

/// `A:B`, two catalogue names (`--bootstrap`).
fn parse_pair(s: &str) -> Result<(String, String), String> {
    let (a, b) = s.split_once(':').ok_or_else(|| format!("`{s}`: expected two models as A:B, e.g. deep-hybrid-text:deep-hybrid"))?;
    let name = |m: &str| burnrec_zoo::entry(m).map(|e| e.name.to_string()).map_err(|e| e.to_string());
    let (a, b) = (name(a)?, name(b)?);
    if a == b {
        return Err(format!("`{s}`: a model against itself"));
    }
    Ok((a, b))
}

/// A catalogue row's name or a group's (`--model`, `--models`).
fn parse_model(s: &str) -> Result<String, String> {
    if burnrec_zoo::GROUPS.iter().any(|g| g.0 == s) {
        return Ok(s.to_string());
    }
    burnrec_zoo::entry(s).map(|e| e.name.to_string()).map_err(|e| e.to_string())
}
