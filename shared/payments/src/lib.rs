//! Payment gateways: the adapters behind the domain's `PaymentGateway` port.
//!
//! | module    | what it is for                                                  |
//! |-----------|-----------------------------------------------------------------|
//! | `sandbox` | the default gateway: card-test tokens, no money moves           |
//! | `stripe`  | Stripe: PaymentIntents, Refunds, its webhook's events           |
//! | `choice`  | which of them the environment selects                            |

mod choice;
pub mod sandbox;
#[cfg(feature = "stripe")]
pub mod stripe;

pub use choice::{Payments, STRIPE_KEY, SecretLookup, WEBHOOK_SECRET, gateway_from_env, payments_from_env};
pub use sandbox::SandboxGateway;
#[cfg(feature = "stripe")]
pub use stripe::{StripeClient, StripeGateway};
