//! Build script of every function crate: links its binaries as position-
//! dependent executables (`-no-pie`), as Go links its Lambda binaries.
//!
//! A PIE is relocated by the loader at every start: 32 000 relative
//! relocations in a function binary, about a millisecond, most of the gap
//! between a function's cold start and the hello-world floor's. A fixed
//! address costs the executable image its ASLR; the heap, stack, shared
//! libraries and the microVM around the process keep theirs.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
