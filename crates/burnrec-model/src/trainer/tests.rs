//! Tests of the one trainer.

use super::*;

fn r(user: u32, item: u32, label: f32) -> Rating {
    Rating { user, item, rating: label, timestamp: None }
}

#[test]
fn complete_groups_drops_positives_short_of_negatives() {
    // Groups of 1 + 2: user 0's first positive has both negatives, its second only one
    // (not what the sampler produces — it draws with replacement — but the rule is by
    // count), user 1's has both.
    let samples = vec![r(0, 1, 1.0), r(0, 5, 0.0), r(0, 6, 0.0), r(0, 2, 1.0), r(0, 5, 0.0), r(1, 3, 1.0), r(1, 4, 0.0), r(1, 0, 0.0)];
    let kept = complete_groups(samples.clone(), 3);
    assert_eq!(kept, [&samples[0..3], &samples[5..8]].concat());
    // A positive with no negative at all (last in the batch) is dropped too.
    assert_eq!(complete_groups(vec![r(0, 1, 1.0), r(2, 2, 1.0)], 2), Vec::<Rating>::new());
    assert_eq!(complete_groups(Vec::new(), 3), Vec::<Rating>::new());
}
