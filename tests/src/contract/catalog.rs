//! Catalog, stock and search index contract cases.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::catalog::Category;
use galley_shared::id::ProductId;
use galley_shared::ports::{Catalog, Written};
use galley_shared::search::{CatalogFilter, Posting, Term, TitleFrom};
use galley_shared::stock::{Quantity, Shortage, StockLine};

use super::Store;
use crate::fixtures::product;

fn line(id: &str, units: u32) -> StockLine {
    StockLine { product_id: ProductId::parse(id).unwrap(), quantity: Quantity::new(units).unwrap() }
}

fn id(raw: &str) -> ProductId {
    ProductId::parse(raw).unwrap()
}

pub async fn conditional_put_refuses_an_existing_key(store: Arc<impl Store>) {
    let original = product("p1", 5);
    assert_eq!(Catalog::create(&*store, &original).await.unwrap(), Written::Created);
    let mut rival = product("p1", 99);
    rival.title = "Rival".into();
    assert_eq!(Catalog::create(&*store, &rival).await.unwrap(), Written::AlreadyExists);
    assert_eq!(store.product(&id("p1")).await.unwrap(), Some(original));
}

pub async fn upsert_writes_and_rewrites_products(store: Arc<impl Store>) {
    let mut mug = product("mug", 3);
    mug.image_url = Some("https://cdn.example/mug.png".into());
    let products = vec![mug.clone(), product("pan", 0)];
    assert_eq!(store.upsert(&products).await.unwrap().written, 2);
    assert_eq!(store.product(&id("mug")).await.unwrap(), Some(mug.clone()));
    mug.title = "Mug v2".into();
    mug.stock = 7;
    mug.image_url = None;
    store.upsert(std::slice::from_ref(&mug)).await.unwrap();
    assert_eq!(store.product(&id("mug")).await.unwrap(), Some(mug));
    assert_eq!(store.level(&id("pan")).await.unwrap(), Some(0));
}

pub async fn batch_read_returns_known_products_in_request_order(store: Arc<impl Store>) {
    let many: Vec<_> = (0..130).map(|i| product(&format!("p{i:03}"), i)).collect();
    store.upsert(&many).await.unwrap();
    let wanted = [id("p129"), id("nope"), id("p000"), id("p064")];
    let found = store.products(&wanted).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p129", "p000", "p064"]);
    let all: Vec<_> = many.iter().map(|p| p.id.clone()).collect();
    assert_eq!(store.products(&all).await.unwrap().len(), 130, "reads past one batch");
}

pub async fn empty_catalog_is_reported(store: Arc<impl Store>) {
    assert!(store.is_empty().await.unwrap());
    store.upsert(&[product("a", 1)]).await.unwrap();
    assert!(!store.is_empty().await.unwrap());
    assert_eq!(store.product(&id("missing")).await.unwrap(), None);
}

pub async fn reservation_takes_every_line(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5), product("b", 2)]).await.unwrap();
    store.reserve(&[line("a", 5), line("b", 1)]).await.unwrap();
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(0));
    assert_eq!(store.level(&id("b")).await.unwrap(), Some(1));
    store.release(&[line("a", 2), line("b", 1)]).await.unwrap();
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(2));
    assert_eq!(store.level(&id("b")).await.unwrap(), Some(2));
}

pub async fn transaction_with_one_failing_condition_changes_nothing(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5), product("b", 1), product("c", 3)]).await.unwrap();
    let outcome = store.reserve(&[line("a", 2), line("b", 2), line("c", 3), line("ghost", 1)]).await;
    let Err(Error::OutOfStock(shortages)) = outcome else { panic!("expected out_of_stock, got {outcome:?}") };
    assert_eq!(
        shortages,
        vec![
            Shortage { product_id: id("b"), requested: 2, available: 1 },
            Shortage { product_id: id("ghost"), requested: 1, available: 0 },
        ]
    );
    for (product, level) in [("a", 5), ("b", 1), ("c", 3)] {
        assert_eq!(store.level(&id(product)).await.unwrap(), Some(level), "{product} changed");
    }
}

pub async fn lines_must_name_distinct_products(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5)]).await.unwrap();
    assert!(matches!(store.reserve(&[line("a", 1), line("a", 1)]).await, Err(Error::Internal { .. })));
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(5));
}

/// 50 buyers race for 10 units, one each: exactly 10 win, stock ends at 0,
/// and every loser is told the truth (out of stock, nothing available).
pub async fn concurrent_decrements_never_oversell(store: Arc<impl Store>) {
    store.upsert(&[product("hot", 10)]).await.unwrap();
    let buyers: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.reserve(&[line("hot", 1)]).await })
        })
        .collect();
    let mut sold = 0;
    for buyer in buyers {
        match buyer.await.unwrap() {
            Ok(()) => sold += 1,
            Err(Error::OutOfStock(s)) => assert_eq!(s[0].available, 0),
            Err(other) => panic!("unexpected answer under contention: {other:?}"),
        }
    }
    assert_eq!(sold, 10);
    assert_eq!(store.level(&id("hot")).await.unwrap(), Some(0));
}

