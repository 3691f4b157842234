//! all-MiniLM-L6-v2 in Burn against the reference implementation: the embeddings of 30 texts
//! (short, empty, non-ASCII, and one of ~700 tokens that truncation cuts to 256) as the Python
//! `sentence-transformers` library computes them — `tests/data/minilm_reference.json`, made by
//! `scripts/encoder_reference.py` (versions recorded in the file). Reads the model from
//! `$BURNREC_ENCODER` or `shared/models/all-MiniLM-L6-v2`; skips without it, except in CI
//! (`BURNREC_REQUIRE_DATA`), where it fails.

use burn::tensor::Device;
use burnrec_data::shared::MINILM;
use burnrec_text::SentenceEncoder;

#[derive(serde::Deserialize)]
struct Reference {
    model_safetensors_sha256: String,
    max_seq_length: usize,
    texts: Vec<String>,
    token_ids: Vec<Vec<u32>>,
    embeddings: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/minilm_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `(smallest cosine, largest |Δ|)` between our rows and the reference's.
fn compare(ours: &[f32], reference: &[Vec<f32>]) -> (f32, f32) {
    let d = reference[0].len();
    let (mut min_cos, mut max_diff) = (f32::INFINITY, 0f32);
    for (k, r) in reference.iter().enumerate() {
        let o = &ours[k * d..(k + 1) * d];
        let dot: f32 = o.iter().zip(r).map(|(a, b)| a * b).sum();
        let norms = o.iter().map(|a| a * a).sum::<f32>().sqrt() * r.iter().map(|b| b * b).sum::<f32>().sqrt();
        min_cos = min_cos.min(dot / norms);
        max_diff = o.iter().zip(r).map(|(a, b)| (a - b).abs()).fold(max_diff, f32::max);
    }
    (min_cos, max_diff)
}

fn check_on(device: &Device, name: &str, max_abs: f32) {
    let Some(dir) = MINILM.for_test(env!("CARGO_MANIFEST_DIR").as_ref(), name) else { return };
    let r = reference();
    let enc = SentenceEncoder::from_folder(&dir, device).unwrap();
    assert_eq!(enc.folder().max_seq_length, r.max_seq_length);
    let sha = sha256(&dir.join("model.safetensors"));
    assert_eq!(sha, r.model_safetensors_sha256, "the reference was made from another model file");
    for (k, t) in r.texts.iter().enumerate() {
        assert_eq!(enc.token_ids(t).unwrap(), r.token_ids[k], "tokens of text {k} ({t:?})");
    }
    assert!(r.token_ids.iter().any(|ids| ids.len() == 256), "one text is truncated");
    let texts: Vec<&str> = r.texts.iter().map(String::as_str).collect();
    let ours = enc.encode(&texts, 32).unwrap();
    let (min_cos, max_diff) = compare(&ours, &r.embeddings);
    eprintln!("{name}: min cosine {min_cos:.7}, max |Δ| {max_diff:.2e}");
    assert!(min_cos >= 0.9999, "{name}: min cosine {min_cos}");
    assert!(max_diff <= max_abs, "{name}: max |Δ| {max_diff:e} > {max_abs:e}");
}

fn sha256(path: &std::path::Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

// Tolerances: the bar is cosine ≥ 0.9999 and max |Δ| ≤ 1e-4; measured here (AMD
// EPYC, 2026-12-03) flex 0.9999996 / 2.8e-7, ndarray 0.9999999 / 1.8e-7, wgpu on lavapipe
// 0.9999999 / 4.0e-7, so every backend is held to max |Δ| ≤ 1e-5 (room for another CPU's or
// GPU's summation order and `erf`).

#[test]
fn minilm_matches_sentence_transformers_on_flex() {
    check_on(&Device::flex(), "minilm_matches_sentence_transformers_on_flex", 1e-5);
}

#[test]
#[allow(deprecated)]
fn minilm_matches_sentence_transformers_on_ndarray() {
    check_on(&Device::ndarray(), "minilm_matches_sentence_transformers_on_ndarray", 1e-5);
}

/// wgpu needs a Vulkan adapter (Mesa's lavapipe without a GPU): skipped without a Vulkan
/// driver, unless `BURNREC_REQUIRE_WGPU=1` (CI) demands it.
#[test]
fn minilm_matches_sentence_transformers_on_wgpu() {
    let name = "minilm_matches_sentence_transformers_on_wgpu";
    let required = std::env::var("BURNREC_REQUIRE_WGPU").is_ok_and(|v| v == "1");
    let vulkan = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"].iter().any(|d| std::fs::read_dir(d).is_ok_and(|mut e| e.next().is_some()));
    if !required && !vulkan {
        eprintln!("SKIPPED {name}: no Vulkan driver (install mesa-vulkan-drivers)");
        return;
    }
    check_on(&Device::wgpu(Default::default()), name, 1e-5);
}
