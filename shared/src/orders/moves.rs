//! The moves after checkout (API.md's status machine), as pure functions
//! from the order read to the order to write: the stores then write the new
//! state only if the order's version is still the one read, so racing moves
//! never both apply (the loser reads again and is judged again).
//!
//! A refund is two moves around the gateway call: `ask_refund` reserves its
//! amount (it counts against what is left at once, so racing refunds never
//! exceed the total), then `settle_refund` records it as refunded. A
//! cancellation is a refund of the whole total whose settling also ends the
//! order `cancelled` and gives the stock back.

use time::OffsetDateTime;

use super::history::{HistoryEntry, Party};
use super::notice::NoticeKind;
use super::order::{Fulfilment, Order, OrderStatus, PendingRefund, Refund};
use crate::error::{Error, FieldError};
use crate::id::RefundId;
use crate::promotions::Redemption;
use crate::stock::StockLine;

/// An order after a move, and what the move's write carries besides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    /// The new state, at the next version.
    pub order: Order,
    /// The history entry the move appends, if the status moved.
    pub entry: Option<HistoryEntry>,
    /// Stock the move gives back.
    pub restock: Vec<StockLine>,
    /// The customer's email about it, if any.
    pub notice: Option<NoticeKind>,
    /// The promotion's redemption the move gives back (a cancellation's).
    pub redemption_back: Option<Redemption>,
}

impl Moved {
    fn of(mut order: Order) -> Self {
        order.version += 1;
        Self { order, entry: None, restock: Vec::new(), notice: None, redemption_back: None }
    }
}

/// `confirmed` → `fulfilled`, unless a cancellation is being asked.
pub fn fulfil(order: &Order, fulfilment: Fulfilment, by: Party) -> Result<Moved, Error> {
    if !order.status.may_become(OrderStatus::Fulfilled) || order.cancelling() {
        return Err(Error::InvalidTransition);
    }
    let at = fulfilment.fulfilled_at;
    let mut moved = Moved::of(Order { status: OrderStatus::Fulfilled, ..order.clone() });
    moved.order.state.fulfilment = Some(fulfilment);
    let entry = HistoryEntry::new(OrderStatus::Fulfilled, at, by);
    moved.order.history.push(entry.clone());
    moved.entry = Some(entry);
    moved.notice = Some(NoticeKind::Fulfilled);
    Ok(moved)
}

/// Reserves a refund of `refund.amount`: the status must allow a refund,
/// and the amount fit in what is left (refunds being asked count).
pub fn ask_refund(order: &Order, refund: Refund, by: Party) -> Result<Moved, Error> {
    if !order.status.may_become(OrderStatus::Refunded) || order.cancelling() {
        return Err(Error::InvalidTransition);
    }
    if refund.amount.currency != order.total.currency {
        let message = format!("must be in the order's currency, {}", order.total.currency);
        return Err(Error::Validation(vec![FieldError::new("amount.currency", message)]));
    }
    let refundable = order.refundable();
    if refund.amount.amount > refundable.amount {
        return Err(Error::RefundExceedsBalance { refundable });
    }
    let mut moved = Moved::of(order.clone());
    moved.order.state.pending_refunds.push(PendingRefund { refund, by, cancel: None });
    Ok(moved)
}

/// Reserves the refund of the whole total that cancels the order: only a
/// `confirmed` order with nothing refunded or being refunded.
pub fn ask_cancel(
    order: &Order,
    id: RefundId,
    reason: String,
    restock: bool,
    (by, at): (Party, OffsetDateTime),
) -> Result<Moved, Error> {
    if !order.status.may_become(OrderStatus::Cancelled) || order.refundable() != order.total {
        return Err(Error::InvalidTransition);
    }
    let refund = Refund { id, amount: order.total, reason, created_at: at };
    let mut moved = Moved::of(order.clone());
    moved.order.state.pending_refunds.push(PendingRefund { refund, by, cancel: Some(restock) });
    Ok(moved)
}

/// Records refund `id` as refunded once the gateway has accepted it: the
/// order becomes `partially_refunded` or `refunded` (a cancellation:
/// `cancelled`, its stock back if asked). A refund no longer pending is
/// `None`: someone settled it first.
pub fn settle_refund(order: &Order, id: &RefundId, at: OffsetDateTime) -> Option<Moved> {
    let index = order.state.pending_refunds.iter().position(|p| p.refund.id == *id)?;
    let mut moved = Moved::of(order.clone());
    let pending = moved.order.state.pending_refunds.remove(index);
    let by = pending.by.clone();
    moved.order.state.refunds.push(pending.refund.clone());
    let (status, notice) = match pending.cancel {
        Some(restock) => {
            if restock {
                moved.restock = order.stock_lines();
            }
            // API.md: a cancelled order gives its redemption back (a refund does not).
            moved.redemption_back = order.promotion.clone();
            (OrderStatus::Cancelled, NoticeKind::Cancelled)
        }
        None if moved.order.refunded() == order.total => (OrderStatus::Refunded, NoticeKind::Refund(id.clone())),
        None => (OrderStatus::PartiallyRefunded, NoticeKind::Refund(id.clone())),
    };
    moved.order.status = status;
    let mut entry = HistoryEntry::new(status, at, by);
    entry.note = Some(pending.refund.reason.clone()).filter(|r| !r.is_empty());
    moved.order.history.push(entry.clone());
    moved.entry = Some(entry);
    moved.notice = Some(notice);
    Some(moved)
}

