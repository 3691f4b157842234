//! Serde for a large `Vec<f32>`: written as a base64 string of its little-endian bytes (bit
//! exact, compact), read from that string or from a JSON number array (format 1 files).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::{Error, SeqAccess, Visitor};
use serde::{Deserializer, Serializer};

/// Writes `values` as one base64 string.
///
/// # Errors
/// Whatever the serializer reports.
pub fn serialize<S: Serializer>(values: &[f32], s: S) -> Result<S::Ok, S::Error> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    s.serialize_str(&STANDARD.encode(bytes))
}

/// Reads a base64 string of little-endian `f32`s, or an array of numbers.
///
/// # Errors
/// Invalid base64, a byte count that is not a multiple of 4, or a non-number in an array.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    d.deserialize_any(Blob)
}

struct Blob;

impl<'de> Visitor<'de> for Blob {
    type Value = Vec<f32>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a base64 string of little-endian f32 values, or an array of numbers")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Vec<f32>, E> {
        let bytes = STANDARD.decode(text).map_err(|e| E::custom(format!("f32 blob: {e}")))?;
        if bytes.len() % 4 != 0 {
            return Err(E::custom(format!("f32 blob: {} bytes is not a whole number of f32 values", bytes.len())));
        }
        Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f32>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element::<f32>()? {
            out.push(v);
        }
        Ok(out)
    }
}
