//! Shared by the tuning examples: a settings row is a JSON patch over a params type's defaults.

/// `defaults` with every field of the JSON object `patch` written over it (recursing into
/// nested objects), read back through serde so that unknown fields are errors.
pub fn patched<T: serde::Serialize + serde::de::DeserializeOwned>(defaults: &T, patch: &str) -> Result<T, Box<dyn std::error::Error>> {
    let mut v = serde_json::to_value(defaults)?;
    merge(&mut v, serde_json::from_str(patch)?);
    Ok(serde_json::from_value(v)?)
}

/// Writes every field of `patch` into `base`, recursing into objects.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}
