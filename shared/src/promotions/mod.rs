//! Promotions (API.md "Promotion"): discount codes and what they take off
//! an order. The rules only; the cap and once-per-customer are held by the
//! stores' conditional writes in the checkout's own transaction.
//!
//! | module      | what it is for                                                 |
//! |-------------|----------------------------------------------------------------|
//! | `code`      | a promotion code, compared ignoring case                        |
//! | `promotion` | a promotion, and whether it applies to a subtotal now           |
//! | `spread`    | the discount shared over the lines by largest remainder         |
//! | `redemption`| a promotion as an order redeemed it, to give back on a decline  |
//! | `view`      | API.md's Promotion document                                     |

mod code;
mod promotion;
mod redemption;
mod spread;
mod view;

pub use code::PromoCode;
pub use promotion::{Offer, PromoRefusal, Promotion};
pub use redemption::Redemption;
pub use spread::spread;
pub use view::PromotionView;
