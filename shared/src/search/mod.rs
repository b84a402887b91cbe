//! Catalog search without a search cluster: the store keeps an inverted index
//! (term → postings), and everything else (intersection, ranking, paging)
//! happens here, so every store answers identically.

mod analyze;
mod cursor;
mod query;
mod rank;
mod service;
mod term;

pub use analyze::{MAX_WORD_CHARS, fold, index_entries, prefix_entries, title_key, words};
pub use cursor::{CursorKey, Position};
pub use query::{CatalogFilter, ProductQuery};
pub use rank::{Hit, Posting, intersect, page_after};
pub use service::{PROBE_ABOVE, ProductPage, ProductSearch};
pub use term::Term;
