//! Orders as stored and as shown.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::history::HistoryEntry;
use crate::auth::Email;
use crate::id::{OrderId, ProductId, UserId};
use crate::money::Money;
use crate::stock::{Quantity, StockLine};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// Stock reserved, payment not settled.
    Pending,
    /// Paid; a receipt is on its way.
    Confirmed,
    /// Payment declined; the stock went back.
    Declined,
}

impl OrderStatus {
    /// Every status, for listings that read one index partition each.
    pub const ALL: [OrderStatus; 3] = [OrderStatus::Pending, OrderStatus::Confirmed, OrderStatus::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Declined => "declined",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "pending" => Ok(OrderStatus::Pending),
            "confirmed" => Ok(OrderStatus::Confirmed),
            "declined" => Ok(OrderStatus::Declined),
            other => Err(format!("unknown order status {other}")),
        }
    }
}

/// One line, priced from the catalog at the time of the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub title: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub line_total: Money,
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
    pub total: Money,
    /// Kept beside the order's document, appended to as it moves (the
    /// document is written once; `history` is not part of it).
    #[serde(skip)]
    pub history: Vec<HistoryEntry>,
}

impl Order {
    /// The stock each line takes.
    pub fn stock_lines(&self) -> Vec<StockLine> {
        self.items.iter().map(|l| StockLine { product_id: l.product_id.clone(), quantity: l.quantity }).collect()
    }
}

/// API.md's Order: `{id, status, created_at, items, total, email}`.
#[derive(Serialize)]
pub struct OrderView<'a> {
    pub id: &'a OrderId,
    pub status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub items: &'a [OrderLine],
    pub total: Money,
    pub email: &'a Email,
}

impl<'a> From<&'a Order> for OrderView<'a> {
    fn from(o: &'a Order) -> Self {
        OrderView {
            id: &o.id,
            status: o.status,
            created_at: o.created_at,
            items: &o.items,
            total: o.total,
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
