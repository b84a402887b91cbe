//! Catalog search without a search cluster: the store keeps an inverted index
//! (term → postings), and everything else (intersection, ranking, paging)
//! happens here, so every store answers identically.

mod analyze;
mod join;
mod position;
mod query;
mod rank;
mod scan;
mod service;
mod term;

pub use analyze::{MAX_WORD_CHARS, fold, index_entries, prefix_entries, title_key, words};
pub use join::{TitleFrom, TitleRun};
pub use position::Position;
pub use query::{CatalogFilter, MAX_QUERY_CHARS, ProductQuery};
pub use rank::{Hit, Posting, intersect, page_after};
pub use service::{LIST_BUDGET, PROBE_ABOVE, ProductSearch, SCAN_BUDGET, SearchPage};
pub use term::{MAX_QUERY_WORDS, Term, distinct_words, matches, query_words};
