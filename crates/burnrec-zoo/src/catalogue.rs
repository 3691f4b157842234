//! The table of every model: [`CATALOGUE`], one [`ModelEntry`] row per CLI name.
//!
//! A row is the only place that names a model: its CLI name, family, feedback, paper, the
//! data it needs, what it can do when served, and how its parameters are built (defaults →
//! the CLI's shared flags → every `--set NAME.PATH=VALUE`, checked before any data loads).
//! The contract tests (`tests/contract.rs`) run over every row.

use burnrec_classic::registry::ClassicParams;
use burnrec_classic::{
    AlsParams, BaselineParams, BaselineSgdParams, BprParams, ContentKnnParams, EaseParams, GlobalMeanParams, ItemKnnParams, KnnKind, KnnParams, NmfParams,
    NormalPredictorParams, PopularityParams, PureSvdParams, SlopeOneParams, SvdParams, SvdPpParams, TextKnnParams,
};
use burnrec_data::Feedback;
use burnrec_model::{DeepParams, Gru4RecParams, MfParams, NcfKind, NcfParams, SasRecParams, TrainConfig, TrainError};

use crate::recipe::{BurnParams, BurnRecipe, ClassicRecipe, ContentRecipe, HybridRecipe, TextKnnRecipe};
use crate::settings::apply_sets;
use crate::{FitSettings, Recipe, ZooError};

/// Where a model's code lives and how it trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A classic algorithm of burnrec-classic on interactions alone (closed form, SGD, ALS,
    /// neighbourhoods).
    Classic,
    /// A classic model over item side features or item text embeddings (content-based, and
    /// hybrids with it).
    Content,
    /// A neural model of burnrec-model, trained by Burn on the chosen backend.
    Neural,
}

/// Whether a model uses a part of the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Never reads it.
    No,
    /// Uses it when the dataset has it.
    Optional,
    /// Cannot fit without it.
    Required,
}

/// The data a model needs beyond the interactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// Item side features (genres, tags).
    pub item_features: Need,
    /// User side features (age, gender, occupation).
    pub user_features: Need,
    /// Timestamps (ordered sequences).
    pub timestamps: Need,
    /// Item text embeddings (a sentence encoder over each item's text; `--encoder`).
    pub item_text: Need,
}

/// Interactions only.
const INTERACTIONS: Needs = Needs { item_features: Need::No, user_features: Need::No, timestamps: Need::No, item_text: Need::No };

/// What a fitted model can do when served (checked against the fitted models by the contract
/// tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serves {
    /// Scores are dot products of user and item factors
    /// ([`burnrec_data::RatingPredictor::dot_factors`]): the fast serving path.
    pub dot_factors: bool,
    /// A new user known by a history of items gets recommendations (the model's own rule or a
    /// factor fold-in).
    pub fold_in: bool,
    /// `similar` items (item factors' cosine or stored neighbours).
    pub similar: bool,
    /// A new user known by user side features gets recommendations.
    pub user_features: bool,
}

const PLAIN: Serves = Serves { dot_factors: false, fold_in: false, similar: false, user_features: false };
const FACTORS: Serves = Serves { dot_factors: true, fold_in: true, similar: true, user_features: false };

/// Builds a model's [`Recipe`] from its row and the settings.
pub type Build = fn(&ModelEntry, &FitSettings<'_>) -> Result<Box<dyn Recipe>, ZooError>;

/// One model of the catalogue.
#[derive(Clone, Copy)]
pub struct ModelEntry {
    /// The CLI name (`--models`, `--model`, `--set NAME.…`).
    pub name: &'static str,
    /// Where it lives and how it trains.
    pub family: Family,
    /// What its scores mean: predicted ratings (explicit) or ranking scores (implicit).
    pub feedback: Feedback,
    /// The data it needs beyond interactions.
    pub needs: Needs,
    /// What it can do when served.
    pub serves: Serves,
    /// Other rows whose `--set NAME.…` configure parts of this model (the hybrid's `als`,
    /// `content`); their settings apply here.
    pub parts: &'static [&'static str],
    /// One line: what it is (and whose defaults it takes).
    pub summary: &'static str,
    /// The paper it comes from.
    pub source: &'static str,
    /// Its params from the settings: defaults, shared flags, `--set`, checked.
    pub build: Build,
}