/// Every posting of a term, however many.
async fn all(store: &impl Store, term: Term<'_>) -> Vec<Posting> {
    store.postings(term, usize::MAX).await.unwrap().expect("an unbounded read is whole")
}

fn sorted_ids(postings: Vec<Posting>) -> Vec<(String, bool)> {
    let mut ids: Vec<(String, bool)> = postings.into_iter().map(|p| (p.product_id.to_string(), p.in_title)).collect();
    ids.sort();
    ids
}

pub async fn index_finds_terms_and_prefixes(store: Arc<impl Store>) {
    let mut mug = product("mug", 1);
    mug.title = "Blue Mug".into();
    mug.description = "Stoneware, holds café crème.".into();
    let mut mugs = product("mugs", 1);
    mugs.title = "Mugs, set of 4".into();
    mugs.description = "Blue glaze".into();
    store.upsert(&[mug, mugs]).await.unwrap();
    assert_eq!(sorted_ids(all(&*store, Term::Word("blue")).await), [("mug".into(), true), ("mugs".into(), false)]);
    assert_eq!(sorted_ids(all(&*store, Term::Word("cafe")).await), [("mug".into(), false)]);
    assert_eq!(sorted_ids(all(&*store, Term::Word("mu")).await), []);
    assert_eq!(sorted_ids(all(&*store, Term::Prefix("mu")).await), [("mug".into(), true), ("mugs".into(), true)]);
    assert_eq!(sorted_ids(all(&*store, Term::Prefix("st")).await), [("mug".into(), false)]);
    let posting = all(&*store, Term::Word("cafe")).await.remove(0);
    assert_eq!(posting.price.amount, 1999);
    assert_eq!(posting.category.as_str(), "test");
    assert_eq!(posting.title_key, galley_shared::search::title_key("Blue Mug", &id("mug")));
}

pub async fn a_common_term_is_cut_off_and_probed_by_key(store: Arc<impl Store>) {
    let mut products = Vec::new();
    for (i, title) in ["Blue Mug", "Blue Mugs", "Mugs Tree", "Blue Bowl"].iter().enumerate() {
        let mut p = product(&format!("p{i}"), 1);
        p.title = (*title).into();
        p.description = if i == 2 { "For a blue mug or two.".into() } else { "Stoneware.".into() };
        products.push(p);
    }
    store.upsert(&products).await.unwrap();
    // "blue" is on 4 products; "mu…" on 3, p2 under two terms: "mug" in its
    // description, then "mugs" in its title.
    assert_eq!(store.postings(Term::Word("blue"), 3).await.unwrap(), None, "more than the limit: cut off");
    assert_eq!(store.postings(Term::Word("blue"), 4).await.unwrap().map(sorted_ids).unwrap().len(), 4);
    assert_eq!(store.postings(Term::Prefix("mu"), 2).await.unwrap(), None);
    let mu = store.postings(Term::Prefix("mu"), 3).await.unwrap().map(sorted_ids);
    assert_eq!(mu, Some(vec![("p0".into(), true), ("p1".into(), true), ("p2".into(), true)]), "one per product");
    assert_eq!(store.postings(Term::Word("nothing"), 0).await.unwrap(), Some(vec![]));

    let ids = [id("p1"), id("p2"), id("p3"), id("unknown")];
    let blue = sorted_ids(store.postings_among(Term::Word("blue"), &ids).await.unwrap());
    assert_eq!(blue, [("p1".into(), true), ("p2".into(), false), ("p3".into(), true)]);
    let mu = sorted_ids(store.postings_among(Term::Prefix("mu"), &ids).await.unwrap());
    assert_eq!(mu, [("p1".into(), true), ("p2".into(), true)], "several matching terms fold into one posting");
    assert!(store.postings_among(Term::Word("blue"), &[]).await.unwrap().is_empty());
    let probed = store.postings_among(Term::Word("blue"), &ids[..1]).await.unwrap();
    assert_eq!(
        probed,
        all(&*store, Term::Word("blue")).await.into_iter().filter(|p| p.product_id == ids[0]).collect::<Vec<_>>(),
        "a probe gives the posting a read would"
    );

    // A probe for more ids than one DynamoDB batch holds (100).
    let many: Vec<ProductId> = (0..250).map(|i| id(&format!("x{i}"))).chain([id("p0")]).collect();
    assert_eq!(sorted_ids(store.postings_among(Term::Word("blue"), &many).await.unwrap()), [("p0".into(), true)]);
}

