//! Test support shared by Galley's suites: store fixtures for every adapter
//! and the port contract suite that each adapter must pass.

pub mod contract;
pub mod fixtures;
