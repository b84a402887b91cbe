//! The products holding every word of a query, in title order, from each
//! word's postings in title order: a leapfrog join. Each word's list is
//! read a stretch at a time; the word whose next posting comes last in
//! title order says where the others seek to, so titles one word is absent
//! from cost one seek of the others, not a read of their postings there.
//! Where the words are dense and interleaved it reads on, stretch after
//! stretch, as a merge would. Real titles cluster (every "Organic ..."
//! together), so common words often share long runs of titles with no
//! product holding both: a join that probed one word's stream for the
//! others read all of them.

use std::collections::VecDeque;

use hashbrown::HashMap;

use crate::error::Error;
use crate::ports::SearchIndex;

use super::query::CatalogFilter;
use super::rank::{Hit, Posting};
use super::term::Term;

/// Where a read of a term's postings in title order begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TitleFrom<'a> {
    Start,
    /// After this title key.
    After(&'a str),
    /// At this title key, or after it.
    AtOrAfter(&'a str),
}

/// One term's postings in title order, read a stretch at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TitleRun {
    /// The term's postings in the stretch, in title order, one per product.
    pub postings: Vec<Posting>,
    /// The title key the stretch read up to; `None` once it reached the end.
    pub read_up_to: Option<String>,
}

/// Index entries one read asks for at most: a DynamoDB query page of a few
/// tens of kilobytes, a few hundred microseconds of SQLite.
const STRETCH: usize = 256;

/// Entries the read after a seek asks for: a jump often lands where the
/// word is about to be passed again, so it reads little, and doubles while
/// the reads go on in sequence.
const FIRST_READ: usize = 256;

/// Where a cursor reads next.
enum Next {
    From(OwnedFrom),
    /// The buffer holds the rest of the list.
    Ended,
}

enum OwnedFrom {
    Start,
    After(String),
    AtOrAfter(String),
}

impl OwnedFrom {
    fn as_from(&self) -> TitleFrom<'_> {
        match self {
            OwnedFrom::Start => TitleFrom::Start,
            OwnedFrom::After(key) => TitleFrom::After(key),
            OwnedFrom::AtOrAfter(key) => TitleFrom::AtOrAfter(key),
        }
    }
}

struct Cursor<'a> {
    term: Term<'a>,
    titles_only: bool,
    buffer: Vec<Posting>,
    at: usize,
    next: Next,
    read: usize,
}

impl<'a> Cursor<'a> {
    fn new(term: Term<'a>, after: Option<&str>, titles_only: bool) -> Self {
        let from = after.map_or(OwnedFrom::Start, |key| OwnedFrom::After(key.to_owned()));
        Self { term, titles_only, buffer: Vec::new(), at: 0, next: Next::From(from), read: FIRST_READ }
    }

    /// A cursor over a term's postings read whole, in title order: those
    /// after `after` (and in the title, with `titles_only`).
    fn whole(term: Term<'a>, postings: &[Posting], after: Option<&str>, titles_only: bool) -> Self {
        let from = after.map_or(0, |key| postings.partition_point(|p| p.title_key.as_str() <= key));
        let buffer = postings[from..].iter().filter(|p| p.in_title || !titles_only).cloned().collect();
        Self { term, titles_only, buffer, at: 0, next: Next::Ended, read: FIRST_READ }
    }

    /// Reads the next stretch if the buffer is used up, at most `share`
    /// entries: whether the cursor has a head, a stretch without postings
    /// (up to a key), or the list ended.
    async fn fill(&mut self, index: &dyn SearchIndex, spent: &mut usize, share: usize) -> Result<Fill, Error> {
        if self.at < self.buffer.len() {
            return Ok(Fill::Head);
        }
        let from = match std::mem::replace(&mut self.next, Next::Ended) {
            Next::Ended => return Ok(Fill::Ended),
            Next::From(from) => from,
        };
        let read = self.read.min(share);
        self.read = (self.read * 2).min(STRETCH);
        let run = index.postings_in_title_order(self.term, from.as_from(), read, self.titles_only).await?;
        // A full read counts what it asked for: a store that walks its
        // catalog, or filters to titles, reads that many entries.
        *spent += if run.read_up_to.is_some() { read } else { run.postings.len().max(1) };
        self.buffer = run.postings;
        self.at = 0;
        self.next = run.read_up_to.clone().map_or(Next::Ended, |key| Next::From(OwnedFrom::After(key)));
        Ok(match (self.buffer.is_empty(), run.read_up_to) {
            (false, _) => Fill::Head,
            (true, Some(key)) => Fill::Passed(key),
            (true, None) => Fill::Ended,
        })
    }

