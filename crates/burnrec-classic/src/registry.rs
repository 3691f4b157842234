//! Every classic algorithm under one name: [`ClassicParams`] (what to fit, serialisable, with
//! dotted `key=value` overrides for the CLI) and [`ClassicModel`] (what was fitted, one
//! [`RatingPredictor`] for all of them). The runner and the model file use nothing else.

use burnrec_data::{Feedback, Interactions, Prediction, RatingPredictor};
use serde::{Deserialize, Serialize};

use crate::content::ContentKnn;
use crate::hybrid::Hybrid;
use crate::{
    Als, AlsParams, BaselineOnly, BaselineParams, BaselineSgdParams, BiasedMf, Bpr, BprParams, Ease, EaseParams, Fit, FitError, GlobalMean, GlobalMeanParams,
    ItemKnn, ItemKnnParams, Knn, KnnParams, Nmf, NmfParams, NormalPredictor, NormalPredictorParams, Popularity, PopularityParams, PureSvd, PureSvdParams,
    SlopeOne, SlopeOneParams, SvdParams, SvdPp, SvdPpParams,
};

/// Parameters of any classic algorithm, tagged by its CLI name (`{"algorithm": "svd",
/// "params": {...}}` in JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm", content = "params", rename_all = "kebab-case", deny_unknown_fields)]
#[allow(missing_docs)] // each variant is documented by its params type
pub enum ClassicParams {
    GlobalMean(GlobalMeanParams),
    Normal(NormalPredictorParams),
    Baseline(BaselineParams),
    BaselineSgd(BaselineSgdParams),
    Popularity(PopularityParams),
    Svd(SvdParams),
    Pmf(SvdParams),
    Svdpp(SvdPpParams),
    Nmf(NmfParams),
    SlopeOne(SlopeOneParams),
    PureSvd(PureSvdParams),
    KnnBasic(KnnParams),
    KnnMeans(KnnParams),
    KnnZscore(KnnParams),
    KnnBaseline(KnnParams),
    Als(AlsParams),
    Bpr(BprParams),
    ItemKnn(ItemKnnParams),
    Ease(EaseParams),
}

impl ClassicParams {
    /// The CLI name (`"svd"`, `"knn-baseline"`, …).
    pub fn name(&self) -> String {
        let v = serde_json::to_value(self).expect("params serialise");
        v["algorithm"].as_str().expect("tagged").to_string()
    }

    /// The parameters as JSON (`null` for parameterless algorithms).
    pub fn params_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("params serialise")["params"].clone()
    }

    /// Sets `seed` if the algorithm has one (otherwise does nothing).
    pub fn with_seed(self, seed: u64) -> Self {
        if self.params_json().get("seed").is_some() { self.set("seed", &seed.to_string()).expect("seed is a u64") } else { self }
    }

    /// Returns the params with one field changed: `key` is a dotted path into the params
    /// (`n_factors`, `sim.name`, `sim.user_based`), `value` is JSON (`50`, `true`, `0.01`) or a
    /// bare word taken as a string (`pearson_baseline`).
    ///
    /// # Errors
    /// A message naming the algorithm, the key and what is wrong (unknown field, wrong type,
    /// value out of range as [`ParamError`](crate::ParamError) reports it at fit time).
    pub fn set(&self, key: &str, value: &str) -> Result<Self, String> {
        let name = self.name();
        let mut v = serde_json::to_value(self).expect("params serialise");
        if v["params"].is_null() {
            return Err(format!("`{name}` has no parameters (tried to set `{key}`)"));
        }
        set_dotted(&mut v["params"], &name, key, value)?;
        serde_json::from_value(v).map_err(|e| format!("`{name}`: cannot set `{key}` = {value}: {e}"))
    }

    /// Fits the algorithm on `train`.
    ///
    /// # Errors
    /// Whatever the algorithm's `fit` reports ([`FitError`]).
    pub fn fit(&self, train: &Interactions) -> Result<ClassicModel, FitError> {
        Ok(match self {
            Self::GlobalMean(p) => ClassicModel::GlobalMean(p.fit(train)?),
            Self::Normal(p) => ClassicModel::Normal(p.fit(train)?),
            Self::Baseline(p) => ClassicModel::Baseline(p.fit(train)?),
            Self::BaselineSgd(p) => ClassicModel::Baseline(p.fit(train)?),
            Self::Popularity(p) => ClassicModel::Popularity(p.fit(train)?),
            Self::Svd(p) | Self::Pmf(p) => ClassicModel::Svd(p.fit(train)?),
            Self::Svdpp(p) => ClassicModel::Svdpp(p.fit(train)?),
            Self::Nmf(p) => ClassicModel::Nmf(p.fit(train)?),
            Self::SlopeOne(p) => ClassicModel::SlopeOne(p.fit(train)?),
            Self::PureSvd(p) => ClassicModel::PureSvd(p.fit(train)?),
            Self::KnnBasic(p) | Self::KnnMeans(p) | Self::KnnZscore(p) | Self::KnnBaseline(p) => ClassicModel::Knn(p.fit(train)?),
            Self::Als(p) => ClassicModel::Als(p.fit(train)?),
            Self::Bpr(p) => ClassicModel::Bpr(p.fit(train)?),
            Self::ItemKnn(p) => ClassicModel::ItemKnn(p.fit(train)?),
            Self::Ease(p) => ClassicModel::Ease(p.fit(train)?),
        })
    }
}

