//! Ranking a query made only of common words, one bounded read at a time.
//!
//! When every word of a query is in more than `PROBE_ABOVE` products, no
//! list is read whole: the words' postings are joined in title order
//! (`join`), a stretch at a time. Ranking is by how many query words a
//! title holds ("level"), then by title, so the page walks the levels from
//! the top: all hits of a level, in title order, before any of the next. A
//! pass over the join from its start also keeps the first hits of every
//! lower level, so when the join ends within the budget the page is whole
//! at once. A prefix of many words, which the store cannot read in title
//! order, is read whole if its postings are few and drives the join.
//!
//! A page reads about `budget` index entries at most. When the budget runs
//! out first, the page ends early — short, even empty — with a position
//! saying which level it reached and how far: the next page resumes there.
//! No hit is ever skipped or approximated (API.md: a budget may end a page
//! early with a cursor, never drop a hit).

use futures_util::future::try_join_all;

use crate::error::Error;
use crate::ports::SearchIndex;

use super::join::{Join, Read, Step};
use super::query::CatalogFilter;
use super::rank::Hit;
use super::term::Term;

/// Where a scan resumes: every hit above `level` is already out, and so is
/// every hit at `level` whose title key is up to `after` (`None`: none yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanPosition {
    pub level: u32,
    pub after: Option<String>,
}

/// Postings a term the store cannot read in title order may have to be
/// read whole and drive the join (`join::Read::Whole`): one range of the
/// index, sorted in memory, instead of a probe for each match of the
/// other words.
pub const READ_WHOLE_AT_MOST: usize = 4_000;

pub struct Scan<'a> {
    pub index: &'a dyn SearchIndex,
    pub terms: &'a [Term<'a>],
    pub filter: &'a CatalogFilter,
    pub limit: usize,
    pub budget: usize,
}

impl Scan<'_> {
    /// The page after `from` (`None`: the first), and where the next one
    /// starts (`None` at the end).
    pub async fn page(&self, from: Option<ScanPosition>) -> Result<(Vec<Hit>, Option<ScanPosition>), Error> {
        let top = u32::try_from(self.terms.len()).unwrap_or(u32::MAX);
        let ScanPosition { mut level, mut after } = from.unwrap_or(ScanPosition { level: top, after: None });
        level = level.min(top);
        let mut page: Vec<Hit> = Vec::new();
        let mut left = self.budget.max(1);
        let ordered = try_join_all(self.terms.iter().map(|&term| self.index.title_ordered(term))).await?;
        // A term the store cannot read in title order is read whole when
        // it has few enough postings, once for every level of the page,
        // within half the budget.
        let cap = READ_WHOLE_AT_MOST.min(left / 2);
        let mut wholes = try_join_all(self.terms.iter().zip(&ordered).map(|(&term, &ordered)| async move {
            if ordered || cap == 0 { Ok(None) } else { self.index.postings(term, cap).await }
        }))
        .await?;
        // In title order once, for every level's join to start anywhere in.
        for postings in wholes.iter_mut().flatten() {
            postings.sort_unstable_by(|a, b| a.title_key.cmp(&b.title_key));
        }
        // A list found longer than the cap was read up to it all the same.
        let read: usize = wholes
            .iter()
            .zip(&ordered)
            .map(|(whole, &ordered)| whole.as_ref().map_or(cap * usize::from(!ordered), Vec::len))
            .sum();
        left = left.saturating_sub(read);
        let terms: Vec<(Term<'_>, Read<'_>)> = self
            .terms
            .iter()
            .zip(ordered.iter().zip(&wholes))
            .map(|(&term, (&ordered, whole))| {
                let read = match whole {
                    Some(postings) => Read::Whole(postings),
                    None if ordered => Read::InTitleOrder,
                    None => Read::ByKey,
                };
                (term, read)
            })
            .collect();
        loop {
            // The top level joins title postings only (far fewer, where
            // words are common in descriptions); the levels below, all.
            let titles_only = level == top;
            let from_start = after.is_none() && !titles_only;
            let mut found: Vec<Vec<Hit>> = vec![Vec::new(); level as usize + 1];
            // Below the top level a prefix counts its description words
            // too: far more postings than the common word it comes with,
            // spread through the word's titles, so a join read them through
            // (and spent the budget: 8 of the bench's 500 first pages ended
            // early) where probing it for the word's products costs one
            // key each.
            let level_terms: Vec<(Term<'_>, Read<'_>)> = terms
                .iter()
                .map(|&(term, read)| match (term, read) {
                    (Term::Prefix(_), Read::InTitleOrder) if !titles_only => (term, Read::ByKey),
                    _ => (term, read),
                })
                .collect();
            let mut join = Join::new(self.index, &level_terms, self.filter, after.take().as_deref(), left, titles_only);
            let mut ended = false;
            while page.len() + found[level as usize].len() <= self.limit {
                match join.next().await? {
                    Step::Hit(hit) => {
                        let kept = hit.title_words == level || (from_start && hit.title_words < level);
                        let list = &mut found[hit.title_words.min(level) as usize];
                        if kept && list.len() <= self.limit {
                            list.push(hit);
                        }
                    }
                    Step::End => {
                        ended = true;
                        break;
                    }
                    Step::Spent => break,
                }
            }
            left = left.saturating_sub(join.spent());
            // Lower levels are whole only when the join ran from its start
            // to its end in this pass.
            let complete = if ended && from_start { 0 } else { level };
            for l in (complete..=level).rev() {
                page.append(&mut found[l as usize]);
                if page.len() > self.limit {
                    page.truncate(self.limit);
                    let last = page.last().map(|hit| (hit.title_words, hit.title_key.clone()));
                    return Ok((page, last.map(|(level, key)| ScanPosition { level, after: Some(key) })));
                }
            }
            if !ended {
                let after = join.decided().map(str::to_owned);
                return Ok((page, Some(ScanPosition { level, after })));
            }
            if complete == 0 || level == 0 {
                return Ok((page, None));
            }
            level -= 1;
        }
    }
}
