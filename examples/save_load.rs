//! Fit any catalogue model by name, save it with its id maps, load it back and serve raw ids:
//! the reloaded model predicts exactly what the saved one did.
//!
//! Run: `cargo run --release --example save_load -- [MODEL]` (default `svd`; any name of
//! `burnrec compare --models`, e.g. `knn-baseline`, `als`, `burn-mf`).
use burnrec::prelude::*;
use burnrec::zoo::{FitSettings, FittedModel, TrainingData, entry};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "svd".to_string());
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let settings = FitSettings { seed: 7, quiet: true, ..Default::default() };
    let training =
        TrainingData { item_features: data.item_features.as_ref(), user_features: data.user_features.as_ref(), ..TrainingData::of(&data.interactions) };
    let model = entry(&name)?.recipe(&settings)?.fit(&training, &settings)?.model;
    let dir = std::env::temp_dir().join(format!("burnrec-{name}"));
    std::fs::create_dir_all(&dir)?;
    model.save(&dir, &data.name, &data.users, &data.items)?;
    let (back, users, items) = FittedModel::load(&dir, Backend::Flex)?;
    // User "1" and movie "318" (The Shawshank Redemption) by their raw ids.
    let (u, i) = (users.index("1").ok_or("no user 1")?, items.index("318").ok_or("no movie 318")?);
    let (before, after) = (model.predictor().predict(u, i), back.predictor().predict(u, i));
    assert_eq!(before, after);
    println!("{name}: saved to {}; user 1, movie 318 → {:.4} before and after reload", dir.display(), after.rating);
    Ok(())
}