impl std::fmt::Debug for ModelEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEntry").field("name", &self.name).field("family", &self.family).field("feedback", &self.feedback).finish_non_exhaustive()
    }
}

impl ModelEntry {
    /// The model's checked params from `settings` (defaults, `--seed`, `--epochs`,
    /// `--patience`, then every `--set NAME.PATH=VALUE` in order) — before any data loads.
    ///
    /// # Errors
    /// [`ZooError::Setting`] naming the `--set` at fault, or the setting out of range.
    pub fn recipe(&self, settings: &FitSettings<'_>) -> Result<Box<dyn Recipe>, ZooError> {
        (self.build)(self, settings)
    }

    /// Whether it is a neural model (trained by Burn on the `--backend`).
    pub fn is_neural(&self) -> bool {
        self.family == Family::Neural
    }
}

/// The models `compare` runs when `--models` is not given, in report order.
pub const DEFAULT_MODELS: [&str; 4] = ["global-mean", "baseline", "svd", "burn-mf"];

/// Whether a row belongs to a group.
pub type Member = fn(&ModelEntry) -> bool;

/// Model groups accepted by `--models`, with what they hold: `all-classic` (every classic
/// model), `all-rating` (the classic rating predictors, Surprise's algorithms), `all-top-n`
/// (the classic top-N models). The groups hold the side-feature models only when the dataset
/// has item features.
pub const GROUPS: [(&str, Member); 3] = [
    ("all-classic", |e| e.family != Family::Neural),
    ("all-rating", |e| e.family == Family::Classic && e.feedback == Feedback::Explicit),
    ("all-top-n", |e| e.family != Family::Neural && e.feedback == Feedback::Implicit),
];

/// The catalogue row of `name`.
///
/// # Errors
/// [`ZooError::UnknownModel`] listing every name and group.
pub fn entry(name: &str) -> Result<&'static ModelEntry, ZooError> {
    CATALOGUE.iter().find(|e| e.name == name).ok_or_else(|| ZooError::UnknownModel {
        name: name.to_string(),
        known: CATALOGUE.iter().map(|e| e.name).collect::<Vec<_>>().join(", "),
        groups: GROUPS.iter().map(|g| g.0).collect::<Vec<_>>().join(", "),
    })
}

