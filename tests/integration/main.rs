//! Integration tests of the whole pipeline (one test binary; see `tests/integration/*.rs`).

mod backends;
mod movielens;
mod pipeline;
