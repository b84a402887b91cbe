//! What an upload ticket is asked for: a filename, an image type and a size.

use crate::error::Error;
use crate::uploads::{ImageType, MAX_UPLOAD_BYTES};

pub const MAX_FILENAME_CHARS: usize = 255;

/// The name the user gave the file: shown back, never used as a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filename(String);

impl Filename {
    /// 1 to 255 characters, no control characters (NUL included): anything
    /// else may sit in a name, since storage keys never come from it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let chars = raw.chars().count();
        if (1..=MAX_FILENAME_CHARS).contains(&chars) && !raw.chars().any(char::is_control) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!("must be 1 to {MAX_FILENAME_CHARS} characters without control characters"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A size in bytes, from 1 to `MAX_UPLOAD_BYTES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadSize(u64);

impl UploadSize {
    pub fn new(bytes: u64) -> Result<Self, Error> {
        match bytes {
            0 => Err(Error::Validation(vec![crate::FieldError::new("size", "must be at least 1")])),
            n if n > MAX_UPLOAD_BYTES => Err(Error::UploadTooLarge { max_size: MAX_UPLOAD_BYTES }),
            n => Ok(Self(n)),
        }
    }

    pub fn bytes(self) -> u64 {
        self.0
    }
}

/// A valid request for an upload ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRequest {
    pub filename: Filename,
    pub content_type: ImageType,
    pub size: UploadSize,
}
