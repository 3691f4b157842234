//! A model added outside the workspace crates, through the public API only: a damped item
//! mean ("the item's average rating, shrunk towards the global mean by `damping` pseudo-ratings"
//! — Funk's 2006 Netflix Prize baseline) as a catalogue row of its own, with `--set`
//! parameters, fitted through the one [`Recipe`] vocabulary and compared with a catalogue
//! model on the same split. docs/adding-a-model.md walks through it.
//!
//! Run: `cargo run --release --example toy_model -- [toy.damping=VALUE]`.
use burnrec::data::{Dataset, DatasetSpec, Feedback, LoadOptions, Prediction, RatingPredictor, random_split};
use burnrec::eval::evaluate_ratings;
use burnrec::zoo::catalogue::{Build, Family, ModelEntry, Need, Needs, Serves};
use burnrec::zoo::settings::apply_sets;
use burnrec::zoo::{FitSettings, Fitted, FittedModel, Recipe, TrainingData, ZooError, entry};
use serde::{Deserialize, Serialize};

/// The toy's parameters: pseudo-ratings of the global mean added to every item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ToyParams {
    damping: f32,
}

impl Default for ToyParams {
    fn default() -> Self {
        Self { damping: 5.0 }
    }
}

/// The fitted toy: `(Σ r_ui + damping · μ) / (n_i + damping)` per item.
struct Toy {
    item_mean: Vec<f32>,
    trained: Vec<bool>,
    mu: f32,
}

impl RatingPredictor for Toy {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        pairs
            .iter()
            .map(|&(_, i)| {
                let known = self.trained.get(i as usize).copied().unwrap_or(false);
                let rating = if known { self.item_mean[i as usize] } else { self.mu };
                // Every user gets the same score: the user is never "known" to this model.
                Prediction { rating, known_user: false, known_item: known }
            })
            .collect()
    }

    fn feedback(&self) -> Feedback {
        Feedback::Explicit
    }
}

#[derive(Debug)]
struct ToyRecipe(ToyParams);

impl Recipe for ToyRecipe {
    fn params_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).expect("params serialise")
    }

    fn fit(&self, data: &TrainingData<'_>, _: &FitSettings<'_>) -> Result<Fitted, ZooError> {
        let train = data.train;
        let mu = train.global_mean().ok_or_else(|| ZooError::Setting("`toy`: the training part is empty".into()))? as f32;
        let (mut sum, mut n) = (vec![0f32; train.n_items()], vec![0f32; train.n_items()]);
        for r in train.iter() {
            sum[r.item as usize] += r.rating;
            n[r.item as usize] += 1.0;
        }
        let d = self.0.damping;
        let item_mean = sum.iter().zip(&n).map(|(s, c)| (s + d * mu) / (c + d)).collect();
        let model = Toy { item_mean, trained: n.iter().map(|&c| c > 0.0).collect(), mu };
        Ok(Fitted { model: FittedModel::Other { name: "toy".into(), model: Box::new(model) }, curves: None, timing: None })
    }
}

/// The toy's params: defaults, then every `--set toy.…`, checked.
const BUILD: Build = |e, s| {
    let p: ToyParams = apply_sets(e.name, ToyParams::default(), s)?;
    if !(p.damping.is_finite() && p.damping >= 0.0) {
        return Err(ZooError::Setting(format!("`toy`: damping = {}: expected a finite number >= 0", p.damping)));
    }
    Ok(Box::new(ToyRecipe(p)))
};

/// The toy's catalogue row: what the catalogue's own rows look like.
static TOY: ModelEntry = ModelEntry {
    name: "toy",
    family: Family::Classic,
    feedback: Feedback::Explicit,
    needs: Needs { item_features: Need::No, user_features: Need::No, timestamps: Need::No, item_text: Need::No },
    serves: Serves { dot_factors: false, fold_in: false, similar: false, user_features: false },
    parts: &[],
    summary: "damped item mean",
    source: "Funk 2006",
    build: BUILD,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let set: Vec<String> = std::env::args().skip(1).collect();
    let settings = FitSettings { set: &set, quiet: true, ..FitSettings::default() };
    let data: Dataset = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = random_split(&data.interactions, 0.2, 42)?;
    let clip = split.train.rating_range();
    for row in [&TOY, entry("baseline")?] {
        // The same two calls for every model: checked params, then the fit.
        let fitted = row.recipe(&settings)?.fit(&TrainingData::of(&split.train), &settings)?;
        let r = evaluate_ratings(fitted.model.predictor(), &split.test, clip).ok_or("empty test part")?;
        println!("{:<9} RMSE {:.4}  MAE {:.4}  ({}, {})", row.name, r.rmse, r.mae, row.summary, row.source);
    }
    Ok(())
}
