//! The default payment gateway: a sandbox that follows the card-test
//! convention (Stripe's test `PaymentMethod`s) and moves no money. It is
//! deterministic per order, so asking again for one order reports the same
//! outcome: idempotent on the order id, as the port requires.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::id::OrderId;
use galley_shared::money::Money;
use galley_shared::orders::PaymentToken;
use galley_shared::ports::{Charge, PaymentGateway};

/// Test payment methods that succeed.
const APPROVED: &[&str] = &["pm_card_visa", "pm_card_visa_debit", "pm_card_mastercard", "pm_card_amex"];

#[derive(Clone, Copy, Debug, Default)]
pub struct SandboxGateway;

#[async_trait]
impl PaymentGateway for SandboxGateway {
    async fn charge(&self, order: &OrderId, _amount: Money, token: &PaymentToken) -> Result<Charge, Error> {
        // Everything else, `pm_card_chargeDeclined` first, is declined, as an
        // unknown payment method would be by a real provider.
        if APPROVED.contains(&token.expose()) {
            Ok(Charge::Approved { reference: format!("ch_sandbox_{order}") })
        } else {
            Ok(Charge::Declined)
        }
    }
}