/// Records a refund the gateway already made (one made in Stripe's
/// dashboard) as the admin route would have, in one move: the same checks
/// as `ask_refund`, then `settle_refund`. `None` when the order already
/// holds a refund with this id: the gateway told twice.
pub fn record_refund(order: &Order, refund: Refund, by: Party) -> Result<Option<Moved>, Error> {
    let known = order.state.refunds.iter().map(|r| &r.id);
    if known.chain(order.state.pending_refunds.iter().map(|p| &p.refund.id)).any(|id| *id == refund.id) {
        return Ok(None);
    }
    let (id, at) = (refund.id.clone(), refund.created_at);
    let asked = ask_refund(order, refund, by)?;
    let mut moved = settle_refund(&asked.order, &id, at).ok_or(Error::InvalidTransition)?;
    // One write: the version moves on once.
    moved.order.version = order.version + 1;
    Ok(Some(moved))
}

/// Records on a `declined` order the refund of a payment that succeeded
/// after the decline (API.md: refunded at once and the customer told): the
/// status stays, the refund shows and its notice goes out. `None` when it
/// is recorded already or the order is not declined.
pub fn refund_late_payment(order: &Order, refund: Refund) -> Option<Moved> {
    if order.status != OrderStatus::Declined || order.state.refunds.iter().any(|r| r.id == refund.id) {
        return None;
    }
    let mut moved = Moved::of(order.clone());
    moved.notice = Some(NoticeKind::Refund(refund.id.clone()));
    // History has an entry per refund too (API.md): the status stays.
    let mut entry = HistoryEntry::new(OrderStatus::Declined, refund.created_at, Party::Gateway);
    entry.note = Some(refund.reason.clone());
    moved.order.history.push(entry.clone());
    moved.entry = Some(entry);
    moved.order.state.refunds.push(refund);
    Some(moved)
}

