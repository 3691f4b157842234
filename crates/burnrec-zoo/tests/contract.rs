//! The contract every catalogue row keeps (as implicit's `RecommenderBaseTestMixin` does for its
//! models): a new model gets all of it by adding its row.
//!
//! - batch prediction equals single prediction (exactly for classic models, to float rounding
//!   for neural ones, whose towers are matrix products shaped by the batch), and `score_block`
//!   equals the predictions (to float rounding: a block may be one matrix product);
//! - an unknown user or item falls back with its known flag cleared;
//! - save → load answers bit-identically;
//! - `recommend` over a user's unseen items returns exactly min(k, candidates) distinct
//!   candidates, never a seen item, best first;
//! - the same seed gives the same scores;
//! - every parameter `--set` accepts round-trips (set to its value, read back unchanged), and
//!   an unknown one is refused naming the model;
//! - the row's feedback and serving capabilities are what the fitted model does.

use burnrec_data::features::FeatureBuilder;
use burnrec_data::sequence::UserSequences;
use burnrec_data::text::ItemEmbeddings;
use burnrec_data::{FeatureTable, Feedback, IdMap, Interactions, Rating};
use burnrec_zoo::fitted::Unanswerable;
use burnrec_zoo::{CATALOGUE, FitSettings, FittedModel, ModelEntry, TrainingData};

/// Users 0..30 and items 0..25 have training interactions; users 30, 31 and items 25, 26 are
/// in the id space but not in training (unknown to every model).
const N_USERS: usize = 32;
const N_ITEMS: usize = 27;

struct Data {
    train: Interactions,
    users: FeatureTable,
    items: FeatureTable,
    text: ItemEmbeddings,
}

fn data() -> Data {
    // Deterministic ratings 1–5 (NMF needs non-negative ones): user u rates 10 items.
    let mut v = Vec::new();
    for u in 0..30u32 {
        for k in 0..10u32 {
            let item = (u * 7 + k * 3) % 25;
            if !v.iter().any(|r: &Rating| r.user == u && r.item == item) {
                v.push(Rating { user: u, item, rating: f32::from(((u + item) % 5 + 1) as u8), timestamp: Some(i64::from(u * 10 + k)) });
            }
        }
    }
    let train = Interactions::new(v, N_USERS, N_ITEMS).unwrap();
    let mut items = FeatureBuilder::new(N_ITEMS);
    for i in 0..N_ITEMS {
        items.set(i, "genre", ["Comedy", "Drama", "Horror", "Action"][i % 4]);
        items.set(i, "genre", ["Romance", "Drama", "Sci-Fi"][i % 3]);
    }
    let mut users = FeatureBuilder::new(N_USERS);
    for u in 0..N_USERS {
        users.set(u, "gender", if u % 2 == 0 { "F" } else { "M" });
        users.set(u, "age", ["18-24", "25-34", "35-44"][u % 3]);
    }
    // Item "text embeddings": deterministic 4-d vectors of mixed signs (no encoder needed).
    let text = ItemEmbeddings::new((0..N_ITEMS * 4).map(|x| ((x * 37 + 11) % 23) as f32 / 11.0 - 1.0).collect(), 4).unwrap();
    Data { train, users: users.build(), items: items.build(), text }
}

/// Small settings for every row: two epochs (or iterations), PureSVD with 5 factors (it
/// needs fewer factors than items), quiet.
fn sets(e: &ModelEntry) -> Vec<String> {
    match e.name {
        "pure-svd" => vec!["pure-svd.n_factors=5".to_string()],
        _ => Vec::new(),
    }
}

/// Fits one at a time: the Burn models seed and draw from the backend's generator (dropout),
/// which is process-wide on flex, and the tests run in parallel threads — two fits at once
/// would change each other's dropout masks (found by `the_same_seed_gives_the_same_scores`).
fn fit(e: &ModelEntry, d: &Data, seed: u64) -> FittedModel {
    static BACKEND_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = BACKEND_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let set = sets(e);
    let s = FitSettings { seed, epochs: Some(2), quiet: true, set: &set, ..FitSettings::default() };
    let seqs = UserSequences::from_interactions(&d.train, &IdMap::from_raw((0..N_ITEMS).map(|k| k.to_string()))).unwrap();
    let training = TrainingData {
        train: &d.train,
        valid: None,
        user_features: Some(&d.users),
        item_features: Some(&d.items),
        item_text: Some(&d.text),
        sequences: Some(&seqs),
    };
    let recipe = e.recipe(&s).unwrap_or_else(|err| panic!("{}: {err}", e.name));
    recipe.fit(&training, &s).unwrap_or_else(|err| panic!("{}: {err}", e.name)).model
}

