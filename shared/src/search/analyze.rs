//! Text analysis: the one function that turns text into words, used both
//! when a product is indexed and when a query is read.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::catalog::Product;
use crate::id::ProductId;

/// Longer words are cut to this many characters, at indexing and at query
/// time alike, which keeps index keys within every store's key size limit.
pub const MAX_WORD_CHARS: usize = 64;

/// Lowercase, compatibility-decomposed, accents removed: "Café" → "cafe".
pub fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect::<String>().nfkd().filter(|c| !is_combining_mark(*c)).collect()
}

/// The words of a text, in order: folded, split on anything that is not a
/// letter or digit. Nothing else is dropped: no stop words, no stemming, so a
/// shopper finds what they typed.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_WORD_CHARS).collect())
        .collect()
}

/// The key the catalog is ordered by: the folded title, then the id to break
/// ties between equal titles. U+001F sorts below every printable character,
/// so "Mug" comes before "Mug Blue".
pub fn title_key(title: &str, id: &ProductId) -> String {
    format!("{}\u{1f}{id}", fold(title))
}

/// The distinct terms of a product and whether each appears in the title.
pub fn index_entries(product: &Product) -> BTreeMap<String, bool> {
    let mut entries = BTreeMap::new();
    for word in words(&product.description) {
        entries.insert(word, false);
    }
    for word in words(&product.title) {
        entries.insert(word, true);
    }
    entries
}

/// Every leading part (1 character up to the whole) of each term, and whether
/// any term it leads is in the title: what a prefix lookup of the last query
/// word must find, for stores that key index entries by prefix.
pub fn prefix_entries(entries: &BTreeMap<String, bool>) -> BTreeMap<String, bool> {
    let mut prefixes: BTreeMap<String, bool> = BTreeMap::new();
    for (term, &in_title) in entries {
        for (end, c) in term.char_indices() {
            let slot = prefixes.entry(term[..end + c.len_utf8()].to_owned()).or_default();
            *slot |= in_title;
        }
    }
    prefixes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(words("Café Crème BRÛLÉE"), ["cafe", "creme", "brulee"]);
        assert_eq!(words("Jalapeño"), words("jalapeno"));
        assert_eq!(fold("ﬁne"), "fine", "compatibility ligature");
    }

    #[test]
    fn splits_on_everything_but_letters_and_digits() {
        assert_eq!(words("Chef's Knife, 20 cm!"), ["chef", "s", "knife", "20", "cm"]);
        assert_eq!(words("blue-black  ink/pen"), ["blue", "black", "ink", "pen"]);
        assert_eq!(words("  ...  "), Vec::<String>::new());
        assert_eq!(words("日本 茶"), ["日本", "茶"]);
    }

    #[test]
    fn long_words_are_cut_the_same_way_everywhere() {
        let long = "a".repeat(500);
        assert_eq!(words(&long)[0].chars().count(), MAX_WORD_CHARS);
    }

    #[test]
    fn prefixes_cover_every_leading_part_and_merge_title_flags() {
        let entries = BTreeMap::from([("mug".to_owned(), false), ("mé".to_owned(), true)]);
        let prefixes = prefix_entries(&entries);
        let got: Vec<(&str, bool)> = prefixes.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        assert_eq!(got, [("m", true), ("mu", false), ("mug", false), ("mé", true)]);
    }

    #[test]
    fn title_key_orders_by_folded_title_then_id() {
        let a = ProductId::parse("b").unwrap();
        let b = ProductId::parse("a").unwrap();
        assert!(title_key("Mug", &a) < title_key("mug blue", &b));
        assert!(title_key("Éclair", &a) < title_key("Fork", &a));
        assert!(title_key("Mug", &b) < title_key("Mug", &a));
    }
}
