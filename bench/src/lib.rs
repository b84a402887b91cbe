//! Galley's benchmarks (not tests): harness parts shared by the binaries in
//! `src/bin/`. Results go to BENCHMARKS.md with the command that made them.
//!
//! | module     | what it is for                                                   |
//! |------------|------------------------------------------------------------------|
//! | `lambda`   | the Lambda harness: Runtime API, cold starts, warm routes, trips |
//! | `catalog`  | generated catalogs with a realistic skew of common words         |
//! | `counting` | decorators that count store calls                                |
//! | `exact`    | a search page checked against the brute-force reference          |
//! | `stats`    | percentiles and summaries                                        |

pub mod catalog;
pub mod counting;
pub mod exact;
pub mod lambda;
pub mod stats;
