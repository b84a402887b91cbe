//! Ranking a query made only of common words, one bounded stretch at a time.
//!
//! When every word of a query is in more than `PROBE_ABOVE` products, no
//! list is read whole. A short sample of every word's postings in title
//! order says which list is sparsest (its sample reaches furthest); that
//! one is read on, a stretch at a time, and each stretch's products are
//! probed by key for the other words, sparsest first, so candidates drop
//! out early. Ranking is by how many query words a title holds ("level"),
//! then by title, so the page walks the levels from the top: all hits of a
//! level, in title order, before any of the next. A pass over the stream
//! from its start also keeps the first hits of every lower level, so when
//! the stream ends within the budget the page is whole at once.
//!
//! A page reads at most `budget` index entries. When the budget runs out
//! first, the page ends early — short, even empty — with a position saying
//! which level it reached and how far: the next page resumes there. No hit
//! is ever skipped or approximated (API.md: a budget may end a page early
//! with a cursor, never drop a hit).

use futures_util::future::try_join_all;
use hashbrown::HashMap;

use crate::error::Error;
use crate::ports::SearchIndex;

use super::query::CatalogFilter;
use super::rank::{Hit, Posting};
use super::term::Term;

/// Index entries one store call reads: a DynamoDB query page of a few tens
/// of kilobytes, a few hundred microseconds of SQLite.
const STRETCH: usize = 250;

/// Postings per word read to compare the words' densities (at most half
/// the budget goes on samples).
const SAMPLE: usize = 64;

/// One stretch of a term's postings in title order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TitleRun {
    /// The term's postings in the stretch, in title order, one per product.
    pub postings: Vec<Posting>,
    /// The title key the stretch read up to; `None` once it reached the end.
    pub read_up_to: Option<String>,
}

/// Where a scan resumes: every hit above `level` is already out, and so is
/// every hit at `level` whose title key is up to `after` (`None`: none yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanPosition {
    pub level: u32,
    pub after: Option<String>,
}

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
        let sample_size = (left / (2 * self.terms.len().max(1))).clamp(1, SAMPLE);
        let (stream, probes, mut sample) = self.plan(after.as_deref(), sample_size).await?;
        left = left.saturating_sub(sample_size * self.terms.len()).max(1);
        loop {
            let from_start = after.is_none();
            let mut found: Vec<Vec<Hit>> = vec![Vec::new(); level as usize + 1];
            let mut at = after.take();
            let mut ended = false;
            while left > 0 && page.len() + found[level as usize].len() <= self.limit {
                let run = match sample.take() {
                    Some(run) => run,
                    None => {
                        let read = left.min(STRETCH);
                        left -= read;
                        self.index.postings_in_title_order(stream, at.as_deref(), read).await?
                    }
                };
                for hit in self.probe(&probes, run.postings).await? {
                    let kept = hit.title_words == level || (from_start && hit.title_words < level);
                    let list = &mut found[hit.title_words.min(level) as usize];
                    if kept && list.len() <= self.limit {
                        list.push(hit);
                    }
                }
                match run.read_up_to {
                    Some(key) => at = Some(key),
                    None => {
                        ended = true;
                        break;
                    }
                }
            }
            // Lower levels are whole only when the stream was read from its
            // start to its end in this pass.
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
                return Ok((page, Some(ScanPosition { level, after: at })));
            }
            if complete == 0 || level == 0 {
                return Ok((page, None));
            }
            level -= 1;
        }
    }

    /// Which word to stream and in what order to probe the others: a
    /// sample of every word's postings from `after`, sparsest first (the
    /// sample that reaches furthest in title order, or ends). Returns the
    /// streamed word's sample as its first stretch.
    async fn plan(
        &self,
        after: Option<&str>,
        size: usize,
    ) -> Result<(Term<'_>, Vec<Term<'_>>, Option<TitleRun>), Error> {
        let samples =
            try_join_all(self.terms.iter().map(|&term| self.index.postings_in_title_order(term, after, size))).await?;
        let mut ranked: Vec<(Term<'_>, TitleRun)> = self.terms.iter().copied().zip(samples).collect();
        // Stable: equally sparse words keep the query's order.
        ranked.sort_by(|(_, a), (_, b)| reach(b).cmp(&reach(a)));
        let mut ranked = ranked.into_iter();
        let (stream, sample) = ranked.next().ok_or_else(|| Error::internal("a scan without words"))?;
        Ok((stream, ranked.map(|(term, _)| term).collect(), Some(sample)))
    }

    /// The stretch's products that the filter admits and that hold every
    /// word of `probes`, in title order, ranked. Each probe only asks about
    /// the products still in the running.
    async fn probe(&self, probes: &[Term<'_>], postings: Vec<Posting>) -> Result<Vec<Hit>, Error> {
        let mut running: Vec<(Posting, u32)> = postings
            .into_iter()
            .filter(|p| self.filter.admits(&p.category, p.price.amount))
            .map(|p| {
                let words = u32::from(p.in_title);
                (p, words)
            })
            .collect();
        for &term in probes {
            if running.is_empty() {
                break;
            }
            let ids: Vec<_> = running.iter().map(|(p, _)| p.product_id.clone()).collect();
            let held = self.index.postings_among(term, &ids).await?;
            let in_title: HashMap<&str, bool> = held.iter().map(|p| (p.product_id.as_str(), p.in_title)).collect();
            running.retain_mut(|(p, words)| match in_title.get(p.product_id.as_str()) {
                Some(&title) => {
                    *words += u32::from(title);
                    true
                }
                None => false,
            });
        }
        Ok(running
            .into_iter()
            .map(|(p, title_words)| Hit { product_id: p.product_id, title_words, title_key: p.title_key })
            .collect())
    }
}

/// How far a sample reaches in title order: to the end beats any key.
fn reach(run: &TitleRun) -> (bool, Option<&str>) {
    (run.read_up_to.is_none(), run.read_up_to.as_deref())
}