impl Order {
    /// Whether a cancellation is being asked of the gateway.
    pub fn cancelling(&self) -> bool {
        self.state.pending_refunds.iter().any(|p| p.cancel.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Email;
    use crate::id::{OrderId, ProductId, UserId};
    use crate::money::{Currency, Money};
    use crate::orders::OrderLine;
    use crate::stock::Quantity;

    fn usd(amount: i64) -> Money {
        Money::new(amount, Currency::parse("USD").unwrap()).unwrap()
    }

    fn confirmed(total: i64) -> Order {
        Order {
            id: OrderId::generate(),
            user_id: UserId::generate(),
            email: Email::parse("ann@example.com").unwrap(),
            status: OrderStatus::Confirmed,
            created_at: OffsetDateTime::UNIX_EPOCH,
            items: vec![OrderLine {
                product_id: ProductId::parse("mug").unwrap(),
                title: "Mug".into(),
                quantity: Quantity::new(2).unwrap(),
                unit_price: usd(total / 2),
                line_total: usd(total),
                discount: None,
            }],
            total: usd(total),
            promotion: None,
            history: Vec::new(),
            state: Default::default(),
            version: 4,
        }
    }

    fn refund(amount: i64) -> Refund {
        Refund {
            id: RefundId::generate(),
            amount: usd(amount),
            reason: "scratch".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn refunds_asked_count_at_once_and_never_exceed_the_total() {
        let order = confirmed(1000);
        let first = ask_refund(&order, refund(300), Party::Customer).unwrap();
        assert_eq!(first.order.version, 5);
        assert_eq!(first.order.refundable(), usd(700));
        let second = ask_refund(&first.order, refund(300), Party::Customer).unwrap();
        let third = ask_refund(&second.order, refund(300), Party::Customer).unwrap();
        match ask_refund(&third.order, refund(300), Party::Customer) {
            Err(Error::RefundExceedsBalance { refundable }) => assert_eq!(refundable, usd(100)),
            other => panic!("a fourth 30 % fit: {other:?}"),
        }
        assert!(
            matches!(
                ask_cancel(
                    &first.order,
                    RefundId::generate(),
                    String::new(),
                    true,
                    (Party::Customer, OffsetDateTime::UNIX_EPOCH)
                ),
                Err(Error::InvalidTransition)
            ),
            "nothing may be refunded before a cancel"
        );
    }

    #[test]
    fn settling_moves_the_status_by_what_is_left() {
        let order = confirmed(1000);
        let (a, b) = (refund(400), refund(600));
        let asked = ask_refund(&order, a.clone(), Party::Gateway).unwrap().order;
        let asked = ask_refund(&asked, b.clone(), Party::Gateway).unwrap().order;
        let partly = settle_refund(&asked, &a.id, OffsetDateTime::UNIX_EPOCH).unwrap();
        assert_eq!(partly.order.status, OrderStatus::PartiallyRefunded);
        assert_eq!(partly.notice, Some(NoticeKind::Refund(a.id.clone())));
        assert!(settle_refund(&partly.order, &a.id, OffsetDateTime::UNIX_EPOCH).is_none(), "settled once");
        let whole = settle_refund(&partly.order, &b.id, OffsetDateTime::UNIX_EPOCH).unwrap();
        assert_eq!((whole.order.status, whole.order.refunded()), (OrderStatus::Refunded, usd(1000)));
        assert!(whole.restock.is_empty(), "a refund gives no stock back");
        assert!(matches!(ask_refund(&whole.order, refund(1), Party::Gateway), Err(Error::InvalidTransition)));
    }

    #[test]
    fn a_cancel_refunds_everything_and_blocks_other_moves_while_asked() {
        let order = confirmed(1000);
        let id = RefundId::generate();
        let asked = ask_cancel(
            &order,
            id.clone(),
            "changed my mind".into(),
            true,
            (Party::Customer, OffsetDateTime::UNIX_EPOCH),
        )
        .unwrap()
        .order;
        let at = OffsetDateTime::UNIX_EPOCH;
        let shipping = Fulfilment { carrier: None, tracking_number: None, fulfilled_at: at };
        assert!(matches!(fulfil(&asked, shipping.clone(), Party::Customer), Err(Error::InvalidTransition)));
        assert!(matches!(ask_refund(&asked, refund(1), Party::Customer), Err(Error::InvalidTransition)));
        let cancelled = settle_refund(&asked, &id, at).unwrap();
        assert_eq!(cancelled.order.status, OrderStatus::Cancelled);
        assert_eq!(cancelled.restock, order.stock_lines());
        assert_eq!(cancelled.notice, Some(NoticeKind::Cancelled));
        assert_eq!(cancelled.entry.unwrap().note.as_deref(), Some("changed my mind"));
        assert!(matches!(fulfil(&cancelled.order, shipping, Party::Customer), Err(Error::InvalidTransition)));
    }

    #[test]
    fn a_refund_the_gateway_made_is_recorded_once_in_one_move() {
        let order = confirmed(1000);
        let made = Refund { id: RefundId::parse("re_3Nq").unwrap(), ..refund(250) };
        let moved = record_refund(&order, made.clone(), Party::Gateway).unwrap().unwrap();
        assert_eq!(moved.order.version, order.version + 1);
        assert_eq!((moved.order.status, moved.order.refunded()), (OrderStatus::PartiallyRefunded, usd(250)));
        assert_eq!(moved.entry.as_ref().map(|e| e.by.clone()), Some(Party::Gateway));
        assert_eq!(moved.notice, Some(NoticeKind::Refund(made.id.clone())));
        assert_eq!(record_refund(&moved.order, made, Party::Gateway).unwrap(), None, "told twice");
        let too_much = Refund { id: RefundId::parse("re_4Xy").unwrap(), ..refund(800) };
        assert!(matches!(
            record_refund(&moved.order, too_much, Party::Gateway),
            Err(Error::RefundExceedsBalance { .. })
        ));
    }

    #[test]
    fn a_late_payment_of_a_declined_order_is_refunded_once_and_told() {
        let declined = Order { status: OrderStatus::Declined, ..confirmed(1000) };
        let late = refund(1000);
        let moved = refund_late_payment(&declined, late.clone()).unwrap();
        assert_eq!((moved.order.status, moved.order.refunded()), (OrderStatus::Declined, usd(1000)));
        assert_eq!(moved.notice, Some(NoticeKind::Refund(late.id.clone())));
        assert!(refund_late_payment(&moved.order, late.clone()).is_none(), "once");
        assert!(refund_late_payment(&confirmed(1000), late).is_none(), "only a declined order");
    }

    #[test]
    fn only_a_confirmed_order_ships() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let shipping = Fulfilment { carrier: Some("UPS".into()), tracking_number: Some("1Z".into()), fulfilled_at: at };
        let shipped = fulfil(&confirmed(10), shipping.clone(), Party::Customer).unwrap();
        assert_eq!(
            (shipped.order.status, shipped.notice.clone()),
            (OrderStatus::Fulfilled, Some(NoticeKind::Fulfilled))
        );
        assert!(matches!(fulfil(&shipped.order, shipping.clone(), Party::Customer), Err(Error::InvalidTransition)));
        let pending = Order { status: OrderStatus::Pending, ..confirmed(10) };
        assert!(matches!(fulfil(&pending, shipping, Party::Customer), Err(Error::InvalidTransition)));
    }
}
