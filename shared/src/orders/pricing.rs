//! Prices come from the catalog, never from the client, with checked
//! integer arithmetic in one currency; a promotion's discount is taken off
//! the subtotal and shared over the lines. Checkout and its quote price
//! with this one function, so a quote is what checkout would charge.

use serde::Serialize;
use time::OffsetDateTime;

use super::cart::CartLine;
use super::order::{LineView, OrderLine};
use crate::catalog::Product;
use crate::error::{Error, FieldError};
use crate::id::ProductId;
use crate::money::Money;
use crate::promotions::{PromoCode, Promotion, Redemption, spread};

/// A cart priced: its lines (each with its share of the discount), what
/// they add up to, the discount, what the customer pays, and the
/// promotion the order redeems.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub items: Vec<OrderLine>,
    pub subtotal: Money,
    pub discount: Money,
    pub total: Money,
    pub redemption: Option<Redemption>,
}

/// The code a cart names, and the promotion the store holds under it.
#[derive(Clone, Copy, Debug)]
pub struct Offered<'a> {
    pub code: &'a PromoCode,
    pub promotion: Option<&'a Promotion>,
}

/// The cart priced at `now`, or why it cannot be: products the catalog does
/// not have (all of them named), a mix of currencies, or a code that does
/// not apply (`PromoCodeInvalid` with its reason; `PromoCodeExhausted` when
/// its cap is reached as read: the checkout's transaction is what holds it).
pub fn price(
    lines: &[CartLine],
    products: &[Product],
    offered: Option<Offered<'_>>,
    now: OffsetDateTime,
) -> Result<Quote, Error> {
    let (mut items, subtotal) = price_lines(lines, products)?;
    let Some(offered) = offered else {
        return Ok(Quote {
            items,
            subtotal,
            discount: Money::zero(subtotal.currency),
            total: subtotal,
            redemption: None,
        });
    };
    let promotion =
        offered.promotion.ok_or(Error::PromoCodeInvalid { reason: crate::promotions::PromoRefusal::Unknown })?;
    let discount = promotion.discount(subtotal, now).map_err(|reason| Error::PromoCodeInvalid { reason })?;
    if promotion.exhausted() {
        return Err(Error::PromoCodeExhausted);
    }
    let totals: Vec<Money> = items.iter().map(|l| l.line_total).collect();
    for (line, share) in items.iter_mut().zip(spread(discount, &totals)) {
        line.discount = Some(share);
    }
    let total = Money { amount: subtotal.amount - discount.amount, currency: subtotal.currency };
    let redemption =
        Redemption { code: promotion.code.clone(), discount, once_per_customer: promotion.once_per_customer };
    Ok(Quote { items, subtotal, discount, total, redemption: Some(redemption) })
}

/// The lines priced from the catalog, and what they add up to.
fn price_lines(lines: &[CartLine], products: &[Product]) -> Result<(Vec<OrderLine>, Money), Error> {
    let find = |id: &ProductId| products.iter().find(|p| &p.id == id);
    let unknown: Vec<ProductId> =
        lines.iter().filter(|l| find(&l.product_id).is_none()).map(|l| l.product_id.clone()).collect();
    if !unknown.is_empty() {
        return Err(Error::UnknownProduct(unknown));
    }
    let overflow = || Error::Validation(vec![FieldError::new("items", "the order total is too large")]);
    let mut priced = Vec::with_capacity(lines.len());
    let mut total: Option<Money> = None;
    for line in lines {
        let product = find(&line.product_id).expect("checked above");
        let line_total = product.price.times(line.quantity.get()).ok_or_else(overflow)?;
        total = Some(match total {
            None => line_total,
            Some(sum) if sum.currency != line_total.currency => {
                return Err(Error::Validation(vec![FieldError::new(
                    "items",
                    "must all be priced in one currency; order them separately",
                )]));
            }
            Some(sum) => sum.plus(line_total).ok_or_else(overflow)?,
        });
        priced.push(OrderLine {
            product_id: product.id.clone(),
            title: product.title.clone(),
            quantity: line.quantity,
            unit_price: product.price,
            line_total,
            discount: None,
        });
    }
    let total = total.ok_or_else(|| Error::internal("pricing an empty cart"))?;
    Ok((priced, total))
}

/// API.md's quote: `{items, subtotal, discount, total}`.
#[derive(Serialize)]
pub struct QuoteView<'a> {
    pub items: Vec<LineView<'a>>,
    pub subtotal: Money,
    pub discount: Money,
    pub total: Money,
}