/// Ids and `in_title` of a read in title order, and where it stopped.
async fn in_title_order(
    store: &impl Store,
    term: Term<'_>,
    from: TitleFrom<'_>,
    read: usize,
) -> (Vec<(String, bool)>, Option<String>) {
    let run = store.postings_in_title_order(term, from, read, false).await.unwrap();
    (run.postings.into_iter().map(|p| (p.product_id.to_string(), p.in_title)).collect(), run.read_up_to)
}

pub async fn a_term_is_read_in_title_order_from_any_key(store: Arc<impl Store>) {
    // Titles in order: Amber, Blue, Cedar, Dune; "mug" in three titles and
    // one description; "mu…" covers "mug", "mugs" and "muted".
    let mut products = Vec::new();
    for (i, (title, description)) in [
        ("Dune Mug", "Sand glaze"),
        ("Blue Mugs", "A set of mugs"),
        ("Amber Mug", "Muted tones"),
        ("Cedar Tray", "For a mug"),
    ]
    .iter()
    .enumerate()
    {
        let mut p = product(&format!("t{i}"), 1);
        p.title = (*title).into();
        p.description = (*description).into();
        products.push(p);
    }
    store.upsert(&products).await.unwrap();
    let key = |i: usize| galley_shared::search::title_key(&products[i].title, &products[i].id);
    let ids = |list: &[(&str, bool)]| list.iter().map(|(id, title)| ((*id).to_owned(), *title)).collect::<Vec<_>>();

    let whole = in_title_order(&*store, Term::Word("mug"), TitleFrom::Start, 10).await;
    assert_eq!(whole, (ids(&[("t2", true), ("t3", false), ("t0", true)]), None), "in title order, to the end");
    // A full read says where it stopped (a store may stop short of `read`
    // entries, merging ranges): whatever it gave is the list up to there.
    let (first, stopped) = in_title_order(&*store, Term::Word("mug"), TitleFrom::Start, 2).await;
    assert!(!first.is_empty() && whole.0.starts_with(&first), "{first:?}");
    assert_eq!(stopped.as_deref(), Some(first.last().map(|(id, _)| key(id[1..].parse().unwrap())).unwrap().as_str()));
    let after = in_title_order(&*store, Term::Word("mug"), TitleFrom::After(&key(3)), 2).await;
    assert_eq!(after.0, ids(&[("t0", true)]), "after a key excludes it");
    let at = in_title_order(&*store, Term::Word("mug"), TitleFrom::AtOrAfter(&key(3)), 10).await;
    assert_eq!(at.0, ids(&[("t3", false), ("t0", true)]), "at a key includes it");
    // A key no product has: the next one on.
    let between = format!("{}~", key(2));
    let jumped = in_title_order(&*store, Term::Word("mug"), TitleFrom::AtOrAfter(&between), 10).await;
    assert_eq!(jumped.0, ids(&[("t3", false), ("t0", true)]));
    // Titles only: what is in a description is passed over.
    let mut titles = Vec::new();
    let mut from = None::<String>;
    loop {
        let bound = from.as_deref().map_or(TitleFrom::Start, TitleFrom::After);
        let run = store.postings_in_title_order(Term::Word("mug"), bound, 1, true).await.unwrap();
        titles.extend(run.postings.into_iter().map(|p| (p.product_id.to_string(), p.in_title)));
        match run.read_up_to {
            Some(key) => from = Some(key),
            None => break,
        }
    }
    assert_eq!(titles, ids(&[("t2", true), ("t0", true)]), "read one entry at a time");
    let mut titled = Vec::new();
    let mut from = None::<String>;
    loop {
        let bound = from.as_deref().map_or(TitleFrom::Start, TitleFrom::After);
        let run = store.postings_in_title_order(Term::Prefix("mu"), bound, 10, true).await.unwrap();
        titled.extend(run.postings.into_iter().map(|p| p.product_id.to_string()));
        match run.read_up_to {
            Some(key) => from = Some(key),
            None => break,
        }
    }
    assert_eq!(titled, ["t2", "t1", "t0"]);

    // A prefix: one posting per product, in the title if any term is.
    let mut got = Vec::new();
    let mut from = None::<String>;
    loop {
        let bound = from.as_deref().map_or(TitleFrom::Start, TitleFrom::After);
        let (postings, up_to) = in_title_order(&*store, Term::Prefix("mu"), bound, 1).await;
        got.extend(postings);
        match up_to {
            Some(key) => from = Some(key),
            None => break,
        }
    }
    assert_eq!(got, ids(&[("t2", true), ("t1", true), ("t3", false), ("t0", true)]), "read one at a time");
    let (mut at, mut stopped) = in_title_order(&*store, Term::Prefix("mu"), TitleFrom::AtOrAfter(&key(1)), 10).await;
    while let Some(key) = stopped {
        let (more, next) = in_title_order(&*store, Term::Prefix("mu"), TitleFrom::After(&key), 10).await;
        at.extend(more);
        stopped = next;
    }
    assert_eq!(at, ids(&[("t1", true), ("t3", false), ("t0", true)]));
}

