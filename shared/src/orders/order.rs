//! Orders as stored and as shown.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::history::{HistoryEntry, Party};
use crate::auth::Email;
use crate::id::{OrderId, ProductId, RefundId, UserId};
use crate::money::Money;
use crate::promotions::Redemption;
use crate::stock::{Quantity, StockLine};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Stock reserved, payment not settled.
    Pending,
    /// Paid; a receipt is on its way.
    Confirmed,
    /// Payment declined; the stock went back.
    Declined,
    /// Shipped.
    Fulfilled,
    /// Refunded in full before shipping; the stock went back (if asked).
    Cancelled,
    /// Refunded in part; something is left to refund.
    PartiallyRefunded,
    /// Refunded in full after all.
    Refunded,
}

impl OrderStatus {
    /// Every status, for listings that read one index partition each.
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Declined,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
        OrderStatus::PartiallyRefunded,
        OrderStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Declined => "declined",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| format!("unknown order status {raw}"))
    }

    /// API.md's status machine: the moves there are; any other is
    /// `invalid_transition`.
    pub fn may_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Pending, Confirmed | Declined)
                | (Confirmed, Fulfilled | Cancelled | PartiallyRefunded | Refunded)
                | (Fulfilled | PartiallyRefunded, PartiallyRefunded | Refunded)
        )
    }
}

/// A refund the gateway accepted: API.md's `{id, amount, reason, created_at}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: RefundId,
    pub amount: Money,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A refund being asked of the gateway: it already counts against what is
/// left to refund, so racing refunds never exceed it. A cancellation is a
/// refund of the whole total that ends the order `cancelled`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRefund {
    pub refund: Refund,
    pub by: Party,
    /// `Some(restock)` for a cancellation.
    pub cancel: Option<bool>,
}

/// API.md's `fulfilment`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfilment {
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub fulfilled_at: OffsetDateTime,
}

/// What happens to an order after checkout, kept beside its document and
/// replaced whole by each move, under the order's version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    #[serde(default)]
    pub refunds: Vec<Refund>,
    #[serde(default)]
    pub pending_refunds: Vec<PendingRefund>,
    #[serde(default)]
    pub fulfilment: Option<Fulfilment>,
}

/// One line, priced from the catalog at the time of the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub title: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub line_total: Money,
    /// The line's share of the order's discount (none without a promotion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
}

impl OrderLine {
    /// Its share of the discount, zero without one.
    pub fn discount(&self) -> Money {
        self.discount.unwrap_or(Money::zero(self.line_total.currency))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub user_id: UserId,
    pub email: Email,
    pub status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub items: Vec<OrderLine>,
    /// What the customer pays: the subtotal less the discount.
    pub total: Money,
    /// The promotion the order redeemed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Redemption>,
    /// Kept beside the order's document, appended to as it moves (the
    /// document is written once; `history` is not part of it).
    #[serde(skip)]
    pub history: Vec<HistoryEntry>,
    /// Refunds and fulfilment, kept beside the document too (an outbox
    /// notice carries the order as of its event, state included).
    #[serde(default)]
    pub state: OrderState,
    /// Moves with every lifecycle move; each is conditioned on it.
    #[serde(skip)]
    pub version: u64,
}

impl Order {
    /// What the lines add up to before any discount.
    pub fn subtotal(&self) -> Money {
        let sum = self.items.iter().map(|l| l.line_total.amount).sum();
        Money { amount: sum, currency: self.total.currency }
    }

    /// What the promotion took off (zero without one).
    pub fn discount(&self) -> Money {
        self.promotion.as_ref().map_or(Money::zero(self.total.currency), |p| p.discount)
    }

    /// What the gateway accepted as refunded.
    pub fn refunded(&self) -> Money {
        let sum = self.state.refunds.iter().map(|r| r.amount.amount).sum();
        Money { amount: sum, currency: self.total.currency }
    }

    /// What is left to refund: the total less refunds accepted and asked.
    pub fn refundable(&self) -> Money {
        let asked: i64 = self.state.pending_refunds.iter().map(|p| p.refund.amount.amount).sum();
        Money { amount: self.total.amount - self.refunded().amount - asked, currency: self.total.currency }
    }

    /// The stock each line takes.
    pub fn stock_lines(&self) -> Vec<StockLine> {
        self.items.iter().map(|l| StockLine { product_id: l.product_id.clone(), quantity: l.quantity }).collect()
    }
}

/// One line as API.md shows it: `{product_id, title, quantity,
/// unit_price, line_total, discount}`.
#[derive(Serialize)]
pub struct LineView<'a> {
    pub product_id: &'a ProductId,
    pub title: &'a str,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub line_total: Money,
    pub discount: Money,
}

impl<'a> From<&'a OrderLine> for LineView<'a> {
    fn from(line: &'a OrderLine) -> Self {
        Self {
            product_id: &line.product_id,
            title: &line.title,
            quantity: line.quantity,
            unit_price: line.unit_price,
            line_total: line.line_total,
            discount: line.discount(),
        }
    }
}

/// API.md's Order: `{id, status, created_at, items, subtotal, discount,
/// total, promo_code, refunds, fulfilment, email}`.
#[derive(Serialize)]
pub struct OrderView<'a> {
    pub id: &'a OrderId,
    pub status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub items: Vec<LineView<'a>>,
    pub subtotal: Money,
    pub discount: Money,
    pub total: Money,
    pub promo_code: Option<&'a str>,
    pub refunds: &'a [Refund],
    pub fulfilment: Option<&'a Fulfilment>,
    pub email: &'a Email,
}

impl<'a> From<&'a Order> for OrderView<'a> {
    fn from(o: &'a Order) -> Self {
        OrderView {
            id: &o.id,
            status: o.status,
            created_at: o.created_at,
            items: o.items.iter().map(LineView::from).collect(),
            subtotal: o.subtotal(),
            discount: o.discount(),
            total: o.total,
            promo_code: o.promotion.as_ref().map(|p| p.code.as_str()),
            refunds: &o.state.refunds,
            fulfilment: o.state.fulfilment.as_ref(),
            email: &o.email,
        }
    }
}

/// API.md's AdminOrder: the Order plus its history, oldest first.
#[derive(Serialize)]
pub struct AdminOrderView<'a> {
    #[serde(flatten)]
    pub order: OrderView<'a>,
    pub history: &'a [HistoryEntry],
}

impl<'a> From<&'a Order> for AdminOrderView<'a> {
    fn from(o: &'a Order) -> Self {
        AdminOrderView { order: OrderView::from(o), history: &o.history }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn the_status_machine_is_api_md_s() {
        let allowed = [
            (Pending, Confirmed),
            (Pending, Declined),
            (Confirmed, Fulfilled),
            (Confirmed, Cancelled),
            (Confirmed, PartiallyRefunded),
            (Confirmed, Refunded),
            (Fulfilled, PartiallyRefunded),
            (Fulfilled, Refunded),
            (PartiallyRefunded, PartiallyRefunded),
            (PartiallyRefunded, Refunded),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                assert_eq!(from.may_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Ok(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}