/// `--models` expanded: groups → their members (with the side-feature models only when
/// `has_item_features`, and never the text-embedding models, which need a sentence encoder
/// and are named on their own), duplicates dropped, order kept; [`DEFAULT_MODELS`] when
/// `None`.
///
/// # Errors
/// [`ZooError::UnknownModel`] for a name that is neither a row nor a group.
pub fn select(models: Option<&[String]>, has_item_features: bool) -> Result<Vec<&'static ModelEntry>, ZooError> {
    let names: Vec<String> = match models {
        None => DEFAULT_MODELS.iter().map(|s| s.to_string()).collect(),
        Some(m) => m.to_vec(),
    };
    let mut out: Vec<&'static ModelEntry> = Vec::new();
    for m in &names {
        let members: Vec<&'static ModelEntry> = match GROUPS.iter().find(|g| g.0 == m) {
            Some((_, member)) => CATALOGUE
                .iter()
                .filter(|e| member(e) && (has_item_features || e.needs.item_features != Need::Required) && e.needs.item_text != Need::Required)
                .collect(),
            None => vec![entry(m)?],
        };
        for e in members {
            if !out.iter().any(|o| o.name == e.name) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// A classic row's params: `defaults`, `--seed`, `--epochs` (as `n_epochs` or `iterations`,
/// where the model has one), then every `--set NAME.key=value` in order.
fn classic_params(e: &ModelEntry, s: &FitSettings<'_>, defaults: ClassicParams) -> Result<ClassicParams, ZooError> {
    let mut p = defaults.with_seed(s.seed);
    if let Some(epochs) = s.epochs {
        let fields = p.params_json();
        for key in ["n_epochs", "iterations"] {
            if fields.get(key).is_some() {
                p = p.set(key, &epochs.to_string()).map_err(ZooError::Setting)?;
            }
        }
    }
    for (whole, key, value) in s.sets_of(e.name)? {
        p = p.set(key, value).map_err(|m| ZooError::Setting(format!("--set `{whole}`: {m}")))?;
    }
    Ok(p)
}

fn classic(e: &ModelEntry, s: &FitSettings<'_>, defaults: ClassicParams) -> Result<Box<dyn Recipe>, ZooError> {
    Ok(Box::new(ClassicRecipe(classic_params(e, s, defaults)?)))
}

fn text_knn_params(s: &FitSettings<'_>) -> Result<TextKnnParams, ZooError> {
    let p = apply_sets("text-knn", TextKnnParams::default(), s)?;
    p.check().map_err(|m| ZooError::Setting(format!("`text-knn`: {m}")))?;
    Ok(p)
}

fn content_params(s: &FitSettings<'_>) -> Result<ContentKnnParams, ZooError> {
    let content = apply_sets("content", ContentKnnParams::default(), s)?;
    content.check().map_err(|m| ZooError::Setting(format!("`content`: {m}")))?;
    Ok(content)
}

/// A Burn row's params: `base` with the CLI's training settings (`train` finds them), then
/// every `--set NAME.…` except those of `unused` (refused: settings of a part this kind lacks),
/// checked by `check`.
fn burn_params<T: serde::Serialize + serde::de::DeserializeOwned>(
    e: &ModelEntry,
    s: &FitSettings<'_>,
    mut base: T,
    train: impl Fn(&mut T) -> &mut TrainConfig,
    check: impl Fn(&T) -> Result<(), TrainError>,
    unused: &[(&str, &str)],
) -> Result<T, ZooError> {
    for (whole, key, _) in s.sets_of(e.name)? {
        if let Some((param, what)) = unused.iter().find(|(p, _)| *p == key) {
            return Err(ZooError::Setting(format!("--set `{whole}`: `{param}` does not apply to `{}` ({what})", e.name)));
        }
    }
    s.apply_to_training(train(&mut base));
    let p = apply_sets(e.name, base, s)?;
    check(&p).map_err(|m| ZooError::Setting(format!("`{}`: {m}", e.name)))?;
    Ok(p)
}

/// NcfParams serves every NCF kind: settings of the parts a kind does not have are refused
/// rather than silently ignored, and the name chooses the kind.
fn ncf(e: &ModelEntry, s: &FitSettings<'_>, kind: NcfKind) -> Result<Box<dyn Recipe>, ZooError> {
    const KIND: (&str, &str) = ("kind", "the model name chooses the kind");
    const TOWER: &str = "it sets the MLP tower of mlp and neumf; only neumf has every part";
    const GMF: &str = "it sets the GMF part of gmf, neumf and mf; only neumf has every part";
    const PRETRAIN: &str = "it sets neumf's pretraining from gmf and mlp; only neumf has every part";
    let (unused, hidden): (&[(&str, &str)], &'static [&'static str]) = match kind {
        NcfKind::Gmf | NcfKind::Mf => (&[KIND, ("layers", TOWER), ("dropout", TOWER), ("pretrain", PRETRAIN)], &["kind", "layers", "dropout", "pretrain"]),
        NcfKind::Mlp => (&[KIND, ("factors", GMF), ("pretrain", PRETRAIN)], &["kind", "factors", "pretrain"]),
        NcfKind::NeuMf => (&[KIND], &["kind"]),
    };
    let p = burn_params(e, s, NcfParams { kind, ..Default::default() }, |p| &mut p.train, NcfParams::check, unused)?;
    Ok(Box::new(BurnRecipe { name: e.name, params: BurnParams::Ncf(p), hidden }))
}

const fn row(name: &'static str, feedback: Feedback, serves: Serves, summary: &'static str, source: &'static str, build: Build) -> ModelEntry {
    ModelEntry { name, family: Family::Classic, feedback, needs: INTERACTIONS, serves, parts: &[], summary, source, build }
}

