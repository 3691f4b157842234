//! The deep hybrid with item text (`deep-hybrid-text`): every item's text (title, genres, tags)
//! is embedded once by the sentence encoder all-MiniLM-L6-v2 in Burn, and the deep hybrid
//! learns a projection of those frozen 384-d vectors beside its id and genre embeddings. In an
//! item cold-start experiment (10 % of the items leave training; every user's held-out
//! interactions are ranked among those cold items only) it is compared with the same model
//! without text.
//!
//! Data: the bundled ml-latest-small. Encoder: the first argument, else `$BURNREC_ENCODER`,
//! else `../shared/models/all-MiniLM-L6-v2`.
//!
//! Run: `cargo run --release --example deep_hybrid_text -- [ENCODER_DIR]`
use burnrec::data::split::cold_item_split;
use burnrec::data::text::{ItemEmbeddings, ItemText};
use burnrec::eval::evaluate_full_among;
use burnrec::prelude::*;
use burnrec::text::SentenceEncoder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).or_else(|| std::env::var("BURNREC_ENCODER").ok()).unwrap_or_else(|| "../shared/models/all-MiniLM-L6-v2".to_string());
    let device = Backend::Flex.device();
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let texts = ItemText::default().texts(&data);
    let encoder = SentenceEncoder::from_folder(&dir, &device)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let embeddings = ItemEmbeddings::new(encoder.encode(&refs, 32)?, encoder.dim())?;
    let (split, cold) = cold_item_split(&data.interactions, 0.1, 42)?;
    println!("{}: {} cold items, {} test interactions", data.name, cold.len(), split.test.len());
    let mut p = DeepParams::default();
    p.train.progress = false;
    let (users, items) = (data.user_features.as_ref(), data.item_features.as_ref());
    for (name, text) in [("deep-hybrid", None), ("deep-hybrid-text", Some(&embeddings))] {
        let model = p.fit_validated(&split.train, users, items, text, None, &device)?;
        let r = evaluate_full_among(&model, &split.train, &split.test, &cold, 10, 256);
        println!("{name:<17} HR@10 {:.4}  NDCG@10 {:.4}", r.hr, r.ndcg);
    }
    Ok(())
}
