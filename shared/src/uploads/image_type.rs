//! The image types an upload may declare, and what their bytes look like.

use crate::error::Error;

pub const ALLOWED_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
}

impl ImageType {
    /// Exactly one of `ALLOWED_TYPES` (case-insensitive); anything else is
    /// `unsupported_media_type`.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "image/jpeg" => Ok(ImageType::Jpeg),
            "image/png" => Ok(ImageType::Png),
            "image/webp" => Ok(ImageType::Webp),
            _ => Err(Error::UnsupportedMediaType { allowed: ALLOWED_TYPES }),
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Webp => "image/webp",
        }
    }

    /// What the file's leading bytes say it is, by its magic numbers (the
    /// `infer` crate's table), whatever it was declared as.
    pub fn sniff(first_bytes: &[u8]) -> Option<&'static str> {
        infer::get(first_bytes).map(|kind| kind.mime_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_name_the_three_types_and_nothing_else() {
        assert_eq!(ImageType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(ImageType::sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"), Some("image/jpeg"));
        assert_eq!(ImageType::sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(ImageType::sniff(b"just some text, named .png"), None);
        assert_eq!(ImageType::sniff(b""), None);
    }

    #[test]
    fn parsing_is_exact_up_to_case() {
        assert_eq!(ImageType::parse("IMAGE/PNG").unwrap(), ImageType::Png);
        for bad in ["image/gif", "image/png; x=1", "", "image/svg+xml"] {
            assert!(ImageType::parse(bad).is_err(), "{bad}");
        }
    }
}