/// Sets the field at the dotted path `key` (`n_factors`, `sim.name`, `train.lr`) of the
/// serialised params `params` of model `name` to `value`, parsed as JSON (`50`, `true`,
/// `[16,8]`) or else taken as a string (`pearson_baseline`). The one setter behind
/// [`ClassicParams::set`] and the CLI's `--set` for every model, classic or neural.
///
/// # Errors
/// A message naming the model and listing its parameters if a path part is not a field.
/// (Type errors surface when the caller deserialises the result.)
pub fn set_dotted(params: &mut serde_json::Value, name: &str, key: &str, value: &str) -> Result<(), String> {
    let mut slot = params;
    let mut path = String::new();
    for part in key.split('.') {
        let obj = slot.as_object_mut().ok_or_else(|| format!("`{name}`: `{key}` does not name a parameter"))?;
        if !obj.contains_key(part) {
            let known: Vec<&String> = obj.keys().collect();
            // A parameter one level down, e.g. `lr` for `train.lr`.
            let nested: Vec<String> =
                obj.iter().filter(|(_, v)| v.as_object().is_some_and(|o| o.contains_key(part))).map(|(k, _)| format!("`{path}{k}.{part}`")).collect();
            let hint = if nested.is_empty() { String::new() } else { format!(" (did you mean {}?)", nested.join(" or ")) };
            return Err(format!("`{name}` has no parameter `{part}` (in `{key}`){hint}; its parameters: {known:?}"));
        }
        path.push_str(part);
        path.push('.');
        slot = obj.get_mut(part).expect("checked");
    }
    *slot = match serde_json::from_str(value) {
        Ok(v) => v,
        // A JSON object or array the shell stripped of its quotes (`{"a":1}` → `{a:1}`).
        Err(e) if value.starts_with(['{', '[']) => {
            return Err(format!(
                "`{name}`: `{key}` = {value} is not valid JSON ({e}); in a shell, single-quote the whole setting so its double quotes stay: --set '{name}.{key}=…'"
            ));
        }
        Err(_) => serde_json::Value::String(value.to_string()),
    };
    Ok(())
}

/// A fitted classic model of any kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "model", rename_all = "kebab-case")]
#[allow(missing_docs)] // each variant is documented by its model type
pub enum ClassicModel {
    GlobalMean(GlobalMean),
    Normal(NormalPredictor),
    Baseline(BaselineOnly),
    Popularity(Popularity),
    Svd(BiasedMf),
    Svdpp(SvdPp),
    Nmf(Nmf),
    SlopeOne(SlopeOne),
    PureSvd(PureSvd),
    Knn(Knn),
    Als(Als),
    Bpr(Bpr),
    ItemKnn(ItemKnn),
    Ease(Ease),
    Content(ContentKnn),
    Hybrid(Hybrid),
}

macro_rules! dispatch {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            ClassicModel::GlobalMean($m) => $e,
            ClassicModel::Normal($m) => $e,
            ClassicModel::Baseline($m) => $e,
            ClassicModel::Popularity($m) => $e,
            ClassicModel::Svd($m) => $e,
            ClassicModel::Svdpp($m) => $e,
            ClassicModel::Nmf($m) => $e,
            ClassicModel::SlopeOne($m) => $e,
            ClassicModel::PureSvd($m) => $e,
            ClassicModel::Knn($m) => $e,
            ClassicModel::Als($m) => $e,
            ClassicModel::Bpr($m) => $e,
            ClassicModel::ItemKnn($m) => $e,
            ClassicModel::Ease($m) => $e,
            ClassicModel::Content($m) => $e,
            ClassicModel::Hybrid($m) => $e,
        }
    };
}

