//! Payment gateways: the adapters behind the domain's `PaymentGateway` port.
//!
//! | module    | what it is for                                                  |
//! |-----------|-----------------------------------------------------------------|
//! | `sandbox` | the default gateway: card-test tokens, no money moves           |
//! | `stripe`  | Stripe: PaymentIntents and Refunds over its HTTPS API           |
//! | `choice`  | which of them the environment selects                            |

mod choice;
pub mod sandbox;
pub mod stripe;

pub use choice::gateway_from_env;
pub use sandbox::SandboxGateway;
pub use stripe::{StripeClient, StripeGateway};
