//! The order desk: every customer's orders as the back office reads them,
//! each with its history.

use std::sync::Arc;

use crate::auth::Email;
use crate::error::Error;
use crate::id::OrderId;
use crate::orders::{Order, OrderStatus};
use crate::ports::{OrderBook, OrderFilter, Users};

/// `GET /admin/orders`'s filters, parsed at the edge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    pub email: Option<Email>,
}

#[derive(Clone)]
pub struct OrderDesk {
    book: Arc<dyn OrderBook>,
    users: Arc<dyn Users>,
}

impl OrderDesk {
    pub fn new(book: Arc<dyn OrderBook>, users: Arc<dyn Users>) -> Self {
        Self { book, users }
    }

    pub async fn order(&self, id: &OrderId) -> Result<Order, Error> {
        self.book.any_order(id).await?.ok_or(Error::NotFound)
    }

    /// A page of orders newest first below `before`, and the order the next
    /// page starts below (`None` at the end). An email no account has
    /// matches nothing.
    pub async fn orders(
        &self,
        query: &OrderQuery,
        before: Option<&OrderId>,
        limit: usize,
    ) -> Result<(Vec<Order>, Option<OrderId>), Error> {
        let user = match &query.email {
            Some(email) => match self.users.by_email(email).await? {
                Some(account) => Some(account.profile.id),
                None => return Ok((Vec::new(), None)),
            },
            None => None,
        };
        let filter = OrderFilter { status: query.status, user };
        let listing = self.book.all_orders(&filter, before, limit + 1).await?;
        let mut orders = listing.orders;
        let more = orders.len() > limit;
        orders.truncate(limit);
        let next = match orders.last() {
            Some(last) if more => Some(last.id.clone()),
            _ => listing.read_up_to,
        };
        Ok((orders, next))
    }
}