/// The deep hybrid's params (`deep-hybrid` and `deep-hybrid-text` share them).
fn deep_params(e: &ModelEntry, s: &FitSettings<'_>) -> Result<DeepParams, ZooError> {
    burn_params(e, s, DeepParams::default(), |p| &mut p.train, DeepParams::check, &[])
}

const fn neural(name: &'static str, feedback: Feedback, needs: Needs, serves: Serves, summary: &'static str, source: &'static str, build: Build) -> ModelEntry {
    ModelEntry { name, family: Family::Neural, feedback, needs, serves, parts: &[], summary, source, build }
}

use Feedback::{Explicit, Implicit};

/// Every model, in the order `all-…` groups and the docs list them.
pub static CATALOGUE: &[ModelEntry] = &[
    // Rating predictors (Surprise's algorithms, with its defaults).
    row("global-mean", Explicit, PLAIN, "predicts the training mean μ", "—", |e, s| classic(e, s, ClassicParams::GlobalMean(GlobalMeanParams))),
    row("normal", Explicit, PLAIN, "a draw from N(μ, σ²) of the training ratings (Surprise NormalPredictor)", "—", |e, s| {
        classic(e, s, ClassicParams::Normal(NormalPredictorParams::default()))
    }),
    row("baseline", Explicit, PLAIN, "μ + b_u + b_i, biases by ALS (Surprise BaselineOnly defaults)", "Koren, TKDD 2010", |e, s| {
        classic(e, s, ClassicParams::Baseline(BaselineParams::default()))
    }),
    row("baseline-sgd", Explicit, PLAIN, "μ + b_u + b_i, biases by SGD (Surprise BaselineOnly defaults)", "Koren, TKDD 2010", |e, s| {
        classic(e, s, ClassicParams::BaselineSgd(BaselineSgdParams::default()))
    }),
    row("svd", Explicit, FACTORS, "biased MF by SGD (Surprise SVD defaults)", "Koren, Bell & Volinsky 2009", |e, s| {
        classic(e, s, ClassicParams::Svd(SvdParams::default()))
    }),
    row("pmf", Explicit, FACTORS, "MF without biases (Surprise SVD(biased=False))", "Salakhutdinov & Mnih 2007", |e, s| {
        classic(e, s, ClassicParams::Pmf(SvdParams { biased: false, ..Default::default() }))
    }),
    row("svdpp", Explicit, PLAIN, "SVD++ (Surprise defaults)", "Koren, KDD 2008", |e, s| classic(e, s, ClassicParams::Svdpp(SvdPpParams::default()))),
    row("nmf", Explicit, PLAIN, "non-negative MF by multiplicative updates (Surprise NMF defaults)", "Luo et al. 2014", |e, s| {
        classic(e, s, ClassicParams::Nmf(NmfParams::default()))
    }),
    row("slope-one", Explicit, PLAIN, "Slope One", "Lemire & Maclachlan 2005", |e, s| classic(e, s, ClassicParams::SlopeOne(SlopeOneParams::default()))),
    row("knn-basic", Explicit, PLAIN, "Surprise KNNBasic", "Herlocker et al. 1999", |e, s| {
        classic(e, s, ClassicParams::KnnBasic(KnnParams { kind: KnnKind::Basic, ..Default::default() }))
    }),
    row("knn-means", Explicit, PLAIN, "Surprise KNNWithMeans", "Sarwar et al. 2001", |e, s| {
        classic(e, s, ClassicParams::KnnMeans(KnnParams { kind: KnnKind::WithMeans, ..Default::default() }))
    }),
    row("knn-zscore", Explicit, PLAIN, "Surprise KNNWithZScore", "Herlocker et al. 1999", |e, s| {
        classic(e, s, ClassicParams::KnnZscore(KnnParams { kind: KnnKind::WithZScore, ..Default::default() }))
    }),
    row("knn-baseline", Explicit, PLAIN, "Surprise KNNBaseline", "Koren, TKDD 2010", |e, s| {
        classic(e, s, ClassicParams::KnnBaseline(KnnParams { kind: KnnKind::Baseline, ..Default::default() }))
    }),
    // Top-N models (implicit feedback).
    row("popularity", Implicit, PLAIN, "top-N by interaction count", "Cremonesi et al. 2010", |e, s| {
        classic(e, s, ClassicParams::Popularity(PopularityParams))
    }),
    row("pure-svd", Implicit, FACTORS, "truncated SVD of the rating matrix (randomized, faer)", "Cremonesi et al. 2010", |e, s| {
        classic(e, s, ClassicParams::PureSvd(PureSvdParams::default()))
    }),
    row("als", Implicit, FACTORS, "implicit-feedback ALS by conjugate gradient (implicit's defaults)", "Hu, Koren & Volinsky 2008", |e, s| {
        classic(e, s, ClassicParams::Als(AlsParams::default()))
    }),
    row("bpr", Implicit, FACTORS, "BPR-MF (implicit's defaults)", "Rendle et al. 2009", |e, s| classic(e, s, ClassicParams::Bpr(BprParams::default()))),
    row(
        "item-knn",
        Implicit,
        Serves { dot_factors: false, fold_in: true, similar: true, user_features: false },
        "item KNN for top-N, cosine / BM25 / none",
        "Sarwar et al. 2001",
        |e, s| classic(e, s, ClassicParams::ItemKnn(ItemKnnParams::default())),
    ),
    row("ease", Implicit, Serves { fold_in: true, ..PLAIN }, "EASE, closed form (faer)", "Steck 2019", |e, s| {
        classic(e, s, ClassicParams::Ease(EaseParams::default()))
    }),
    // Classic models over item side features.
    ModelEntry {
        name: "content",
        family: Family::Content,
        feedback: Implicit,
        needs: Needs { item_features: Need::Required, ..INTERACTIONS },
        serves: Serves { dot_factors: false, fold_in: true, similar: true, user_features: false },
        parts: &[],
        summary: "content-based item KNN on genre/tag TF-IDF",
        source: "Lops et al. 2011",
        build: |_, s| Ok(Box::new(ContentRecipe(content_params(s)?))),
    },
    ModelEntry {
        name: "text-knn",
        family: Family::Content,
        feedback: Implicit,
        needs: Needs { item_text: Need::Required, ..INTERACTIONS },
        serves: Serves { dot_factors: false, fold_in: true, similar: true, user_features: false },
        parts: &[],
        summary: "item KNN on sentence-encoder text embeddings (all-MiniLM-L6-v2)",
        source: "Reimers & Gurevych 2019",
        build: |_, s| Ok(Box::new(TextKnnRecipe(text_knn_params(s)?))),
    },
    ModelEntry {
        name: "hybrid",
        family: Family::Content,
        feedback: Implicit,
        needs: Needs { item_features: Need::Required, ..INTERACTIONS },
        serves: Serves { fold_in: true, ..PLAIN },
        parts: &["als", "content"],
        summary: "ALS + content blended, weight chosen on validation",
        source: "Burke 2002",
        build: |_, s| {
            let als = classic_params(entry("als")?, s, ClassicParams::Als(AlsParams::default()))?;
            Ok(Box::new(HybridRecipe { als, content: content_params(s)? }))
        },
    },
    // Neural models (Burn).
    neural(
        "burn-mf",
        Explicit,
        INTERACTIONS,
        FACTORS,
        "biased MF as a Burn module, Adam on MSE + L2 (or per-rating SGD)",
        "Koren, Bell & Volinsky 2009",
        |e, s| {
            Ok(Box::new(BurnRecipe {
                name: e.name,
                params: BurnParams::Mf(burn_params(e, s, MfParams::default(), |p| &mut p.train, MfParams::check, &[])?),
                hidden: &[],
            }))
        },
    ),
    neural("mf", Implicit, INTERACTIONS, FACTORS, "dot-product MF for implicit feedback (BCE, BPR or sampled softmax)", "Rendle et al. 2009", |e, s| {
        ncf(e, s, NcfKind::Mf)
    }),
    neural("gmf", Implicit, INTERACTIONS, FACTORS, "NCF's generalized MF, BCE with 4 sampled negatives", "He et al., WWW 2017", |e, s| ncf(e, s, NcfKind::Gmf)),
    neural("mlp", Implicit, INTERACTIONS, PLAIN, "NCF's MLP tower, BCE with 4 sampled negatives", "He et al., WWW 2017", |e, s| ncf(e, s, NcfKind::Mlp)),
    neural("neumf", Implicit, INTERACTIONS, PLAIN, "NeuMF: GMF and MLP fused, optional pretraining", "He et al., WWW 2017", |e, s| ncf(e, s, NcfKind::NeuMf)),
    neural(
        "deep-hybrid",
        Implicit,
        Needs { item_features: Need::Optional, user_features: Need::Optional, timestamps: Need::No, item_text: Need::No },
        Serves { user_features: true, ..PLAIN },
        "NeuMF over id + side-feature embeddings with id dropout: scores cold-start users and items",
        "Kula 2015; He et al. 2017",
        |e, s| Ok(Box::new(BurnRecipe { name: e.name, params: BurnParams::Deep(deep_params(e, s)?), hidden: &[] })),
    ),
    neural(
        "deep-hybrid-text",
        Implicit,
        Needs { item_features: Need::Optional, user_features: Need::Optional, timestamps: Need::No, item_text: Need::Required },
        Serves { user_features: true, ..PLAIN },
        "the deep hybrid with a trainable projection of frozen sentence-encoder item embeddings",
        "Kula 2015; He et al. 2017; Reimers & Gurevych 2019",
        |e, s| Ok(Box::new(BurnRecipe { name: e.name, params: BurnParams::DeepText(deep_params(e, s)?), hidden: &[] })),
    ),
    // Sequential models (Burn): they read each user's history in time order.
    neural(
        "sasrec",
        Implicit,
        Needs { timestamps: Need::Required, ..INTERACTIONS },
        FACTORS,
        "SASRec: causal self-attention over the ordered history (RecBole's defaults, full-softmax cross-entropy)",
        "Kang & McAuley, ICDM 2018",
        |e, s| {
            let p = burn_params(e, s, SasRecParams::default(), |p| &mut p.train, SasRecParams::check, &[])?;
            Ok(Box::new(BurnRecipe { name: e.name, params: BurnParams::SasRec(p), hidden: &[] }))
        },
    ),
    neural(
        "gru4rec",
        Implicit,
        Needs { timestamps: Need::Required, ..INTERACTIONS },
        FACTORS,
        "GRU4Rec: a GRU over the ordered history (RecBole's defaults, full-softmax cross-entropy)",
        "Hidasi et al., ICLR 2016",
        |e, s| {
            let p = burn_params(e, s, Gru4RecParams::default(), |p| &mut p.train, Gru4RecParams::check, &[])?;
            Ok(Box::new(BurnRecipe { name: e.name, params: BurnParams::Gru4Rec(p), hidden: &[] }))
        },
    ),
];

