//! Uploads: a signed-in user gets a ticket to put one image straight into
//! storage; what arrives is checked against what was declared.

mod arrival;
mod image_type;
mod request;
mod service;
mod upload;

pub use arrival::{Arrival, ArrivalCheck, Rejection, SNIFF_BYTES, inspect};
pub use image_type::{ALLOWED_TYPES, ImageType};
pub use request::{Filename, MAX_FILENAME_CHARS, UploadRequest, UploadSize};
pub use service::{Ticket, UploadService};
pub use upload::{StoredUpload, Upload, UploadStatus, UploadView, object_key, parse_object_key};

/// 10 MiB, API.md's limit.
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// How long a ticket's URL works: API.md allows at most 15 minutes.
pub const TICKET_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// API.md: a user holds at most this many pending uploads at once...
pub const MAX_PENDING_UPLOADS: usize = 20;
/// ...and one that no bytes reached within this long is `expired`, and
/// frees its slot.
pub const PENDING_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
