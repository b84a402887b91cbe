//! What one query word asks of the index.

/// A query word as the index looks it up: every word but the last must
/// match a term exactly; the last also matches as the start of a term, as
/// a shopper who is still typing expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term<'a> {
    Word(&'a str),
    Prefix(&'a str),
}

impl<'a> Term<'a> {
    /// The index lookups for a query's folded words: each distinct word
    /// once (API.md: repeated words count once, and cost once), in order of
    /// first use; the last word a prefix, unless it is also one of the
    /// exact words, which already asks more of a product.
    pub fn for_query(words: &'a [String]) -> Vec<Term<'a>> {
        let Some((last, exact)) = words.split_last() else { return Vec::new() };
        let mut terms: Vec<Term<'a>> = Vec::with_capacity(words.len());
        for word in exact {
            if !terms.contains(&Term::Word(word)) {
                terms.push(Term::Word(word));
            }
        }
        if !terms.contains(&Term::Word(last)) {
            terms.push(Term::Prefix(last));
        }
        terms
    }
}

impl Term<'_> {
    /// Whether the product holds this term, as the index would find it.
    fn found_in(&self, entries: &std::collections::BTreeMap<String, bool>) -> bool {
        match self {
            Term::Word(word) => entries.contains_key(*word),
            Term::Prefix(prefix) => {
                entries.range(prefix.to_string()..).next().is_some_and(|(t, _)| t.starts_with(prefix))
            }
        }
    }
}

/// Whether `product` matches every one of the folded `words` by the
/// catalog's rules, read from the product itself rather than the index
/// (the back office's search, which covers archived products, unindexed).
pub fn matches(words: &[String], product: &crate::catalog::Product) -> bool {
    let entries = super::analyze::index_entries(product);
    Term::for_query(words).iter().all(|term| term.found_in(&entries))
}

/// The folded words of a `q` parameter, or why it is refused (API.md: at
/// most `MAX_QUERY_CHARS` characters and `MAX_QUERY_WORDS` distinct words).
pub fn query_words(q: &str) -> Result<Vec<String>, String> {
    let folded = super::analyze::words(q);
    if q.chars().count() > super::query::MAX_QUERY_CHARS {
        Err(format!("must be at most {} characters", super::query::MAX_QUERY_CHARS))
    } else if distinct_words(&folded) > MAX_QUERY_WORDS {
        Err(format!("must have at most {MAX_QUERY_WORDS} distinct words"))
    } else {
        Ok(folded)
    }
}

/// The most distinct words a query may have (API.md): each costs a lookup.
pub const MAX_QUERY_WORDS: usize = 8;

/// How many distinct words `words` holds.
pub fn distinct_words(words: &[String]) -> usize {
    let mut seen: Vec<&String> = Vec::with_capacity(words.len());
    for word in words {
        if !seen.contains(&word) {
            seen.push(word);
        }
    }
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_is_a_prefix() {
        let words = ["blue".to_owned(), "mu".to_owned()];
        assert_eq!(Term::for_query(&words), [Term::Word("blue"), Term::Prefix("mu")]);
        assert!(Term::for_query(&[]).is_empty());
    }

    #[test]
    fn repeated_words_are_looked_up_once() {
        let words: Vec<String> = ["a", "a", "mug", "a", "mug"].iter().map(|w| w.to_string()).collect();
        assert_eq!(Term::for_query(&words), [Term::Word("a"), Term::Word("mug")], "the prefix is implied");
        let words: Vec<String> = ["a", "a", "mu"].iter().map(|w| w.to_string()).collect();
        assert_eq!(Term::for_query(&words), [Term::Word("a"), Term::Prefix("mu")]);
        let hundred: Vec<String> = std::iter::repeat_n("a".to_string(), 100).collect();
        assert_eq!(Term::for_query(&hundred), [Term::Word("a")], "an exact \"a\" asks more than the prefix");
        assert_eq!(distinct_words(&hundred), 1);
    }
}