fn all_pairs() -> Vec<(u32, u32)> {
    (0..N_USERS as u32).flat_map(|u| (0..N_ITEMS as u32).map(move |i| (u, i))).collect()
}

/// Every row, fitted once on the same data (the Burn rows take most of the time).
fn fitted() -> Vec<(&'static ModelEntry, FittedModel)> {
    let d = data();
    CATALOGUE.iter().map(|e| (e, fit(e, &d, 42))).collect()
}

#[test]
fn every_row_keeps_the_scoring_contract() {
    let d = data();
    let all_items: Vec<u32> = (0..N_ITEMS as u32).collect();
    let users: Vec<u32> = (0..N_USERS as u32).collect();
    let dir = tempfile::tempdir().unwrap();
    for (e, m) in fitted() {
        let name = e.name;
        let p = m.predictor();
        // Batch = single = block.
        let pairs = all_pairs();
        let batch = p.predict_batch(&pairs);
        for (&(u, i), b) in pairs.iter().zip(&batch) {
            let one = p.predict(u, i);
            if e.is_neural() {
                // A Burn tower is a matrix product whose summation order follows the batch's
                // shape (found by this suite: MLP differs in the last bit): equal to rounding.
                assert_eq!((one.known_user, one.known_item), (b.known_user, b.known_item), "{name}: flags at ({u}, {i})");
                assert!((one.rating - b.rating).abs() <= 1e-5 * b.rating.abs().max(1.0), "{name}: batch {} vs single {} at ({u}, {i})", b.rating, one.rating);
            } else {
                assert_eq!(*b, one, "{name}: batch vs single at ({u}, {i})");
            }
            assert!(b.rating.is_finite(), "{name}: non-finite score at ({u}, {i})");
        }
        // A block may be scored by a matrix product (another summation order): equal to float
        // rounding.
        let block = p.score_block(&users, &all_items);
        for (k, (x, b)) in block.iter().zip(&batch).enumerate() {
            assert!((x - b.rating).abs() <= 1e-5 * b.rating.abs().max(1.0), "{name}: score_block {x} vs predict_batch {} at pair {k}", b.rating);
        }
        // Unknown users and items fall back with the flag cleared; known ones keep it.
        assert!(!p.predict(30, 0).known_user && !p.predict(31, 3).known_user, "{name}: unknown user flagged known");
        assert!(!p.predict(0, 25).known_item && !p.predict(2, 26).known_item, "{name}: unknown item flagged known");
        let trained = d.train.get(0);
        assert!(p.predict(trained.user, trained.item).known_user, "{name}: a training user flagged unknown");
        // Save → load answers bit-identically.
        let path = dir.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        let ids = |n: usize, p: &str| IdMap::from_raw((0..n).map(|k| format!("{p}{k}")));
        m.save(&path, "contract", &ids(N_USERS, "u"), &ids(N_ITEMS, "i")).unwrap();
        let (back, bu, bi) = FittedModel::load(&path, burnrec_model::Backend::Flex).unwrap();
        assert_eq!((bu.len(), bi.len(), bu.index("u7")), (N_USERS, N_ITEMS, Some(7)), "{name}");
        assert_eq!(back.predictor().predict_batch(&pairs), batch, "{name}: answers changed through save/load");
        assert_eq!(
            back.predictor().score_block(&users, &all_items).iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            block.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        // Top-N: exactly min(k, candidates) distinct unseen candidates, best first.
        for u in [0u32, 5, 29, 30] {
            let seen: Vec<u32> = d.train.iter().filter(|r| r.user == u).map(|r| r.item).collect();
            let candidates: Vec<u32> = all_items.iter().copied().filter(|i| !seen.contains(i)).collect();
            for k in [1, 5, 100] {
                let rec = p.recommend(u, &candidates, k);
                assert_eq!(rec.len(), k.min(candidates.len()), "{name}: user {u}, k {k}");
                let mut ids: Vec<u32> = rec.iter().map(|r| r.0).collect();
                assert!(ids.iter().all(|i| candidates.contains(i) && !seen.contains(i)), "{name}: a seen or non-candidate item");
                assert!(rec.windows(2).all(|w| w[0].1 >= w[1].1), "{name}: not best first");
                ids.sort_unstable();
                ids.dedup();
                assert_eq!(ids.len(), rec.len(), "{name}: duplicates");
            }
        }
    }
}

#[test]
fn every_row_is_what_it_says_it_is() {
    for (e, m) in fitted() {
        let name = e.name;
        let p = m.predictor();
        assert_eq!(p.feedback(), e.feedback, "{name}: feedback");
        assert_eq!(p.dot_factors().is_some(), e.serves.dot_factors, "{name}: dot factors");
        let serving = m.serving(N_USERS, N_ITEMS);
        let fold = m.fold_in(&serving, &[0, 3, 6], name);
        assert_eq!(fold.is_ok(), e.serves.fold_in, "{name}: fold-in ({fold:?})");
        if let Ok(s) = fold {
            assert_eq!(s.len(), N_ITEMS, "{name}: fold-in scores");
        }
        let similar = p.item_neighbours(0).is_some() || serving.factors.is_some();
        assert_eq!(similar, e.serves.similar, "{name}: similar items");
        let new_user = m.score_new_user(&["gender=F".to_string()], name);
        assert_eq!(!matches!(new_user, Err(Unanswerable::Unsupported(_))), e.serves.user_features, "{name}: new users by features ({new_user:?})");
        assert_eq!(e.family == burnrec_zoo::Family::Neural, e.is_neural());
        if e.feedback == Feedback::Explicit {
            assert_eq!(e.needs.item_features, burnrec_zoo::Need::No, "{name}: rating models run on interactions alone");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_scores() {
    let d = data();
    let users: Vec<u32> = (0..N_USERS as u32).collect();
    let items: Vec<u32> = (0..N_ITEMS as u32).collect();
    for e in CATALOGUE {
        let bits = |m: &FittedModel| m.predictor().score_block(&users, &items).iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fit(e, &d, 3)), bits(&fit(e, &d, 3)), "{}", e.name);
    }
}

/// Every leaf path of a params document, with its value.
fn leaves(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
    match v.as_object() {
        Some(o) if !o.is_empty() => {
            for (k, x) in o {
                leaves(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, x, out);
            }
        }
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

#[test]
fn every_parameter_set_accepts_round_trips() {
    let mut checked = 0;
    for e in CATALOGUE {
        let base = FitSettings { quiet: true, ..FitSettings::default() };
        let json = e.recipe(&base).unwrap().params_json();
        let mut paths = Vec::new();
        if e.parts.is_empty() {
            leaves("", &json, &mut paths);
            paths.retain(|(p, _)| !p.is_empty());
            paths.iter_mut().for_each(|(p, _)| *p = format!("{}.{p}", e.name));
        } else {
            // A model with parts is set through them: `als.…`, `content.…`.
            for part in e.parts {
                let mut sub = Vec::new();
                leaves(part, &json[*part], &mut sub);
                paths.extend(sub);
            }
        }
        for (path, value) in paths {
            // A choice with parameters is set whole, as JSON (its own leaves are inside it).
            let set = vec![format!("{path}={value}")];
            let s = FitSettings { set: &set, ..base };
            let again = e.recipe(&s).unwrap_or_else(|err| panic!("{}: --set {}: {err}", e.name, set[0])).params_json();
            assert_eq!(again, json, "{}: --set {} changed the params", e.name, set[0]);
            checked += 1;
        }
        let typo = vec![format!("{}.no_such_parameter=1", e.parts.first().unwrap_or(&e.name))];
        let err = e.recipe(&FitSettings { set: &typo, ..base }).unwrap_err().to_string();
        assert!(err.contains("no_such_parameter") && err.contains("no parameter"), "{}: {err}", e.name);
    }
    // Every row has parameters but the two parameterless classic ones.
    assert!(checked > 150, "{checked} parameters checked");
}
