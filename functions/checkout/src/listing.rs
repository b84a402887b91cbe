//! `GET /orders`: the user's orders, newest first, paged by signed cursors.

use galley_shared::Error;
use galley_shared::FieldError;
use galley_shared::id::{OrderId, UserId};
use galley_shared::orders::OrderView;
use galley_shared::ports::Orders;
use galley_shared::search::CursorKey;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub struct OrdersQuery {
    limit: usize,
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Position {
    #[serde(rename = "b")]
    before: OrderId,
}

impl OrdersQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<OrdersQuery, Error> {
        let mut query = OrdersQuery { limit: 20, cursor: None };
        let mut errors = Vec::new();
        for (name, value) in pairs {
            match name.as_str() {
                "limit" => match value.parse::<usize>() {
                    Ok(n) if (1..=100).contains(&n) => query.limit = n,
                    _ => errors.push(FieldError::new("limit", "must be an integer from 1 to 100")),
                },
                "cursor" => query.cursor = Some(value.clone()),
                other => errors.push(FieldError::new(other, "is not a known parameter")),
            }
        }
        if errors.is_empty() { Ok(query) } else { Err(Error::Validation(errors)) }
    }
}

/// Cursors are bound to the user, so one user's cursor is refused for another.
fn fingerprint(user: &UserId) -> String {
    format!("orders:{user}")
}

pub async fn page(
    orders: &dyn Orders,
    cursors: &CursorKey,
    user: &UserId,
    query: &OrdersQuery,
) -> Result<Value, Error> {
    let before = match &query.cursor {
        Some(cursor) => Some(cursors.open::<Position>(&fingerprint(user), cursor)?.before),
        None => None,
    };
    // One more than asked tells whether another page follows.
    let mut found = orders.orders(user, before.as_ref(), query.limit + 1).await?;
    let next_cursor = if found.len() > query.limit {
        found.truncate(query.limit);
        found.last().map(|last| cursors.seal(&fingerprint(user), &Position { before: last.id.clone() }))
    } else {
        None
    };
    let items: Vec<OrderView<'_>> = found.iter().map(OrderView::from).collect();
    Ok(json!({ "items": items, "next_cursor": next_cursor }))
}
