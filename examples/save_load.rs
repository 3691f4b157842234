//! Fit any classic model by name, save it with its id maps, load it back and serve raw ids:
//! the reloaded model predicts exactly what the saved one did.
//!
//! Run: `cargo run --release --example save_load -- [MODEL]` (default `svd`; any name of
//! `burnrec compare --models`, e.g. `knn-baseline`, `als`).
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "svd".to_string());
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let params = ClassicParams::default_for(&name)?.with_seed(7);
    let model = params.fit(&data.interactions)?;
    let file = ModelFile::new(&data.name, params, data.users.clone(), data.items.clone(), model);
    let path = std::env::temp_dir().join(format!("burnrec-{name}.json.gz"));
    file.save(&path)?;
    let back = ModelFile::load(&path)?;
    // User "1" and movie "318" (The Shawshank Redemption) by their raw ids.
    let (u, i) = (back.users.index("1").ok_or("no user 1")?, back.items.index("318").ok_or("no movie 318")?);
    let (before, after) = (file.model.predict(u, i), back.model.predict(u, i));
    assert_eq!(before, after);
    println!(
        "{name}: saved to {} ({} bytes); user 1, movie 318 → {:.4} before and after reload",
        path.display(),
        std::fs::metadata(&path)?.len(),
        after.rating
    );
    Ok(())
}
