//! Payment gateways: the adapters behind the domain's `PaymentGateway` port.
//!
//! | module    | what it is for                                                  |
//! |-----------|-----------------------------------------------------------------|
//! | `sandbox` | the default gateway: card-test tokens, no money moves           |

pub mod sandbox;

pub use sandbox::SandboxGateway;
