//! `burnrec models`: the catalogue as a table (or JSON) — every model's name, family,
//! feedback, the data it needs, what it can do when served, and its paper.

use burnrec_zoo::{CATALOGUE, Family, ModelEntry, Need};

use crate::cli::ModelsArgs;

fn family(e: &ModelEntry) -> &'static str {
    match e.family {
        Family::Classic => "classic",
        Family::Content => "content",
        Family::Neural => "neural",
    }
}

fn needs(e: &ModelEntry) -> String {
    let mut v = Vec::new();
    for (what, need) in [
        ("item features", e.needs.item_features),
        ("user features", e.needs.user_features),
        ("timestamps", e.needs.timestamps),
        ("item text (--encoder)", e.needs.item_text),
    ] {
        match need {
            Need::Required => v.push(what.to_string()),
            Need::Optional => v.push(format!("{what} (optional)")),
            Need::No => {}
        }
    }
    if v.is_empty() { "-".into() } else { v.join(", ") }
}

fn serves(e: &ModelEntry) -> String {
    let s = e.serves;
    let v: Vec<&str> = [(s.dot_factors, "factors"), (s.fold_in, "fold-in"), (s.similar, "similar"), (s.user_features, "new users by features")]
        .iter()
        .filter(|x| x.0)
        .map(|x| x.1)
        .collect();
    if v.is_empty() { "-".into() } else { v.join(", ") }
}

/// Runs `burnrec models`.
///
/// # Errors
/// If the JSON cannot be written.
pub fn models(args: &ModelsArgs) -> anyhow::Result<()> {
    if args.json {
        let rows: Vec<serde_json::Value> = CATALOGUE
            .iter()
            .map(|e| {
                serde_json::json!({
                    "name": e.name, "family": family(e), "feedback": format!("{:?}", e.feedback).to_lowercase(),
                    "needs": needs(e), "serves": serves(e), "summary": e.summary, "source": e.source,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!("model\tfamily\tfeedback\tneeds\tserves\tsource\tsummary");
    for e in CATALOGUE {
        println!("{}\t{}\t{:?}\t{}\t{}\t{}\t{}", e.name, family(e), e.feedback, needs(e), serves(e), e.source, e.summary);
    }
    Ok(())
}
