//! Orders (API.md "Orders"): carts, pricing, the checkout sequence, the
//! status machine and its moves (fulfil, cancel, refund), the notices each
//! event owes the customer, the settler that finishes what a request left
//! half-way, and the gateway's events (its webhook) applied to orders.

mod cart;
mod checkout;
mod emails;
mod gateway_events;
mod history;
mod lifecycle;
mod moves;
mod notice;
mod order;
mod pricing;
mod sender;
mod settler;

pub use cart::{Basket, Cart, CartLine, MAX_LINES, PaymentToken};
pub use checkout::{AUTHENTICATION_WINDOW, AnswerError, CHECKOUT_LEASE, Checkout, CheckoutAnswer, CheckoutRequest};
pub use emails::receipt;
pub use gateway_events::{APPLIED_EVENTS_KEPT, EventStores, GatewayEvents};
pub use history::{HistoryEntry, Party};
pub use lifecycle::{Ask, Asker, Keyed, Lifecycle, MoveAnswer};
pub use moves::{Moved, ask_cancel, ask_refund, fulfil, record_refund, refund_late_payment, settle_refund};
pub use notice::{Notice, NoticeId, NoticeKind};
pub use order::{
    AdminOrderView, Fulfilment, Order, OrderLine, OrderState, OrderStatus, OrderView, PendingRefund, Refund,
};
pub use pricing::{Offered, Quote, QuoteView, price};
pub use sender::{Delivery, NoticeSender, SEND_LEASE};
pub use settler::{Settled, Settler};
