//! Catalog files in JSON Lines: one product a line, bad lines reported by
//! number so the rest can still go in.

use std::collections::HashMap;

use galley_shared::Error;
use galley_shared::catalog::Product;

use super::product;

/// A line that cannot be imported, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based, as editors count.
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct ParsedCatalog {
    pub products: Vec<Product>,
    pub bad_lines: Vec<BadLine>,
}

fn reason(error: Error) -> String {
    match error {
        Error::Validation(errors) => {
            errors.iter().map(|e| format!("{} {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
        }
        Error::MalformedJson => "not valid JSON".into(),
        other => other.to_string(),
    }
}

/// Parses a whole file. Blank lines are skipped; a line repeating an id
/// that an earlier line already used is bad (the file is ambiguous there).
pub fn parse_catalog(text: &str) -> ParsedCatalog {
    let mut parsed = ParsedCatalog::default();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let product = serde_json::from_str(raw).map_err(|_| Error::MalformedJson).and_then(product);
        match product {
            Err(error) => parsed.bad_lines.push(BadLine { line, reason: reason(error) }),
            Ok(product) => match first_line_of.get(product.id.as_str()) {
                Some(first) => parsed
                    .bad_lines
                    .push(BadLine { line, reason: format!("id {} already used on line {first}", product.id) }),
                None => {
                    first_line_of.insert(product.id.to_string(), line);
                    parsed.products.push(product);
                }
            },
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"id":"a","title":"A","description":"","category":"c","price":{"amount":1,"currency":"USD"},"stock":1,"image_url":null}"#;

    #[test]
    fn bad_lines_are_numbered_and_the_rest_kept() {
        let text =
            format!("{GOOD}\n\n{{not json\n{}\n{GOOD}\n", GOOD.replace("\"c\"", "\"C!\"").replace("\"a\"", "\"b\""));
        let parsed = parse_catalog(&text);
        assert_eq!(parsed.products.len(), 1);
        let lines: Vec<usize> = parsed.bad_lines.iter().map(|b| b.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert_eq!(parsed.bad_lines[0].reason, "not valid JSON");
        assert!(parsed.bad_lines[1].reason.starts_with("category "), "{}", parsed.bad_lines[1].reason);
        assert_eq!(parsed.bad_lines[2].reason, "id a already used on line 1");
    }

    #[test]
    fn demo_catalog_is_valid() {
        let parsed = parse_catalog(include_str!("../../../../catalog/demo.jsonl"));
        assert!(parsed.bad_lines.is_empty(), "{:?}", parsed.bad_lines);
        assert!(parsed.products.len() >= 30);
    }
}
