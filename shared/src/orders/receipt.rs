//! The receipt email of a confirmed order: order id, lines, total.

use crate::mail::{EmailMessage, html_escape};
use crate::money::Money;

use super::order::Order;

fn amount(money: Money) -> String {
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
    text.push_str(&format!("\nTotal: {}\n", amount(order.total)));
    let html = format!(
        "<html><body><p>Thank you for your order <strong>{id}</strong>.</p>\
         <table><thead><tr><th>Item</th><th>Qty</th><th>Price</th><th>Total</th></tr></thead>\
         <tbody>{rows}</tbody><tfoot><tr><td colspan=\"3\">Total</td><td>{total}</td></tr></tfoot></table>\
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
