//! The Lambda harness behind `bench-lambda`: a Runtime API to start function
//! binaries against, the requests each route takes, an SDK HTTP client that
//! counts round trips, and the plot of the results.

pub mod capacity;
pub mod cost;
pub mod emf;
pub mod events;
pub mod launch;
pub mod plot;
pub mod rig;
pub mod routes;
pub mod runtime_api;
pub mod stamped;
pub mod trips;
