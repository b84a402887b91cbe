//! Galley's benchmarks (not tests): harness parts shared by the binaries in
//! `src/bin/`. Results go to BENCHMARKS.md with the command that made them.

pub mod counting;
pub mod lambda;
pub mod stats;
