//! Which gateway a deployment charges through: `PAYMENT_GATEWAY=sandbox`
//! (the default) or `stripe`, with `STRIPE_SECRET_KEY` and, for an
//! emulator such as localstripe, `STRIPE_API_BASE`.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::ports::{ChargeLedger, PaymentGateway};
use secrecy::SecretString;

use crate::sandbox::SandboxGateway;
use crate::stripe::{STRIPE_API, StripeClient, StripeGateway};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The gateway the environment names, keeping its records in `ledger`.
pub fn gateway_from_env(ledger: Arc<dyn ChargeLedger>) -> Result<Arc<dyn PaymentGateway>, Error> {
    match var("PAYMENT_GATEWAY").as_deref().unwrap_or("sandbox") {
        "sandbox" => Ok(Arc::new(SandboxGateway::new(ledger))),
        "stripe" => {
            let secret = var("STRIPE_SECRET_KEY")
                .ok_or_else(|| Error::internal("PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY"))?;
            let base = var("STRIPE_API_BASE").unwrap_or_else(|| STRIPE_API.to_owned());
            if !base.starts_with("https://") && !is_loopback(&base) {
                return Err(Error::internal("STRIPE_API_BASE must be https, or http on loopback (an emulator)"));
            }
            Ok(Arc::new(StripeGateway::new(StripeClient::new(&base, SecretString::from(secret)), ledger)))
        }
        other => Err(Error::internal(format!("PAYMENT_GATEWAY={other}: expected sandbox or stripe"))),
    }
}

fn is_loopback(base: &str) -> bool {
    ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"].iter().any(|p| base.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn plain_http_only_reaches_an_emulator_on_this_machine() {
        assert!(is_loopback("http://127.0.0.1:8420"));
        assert!(!is_loopback("http://api.stripe.com"));
        assert!(!is_loopback("http://127.0.0.1.evil.example:80"));
    }
}