impl ClassicModel {
    /// Checks that the model's arrays agree with each other and with an index space of
    /// `n_users × n_items` (as a model read from a file must): the factor models' shapes
    /// exactly, every model by predicting each user and each item once. For
    /// [`ModelFile::load`](crate::ModelFile::load), which reports a failure as a damaged file.
    ///
    /// # Errors
    /// A message saying what does not fit.
    pub fn check_consistent(&self, n_users: usize, n_items: usize) -> Result<(), String> {
        let shape = |what: &str, len: usize, rows: usize, k: usize| {
            if k == 0 || Some(len) != rows.checked_mul(k) { Err(format!("{what} has {len} values, expected {rows} × {k}")) } else { Ok(()) }
        };
        match self {
            Self::Svd(m) => {
                shape("user factors", m.p.len(), n_users, m.n_factors)?;
                shape("item factors", m.q.len(), n_items, m.n_factors)?;
                shape("user biases", m.bu.len(), n_users, 1)?;
                shape("item biases", m.bi.len(), n_items, 1)?;
            }
            Self::Svdpp(m) => {
                for (what, v, rows) in [("p", &m.p, n_users), ("z", &m.z, n_users), ("q", &m.q, n_items), ("y", &m.y, n_items)] {
                    shape(what, v.len(), rows, m.n_factors)?;
                }
                shape("user biases", m.bu.len(), n_users, 1)?;
                shape("item biases", m.bi.len(), n_items, 1)?;
            }
            Self::Nmf(m) => {
                shape("user factors", m.p.len(), n_users, m.n_factors)?;
                shape("item factors", m.q.len(), n_items, m.n_factors)?;
                shape("user biases", m.bu.len(), n_users, 1)?;
                shape("item biases", m.bi.len(), n_items, 1)?;
            }
            Self::PureSvd(m) => {
                shape("user factors", m.p.len(), n_users, m.n_factors)?;
                shape("item factors", m.v.len(), n_items, m.n_factors)?;
            }
            Self::Knn(m) if m.k == 0 => return Err("k is 0".into()),
            _ => {}
        }
        let (nu, ni) = (n_users.max(1) as u32, n_items.max(1) as u32);
        let pairs: Vec<(u32, u32)> = (0..nu).map(|u| (u, u % ni)).chain((0..ni).map(|i| (i % nu, i))).collect();
        let all: Vec<u32> = (0..ni).collect();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.predict_batch(&pairs);
            self.score_block(&[0, nu - 1], &all);
        }))
        .map_err(|_| "its arrays do not fit together (a prediction failed)".to_string())
    }
}

impl RatingPredictor for ClassicModel {
    fn predict_batch(&self, pairs: &[(u32, u32)]) -> Vec<Prediction> {
        dispatch!(self, m => m.predict_batch(pairs))
    }

    fn score_block(&self, users: &[u32], items: &[u32]) -> Vec<f32> {
        dispatch!(self, m => m.score_block(users, items))
    }

    fn feedback(&self) -> Feedback {
        dispatch!(self, m => m.feedback())
    }

    fn dot_factors(&self) -> Option<burnrec_data::DotFactors> {
        dispatch!(self, m => m.dot_factors())
    }

    fn history_scores(&self, history: &[u32]) -> Option<Vec<f32>> {
        dispatch!(self, m => m.history_scores(history))
    }

