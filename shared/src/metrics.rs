//! The shop's business and technical figures, recorded through the
//! `metrics` facade: whichever recorder the entry point installed writes
//! them (CloudWatch EMF lines in Lambda, a Prometheus page in `galley
//! serve`), and with none installed recording costs next to nothing.
//!
//! Labels are bounded: a route pattern, an outcome class, a currency, a
//! dependency and a fault kind, never a user, product or order id (each
//! distinct set of labels is a CloudWatch metric, billed monthly).

use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

use crate::money::Money;

/// The CloudWatch namespace of every metric unless the deployment names
/// its own (template.yaml gives each stack `Galley/<stack>`).
pub const NAMESPACE: &str = "Galley";

pub const COLD_STARTS: &str = "ColdStarts";
pub const REQUESTS: &str = "Requests";
pub const LATENCY: &str = "Latency";
pub const ORDERS_CONFIRMED: &str = "OrdersConfirmed";
pub const REVENUE: &str = "Revenue";
pub const ORDERS_DECLINED: &str = "OrdersDeclined";
pub const ORDERS_CANCELLED: &str = "OrdersCancelled";
pub const REFUNDS: &str = "Refunds";
pub const REFUNDED: &str = "Refunded";
pub const PROMOTION_REDEMPTIONS: &str = "PromotionRedemptions";
pub const OUT_OF_STOCK: &str = "OutOfStock";
pub const EMAILS_SENT: &str = "EmailsSent";
pub const EMAILS_FAILED: &str = "EmailsFailed";
pub const LOGIN_FAILURES: &str = "LoginFailures";
pub const LOGIN_LOCKOUTS: &str = "LoginLockouts";
pub const UPLOADS_STORED: &str = "UploadsStored";
pub const UPLOADS_REJECTED: &str = "UploadsRejected";
pub const DEPENDENCY_ERRORS: &str = "DependencyErrors";

/// One metric: its name, its unit (`None`: a plain number, such as an
/// amount in minor units) and what it counts.
pub struct Metric {
    pub name: &'static str,
    pub unit: Option<Unit>,
    pub about: &'static str,
}

const fn metric(name: &'static str, unit: Option<Unit>, about: &'static str) -> Metric {
    Metric { name, unit, about }
}

const COUNT: Option<Unit> = Some(Unit::Count);

/// Every metric Galley records (a test keeps the dashboard's names in it).
pub const METRICS: &[Metric] = &[
    metric(COLD_STARTS, COUNT, "processes started"),
    metric(REQUESTS, COUNT, "HTTP requests answered, by route and outcome class"),
    metric(LATENCY, Some(Unit::Milliseconds), "time to answer an HTTP request, by route"),
    metric(ORDERS_CONFIRMED, COUNT, "orders confirmed (paid), by currency"),
    metric(REVENUE, None, "confirmed orders' totals in minor units, by currency"),
    metric(ORDERS_DECLINED, COUNT, "orders whose payment was declined"),
    metric(ORDERS_CANCELLED, COUNT, "orders cancelled, by the buyer or the shop"),
    metric(REFUNDS, COUNT, "refunds settled, by currency"),
    metric(REFUNDED, None, "refunded amounts in minor units, by currency"),
    metric(PROMOTION_REDEMPTIONS, COUNT, "discount codes redeemed by confirmed orders"),
    metric(OUT_OF_STOCK, COUNT, "checkouts answered out_of_stock"),
    metric(EMAILS_SENT, COUNT, "receipts and notices sent"),
    metric(EMAILS_FAILED, COUNT, "receipts and notices the mail service refused or failed"),
    metric(LOGIN_FAILURES, COUNT, "logins refused for a wrong email or password"),
    metric(LOGIN_LOCKOUTS, COUNT, "logins refused because the account is locked out"),
    metric(UPLOADS_STORED, COUNT, "uploads whose bytes passed the check"),
    metric(UPLOADS_REJECTED, COUNT, "uploads whose bytes failed the check"),
    metric(DEPENDENCY_ERRORS, COUNT, "failed calls to a store or service, by dependency and kind"),
];

/// Tells the installed recorder each metric's unit and meaning.
pub fn describe() {
    for m in METRICS {
        match (m.name, m.unit) {
            (LATENCY, Some(unit)) => describe_histogram!(m.name, unit, m.about),
            (_, Some(unit)) => describe_counter!(m.name, unit, m.about),
            (_, None) => describe_counter!(m.name, m.about),
        }
    }
}

pub fn cold_start() {
    counter!(COLD_STARTS).increment(1);
}

/// One HTTP answer: `route` is the method and matched pattern (`POST
/// /orders`) or `unmatched`, so a scan of random paths adds no metric.
pub fn request(route: String, status: u16, took: Duration) {
    let outcome = match status {
        500.. => "5xx",
        400.. => "4xx",
        _ => "2xx",
    };
    counter!(REQUESTS, "Route" => route.clone(), "Outcome" => outcome).increment(1);
    histogram!(LATENCY, "Route" => route).record(took.as_secs_f64() * 1000.0);
}

pub fn order_confirmed(total: Money, redeemed_promotion: bool) {
    let currency = total.currency.as_str().to_owned();
    counter!(ORDERS_CONFIRMED, "Currency" => currency.clone()).increment(1);
    counter!(REVENUE, "Currency" => currency).increment(total.amount.unsigned_abs());
    if redeemed_promotion {
        counter!(PROMOTION_REDEMPTIONS).increment(1);
    }
}

pub fn order_declined() {
    counter!(ORDERS_DECLINED).increment(1);
}

pub fn order_cancelled() {
    counter!(ORDERS_CANCELLED).increment(1);
}

pub fn refund_settled(amount: Money) {
    let currency = amount.currency.as_str().to_owned();
    counter!(REFUNDS, "Currency" => currency.clone()).increment(1);
    counter!(REFUNDED, "Currency" => currency).increment(amount.amount.unsigned_abs());
}

pub fn out_of_stock() {
    counter!(OUT_OF_STOCK).increment(1);
}

pub fn email(sent: bool) {
    counter!(if sent { EMAILS_SENT } else { EMAILS_FAILED }).increment(1);
}

pub fn login_failed() {
    counter!(LOGIN_FAILURES).increment(1);
}

pub fn login_locked_out() {
    counter!(LOGIN_LOCKOUTS).increment(1);
}

pub fn upload_checked(stored: bool) {
    counter!(if stored { UPLOADS_STORED } else { UPLOADS_REJECTED }).increment(1);
}

/// What went wrong with a call to a dependency, in the classes an operator
/// acts on differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The service asked us to slow down (throttling, 429).
    Throttled,
    Timeout,
    /// No answer: the connection failed or broke.
    Connection,
    /// The service failed (5xx).
    Server,
    /// The service refused the call (4xx other than throttling): usually
    /// a configuration or permission fault.
    Refused,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Throttled => "throttled",
            Fault::Timeout => "timeout",
            Fault::Connection => "connection",
            Fault::Server => "5xx",
            Fault::Refused => "4xx",
        }
    }
}

/// A failed call to `dependency` (`dynamodb`, `ses`, `s3`, `stripe`, …).
pub fn dependency_error(dependency: &'static str, fault: Fault) {
    counter!(DEPENDENCY_ERRORS, "Dependency" => dependency, "Kind" => fault.as_str()).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_cloudwatch_safe() {
        let mut names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
        assert!(names.iter().all(|n| n.len() <= 255 && n.chars().all(|c| c.is_ascii_alphanumeric())));
    }
}
