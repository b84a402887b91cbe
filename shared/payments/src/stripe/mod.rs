//! The Stripe gateway: a PaymentIntent per order, for its total, with
//! `metadata.order_id`, confirmed with the shopper's PaymentMethod. Every
//! write carries an `Idempotency-Key` made from the order (and the step);
//! and since an emulator may ignore that header, the intent's id is
//! recorded in the store (a conditional write, the first in force) before
//! it is confirmed, so a retry after a crash reuses it rather than making a
//! second. Where localstripe and Stripe differ, `intents` says so.

//! Its webhook's events are checked and read in `webhook`.

mod client;
mod intents;
mod webhook;

pub use client::{STRIPE_API, StripeClient, StripeError};
pub use intents::StripeGateway;
pub use webhook::{StripeEvents, TOLERANCE_SECS, verify_signature};