    /// The head; call after `fill` said there is one.
    fn head(&self) -> &Posting {
        &self.buffer[self.at]
    }

    /// Moves to the first posting at `key` or after it: within the buffer,
    /// or by a jump the next `fill` reads from.
    fn seek(&mut self, key: &str) {
        self.at += self.buffer[self.at..].partition_point(|p| p.title_key.as_str() < key);
        if self.at == self.buffer.len() && matches!(self.next, Next::From(_)) {
            self.next = Next::From(OwnedFrom::AtOrAfter(key.to_owned()));
            self.read = FIRST_READ;
        }
    }
}

/// What a cursor's read found.
enum Fill {
    Head,
    /// A stretch without postings: no product up to this key holds the term.
    Passed(String),
    Ended,
}

/// What the join gives next.
#[derive(Debug)]
pub enum Step {
    /// A product holding every word, admitted by the filter.
    Hit(Hit),
    /// No product after the last one given holds every word.
    End,
    /// The budget is spent; `Join::decided` says where to resume.
    Spent,
}

/// The leapfrog over the terms read in title order.
struct Leapfrog<'a> {
    index: &'a dyn SearchIndex,
    filter: &'a CatalogFilter,
    cursors: Vec<Cursor<'a>>,
    budget: usize,
    spent: usize,
    decided: Option<String>,
}

impl Leapfrog<'_> {
    async fn next(&mut self) -> Result<Step, Error> {
        loop {
            if self.spent >= self.budget && self.decided.is_some() {
                return Ok(Step::Spent);
            }
            // Each word's reads within its share of the budget, so a tiny
            // budget still decides a few titles a page.
            let share = (self.budget / self.cursors.len().max(1)).max(1);
            let mut passed = None;
            for cursor in &mut self.cursors {
                match cursor.fill(self.index, &mut self.spent, share).await? {
                    Fill::Head => {}
                    Fill::Ended => return Ok(Step::End),
                    Fill::Passed(key) => {
                        passed = Some(key);
                        break;
                    }
                }
            }
            if let Some(key) = passed {
                // Nothing up to `key` holds every term: decided, and the
                // budget is looked at again before the next read.
                if self.decided.as_deref().is_none_or(|decided| decided < key.as_str()) {
                    self.decided = Some(key);
                }
                continue;
            }
            let last = self.cursors.iter().map(|c| c.head().title_key.as_str()).max().unwrap_or_default();
            if self.cursors.iter().all(|c| c.head().title_key == last) {
                let head = self.cursors[0].head();
                let title_words = self.cursors.iter().map(|c| u32::from(c.head().in_title)).sum();
                let admitted = self.filter.admits(&head.category, head.price.amount);
                let hit = Hit { product_id: head.product_id.clone(), title_words, title_key: head.title_key.clone() };
                for cursor in &mut self.cursors {
                    cursor.at += 1;
                }
                self.decided = Some(hit.title_key.clone());
                if admitted {
                    return Ok(Step::Hit(hit));
                }
                continue;
            }
            // Some word has no posting from the others' heads up to `last`:
            // no product before it holds every word.
            let last = last.to_owned();
            let passed = self.cursors.iter().map(|c| c.head().title_key.as_str()).filter(|k| *k < last.as_str()).max();
            self.decided = passed.map(str::to_owned).or(self.decided.take());
            for cursor in &mut self.cursors {
                cursor.seek(&last);
            }
        }
    }
}

/// How a join reads one of its terms.
#[derive(Clone, Copy, Debug)]
pub enum Read<'a> {
    /// In title order, a stretch at a time (`SearchIndex::title_ordered`).
    InTitleOrder,
    /// Probed by key for the products the other terms match.
    ByKey,
    /// Already read whole (a prefix of many words with few postings),
    /// sorted by title key.
    Whole(&'a [Posting]),
}

/// Candidates probed at once for the prefixes, doubling up to the most.
const FIRST_BATCH: usize = 32;
const MOST_BATCH: usize = 256;

/// The products holding every term of a query, in title order. The terms
/// the store reads in title order are joined so; the others (a prefix
/// spanning many words, which a store may serve in title order only by
/// walking its catalog) are probed by key for the join's matches, a batch
/// at a time: a probe is one seek. A term read whole instead drives the
/// join alone, its postings sorted by title, and every other term is
/// probed: a prefix of many rare words has far fewer postings than the
/// common word it comes with, so its candidates are few and most of them
/// hits.
pub struct Join<'a> {
    frog: Leapfrog<'a>,
    probes: Vec<Term<'a>>,
    titles_only: bool,
    ready: VecDeque<Hit>,
    batch: usize,
    probed: usize,
    decided: Option<String>,
}