pub async fn rewriting_a_product_drops_its_stale_index_entries(store: Arc<impl Store>) {
    let mut p = product("lamp", 1);
    p.title = "Oak Lamp".into();
    store.upsert(std::slice::from_ref(&p)).await.unwrap();
    p.title = "Walnut Lamp".into();
    p.price.amount = 500;
    store.upsert(std::slice::from_ref(&p)).await.unwrap();
    assert!(all(&*store, Term::Word("oak")).await.is_empty());
    assert!(all(&*store, Term::Prefix("oa")).await.is_empty());
    let walnut = all(&*store, Term::Word("walnut")).await;
    assert_eq!(walnut.len(), 1);
    assert_eq!(walnut[0].price.amount, 500, "postings carry the new price");
    assert_eq!(all(&*store, Term::Word("lamp")).await.len(), 1);
}

pub async fn created_products_are_indexed(store: Arc<impl Store>) {
    let mut p = product("kettle", 1);
    p.title = "Gooseneck Kettle".into();
    Catalog::create(&*store, &p).await.unwrap();
    assert_eq!(sorted_ids(all(&*store, Term::Word("gooseneck")).await), [("kettle".into(), true)]);
}

pub async fn listing_is_in_title_order_filtered_and_resumable(store: Arc<impl Store>) {
    let specs = [
        ("c", "Éclair Tin", "kitchen", 300),
        ("a", "apron", "kitchen", 100),
        ("b", "Bowl", "home", 200),
        ("d", "bowl", "kitchen", 400),
    ];
    let products: Vec<_> = specs
        .iter()
        .map(|(raw, title, category, price)| {
            let mut p = product(raw, 1);
            p.title = (*title).into();
            p.category = Category::parse(category).unwrap();
            p.price.amount = *price;
            p
        })
        .collect();
    store.upsert(&products).await.unwrap();
    let titles = |list: Vec<galley_shared::catalog::Product>| list.into_iter().map(|p| p.title).collect::<Vec<_>>();
    let all = CatalogFilter::default();
    assert_eq!(
        titles(store.list(&all, None, 10, 1_000).await.unwrap().products),
        ["apron", "Bowl", "bowl", "Éclair Tin"]
    );
    assert_eq!(titles(store.list(&all, None, 2, 1_000).await.unwrap().products), ["apron", "Bowl"]);
    let after = products[2].title_order_key();
    assert_eq!(titles(store.list(&all, Some(&after), 10, 1_000).await.unwrap().products), ["bowl", "Éclair Tin"]);
    let kitchen = CatalogFilter {
        category: Some(Category::parse("kitchen").unwrap()),
        min_price: Some(100),
        max_price: Some(300),
    };
    assert_eq!(titles(store.list(&kitchen, None, 10, 1_000).await.unwrap().products), ["apron", "Éclair Tin"]);
    assert_eq!(titles(store.list(&kitchen, None, 1, 1_000).await.unwrap().products), ["apron"]);

    // #20 item 2: a read budget bounds one call, however little the filter
    // admits; the listing says where it stopped and the next call resumes.
    let nothing = CatalogFilter { category: Some(Category::parse("none-such").unwrap()), ..CatalogFilter::default() };
    // An index may serve the filter (the embedded store's category index
    // reads nothing here); a store that pages stops at its budget and resumes.
    let mut calls = 0;
    let mut after: Option<String> = None;
    loop {
        calls += 1;
        let page = store.list(&nothing, after.as_deref(), 10, 2).await.unwrap();
        assert!(page.products.is_empty(), "{page:?}");
        match page.read_up_to {
            Some(stop) => after = Some(stop),
            None => break,
        }
        assert!(calls <= products.len() / 2 + 1, "each call reads a new stretch");
    }
    let pricey = CatalogFilter { min_price: Some(250), ..CatalogFilter::default() };
    let mut found = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let page = store.list(&pricey, after.as_deref(), 10, 1).await.unwrap();
        found.extend(titles(page.products.clone()));
        match (page.read_up_to, page.products.last()) {
            (Some(stop), _) => after = Some(stop),
            (None, Some(last)) => after = Some(last.title_order_key()),
            (None, None) => break,
        }
    }
    assert_eq!(found, ["bowl", "Éclair Tin"], "walking the short pages yields every admitted product once");
}
