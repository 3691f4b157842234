//! A tiny random BERT written in Hugging Face's `BertModel` layout by this test's own writer
//! (names and `[out, in]` linear weights spelled out here, independently of the loader's
//! remapping), loaded back through the loading code: the outputs must be equal. Needs no
//! shared files.

use std::path::Path;

use burn::nn::{LayerNorm, Linear};
use burn::tensor::{Device, Tensor};
use burnrec_text::bert::pool;
use burnrec_text::weights::load_bert;
use burnrec_text::{Bert, BertConfig, Pooling, SentenceEncoder, TextError};

fn tiny_config() -> BertConfig {
    serde_json::from_str(TINY_CONFIG).unwrap()
}

const TINY_CONFIG: &str = r#"{"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 12, "hidden_size": 8,
    "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 10,
    "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}"#;

/// A named tensor: `(name, (shape, values))`.
type Named = (String, (Vec<usize>, Vec<f32>));

fn values(t: Tensor<2>) -> (Vec<usize>, Vec<f32>) {
    let dims = t.dims().to_vec();
    (dims, t.into_data().try_to_vec::<f32>().unwrap())
}

fn vector(t: Tensor<1>) -> (Vec<usize>, Vec<f32>) {
    (t.dims().to_vec(), t.into_data().try_to_vec::<f32>().unwrap())
}

/// The tensors of `model` under Hugging Face names, linear weights as `[out, in]`.
fn hf_tensors(model: &Bert) -> Vec<Named> {
    let mut out = Vec::new();
    let mut linear = |name: String, l: &Linear| {
        out.push((format!("{name}.weight"), values(l.weight.val().transpose())));
        out.push((format!("{name}.bias"), vector(l.bias.as_ref().unwrap().val())));
    };
    let mut norms = Vec::new();
    let mut norm = |name: String, n: &LayerNorm| {
        norms.push((format!("{name}.weight"), vector(n.gamma.val())));
        norms.push((format!("{name}.bias"), vector(n.beta.as_ref().unwrap().val())));
    };
    let e = &model.embeddings;
    norm("embeddings.LayerNorm".into(), &e.layer_norm);
    for (k, layer) in model.encoder.layers.iter().enumerate() {
        let p = format!("encoder.layer.{k}");
        linear(format!("{p}.attention.self.query"), &layer.mha.query);
        linear(format!("{p}.attention.self.key"), &layer.mha.key);
        linear(format!("{p}.attention.self.value"), &layer.mha.value);
        linear(format!("{p}.attention.output.dense"), &layer.mha.output);
        linear(format!("{p}.intermediate.dense"), &layer.pwff.linear_inner);
        linear(format!("{p}.output.dense"), &layer.pwff.linear_outer);
        norm(format!("{p}.attention.output.LayerNorm"), &layer.norm_1);
        norm(format!("{p}.output.LayerNorm"), &layer.norm_2);
    }
    out.push(("embeddings.word_embeddings.weight".into(), values(e.word_embeddings.weight.val())));
    out.push(("embeddings.position_embeddings.weight".into(), values(e.position_embeddings.weight.val())));
    out.push(("embeddings.token_type_embeddings.weight".into(), values(e.token_type_embeddings.weight.val())));
    // A tensor the encoder does not use, as real checkpoints have.
    out.push(("pooler.dense.bias".into(), (vec![8], vec![0.5; 8])));
    out.extend(norms);
    out
}

fn write_safetensors(path: &Path, tensors: &[Named]) {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> =
        tensors.iter().map(|(n, (shape, v))| (n.clone(), shape.clone(), v.iter().flat_map(|x| x.to_le_bytes()).collect())).collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> =
        bytes.iter().map(|(n, shape, b)| (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), b).unwrap())).collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

/// Token ids `[3, L]` with padding (id 0) in rows 1 and 2, and the padding flags.
fn batch(device: &Device) -> (Tensor<2, burn::tensor::Int>, Tensor<2, burn::tensor::Bool>) {
    let ids = vec![2i64, 5, 7, 9, 3, 2, 4, 3, 0, 0, 2, 11, 6, 3, 0];
    let pad: Vec<bool> = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1].iter().map(|&p| p == 1).collect();
    (Tensor::from_data(burn::tensor::TensorData::new(ids, [3, 5]), device), Tensor::from_data(burn::tensor::TensorData::new(pad, [3, 5]), device))
}

