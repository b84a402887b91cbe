//! `POST /uploads`'s body: `{filename, content_type, size}`.

use serde_json::Value;

use crate::error::Error;
use crate::json::{self, Fields};
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

/// Whole numbers only; a number too big for `u64` is still a size (a too
/// large one), not a malformed field.
fn declared_size(value: &Value) -> Result<u64, String> {
    match value {
        Value::Number(n) if n.as_u64().is_some() => Ok(n.as_u64().unwrap_or_default()),
        Value::Number(n) if n.as_f64().is_some_and(|f| f >= u64::MAX as f64) => Ok(u64::MAX),
        _ => Err("must be a whole number of bytes, at least 1".into()),
    }
}

impl UploadRequest {
    /// Shape errors first (400, every field named), then the type (415),
    /// then the size limit (413).
    pub fn from_json(value: Value) -> Result<Self, Error> {
        let (filename, content_type, size) = json::parse_object(value, |f: &mut Fields| {
            let filename = f.required("filename", |v| json::string(v).and_then(|s| Filename::parse(&s)));
            let content_type = f.required("content_type", json::string);
            let size = f.required("size", |v| match declared_size(v)? {
                0 => Err("must be at least 1".to_owned()),
                n => Ok(n),
            });
            Some((filename?, content_type?, size?))
        })?;
        let content_type = ImageType::parse(&content_type)?;
        Ok(Self { filename, content_type, size: UploadSize::new(size)? })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Vec<String> {
        match UploadRequest::from_json(value) {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation_failed, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_parses() {
        let request =
            UploadRequest::from_json(json!({"filename": "cat.png", "content_type": "image/png", "size": 2048}))
                .unwrap();
        assert_eq!(request.filename.as_str(), "cat.png");
        assert_eq!(request.content_type, ImageType::Png);
        assert_eq!(request.size.bytes(), 2048);
    }

    #[test]
    fn odd_but_printable_names_are_only_names() {
        for name in ["../../x.png", "ünïcødé 猫.webp", "a/b\\c.jpg", &"n".repeat(255)] {
            let body = json!({"filename": name, "content_type": "image/jpeg", "size": 1});
            assert_eq!(UploadRequest::from_json(body).unwrap().filename.as_str(), name);
        }
    }

    #[test]
    fn empty_long_and_control_character_names_are_refused() {
        for name in ["", &"n".repeat(256), &"n".repeat(1000), "a\0.png", "line\nbreak.png"] {
            assert_eq!(fields(json!({"filename": name, "content_type": "image/png", "size": 5})), ["filename"]);
        }
    }

    #[test]
    fn every_shape_error_is_named_before_type_or_size() {
        assert_eq!(fields(json!({"filename": "", "content_type": "text/plain", "size": 0})), ["filename", "size"]);
        assert_eq!(fields(json!({"content_type": 3, "size": -1, "x": 1})), ["filename", "content_type", "size", "x"]);
        assert_eq!(fields(json!({"filename": "a.png", "content_type": "image/png", "size": 1.5})), ["size"]);
    }

    #[test]
    fn unsupported_types_are_415_and_big_sizes_413() {
        let body = json!({"filename": "a.gif", "content_type": "image/gif", "size": 5});
        assert!(matches!(UploadRequest::from_json(body), Err(Error::UnsupportedMediaType { .. })));
        for size in [json!(MAX_UPLOAD_BYTES + 1), json!(1e30)] {
            let body = json!({"filename": "a.png", "content_type": "image/png", "size": size});
            assert!(matches!(
                UploadRequest::from_json(body),
                Err(Error::UploadTooLarge { max_size: MAX_UPLOAD_BYTES })
            ));
        }
        let body = json!({"filename": "a.png", "content_type": "image/png", "size": MAX_UPLOAD_BYTES});
        assert!(UploadRequest::from_json(body).is_ok());
    }
}
