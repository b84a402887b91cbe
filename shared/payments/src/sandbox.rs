//! The default payment gateway: a sandbox that follows the card-test
//! convention (Stripe's test `PaymentMethod`s) and moves no money. Its
//! ledger is in the store: the first outcome recorded for an order is the
//! one it reports ever after, so it is idempotent on the order id, as the
//! port requires, across crashes and instances, and a payment the settler
//! closed can no longer be charged.

use std::sync::Arc;

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::id::{OrderId, RefundId};
use galley_shared::money::Money;
use galley_shared::orders::PaymentToken;
use galley_shared::ports::{Charge, ChargeLedger, LedgerEntry, PaymentGateway};

/// Test payment methods that succeed.
const APPROVED: &[&str] = &["pm_card_visa", "pm_card_visa_debit", "pm_card_mastercard", "pm_card_amex"];

#[derive(Clone)]
pub struct SandboxGateway {
    ledger: Arc<dyn ChargeLedger>,
}

impl SandboxGateway {
    pub fn new(ledger: Arc<dyn ChargeLedger>) -> Self {
        Self { ledger }
    }
}

fn outcome(entry: LedgerEntry) -> Charge {
    match entry {
        LedgerEntry::Charged { reference, .. } => Charge::Approved { reference },
        // The card-test convention's answer for a refused card.
        LedgerEntry::Declined | LedgerEntry::Closed => Charge::Declined { code: "generic_decline".into() },
    }
}

#[async_trait]
impl PaymentGateway for SandboxGateway {
    async fn charge(&self, order: &OrderId, amount: Money, token: &PaymentToken) -> Result<Charge, Error> {
        // Everything else, `pm_card_chargeDeclined` first, is declined, as an
        // unknown payment method would be by a real provider.
        let wanted = if APPROVED.contains(&token.expose()) {
            LedgerEntry::Charged { amount, reference: format!("ch_sandbox_{order}") }
        } else {
            LedgerEntry::Declined
        };
        Ok(outcome(self.ledger.record(order, &wanted).await?))
    }

    async fn settle(&self, order: &OrderId) -> Result<Charge, Error> {
        Ok(outcome(self.ledger.record(order, &LedgerEntry::Closed).await?))
    }

    async fn outcome(&self, order: &OrderId) -> Result<Option<Charge>, Error> {
        Ok(self.ledger.recorded(order).await?.map(outcome))
    }

    /// Refunds once per refund id, and never more than was charged, as a
    /// real gateway refuses to: a bug upstream shows here, not as money.
    async fn refund(&self, order: &OrderId, refund: &RefundId, amount: Money) -> Result<String, Error> {
        let Some(LedgerEntry::Charged { amount: charged, .. }) = self.ledger.recorded(order).await? else {
            return Err(Error::internal(format!("refund {refund} of order {order}, which was never charged")));
        };
        let before: i64 =
            self.ledger.refunds(order).await?.iter().filter(|(id, _)| id != refund).map(|(_, m)| m.amount).sum();
        if amount.currency != charged.currency || before + amount.amount > charged.amount {
            return Err(Error::internal(format!("refund {refund} of order {order} exceeds what was charged")));
        }
        self.ledger.record_refund(order, refund, amount).await?;
        Ok(format!("re_sandbox_{refund}"))
    }
}
