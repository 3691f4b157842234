//! The Burn MF trains to the same quality on every backend from the same seed.
//!
//! wgpu needs a Vulkan/Metal/DX12 adapter. Without a GPU, Mesa's lavapipe
//! (`apt-get install mesa-vulkan-drivers`) provides one. When no Vulkan driver is installed the
//! wgpu case is skipped with a message, unless `BURNREC_REQUIRE_WGPU=1` (set by `.ci/run`).

use burnrec::data::synthetic::planted_low_rank;
use burnrec::prelude::*;

fn rmse_on(backend: Backend) -> f64 {
    let planted = planted_low_rank(80, 60, 2, 0.4, 0.1, 21);
    let split = random_split(&planted.observed, 0.2, 42).unwrap();
    let params = MfParams {
        dim: 4,
        init_std: 0.1,
        train: TrainConfig { epochs: 30, batch_size: 128, lr: 0.02, l2: 0.002, seed: 9, progress: false, ..Default::default() },
    };
    let model = params.fit(&split.train, &backend.device()).unwrap();
    evaluate_ratings(&model, &split.test, None).unwrap().rmse
}

fn vulkan_driver_present() -> bool {
    ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
        .iter()
        .any(|d| std::fs::read_dir(d).map(|mut e| e.next().is_some()).unwrap_or(false))
}

#[test]
fn ndarray_matches_flex() {
    let (flex, nd) = (rmse_on(Backend::Flex), rmse_on(Backend::Ndarray));
    assert!(flex < 0.45, "flex rmse {flex}");
    assert!((flex - nd).abs() < 0.01, "flex {flex} vs ndarray {nd}");
}

#[test]
fn wgpu_matches_flex() {
    let required = std::env::var("BURNREC_REQUIRE_WGPU").is_ok_and(|v| v == "1");
    if !required && !vulkan_driver_present() {
        eprintln!("SKIPPED wgpu_matches_flex: no Vulkan driver (install mesa-vulkan-drivers)");
        return;
    }
    let (flex, gpu) = (rmse_on(Backend::Flex), rmse_on(Backend::Wgpu));
    assert!((flex - gpu).abs() < 0.01, "flex {flex} vs wgpu {gpu}");
}