impl<'a> Join<'a> {
    /// The join of `terms` after the title key `after`, reading about
    /// `budget` index entries at most: it stops once it has decided at
    /// least one title and spent the budget. Each term comes with how it is
    /// read: the shortest list read whole, if any, drives; otherwise the
    /// terms read in title order are joined and the rest probed, unless
    /// none is read in title order (then all are).
    /// With `titles_only`, only products holding every term in the title.
    pub fn new(
        index: &'a dyn SearchIndex,
        terms: &[(Term<'a>, Read<'a>)],
        filter: &'a CatalogFilter,
        after: Option<&str>,
        budget: usize,
        titles_only: bool,
    ) -> Self {
        let driver = terms
            .iter()
            .enumerate()
            .filter_map(|(i, (_, read))| match read {
                Read::Whole(postings) => Some((i, postings.len())),
                _ => None,
            })
            .min_by_key(|&(_, len)| len)
            .map(|(i, _)| i);
        let (cursors, probes) = match driver {
            Some(at) => {
                let (term, read) = terms[at];
                let Read::Whole(postings) = read else { unreachable!("the driver is read whole") };
                let probes = terms.iter().enumerate().filter(|&(i, _)| i != at).map(|(_, (term, _))| *term);
                (vec![Cursor::whole(term, postings, after, titles_only)], probes.collect())
            }
            None => {
                let any_ordered = terms.iter().any(|(_, read)| matches!(read, Read::InTitleOrder));
                let (read, probed): (Vec<_>, Vec<_>) =
                    terms.iter().partition(|(_, read)| matches!(read, Read::InTitleOrder) || !any_ordered);
                let cursors = read.into_iter().map(|(term, _)| Cursor::new(term, after, titles_only)).collect();
                (cursors, probed.into_iter().map(|(term, _)| term).collect())
            }
        };
        let frog = Leapfrog { index, filter, cursors, budget, spent: 0, decided: None };
        Self { frog, probes, titles_only, ready: VecDeque::new(), batch: FIRST_BATCH, probed: 0, decided: None }
    }

    /// Index entries read so far, keys probed included.
    pub fn spent(&self) -> usize {
        self.frog.spent + self.probed
    }

    /// The last title key decided: every product up to it was given or
    /// holds not every word. A page that stops here resumes after it.
    pub fn decided(&self) -> Option<&str> {
        if self.probes.is_empty() { self.frog.decided.as_deref() } else { self.decided.as_deref() }
    }

    pub async fn next(&mut self) -> Result<Step, Error> {
        if self.probes.is_empty() {
            return self.frog.next().await;
        }
        loop {
            if let Some(hit) = self.ready.pop_front() {
                return Ok(Step::Hit(hit));
            }
            let budget = self.frog.budget;
            let mut batch = Vec::new();
            let mut stopped = None;
            while batch.len() < self.batch {
                if self.spent() >= budget && self.frog.decided.is_some() {
                    stopped = Some(Step::Spent);
                    break;
                }
                match self.frog.next().await? {
                    Step::Hit(hit) => batch.push(hit),
                    other => {
                        stopped = Some(other);
                        break;
                    }
                }
            }
            self.batch = (self.batch * 2).min(MOST_BATCH);
            for &term in &self.probes {
                if batch.is_empty() {
                    break;
                }
                let ids: Vec<_> = batch.iter().map(|hit: &Hit| hit.product_id.clone()).collect();
                self.probed += ids.len();
                let held = self.frog.index.postings_among(term, &ids).await?;
                let in_title: HashMap<&str, bool> = held
                    .iter()
                    .filter(|p| p.in_title || !self.titles_only)
                    .map(|p| (p.product_id.as_str(), p.in_title))
                    .collect();
                batch.retain_mut(|hit| match in_title.get(hit.product_id.as_str()) {
                    Some(&title) => {
                        hit.title_words += u32::from(title);
                        true
                    }
                    None => false,
                });
            }
            self.ready.extend(batch);
            self.decided = self.frog.decided.clone();
            if let Some(stop) = stopped.filter(|_| self.ready.is_empty()) {
                return Ok(stop);
            }
        }
    }
}
