//! Integration tests of the whole pipeline (one test binary; see `tests/integration/*.rs`).

mod backends;
mod coldstart;
mod movielens;
mod pipeline;

/// Burn's CPU backends draw dropout masks from one process-wide generator, which every
/// training run reseeds (`Device::seed`): the tests that train Burn models hold this lock, so
/// that a test running concurrently cannot reseed it in the middle of another's training (the
/// masks, and the results with them, would change from run to run).
pub fn burn_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
