use async_trait::async_trait;

use crate::error::Error;
use crate::search::Posting;

/// The inverted index over the catalog, kept by the store whenever products
/// are written, so a written product is searchable at once.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Products holding exactly this term, one posting each.
    async fn postings(&self, term: &str) -> Result<Vec<Posting>, Error>;

    /// Products holding some term that starts with `prefix`, one posting
    /// each (`in_title` if any such term is in the title).
    async fn prefix_postings(&self, prefix: &str) -> Result<Vec<Posting>, Error>;
}
