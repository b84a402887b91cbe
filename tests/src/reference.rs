//! The search rules of API.md applied to every product in turn: the
//! reference the index-backed search is checked against (the property test
//! and the bench's worst cases).

use std::cmp::Reverse;

use galley_shared::catalog::Product;
use galley_shared::search::{ProductQuery, title_key, words};

/// The ids of every product `query` finds, in ranking order.
pub fn brute_force(catalog: &[Product], query: &ProductQuery) -> Vec<String> {
    let mut matches: Vec<(Reverse<u32>, String, String)> = Vec::new();
    for p in catalog {
        if !query.filter.admits(&p.category, p.price.amount) {
            continue;
        }
        let (title, description) = (words(&p.title), words(&p.description));
        // The spec (API.md): repeated words count once; the last word also
        // matches as a prefix, which an exact use of the same word implies.
        let mut asked: Vec<(String, bool)> = Vec::new();
        if let Some((last, exact)) = query.words.split_last() {
            for word in exact {
                if !asked.iter().any(|(w, _)| w == word) {
                    asked.push((word.clone(), false));
                }
            }
            if !asked.iter().any(|(w, _)| w == last) {
                asked.push((last.clone(), true));
            }
        }
        let mut title_words = 0;
        let all_match = asked.iter().all(|(qw, prefix)| {
            let hit = |w: &String| if *prefix { w.starts_with(qw.as_str()) } else { w == qw };
            let in_title = title.iter().any(hit);
            title_words += u32::from(in_title);
            in_title || description.iter().any(hit)
        });
        if all_match {
            matches.push((Reverse(title_words), title_key(&p.title, &p.id), p.id.to_string()));
        }
    }
    if query.words.is_empty() {
        matches.iter_mut().for_each(|m| m.0 = Reverse(0));
    }
    matches.sort();
    matches.into_iter().map(|(_, _, id)| id).collect()
}
