//! The back office (API.md "Back office"): what a shop's admins may change,
//! and the audit log every change writes in the same atomic write.
//!
//! | module     | what it is for                                                  |
//! |------------|-----------------------------------------------------------------|
//! | `record`   | a product as the back office sees it: archived, version, times  |
//! | `edits`    | what an admin asks: a new product, a patch, a stock move        |
//! | `audit`    | audit entries: who changed what, before and after               |
//! | `products` | the product desk: create, read, list, patch, move stock         |
//! | `images`   | a stored upload made a product's public image                   |
//! | `orders`   | the order desk: every customer's orders, with their history     |
//! | `promotions` | the promotion desk: create, read, list, patch discount codes  |

mod audit;
mod edits;
mod images;
mod orders;
mod products;
mod promotions;
mod record;

pub use audit::{Actor, AuditEntry, AuditTarget};
pub use edits::{MAX_STOCK_DELTA, NewProduct, ProductPatch, RecordFilter, StockMove};
pub use images::{IMAGE_CACHE_CONTROL, IMAGES_PREFIX, ImageHost, image_key};
pub use orders::{OrderDesk, OrderQuery};
pub use products::{ProductDesk, StockAnswer};
pub use promotions::{NewPromotion, PromotionDesk, PromotionPatch, check_window};
pub use record::{AdminProductView, ProductRecord};
