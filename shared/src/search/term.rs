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
    /// The index lookups for a query's folded words, in order.
    pub fn for_query(words: &'a [String]) -> Vec<Term<'a>> {
        let last = words.len().saturating_sub(1);
        words.iter().enumerate().map(|(i, w)| if i == last { Term::Prefix(w) } else { Term::Word(w) }).collect()
    }
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
}
