//! Intersecting postings and ranking the matches.

use std::cmp::Reverse;

use hashbrown::HashMap;

use crate::catalog::Category;
use crate::id::ProductId;
use crate::money::Money;

use super::query::CatalogFilter;

/// One product under one query word, with what ranking and filtering need,
/// so a query never has to read products it will not show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    pub product_id: ProductId,
    /// Whether the word is in the title (else only in the description).
    pub in_title: bool,
    pub title_key: String,
    pub category: Category,
    pub price: Money,
}

/// A product matching every word, with its place in the ranking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub product_id: ProductId,
    /// How many query words the title holds: more ranks higher.
    pub title_words: u32,
    pub title_key: String,
}

impl Hit {
    /// Ranking order: most title words first, then by title.
    pub fn sort_key(&self) -> (Reverse<u32>, &str) {
        (Reverse(self.title_words), &self.title_key)
    }
}

/// Products present in every word's postings (AND) and admitted by the
/// filter, in no particular order. `postings_per_word` holds one list per
/// query word, each with at most one posting per product.
///
/// Only the shortest list is indexed; the longer ones are streamed past it,
/// so a very common word costs one hash probe per posting and no allocation.
pub fn intersect(postings_per_word: &[Vec<Posting>], filter: &CatalogFilter) -> Vec<Hit> {
    let mut lists: Vec<&Vec<Posting>> = postings_per_word.iter().collect();
    // Start from the shortest list: the intersection can only shrink.
    lists.sort_by_key(|list| list.len());
    let mut lists = lists.into_iter();
    let Some(shortest) = lists.next() else { return Vec::new() };
    let candidates: Vec<&Posting> = shortest.iter().filter(|p| filter.admits(&p.category, p.price.amount)).collect();
    let mut title_words: Vec<u32> = candidates.iter().map(|p| u32::from(p.in_title)).collect();
    let mut words_matched = vec![1u32; candidates.len()];
    let by_id: HashMap<&str, usize> = candidates.iter().enumerate().map(|(i, p)| (p.product_id.as_str(), i)).collect();
    let mut words = 1;
    for list in lists {
        words += 1;
        for posting in list {
            if let Some(&i) = by_id.get(posting.product_id.as_str()) {
                words_matched[i] += 1;
                title_words[i] += u32::from(posting.in_title);
            }
        }
    }
    drop(by_id);
    candidates
        .into_iter()
        .zip(title_words)
        .zip(words_matched)
        .filter(|(_, matched)| *matched == words)
        .map(|((posting, title_words), _)| Hit {
            product_id: posting.product_id.clone(),
            title_words,
            title_key: posting.title_key.clone(),
        })
        .collect()
}

/// The page of hits after `after` (a previous page's last hit), in ranking
/// order, at most `take` of them, and whether more follow. Selects before it
/// sorts, so a common word's thousands of matches cost linear time.
pub fn page_after(hits: Vec<Hit>, after: Option<(u32, &str)>, take: usize) -> (Vec<Hit>, bool) {
    let mut rest: Vec<Hit> = match after {
        Some((words, key)) => {
            let resume = (Reverse(words), key);
            hits.into_iter().filter(|hit| hit.sort_key() > resume).collect()
        }
        None => hits,
    };
    let more = rest.len() > take;
    if more {
        rest.select_nth_unstable_by(take, |a, b| a.sort_key().cmp(&b.sort_key()));
        rest.truncate(take);
    }
    rest.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    (rest, more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    /// Every hit in ranking order, as one unbounded page.
    fn rank(postings_per_word: Vec<Vec<Posting>>, filter: &CatalogFilter) -> Vec<Hit> {
        page_after(intersect(&postings_per_word, filter), None, usize::MAX).0
    }

    fn posting(id: &str, in_title: bool, title: &str, category: &str, price: i64) -> Posting {
        Posting {
            product_id: ProductId::parse(id).unwrap(),
            in_title,
            title_key: format!("{title}\u{1f}{id}"),
            category: Category::parse(category).unwrap(),
            price: Money::new(price, Currency::parse("USD").unwrap()).unwrap(),
        }
    }

    fn ids(hits: &[Hit]) -> Vec<&str> {
        hits.iter().map(|h| h.product_id.as_str()).collect()
    }

    #[test]
    fn every_word_must_match_and_title_words_rank_first() {
        let blue = vec![
            posting("a", false, "zebra mug", "k", 100),
            posting("b", true, "blue mug", "k", 100),
            posting("c", true, "blue plate", "k", 100),
            posting("d", false, "azure mug", "k", 100),
        ];
        let mug = vec![
            posting("a", true, "zebra mug", "k", 100),
            posting("b", true, "blue mug", "k", 100),
            posting("d", true, "azure mug", "k", 100),
        ];
        let hits = rank(vec![blue, mug], &CatalogFilter::default());
        // b has both words in its title; a and d one each, ordered by title.
        assert_eq!(ids(&hits), ["b", "d", "a"]);
        assert_eq!(hits[0].title_words, 2);
    }

    #[test]
    fn filters_apply_to_matches() {
        let list = vec![posting("a", true, "a", "kitchen", 500), posting("b", true, "b", "home", 1500)];
        let filter = CatalogFilter { category: Some(Category::parse("home").unwrap()), ..Default::default() };
        assert_eq!(ids(&rank(vec![list.clone()], &filter)), ["b"]);
        let filter = CatalogFilter { min_price: Some(500), max_price: Some(500), ..Default::default() };
        assert_eq!(ids(&rank(vec![list], &filter)), ["a"], "bounds are inclusive");
    }

    #[test]
    fn pages_select_the_next_hits_in_order() {
        let hit = |id: &str, words: u32, key: &str| Hit {
            product_id: ProductId::parse(id).unwrap(),
            title_words: words,
            title_key: key.into(),
        };
        let hits = vec![hit("c", 1, "c"), hit("a", 2, "z"), hit("b", 1, "b"), hit("d", 0, "a")];
        let ids = |page: &[Hit]| page.iter().map(|h| h.product_id.to_string()).collect::<Vec<_>>();
        let (first, more) = page_after(hits.clone(), None, 2);
        assert_eq!((ids(&first), more), (vec!["a".to_owned(), "b".to_owned()], true));
        let (second, more) = page_after(hits.clone(), Some((1, "b")), 2);
        assert_eq!((ids(&second), more), (vec!["c".to_owned(), "d".to_owned()], false));
        assert_eq!(page_after(hits, Some((0, "a")), 2).0.len(), 0);
    }

    #[test]
    fn no_words_no_hits() {
        assert!(rank(vec![], &CatalogFilter::default()).is_empty());
        assert!(rank(vec![vec![posting("a", true, "a", "k", 1)], vec![]], &CatalogFilter::default()).is_empty());
    }
}