impl<'a> From<&'a Quote> for QuoteView<'a> {
    fn from(q: &'a Quote) -> Self {
        Self {
            items: q.items.iter().map(LineView::from).collect(),
            subtotal: q.subtotal,
            discount: q.discount,
            total: q.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Category;
    use crate::money::{Currency, MAX_PRICE_MINOR};
    use crate::promotions::{Offer, PromoRefusal};
    use crate::stock::Quantity;

    fn product(id: &str, amount: i64, currency: &str) -> Product {
        Product {
            id: ProductId::parse(id).unwrap(),
            title: format!("Title {id}"),
            description: String::new(),
            category: Category::parse("test").unwrap(),
            price: Money::new(amount, Currency::parse(currency).unwrap()).unwrap(),
            image_url: None,
            stock: 5,
        }
    }

    fn line(id: &str, units: u32) -> CartLine {
        CartLine { product_id: ProductId::parse(id).unwrap(), quantity: Quantity::new(units).unwrap() }
    }

    #[test]
    fn lines_are_priced_from_the_catalog() {
        let (lines, total) =
            price_lines(&[line("a", 3), line("b", 1)], &[product("b", 250, "USD"), product("a", 1999, "USD")]).unwrap();
        assert_eq!(lines[0].line_total.amount, 5997);
        assert_eq!(lines[0].title, "Title a");
        assert_eq!(lines[1].unit_price.amount, 250);
        assert_eq!(total.amount, 6247);
    }

    #[test]
    fn unknown_products_are_all_named() {
        let err = price_lines(&[line("x", 1), line("a", 1), line("y", 2)], &[product("a", 1, "USD")]).unwrap_err();
        let Error::UnknownProduct(ids) = err else { panic!("{err:?}") };
        assert_eq!(ids.iter().map(ProductId::as_str).collect::<Vec<_>>(), ["x", "y"]);
    }

    #[test]
    fn mixed_currencies_and_overflow_are_refused() {
        let mixed = price_lines(&[line("a", 1), line("b", 1)], &[product("a", 1, "USD"), product("b", 1, "EUR")]);
        assert!(matches!(mixed, Err(Error::Validation(_))));
        let lines: Vec<_> = (0..50).map(|i| line(&format!("p{i}"), 100)).collect();
        let products: Vec<_> = (0..50).map(|i| product(&format!("p{i}"), MAX_PRICE_MINOR, "USD")).collect();
        let (_, total) = price_lines(&lines, &products).unwrap();
        assert_eq!(total.amount, MAX_PRICE_MINOR * 5000, "the largest cart still fits");
    }

    fn promotion(offer: Offer) -> Promotion {
        Promotion { max_redemptions: Some(3), once_per_customer: true, ..Promotion::sample(offer) }
    }

    const NOW: OffsetDateTime = time::macros::datetime!(2026-12-01 12:00 UTC);

    #[test]
    fn a_code_is_priced_in_or_refused_with_its_reason() {
        let products = [product("a", 1000, "USD"), product("b", 333, "USD")];
        let cart = [line("a", 1), line("b", 3)];
        let save = promotion(Offer::percent(10).unwrap());
        let code = save.code.clone();
        let offered = Offered { code: &code, promotion: Some(&save) };
        let quote = price(&cart, &products, Some(offered), NOW).unwrap();
        assert_eq!((quote.subtotal.amount, quote.discount.amount, quote.total.amount), (1999, 200, 1799));
        let shares: Vec<i64> = quote.items.iter().map(|l| l.discount().amount).collect();
        assert_eq!(shares, [100, 100]);
        let redemption = quote.redemption.unwrap();
        assert_eq!(
            (redemption.code.as_str(), redemption.discount.amount, redemption.once_per_customer),
            ("SAVE", 200, true)
        );
        let unknown = price(&cart, &products, Some(Offered { code: &code, promotion: None }), NOW);
        assert!(matches!(unknown, Err(Error::PromoCodeInvalid { reason: PromoRefusal::Unknown })));
        let used_up = Promotion { redeemed: 3, ..save.clone() };
        let exhausted = price(&cart, &products, Some(Offered { code: &code, promotion: Some(&used_up) }), NOW);
        assert!(matches!(exhausted, Err(Error::PromoCodeExhausted)));
        let none = price(&cart, &products, None, NOW).unwrap();
        assert_eq!((none.discount.amount, none.total.amount, none.redemption), (0, 1999, None));
        assert!(none.items.iter().all(|l| l.discount.is_none()));
    }

    proptest::proptest! {
        #[test]
        fn line_discounts_add_up_to_the_discount_and_no_line_goes_below_zero(
            lines in proptest::collection::vec((1i64..=MAX_PRICE_MINOR, 1u32..=100), 1..=50),
            percent in 1u8..=100,
            amount in 1i64..=MAX_PRICE_MINOR,
            by_amount: bool,
        ) {
            let products: Vec<_> =
                lines.iter().enumerate().map(|(i, (price, _))| product(&format!("p{i}"), *price, "USD")).collect();
            let cart: Vec<_> = lines.iter().enumerate().map(|(i, (_, units))| line(&format!("p{i}"), *units)).collect();
            let offer = if by_amount {
                Offer::amount(Money::new(amount, Currency::parse("USD").unwrap()).unwrap()).unwrap()
            } else {
                Offer::percent(percent).unwrap()
            };
            let p = promotion(offer);
            let quote = price(&cart, &products, Some(Offered { code: &p.code, promotion: Some(&p) }), NOW).unwrap();
            let shares: i64 = quote.items.iter().map(|l| l.discount().amount).sum();
            proptest::prop_assert_eq!(shares, quote.discount.amount);
            proptest::prop_assert_eq!(quote.total.amount, quote.subtotal.amount - quote.discount.amount);
            proptest::prop_assert!(quote.total.amount >= 0);
            for item in &quote.items {
                proptest::prop_assert!(item.discount().amount >= 0 && item.discount().amount <= item.line_total.amount);
            }
        }
    }
}
