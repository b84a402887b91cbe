//! Which gateway a deployment charges through: `PAYMENT_GATEWAY=sandbox`
//! (the default) or `stripe`, with the Stripe API key (`STRIPE_SECRET_KEY`
//! locally; in AWS the Secrets Manager secret `STRIPE_SECRET_KEY_ARN`
//! names, read on first use) and, for an emulator such as localstripe,
//! `STRIPE_API_BASE`.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::ports::{ChargeLedger, PaymentGateway, SecretSource};

use crate::sandbox::SandboxGateway;
#[cfg(feature = "stripe")]
use crate::stripe::{STRIPE_API, StripeClient, StripeEvents, StripeGateway};

/// The Stripe API key's setting: the key itself, or (`_ARN`) its secret.
pub const STRIPE_KEY: &str = "STRIPE_SECRET_KEY";
/// The webhook signing secret's setting: the secret, or (`_ARN`) where it is.
pub const WEBHOOK_SECRET: &str = "STRIPE_WEBHOOK_SECRET";

/// Finds a secret by its setting's name (`STRIPE_SECRET_KEY`): from the
/// environment, or in AWS from the secret `<name>_ARN` names. `None` when
/// neither is set.
pub type SecretLookup<'a> = &'a dyn Fn(&str) -> Result<Option<Arc<dyn SecretSource>>, Error>;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The configured gateway, and with Stripe, the reader of its webhook's events.
pub struct Payments {
    pub gateway: Arc<dyn PaymentGateway>,
    #[cfg(feature = "stripe")]
    pub stripe_events: Option<StripeEvents>,
}

/// The payments the environment names, keeping their records in `ledger`.
pub fn payments_from_env(ledger: Arc<dyn ChargeLedger>, secrets: SecretLookup<'_>) -> Result<Payments, Error> {
    match var("PAYMENT_GATEWAY").as_deref().unwrap_or("sandbox") {
        "sandbox" => Ok(Payments {
            gateway: Arc::new(SandboxGateway::new(ledger)),
            #[cfg(feature = "stripe")]
            stripe_events: None,
        }),
        #[cfg(not(feature = "stripe"))]
        "stripe" => {
            let _ = secrets;
            Err(Error::internal("PAYMENT_GATEWAY=stripe: this build has no Stripe gateway (feature `stripe`)"))
        }
        #[cfg(feature = "stripe")]
        "stripe" => {
            let key = secrets(STRIPE_KEY)?.ok_or_else(|| {
                Error::internal(format!("PAYMENT_GATEWAY=stripe needs {STRIPE_KEY} or {STRIPE_KEY}_ARN"))
            })?;
            let base = var("STRIPE_API_BASE").unwrap_or_else(|| STRIPE_API.to_owned());
            if !base.starts_with("https://") && !is_loopback(&base) {
                return Err(Error::internal("STRIPE_API_BASE must be https, or http on loopback (an emulator)"));
            }
            let client = Arc::new(StripeClient::new(&base, key));
            Ok(Payments {
                gateway: Arc::new(StripeGateway::new(client.clone(), ledger)),
                stripe_events: Some(StripeEvents::new(client)),
            })
        }
        other => Err(Error::internal(format!("PAYMENT_GATEWAY={other}: expected sandbox or stripe"))),
    }
}

/// The gateway alone, for the functions that take no webhook.
pub fn gateway_from_env(
    ledger: Arc<dyn ChargeLedger>,
    secrets: SecretLookup<'_>,
) -> Result<Arc<dyn PaymentGateway>, Error> {
    payments_from_env(ledger, secrets).map(|p| p.gateway)
}

#[cfg(feature = "stripe")]
fn is_loopback(base: &str) -> bool {
    ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"].iter().any(|p| base.starts_with(p))
}

#[cfg(all(test, feature = "stripe"))]
mod tests {
    use super::is_loopback;

    #[test]
    fn plain_http_only_reaches_an_emulator_on_this_machine() {
        assert!(is_loopback("http://127.0.0.1:8420"));
        assert!(!is_loopback("http://api.stripe.com"));
        assert!(!is_loopback("http://127.0.0.1.evil.example:80"));
    }
}
