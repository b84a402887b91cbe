use async_trait::async_trait;

use crate::error::Error;
use crate::id::ProductId;
use crate::search::{Posting, Term, TitleFrom, TitleRun};

/// The inverted index over the catalog, kept by the store whenever products
/// are written, so a written product is searchable at once.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Every product matching `term`, one posting each (for a prefix,
    /// `in_title` if any matching term is in the title); `None` when more
    /// than `limit` products match, so a very common word costs a bounded
    /// read instead of its whole list.
    async fn postings(&self, term: Term<'_>, limit: usize) -> Result<Option<Vec<Posting>>, Error>;

    /// The postings of `term` among `ids` only, as `postings` would give
    /// them: a probe by key, for a word too common to read whole.
    async fn postings_among(&self, term: Term<'_>, ids: &[ProductId]) -> Result<Vec<Posting>, Error>;

    /// Whether `postings_in_title_order` reads `term`'s own postings (an
    /// index range, or a merge of a few), rather than walking the catalog
    /// and probing each product: a join probes such a term instead.
    async fn title_ordered(&self, term: Term<'_>) -> Result<bool, Error>;

    /// `term`'s postings in title order from `from` (with `titles_only`,
    /// only those where the term is in the title), from at most `read`
    /// index entries (or products, where the store walks its catalog to
    /// serve a term in title order): what a query made only of common words
    /// joins, one bounded stretch at a time (`search::join`).
    async fn postings_in_title_order(
        &self,
        term: Term<'_>,
        from: TitleFrom<'_>,
        read: usize,
        titles_only: bool,
    ) -> Result<TitleRun, Error>;
}
