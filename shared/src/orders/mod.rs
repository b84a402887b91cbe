//! Orders (API.md "Orders"): carts, pricing, the checkout sequence, receipts,
//! and the settler that finishes what a checkout left pending.

mod cart;
mod checkout;
mod history;
mod order;
mod pricing;
mod receipt;
mod receipts;
mod settler;

pub use cart::{Cart, CartLine, MAX_LINES, PaymentToken};
pub use checkout::{AnswerError, CHECKOUT_LEASE, Checkout, CheckoutAnswer, CheckoutRequest};
pub use history::{HistoryEntry, Party};
pub use order::{AdminOrderView, Order, OrderLine, OrderStatus, OrderView};
pub use pricing::price;
pub use receipt::receipt;
pub use receipts::{Delivery, ReceiptSender};
pub use settler::{Settled, Settler};
