//! Items as a pretrained language model reads them: embed every item's text (title, genres)
//! with the sentence encoder all-MiniLM-L6-v2 in Burn, fit the text-embedding item KNN, and
//! ask for the films most like Toy Story — including films nobody has rated.
//!
//! Run: `cargo run --release --example text_knn -- [ENCODER_DIR]` (default
//! `$BURNREC_ENCODER`, else `../shared/models/all-MiniLM-L6-v2`).
use burnrec::classic::TextKnnParams;
use burnrec::data::text::{ItemEmbeddings, ItemText};
use burnrec::prelude::*;
use burnrec::text::SentenceEncoder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).or_else(|| std::env::var("BURNREC_ENCODER").ok()).unwrap_or_else(|| "../shared/models/all-MiniLM-L6-v2".to_string());
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let texts = ItemText::default().texts(&data);
    let encoder = SentenceEncoder::from_folder(&dir, &Backend::Flex.device())?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let vectors = encoder.encode(&refs, 32)?;
    let embeddings = ItemEmbeddings::new(vectors, encoder.dim())?;
    let model = TextKnnParams::default().fit(&data.interactions, &embeddings)?;
    let toy = data.items.index("1").ok_or("no movie 1")?;
    println!("most like {:?}:", texts[toy as usize]);
    for (item, cos) in model.similar(toy).into_iter().take(10) {
        println!("  {cos:.4}  {}", data.item_title(item).unwrap_or("?"));
    }
    Ok(())
}