/// Every `--set MODEL.PARAM=VALUE` must name a selected model (or a part of one, as the
/// hybrid's `als.…` and `content.…`), so a typo cannot silently run the defaults.
///
/// # Errors
/// [`ZooError::Setting`] naming the `--set` and the models run.
pub fn check_sets(sets: &[String], selected: &[&ModelEntry]) -> Result<(), ZooError> {
    for s in sets {
        let model = s.split_once('.').map_or(s.as_str(), |(m, _)| m);
        if let Some(whole) = selected.iter().find(|e| e.name == model && !e.parts.is_empty()) {
            let parts: Vec<String> = whole.parts.iter().map(|p| format!("`{p}.…`")).collect();
            return Err(ZooError::Setting(format!("--set `{s}`: the {model} is set through its parts, {}", parts.join(" and "))));
        }
        let known = selected.iter().any(|e| e.name == model || e.parts.contains(&model));
        if !known {
            let names: Vec<&str> = selected.iter().map(|e| e.name).collect();
            return Err(ZooError::Setting(format!(
                "--set `{s}`: `{model}` is not among the models run ({}); check the spelling or add it to --models",
                names.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&ModelEntry]) -> Vec<&'static str> {
        v.iter().map(|e| e.name).collect()
    }

    #[test]
    fn groups_expand_in_catalogue_order_without_duplicates() {
        assert_eq!(names(&select(None, true).unwrap()), DEFAULT_MODELS);
        let given = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let rating = names(&select(Some(&given(&["all-rating"])), true).unwrap());
        assert_eq!(rating.len(), 13);
        assert_eq!((rating[0], rating[12]), ("global-mean", "knn-baseline"));
        let top_n = names(&select(Some(&given(&["all-top-n"])), true).unwrap());
        assert_eq!(top_n, ["popularity", "pure-svd", "als", "bpr", "item-knn", "ease", "content", "hybrid"]);
        // Without item features the groups leave the side-feature models out.
        assert_eq!(names(&select(Some(&given(&["all-top-n"])), false).unwrap()).len(), 6);
        // Named twice, or by a group and by name: once, first place kept.
        let mixed = names(&select(Some(&given(&["ease", "all-top-n", "ease"])), false).unwrap());
        assert_eq!(mixed, ["ease", "popularity", "pure-svd", "als", "bpr", "item-knn"]);
        assert_eq!(names(&select(Some(&given(&["all-classic"])), true).unwrap()).len(), 21);
        let e = select(Some(&given(&["svd++"])), true).unwrap_err().to_string();
        assert!(
            e.starts_with("unknown model `svd++`: expected one of global-mean, normal,") && e.ends_with("or a group (all-classic, all-rating, all-top-n)"),
            "{e}"
        );
        // Every name is unique.
        let mut all: Vec<&str> = CATALOGUE.iter().map(|e| e.name).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), CATALOGUE.len());
    }

    #[test]
    fn sets_must_name_a_model_run_or_a_part() {
        let run = |v: &[&str]| v.iter().map(|n| entry(n).unwrap()).collect::<Vec<_>>();
        let sets = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_sets(&sets(&["svd.n_factors=4", "als.factors=8"]), &run(&["svd", "hybrid"])).is_ok());
        let e = check_sets(&sets(&["sdv.n_factors=4"]), &run(&["svd"])).unwrap_err().to_string();
        assert_eq!(e, "--set `sdv.n_factors=4`: `sdv` is not among the models run (svd); check the spelling or add it to --models");
        let e = check_sets(&sets(&["hybrid.weight=0.5"]), &run(&["hybrid"])).unwrap_err().to_string();
        assert_eq!(e, "--set `hybrid.weight=0.5`: the hybrid is set through its parts, `als.…` and `content.…`");
    }

    #[test]
    fn the_shared_flags_reach_every_model_that_has_them() {
        let s = FitSettings { seed: 7, epochs: Some(3), patience: Some(2), quiet: true, ..FitSettings::default() };
        let svd = entry("svd").unwrap().recipe(&s).unwrap().params_json();
        assert_eq!((svd["seed"].as_u64(), svd["n_epochs"].as_u64()), (Some(7), Some(3)));
        let als = entry("als").unwrap().recipe(&s).unwrap().params_json();
        assert_eq!(als["iterations"].as_u64(), Some(3));
        let neumf = entry("neumf").unwrap().recipe(&s).unwrap().params_json();
        assert_eq!((neumf["train"]["seed"].as_u64(), neumf["train"]["epochs"].as_u64()), (Some(7), Some(3)));
        assert_eq!(neumf["train"]["early_stopping"]["patience"].as_u64(), Some(2));
        assert_eq!(neumf["train"]["progress"], false);
        // A `--set` wins over the shared flag.
        let set = ["neumf.train.epochs=9".to_string()];
        let neumf = entry("neumf").unwrap().recipe(&FitSettings { set: &set, ..s }).unwrap().params_json();
        assert_eq!(neumf["train"]["epochs"].as_u64(), Some(9));
        // Settings of a part a kind lacks are refused, naming the part.
        let set = ["gmf.layers=[8,4]".to_string()];
        let e = entry("gmf").unwrap().recipe(&FitSettings { set: &set, ..s }).unwrap_err().to_string();
        assert!(e.contains("`layers` does not apply to `gmf`"), "{e}");
        // Out of range is named.
        let set = ["burn-mf.dim=0".to_string()];
        let e = entry("burn-mf").unwrap().recipe(&FitSettings { set: &set, ..s }).unwrap_err().to_string();
        assert!(e.starts_with("`burn-mf`:") && e.contains("dim"), "{e}");
    }
}