fn flat(t: Tensor<3>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn hugging_face_layout_round_trips_to_equal_outputs() {
    let device = Device::flex();
    let config = tiny_config();
    let original = Bert::new(&config, &device);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    write_safetensors(&path, &hf_tensors(&original));
    let loaded = load_bert(&config, &path, &device).unwrap();
    let (ids, pad) = batch(&device);
    let a = flat(original.forward(ids.clone(), pad.clone()));
    let b = flat(loaded.forward(ids, pad));
    assert_eq!(a.len(), 3 * 5 * 8);
    assert_eq!(a, b, "the loaded model answers exactly as the one written");
    // A second random model differs (the test would notice a loader that loaded nothing).
    let other = Bert::new(&config, &device);
    let (ids, pad) = batch(&device);
    assert_ne!(flat(other.forward(ids, pad)), a);
}

#[test]
fn missing_or_misshapen_tensors_are_named() {
    let device = Device::flex();
    let config = tiny_config();
    let model = Bert::new(&config, &device);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let all = hf_tensors(&model);
    let without: Vec<_> = all.iter().filter(|t| t.0 != "encoder.layer.1.output.dense.weight").cloned().collect();
    write_safetensors(&path, &without);
    let e = load_bert(&config, &path, &device).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, TextError::Weights { .. }) && msg.contains("model.safetensors") && msg.contains("encoder.layers.1.pwff.linear_outer.weight"), "{msg}");
    let mut bad = all.clone();
    let q = bad.iter_mut().find(|t| t.0 == "encoder.layer.0.attention.self.query.weight").unwrap();
    q.1 = (vec![4, 16], vec![0.0; 64]);
    write_safetensors(&path, &bad);
    let msg = load_bert(&config, &path, &device).unwrap_err().to_string();
    assert!(msg.contains("model.safetensors") && msg.contains("query"), "{msg}");
    std::fs::write(&path, b"not safetensors").unwrap();
    assert!(load_bert(&config, &path, &device).unwrap_err().to_string().contains("model.safetensors"));
}

#[test]
fn mean_pooling_and_normalisation_by_hand() {
    let device = Device::flex();
    let model = Bert::new(&tiny_config(), &device);
    let (ids, pad) = batch(&device);
    let states = flat(model.forward(ids, pad.clone()));
    let pooled = pool(Tensor::from_data(burn::tensor::TensorData::new(states.clone(), [3, 5, 8]), &device), pad, Pooling::Mean, true);
    let pooled = pooled.into_data().try_to_vec::<f32>().unwrap();
    for (row, len) in [(0usize, 5usize), (1, 3), (2, 4)] {
        let mut mean = [0f32; 8];
        for t in 0..len {
            for j in 0..8 {
                mean[j] += states[(row * 5 + t) * 8 + j] / len as f32;
            }
        }
        let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
        for j in 0..8 {
            assert!((pooled[row * 8 + j] - mean[j] / norm).abs() < 1e-6, "row {row}");
        }
    }
}

