//! `GET /orders`: the user's orders, newest first, paged by sealed cursors.

use galley_http::paging::{CursorKey, PageRequest};
use galley_http::query::QueryParams;
use galley_shared::Error;
use galley_shared::id::{OrderId, UserId};
use galley_shared::orders::Order;
use galley_shared::ports::Orders;
use serde::{Deserialize, Serialize};

/// Where a page of orders ended: the last order shown.
#[derive(Serialize, Deserialize)]
struct OrdersCursor {
    #[serde(rename = "b")]
    before: OrderId,
}

/// `GET /orders` takes only the paging parameters.
pub fn page_request(mut params: QueryParams) -> Result<PageRequest, Error> {
    let mut errors = Vec::new();
    let page = PageRequest::take(&mut params, &mut errors);
    params.finish(errors, Vec::new())?;
    Ok(page)
}

/// The cursor scope: cursors are bound to the user, so one user's cursor
/// is refused for another.
fn cursor_scope(user: &UserId) -> String {
    format!("orders:{user}")
}

pub async fn page(
    orders: &dyn Orders,
    cursors: &CursorKey,
    user: &UserId,
    request: &PageRequest,
) -> Result<(Vec<Order>, Option<String>), Error> {
    let scope = cursor_scope(user);
    let before = match &request.cursor {
        Some(cursor) => Some(cursors.open::<OrdersCursor>(&scope, cursor)?.before),
        None => None,
    };
    // One more than asked tells whether another page follows.
    let mut found = orders.orders(user, before.as_ref(), request.limit + 1).await?;
    let next_cursor = if found.len() > request.limit {
        found.truncate(request.limit);
        found.last().map(|last| cursors.seal(&scope, &OrdersCursor { before: last.id.clone() }))
    } else {
        None
    };
    Ok((found, next_cursor))
}
