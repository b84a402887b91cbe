//! The Lambda harness behind `bench-lambda`: a Runtime API to start function
//! binaries against, the two seeded backends (`backed`), the requests each
//! route takes, an SDK HTTP client that counts round trips and what IAM
//! must grant them (`iam`), a forwarder that shows which AWS calls a cold
//! start makes before its first poll (`tap`), and the plot of the results.

pub mod backed;
pub mod capacity;
pub mod cost;
pub mod emf;
pub mod events;
pub mod iam;
pub mod launch;
pub mod plot;
pub mod rig;
pub mod routes;
pub mod runtime_api;
pub mod stamped;
pub mod tap;
pub mod trips;
