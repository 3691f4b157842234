//! Integration tests of the whole pipeline (one test binary; see `tests/integration/*.rs`).

mod backends;
mod coldstart;
mod movielens;
mod pipeline;
