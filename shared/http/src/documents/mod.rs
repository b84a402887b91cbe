//! The JSON documents Galley reads, each parsed into its domain value with
//! every bad field named (`crate::json`).

pub mod admin;
mod cart;
pub mod catalog_lines;
mod product;
pub mod promotion;
mod upload;

pub use cart::{basket, cart};
pub use catalog_lines::{BadLine, ParsedCatalog, parse_catalog};
pub use product::product;
pub use upload::upload_request;
