use crate::money::Money;

/// Shares `discount` over lines of `totals` in proportion to each line's
/// total, by largest remainder: the shares add up to `discount` exactly,
/// and none is more than its line (the discount is at most the subtotal).
/// Ties go to the earlier line, so the same cart always splits the same way.
pub fn spread(discount: Money, totals: &[Money]) -> Vec<Money> {
    let subtotal: i128 = totals.iter().map(|t| i128::from(t.amount)).sum();
    let currency = discount.currency;
    if subtotal == 0 || discount.amount == 0 {
        return totals.iter().map(|_| Money::zero(currency)).collect();
    }
    let whole = i128::from(discount.amount.min(subtotal as i64));
    // Each line's exact share is whole × total / subtotal: its floor now,
    // and the remainders decide who gets the units left over.
    let mut shares: Vec<(i128, i128)> = totals
        .iter()
        .map(|t| {
            let exact = whole * i128::from(t.amount);
            (exact / subtotal, exact % subtotal)
        })
        .collect();
    let mut left = whole - shares.iter().map(|(floor, _)| floor).sum::<i128>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| shares[b].1.cmp(&shares[a].1).then(a.cmp(&b)));
    for i in order {
        if left == 0 {
            break;
        }
        shares[i].0 += 1;
        left -= 1;
    }
    shares.into_iter().map(|(share, _)| Money { amount: share as i64, currency }).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::spread;
    use crate::money::{Currency, Money};

    fn usd(amount: i64) -> Money {
        Money { amount, currency: Currency::parse("USD").unwrap() }
    }

    #[test]
    fn the_units_left_over_go_to_the_largest_remainders() {
        let shares = spread(usd(100), &[usd(1000), usd(1000), usd(1000)]);
        assert_eq!(shares, [usd(34), usd(33), usd(33)], "the tie to the first line");
        let shares = spread(usd(10), &[usd(999), usd(1)]);
        assert_eq!(shares, [usd(10), usd(0)]);
        assert_eq!(spread(usd(0), &[usd(5)]), [usd(0)]);
    }

    proptest! {
        #[test]
        fn shares_add_up_and_no_line_goes_below_zero(
            lines in proptest::collection::vec(0i64..1_000_000_000_000, 1..50),
            percent in 0i64..=100,
        ) {
            let totals: Vec<Money> = lines.iter().map(|&a| usd(a)).collect();
            let subtotal: i64 = lines.iter().sum();
            let discount = usd(((i128::from(subtotal) * i128::from(percent) + 50) / 100) as i64);
            let shares = spread(discount, &totals);
            prop_assert_eq!(shares.iter().map(|s| s.amount).sum::<i64>(), discount.amount);
            for (share, total) in shares.iter().zip(&totals) {
                prop_assert!(share.amount >= 0 && share.amount <= total.amount);
            }
        }
    }
}
