//! `POST /uploads`'s body.

use galley_shared::Error;
use galley_shared::uploads::{Filename, ImageType, UploadRequest, UploadSize};
use serde_json::Value;

use crate::json::{self, Fields};

/// Whole numbers only; a number too big for `u64` is still a size (a too
/// large one), not a malformed field.
fn declared_size(value: &Value) -> Result<u64, String> {
    match value {
        Value::Number(n) if n.as_u64().is_some() => Ok(n.as_u64().unwrap_or_default()),
        Value::Number(n) if n.as_f64().is_some_and(|f| f >= u64::MAX as f64) => Ok(u64::MAX),
        _ => match json::whole(value).and_then(|n| u64::try_from(n).ok()) {
            Some(size) => Ok(size),
            None => Err("must be a whole number of bytes, at least 1".into()),
        },
    }
}

/// `POST /uploads`'s body: `{filename, content_type, size}`. Shape errors
/// first (400, every field named), then the type (415), then the size
/// limit (413).
pub fn upload_request(value: Value) -> Result<UploadRequest, Error> {
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
    Ok(UploadRequest { filename, content_type, size: UploadSize::new(size)? })
}

#[cfg(test)]
mod tests {
    use galley_shared::uploads::MAX_UPLOAD_BYTES;
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Vec<String> {
        match upload_request(value) {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation_failed, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_parses() {
        let request =
            upload_request(json!({"filename": "cat.png", "content_type": "image/png", "size": 2048})).unwrap();
        assert_eq!(request.filename.as_str(), "cat.png");
        assert_eq!(request.content_type, ImageType::Png);
        assert_eq!(request.size.bytes(), 2048);
    }

    #[test]
    fn odd_but_printable_names_are_only_names() {
        for name in ["../../x.png", "ünïcødé 猫.webp", "a/b\\c.jpg", &"n".repeat(255)] {
            let body = json!({"filename": name, "content_type": "image/jpeg", "size": 1});
            assert_eq!(upload_request(body).unwrap().filename.as_str(), name);
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
        assert!(matches!(upload_request(body), Err(Error::UnsupportedMediaType { .. })));
        for size in [json!(MAX_UPLOAD_BYTES + 1), json!(1e30)] {
            let body = json!({"filename": "a.png", "content_type": "image/png", "size": size});
            assert!(matches!(upload_request(body), Err(Error::UploadTooLarge { max_size: MAX_UPLOAD_BYTES })));
        }
        let body = json!({"filename": "a.png", "content_type": "image/png", "size": MAX_UPLOAD_BYTES});
        assert!(upload_request(body).is_ok());
    }
}
