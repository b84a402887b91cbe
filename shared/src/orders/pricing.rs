//! Prices come from the catalog, never from the client, with checked
//! integer arithmetic in one currency.

use crate::catalog::Product;
use crate::error::{Error, FieldError};
use crate::id::ProductId;
use crate::money::Money;

use super::cart::CartLine;
use super::order::OrderLine;

/// The priced lines and their total, or why the cart cannot be priced:
/// products the catalog does not have (all of them named), or a mix of currencies.
pub fn price(lines: &[CartLine], products: &[Product]) -> Result<(Vec<OrderLine>, Money), Error> {
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
        });
    }
    let total = total.ok_or_else(|| Error::internal("pricing an empty cart"))?;
    Ok((priced, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Category;
    use crate::money::{Currency, MAX_PRICE_MINOR};
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
            price(&[line("a", 3), line("b", 1)], &[product("b", 250, "USD"), product("a", 1999, "USD")]).unwrap();
        assert_eq!(lines[0].line_total.amount, 5997);
        assert_eq!(lines[0].title, "Title a");
        assert_eq!(lines[1].unit_price.amount, 250);
        assert_eq!(total.amount, 6247);
    }

    #[test]
    fn unknown_products_are_all_named() {
        let err = price(&[line("x", 1), line("a", 1), line("y", 2)], &[product("a", 1, "USD")]).unwrap_err();
        let Error::UnknownProduct(ids) = err else { panic!("{err:?}") };
        assert_eq!(ids.iter().map(ProductId::as_str).collect::<Vec<_>>(), ["x", "y"]);
    }

    #[test]
    fn mixed_currencies_and_overflow_are_refused() {
        let mixed = price(&[line("a", 1), line("b", 1)], &[product("a", 1, "USD"), product("b", 1, "EUR")]);
        assert!(matches!(mixed, Err(Error::Validation(_))));
        let lines: Vec<_> = (0..50).map(|i| line(&format!("p{i}"), 100)).collect();
        let products: Vec<_> = (0..50).map(|i| product(&format!("p{i}"), MAX_PRICE_MINOR, "USD")).collect();
        let (_, total) = price(&lines, &products).unwrap();
        assert_eq!(total.amount, MAX_PRICE_MINOR * 5000, "the largest cart still fits");
    }
}