    fn item_neighbours(&self, item: u32) -> Option<Vec<(u32, f32)>> {
        dispatch!(self, m => m.item_neighbours(item))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use burnrec_data::synthetic::random_ratings;

    /// One params value of every algorithm, with its defaults (the catalogue's rows in
    /// burnrec-zoo hold the same defaults and are contract-tested there).
    pub(crate) fn every_default() -> Vec<ClassicParams> {
        use crate::knn::KnnKind;
        let knn = KnnParams::new;
        vec![
            ClassicParams::GlobalMean(GlobalMeanParams),
            ClassicParams::Normal(NormalPredictorParams::default()),
            ClassicParams::Baseline(BaselineParams::default()),
            ClassicParams::BaselineSgd(BaselineSgdParams::default()),
            ClassicParams::Svd(SvdParams::default()),
            ClassicParams::Pmf(SvdParams { biased: false, ..Default::default() }),
            ClassicParams::Svdpp(SvdPpParams::default()),
            ClassicParams::Nmf(NmfParams::default()),
            ClassicParams::SlopeOne(SlopeOneParams::default()),
            ClassicParams::KnnBasic(knn(KnnKind::Basic)),
            ClassicParams::KnnMeans(knn(KnnKind::WithMeans)),
            ClassicParams::KnnZscore(knn(KnnKind::WithZScore)),
            ClassicParams::KnnBaseline(knn(KnnKind::Baseline)),
            ClassicParams::Popularity(PopularityParams),
            ClassicParams::PureSvd(PureSvdParams { n_factors: 5, ..Default::default() }),
            ClassicParams::Als(AlsParams::default()),
            ClassicParams::Bpr(BprParams::default()),
            ClassicParams::ItemKnn(ItemKnnParams::default()),
            ClassicParams::Ease(EaseParams::default()),
        ]
    }

    #[test]
    fn every_algorithm_round_trips_and_fits() {
        let data = random_ratings(40, 30, 600, 3);
        for p in every_default() {
            let name = p.name();
            let back: ClassicParams = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
            assert_eq!(back, p);
            let m = p.fit(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
            let top_n = matches!(
                p,
                ClassicParams::Popularity(_)
                    | ClassicParams::PureSvd(_)
                    | ClassicParams::Als(_)
                    | ClassicParams::Bpr(_)
                    | ClassicParams::ItemKnn(_)
                    | ClassicParams::Ease(_)
            );
            assert_eq!(m.feedback(), if top_n { Feedback::Implicit } else { Feedback::Explicit }, "{name}");
            let model: ClassicModel = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            let pairs: Vec<(u32, u32)> = (0..40).flat_map(|u| (0..30).map(move |i| (u, i))).collect();
            assert_eq!(model.predict_batch(&pairs), m.predict_batch(&pairs), "{name}");
        }
        assert_eq!(every_default().len(), 19);
        // The kebab-case tag is the CLI name.
        assert_eq!(ClassicParams::KnnBaseline(KnnParams::default()).name(), "knn-baseline");
    }

    #[test]
    fn set_changes_nested_fields_and_names_mistakes() {
        let p = ClassicParams::KnnBaseline(KnnParams::new(crate::knn::KnnKind::Baseline));
        let q = p.set("sim.name", "pearson_baseline").unwrap().set("k", "20").unwrap();
        let ClassicParams::KnnBaseline(k) = &q else { panic!() };
        assert_eq!((k.k, k.kind, k.sim.name), (20, crate::KnnKind::Baseline, crate::knn::SimilarityName::PearsonBaseline));
        let e = p.set("factors", "3").unwrap_err();
        assert!(e.contains("no parameter `factors`") && e.contains("min_k") && !e.contains("did you mean"), "{e}");
        // A parameter one level down is suggested.
        let e = p.set("name", "cosine").unwrap_err();
        assert!(e.contains("did you mean `sim.name`?"), "{e}");
        let e = ClassicParams::Svd(SvdParams::default()).set("n_factors", "many").unwrap_err();
        assert!(e.contains("cannot set `n_factors` = many"), "{e}");
        assert!(ClassicParams::GlobalMean(GlobalMeanParams).set("x", "1").is_err());
        // JSON values: a struct variant set whole; one whose quotes a shell ate is named as such.
        let knn = ClassicParams::ItemKnn(ItemKnnParams::default());
        let bm25 = knn.set("weighting", r#"{"bm25":{"k1":1.5,"b":0.5}}"#).unwrap();
        assert_eq!(bm25.params_json()["weighting"]["bm25"]["k1"], 1.5);
        let e = knn.set("weighting", "{bm25:{k1:1.5,b:0.5}}").unwrap_err();
        assert!(e.contains("not valid JSON") && e.contains("single-quote"), "{e}");
        let s = ClassicParams::Svd(SvdParams::default()).with_seed(7);
        assert_eq!(s.params_json()["seed"], 7);
        assert_eq!(ClassicParams::Baseline(BaselineParams::default()).with_seed(7), ClassicParams::Baseline(BaselineParams::default()));
    }
}
