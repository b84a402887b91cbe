//! Generated catalogs: made-up words picked with a skew, as real text is,
//! so a few words are very common and most are rare.

use galley_shared::catalog::{Category, Product};
use galley_shared::id::ProductId;
use galley_shared::money::{Currency, Money};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zu", "ba", "de", "fi", "go", "hu", "ji", "pa", "qu", "ri", "so",
    "ti",
];
pub const CATEGORIES: &[&str] = &["kitchen", "coffee", "home", "outdoor", "stationery", "audio", "garden", "toys"];

/// Words of 2–4 syllables, `size` of them, in a fixed order.
pub fn vocabulary(rng: &mut StdRng, size: usize) -> Vec<String> {
    let mut words = std::collections::BTreeSet::new();
    while words.len() < size {
        let syllables = rng.random_range(2..=4);
        words.insert((0..syllables).map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())]).collect::<String>());
    }
    words.into_iter().collect()
}

fn pick<'a>(rng: &mut StdRng, words: &'a [String]) -> &'a str {
    // Squaring a uniform draw favours the front: a few common words, a long tail.
    let u: f64 = rng.random();
    &words[((u * u) * words.len() as f64) as usize % words.len()]
}

pub fn sentence(rng: &mut StdRng, words: &[String], n: usize) -> String {
    (0..n).map(|_| pick(rng, words)).collect::<Vec<_>>().join(" ")
}

/// `products` products (titles of 2–5 words, descriptions of 10–25, from a
/// 5 000-word vocabulary), the same for the same seed, and the vocabulary.
pub fn generate(products: usize, seed: u64) -> (Vec<Product>, Vec<String>, StdRng) {
    let mut rng = StdRng::seed_from_u64(seed);
    let words = vocabulary(&mut rng, 5_000);
    let usd = Currency::parse("USD").unwrap();
    let catalog = (0..products)
        .map(|i| {
            let title_words = rng.random_range(2..=5);
            let description_words = rng.random_range(10..=25);
            Product {
                id: ProductId::parse(&format!("p{i:06}")).unwrap(),
                title: sentence(&mut rng, &words, title_words),
                description: sentence(&mut rng, &words, description_words),
                category: Category::parse(CATEGORIES[i % CATEGORIES.len()]).unwrap(),
                price: Money::new(rng.random_range(100..50_000), usd).unwrap(),
                image_url: None,
                stock: rng.random_range(0..100),
            }
        })
        .collect();
    (catalog, words, rng)
}

/// Per-cent of titles each planted word is put in: the commonest in a
/// third, as "shirt", "cotton" or "blue" are in an apparel shop's titles.
pub const COMMON_IN_TITLES: [u32; 8] = [33, 25, 20, 15, 12, 10, 8, 6];

/// Puts the vocabulary's last eight words into titles at
/// `COMMON_IN_TITLES`' rates and returns them, commonest first. Words of
/// the vocabulary's tail, so their counts are the planted ones (plus what
/// the skewed draw adds, which is little that far back).
pub fn plant_common_words(catalog: &mut [Product], vocabulary: &[String], rng: &mut StdRng) -> Vec<String> {
    let common: Vec<String> = vocabulary.iter().rev().take(COMMON_IN_TITLES.len()).cloned().collect();
    for product in catalog {
        for (word, percent) in common.iter().zip(COMMON_IN_TITLES) {
            if rng.random_range(0..100) < percent {
                product.title = format!("{word} {}", product.title);
            }
        }
    }
    common
}

/// The search benchmarks' query mix: two words from one product's title,
/// the second cut to a prefix of at least three letters, as typed
/// (URL-encoded, `%20` between the words).
pub fn two_word_queries(catalog: &[Product], rng: &mut StdRng, queries: usize) -> Vec<String> {
    (0..queries)
        .map(|_| {
            let product = &catalog[rng.random_range(0..catalog.len())];
            let title: Vec<&str> = product.title.split(' ').collect();
            let first = title[rng.random_range(0..title.len())];
            let second = title[rng.random_range(0..title.len())];
            let cut = rng.random_range(3..=second.len().max(3)).min(second.len());
            format!("{first}%20{}", &second[..cut])
        })
        .collect()
}