/// A tiny sentence-transformers folder: the random model, a hand-made WordPiece tokenizer.
fn tiny_folder(dir: &Path, model: &Bert) {
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::bert::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    use tokenizers::processors::bert::BertProcessing;
    let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "toy", "story", "film", "##s", "a", "the", "night", "cafe"];
    let vocab = dir.join("vocab.txt");
    std::fs::write(&vocab, words.join("\n") + "\n").unwrap();
    let wp = WordPiece::from_file(vocab.to_str().unwrap()).unk_token("[UNK]".into()).build().unwrap();
    let mut tok = tokenizers::Tokenizer::new(wp);
    tok.with_normalizer(Some(BertNormalizer::new(true, true, None, true)));
    tok.with_pre_tokenizer(Some(BertPreTokenizer));
    tok.with_post_processor(Some(BertProcessing::new(("[SEP]".into(), 3), ("[CLS]".into(), 2))));
    tok.save(dir.join("tokenizer.json"), false).unwrap();
    std::fs::write(dir.join("config.json"), TINY_CONFIG).unwrap();
    std::fs::write(
        dir.join("modules.json"),
        r#"[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    std::fs::write(dir.join("1_Pooling/config.json"), r#"{"word_embedding_dimension": 8, "pooling_mode_mean_tokens": true}"#).unwrap();
    std::fs::write(dir.join("sentence_bert_config.json"), r#"{"max_seq_length": 6, "do_lower_case": false}"#).unwrap();
    write_safetensors(&dir.join("model.safetensors"), &hf_tensors(model));
}

#[test]
fn sentence_encoder_tokenises_truncates_and_does_not_depend_on_batching() {
    let device = Device::flex();
    let model = Bert::new(&tiny_config(), &device);
    let dir = tempfile::tempdir().unwrap();
    tiny_folder(dir.path(), &model);
    let enc = SentenceEncoder::from_folder(dir.path(), &device).unwrap();
    assert_eq!((enc.dim(), enc.pooling()), (8, Pooling::Mean));
    // Lower-cased; WordPiece: "films" = film ##s.
    assert_eq!(enc.token_ids("Toy Story films").unwrap(), vec![2, 4, 5, 6, 7, 3]);
    assert_eq!(enc.token_ids("").unwrap(), vec![2, 3]);
    // Truncated to max_seq_length = 6 tokens, [SEP] kept last.
    assert_eq!(enc.token_ids("the toy the toy the toy").unwrap(), vec![2, 9, 4, 9, 4, 3]);
    assert_eq!(enc.token_ids("xyz night").unwrap(), vec![2, 1, 10, 3]);
    // Lower-casing strips accents (BERT's uncased normaliser): "café" is "cafe".
    assert_eq!(enc.token_ids("the night café").unwrap(), vec![2, 9, 10, 11, 3]);
    let texts = ["Toy Story films", "a", "", "the night café", "the toy the toy the toy"];
    let one_by_one = enc.encode(&texts, 1).unwrap();
    let together = enc.encode(&texts, 32).unwrap();
    assert_eq!(together.len(), 5 * 8);
    for k in 0..5 {
        let row = &together[k * 8..(k + 1) * 8];
        assert!((row.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-5, "unit norm");
        for j in 0..8 {
            assert!((row[j] - one_by_one[k * 8 + j]).abs() < 1e-5, "text {k}: padding changed the vector");
        }
    }
    // Equals the model run on the text alone, pooled by hand.
    let ids = enc.token_ids("the night café").unwrap();
    let alone = enc.encode_ids(&[&ids]);
    assert!(alone.iter().zip(&together[3 * 8..4 * 8]).all(|(a, b)| (a - b).abs() < 1e-5));
    assert!(matches!(enc.encode(&texts, 0), Err(TextError::Argument(_))));
}

#[test]
fn the_embedding_cache_encodes_each_text_once_and_refuses_a_foreign_file() {
    use burnrec_text::{EmbeddingCache, EncoderFolder};
    let device = Device::flex();
    let model = Bert::new(&tiny_config(), &device);
    let dir = tempfile::tempdir().unwrap();
    tiny_folder(dir.path(), &model);
    let enc = SentenceEncoder::from_folder(dir.path(), &device).unwrap();
    let fp = EncoderFolder::read(dir.path()).unwrap().fingerprint().unwrap();
    assert_eq!(fp.len(), 64);
    let cache_dir = dir.path().join("cache");
    let texts = ["toy story", "the film", "toy story", "a night"];
    let direct = enc.encode(&texts, 2).unwrap();
    let mut cache = EmbeddingCache::open(&cache_dir, &fp, 8).unwrap();
    let (v, encoded) = cache.embed(&enc, &texts, 2).unwrap();
    assert_eq!((encoded, cache.len()), (3, 3), "the repeated text is encoded once");
    for (a, b) in v.iter().zip(&direct) {
        assert!((a - b).abs() < 1e-5);
    }
    // Reopened from disk: nothing to encode, the same bits.
    let mut again = EmbeddingCache::open(&cache_dir, &fp, 8).unwrap();
    let (w, encoded) = again.embed(&enc, &["a night", "toy story"], 2).unwrap();
    assert_eq!(encoded, 0);
    assert_eq!(&w[..8], &v[3 * 8..4 * 8]);
    let (_, encoded) = again.embed(&enc, &["new text"], 2).unwrap();
    assert_eq!((encoded, EmbeddingCache::open(&cache_dir, &fp, 8).unwrap().len()), (1, 4));
    // A different width, or a file that is not a cache, is refused naming the file, and kept.
    let e = EmbeddingCache::open(&cache_dir, &fp, 16).unwrap_err().to_string();
    assert!(e.contains(&format!("{fp}.safetensors")) && e.contains("[n, 16]"), "{e}");
    let path = again.path().to_path_buf();
    std::fs::write(&path, b"junk").unwrap();
    assert!(EmbeddingCache::open(&cache_dir, &fp, 8).unwrap_err().to_string().contains("not a safetensors file"));
    assert_eq!(std::fs::read(&path).unwrap(), b"junk");
    // Another model, another fingerprint.
    std::fs::write(dir.path().join("sentence_bert_config.json"), r#"{"max_seq_length": 5}"#).unwrap();
    assert_ne!(EncoderFolder::read(dir.path()).unwrap().fingerprint().unwrap(), fp);
}
