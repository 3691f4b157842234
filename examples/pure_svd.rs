//! PureSVD (Cremonesi, Koren & Turrin 2010): a rank-50 truncated SVD of the rating matrix by
//! randomized range finding (Halko et al. 2011) with faer, on the bundled dataset,
//! leave-one-out, full ranking.
//!
//! Run: `cargo run --release --example pure_svd`
use burnrec::data::split::leave_one_out;
use burnrec::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = DatasetSpec::Bundled.load(&LoadOptions::default())?;
    let split = leave_one_out(&data.interactions, &data.items)?;
    let pop = PopularityParams.fit(&split.train)?;
    let model = PureSvdParams::default().fit(&split.train)?;
    println!("top singular values: {:?}", &model.singular_values[..5]);
    for (name, m) in [("popularity", &pop as &dyn RatingPredictor), ("PureSVD-50", &model)] {
        let r = evaluate_full(m, &split.train, &split.test, 10, 256);
        println!("{name}: HR@10 {:.4}, NDCG@10 {:.4}", r.hr, r.ndcg);
    }
    Ok(())
}
