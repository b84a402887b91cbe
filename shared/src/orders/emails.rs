//! The emails a customer gets about an order (API.md "Orders"): the
//! receipt when confirmed, a notice when fulfilled (carrier, tracking
//! number), when cancelled (what was refunded), and for each refund
//! (amount, what is left). Each names the order id in its subject.

use crate::id::RefundId;
use crate::mail::{EmailMessage, html_escape};
use crate::money::Money;

use super::order::Order;

pub(crate) fn amount(money: Money) -> String {
    // Minor units shown with two decimals: right for most ISO 4217 currencies;
    // the code beside it removes any doubt.
    format!("{}.{:02} {}", money.amount / 100, money.amount % 100, money.currency)
}

pub fn receipt(order: &Order) -> EmailMessage {
    let mut text = format!("Thank you for your order {}.\n\n", order.id);
    let mut rows = String::new();
    for line in &order.items {
        text.push_str(&format!(
            "{} × {} @ {} = {}\n",
            line.quantity.get(),
            line.title,
            amount(line.unit_price),
            amount(line.line_total)
        ));
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&line.title),
            line.quantity.get(),
            amount(line.unit_price),
            amount(line.line_total)
        ));
    }
    let mut foot = String::new();
    if let Some(promotion) = &order.promotion {
        let (subtotal, code, discount) = (amount(order.subtotal()), &promotion.code, amount(promotion.discount));
        text.push_str(&format!("\nSubtotal: {subtotal}\nDiscount ({code}): -{discount}"));
        foot.push_str(&format!(
            "<tr><td colspan=\"3\">Subtotal</td><td>{subtotal}</td></tr>\
             <tr><td colspan=\"3\">Discount ({})</td><td>-{discount}</td></tr>",
            html_escape(code.as_str())
        ));
    }
    text.push_str(&format!("\nTotal: {}\n", amount(order.total)));
    let html = format!(
        "<html><body><p>Thank you for your order <strong>{id}</strong>.</p>\
         <table><thead><tr><th>Item</th><th>Qty</th><th>Price</th><th>Total</th></tr></thead>\
         <tbody>{rows}</tbody><tfoot>{foot}<tr><td colspan=\"3\">Total</td><td>{total}</td></tr></tfoot></table>\
         </body></html>",
        id = order.id,
        total = amount(order.total)
    );
    EmailMessage {
        to: order.email.clone(),
        subject: format!("Your Galley order {}", order.id),
        text,
        html,
        message_id: format!("<receipt-{}@galley>", order.id),
    }
}

/// A notice of a few lines, as text and HTML, about `order`.
fn notice(order: &Order, kind: &str, subject: &str, lines: &[String]) -> EmailMessage {
    let text = lines.join("\n") + "\n";
    let paragraphs: String = lines.iter().map(|line| format!("<p>{}</p>", html_escape(line))).collect();
    EmailMessage {
        to: order.email.clone(),
        subject: format!("{subject} {}", order.id),
        text,
        html: format!("<html><body>{paragraphs}</body></html>"),
        message_id: format!("<{kind}-{}@galley>", order.id),
    }
}

pub fn fulfilled(order: &Order) -> EmailMessage {
    let mut lines = vec![format!("Your order {} is on its way.", order.id)];
    if let Some(f) = &order.state.fulfilment {
        if let Some(carrier) = &f.carrier {
            lines.push(format!("Carrier: {carrier}"));
        }
        if let Some(tracking) = &f.tracking_number {
            lines.push(format!("Tracking number: {tracking}"));
        }
    }
    notice(order, "fulfilled", "Your Galley order has shipped:", &lines)
}

pub fn cancelled(order: &Order) -> EmailMessage {
    let lines = [format!("Your order {} is cancelled.", order.id), format!("Refunded: {}", amount(order.refunded()))];
    notice(order, "cancelled", "Your Galley order is cancelled:", &lines)
}

pub fn refunded(order: &Order, id: &RefundId) -> EmailMessage {
    let refund = order.state.refunds.iter().find(|r| r.id == *id);
    let left = Money { amount: order.total.amount - order.refunded().amount, currency: order.total.currency };
    let mut lines = vec![if order.status == super::order::OrderStatus::Declined {
        format!("Your payment for order {} arrived after the order was declined; we refunded it.", order.id)
    } else {
        format!("We refunded part of your order {}.", order.id)
    }];
    if let Some(refund) = refund {
        lines.push(format!("Refunded now: {}", amount(refund.amount)));
    }
    lines.push(format!("Left on the order: {}", amount(left)));
    let mut message = notice(order, "refund", "A refund on your Galley order", &lines);
    // One message per refund, not per order.
    message.message_id = format!("<refund-{id}@galley>");
    message
}
