//! Parsing JSON objects into domain types while collecting *every* bad field,
//! which serde's derive cannot do (it stops at the first error).

use serde_json::{Map, Value};

use galley_shared::{Error, FieldError};

/// An object being taken apart field by field. Each `take` parses one member
/// and remembers what went wrong; `parse_object` then reports all problems,
/// including members nobody asked for.
pub struct Fields {
    prefix: String,
    members: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields {
    fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_owned() } else { format!("{}.{name}", self.prefix) }
    }

    /// A member that must be present and valid.
    pub fn required<T>(&mut self, name: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<T> {
        match self.members.remove(name) {
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(self.path(name), "is required"));
                None
            }
            Some(value) => self.check(name, parse(&value)),
        }
    }

    /// A member that may be absent or null.
    pub fn optional<T>(&mut self, name: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<Option<T>> {
        match self.members.remove(name) {
            None | Some(Value::Null) => Some(None),
            Some(value) => self.check(name, parse(&value)).map(Some),
        }
    }

    /// A member whose `null` means something (remove it): absent is
    /// `None`, `null` is `Some(None)`.
    pub fn nullable<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Option<Option<T>>> {
        match self.members.remove(name) {
            None => Some(None),
            Some(Value::Null) => Some(Some(None)),
            Some(value) => self.check(name, parse(&value)).map(|v| Some(Some(v))),
        }
    }

    /// A nested object, parsed with the same rules and error paths under `name`.
    pub fn object<T>(&mut self, name: &str, build: impl FnOnce(&mut Fields) -> Option<T>) -> Option<T> {
        let path = self.path(name);
        match self.members.remove(name) {
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(path, "is required"));
                None
            }
            Some(value) => {
                let (result, errors) = parse_at(path, value, build);
                self.errors.extend(errors);
                result
            }
        }
    }

    /// A nested object that may be absent or null.
    pub fn optional_object<T>(
        &mut self,
        name: &str,
        build: impl FnOnce(&mut Fields) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.members.get(name) {
            None | Some(Value::Null) => {
                self.members.remove(name);
                Some(None)
            }
            Some(_) => self.object(name, build).map(Some),
        }
    }

    /// An array of objects, each parsed by `build`, with paths like `items[3].quantity`.
    pub fn array_of<T>(
        &mut self,
        name: &str,
        len: std::ops::RangeInclusive<usize>,
        mut build: impl FnMut(&mut Fields) -> Option<T>,
    ) -> Option<Vec<T>> {
        let path = self.path(name);
        let array = match self.members.remove(name) {
            Some(Value::Array(array)) => array,
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(path, "is required"));
                return None;
            }
            Some(_) => {
                self.errors.push(FieldError::new(path, "must be an array"));
                return None;
            }
        };
        if !len.contains(&array.len()) {
            let message = format!("must have {} to {} entries", len.start(), len.end());
            self.errors.push(FieldError::new(path, message));
            return None;
        }
        let mut items = Vec::with_capacity(array.len());
        let mut all_ok = true;
        for (index, value) in array.into_iter().enumerate() {
            let (item, errors) = parse_at(format!("{path}[{index}]"), value, &mut build);
            self.errors.extend(errors);
            match item {
                Some(item) if all_ok => items.push(item),
                _ => all_ok = false,
            }
        }
        all_ok.then_some(items)
    }

    /// Records a rule that spans fields (e.g. `min_price <= max_price`).
    pub fn reject(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(self.path(name), message));
    }

    fn check<T>(&mut self, name: &str, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|message| self.errors.push(FieldError::new(self.path(name), message))).ok()
    }
}

fn parse_at<T>(
    prefix: String,
    value: Value,
    build: impl FnOnce(&mut Fields) -> Option<T>,
) -> (Option<T>, Vec<FieldError>) {
    let Value::Object(members) = value else {
        let field = if prefix.is_empty() { "body".to_owned() } else { prefix };
        return (None, vec![FieldError::new(field, "must be a JSON object")]);
    };
    let mut fields = Fields { prefix, members, errors: Vec::new() };
    let result = build(&mut fields);
    let unknown: Vec<String> = fields.members.keys().cloned().collect();
    for name in unknown {
        let path = fields.path(&name);
        fields.errors.push(FieldError::new(path, "is not a known field"));
    }
    let result = if fields.errors.is_empty() { result } else { None };
    (result, fields.errors)
}

/// Parses a whole JSON document as one object with `build`. Either every field
/// is valid and known, or the error lists each one that is not.
pub fn parse_object<T>(value: Value, build: impl FnOnce(&mut Fields) -> Option<T>) -> Result<T, Error> {
    match parse_at(String::new(), value, build) {
        (Some(result), _) => Ok(result),
        (None, errors) if !errors.is_empty() => Err(Error::Validation(errors)),
        (None, _) => Err(Error::internal("object parser returned nothing without an error")),
    }
}

/// Member parsers for the plain JSON types.
pub fn string(value: &Value) -> Result<String, String> {
    value.as_str().map(str::to_owned).ok_or_else(|| "must be a string".into())
}

pub fn integer(value: &Value) -> Result<i64, String> {
    whole(value).ok_or_else(|| "must be an integer".into())
}

/// A number with no fractional part however it is written (`5`, `5.0`,
/// `5e0`: JSON has one number type, and JSON Schema's `integer` admits
/// them all), within what an `f64` holds exactly.
pub fn whole(value: &Value) -> Option<i64> {
    let Value::Number(number) = value else { return None };
    number.as_i64().or_else(|| {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        number.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT).map(|f| f as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_integer_is_any_number_without_a_fraction() {
        let parsed = |raw: &str| whole(&serde_json::from_str(raw).unwrap());
        assert_eq!(parsed("5"), Some(5));
        assert_eq!(parsed("5.0"), Some(5));
        assert_eq!(parsed("-0.0"), Some(0));
        assert_eq!(parsed("2e2"), Some(200));
        assert_eq!(parsed("5.5"), None);
        assert_eq!(parsed("1e300"), None);
        assert_eq!(parsed("\"5\""), None);
    }

    #[derive(Debug, PartialEq)]
    struct Line {
        sku: String,
        count: i64,
    }

    fn line(f: &mut Fields) -> Option<Line> {
        let sku = f.required("sku", string);
        let count = f.required("count", |v| {
            integer(v).and_then(|n| if (1..=9).contains(&n) { Ok(n) } else { Err("must be 1..9".into()) })
        });
        Some(Line { sku: sku?, count: count? })
    }

    fn cart(value: Value) -> Result<(Vec<Line>, Option<String>), Error> {
        parse_object(value, |f| {
            let lines = f.array_of("lines", 1..=3, line);
            let note = f.optional("note", string);
            Some((lines?, note?))
        })
    }

    fn fields(result: Result<impl std::fmt::Debug, Error>) -> Vec<String> {
        match result {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn valid_object_parses() {
        let parsed = cart(json!({"lines": [{"sku": "a", "count": 2}]})).unwrap();
        assert_eq!(parsed.0, vec![Line { sku: "a".into(), count: 2 }]);
        assert_eq!(parsed.1, None);
    }

    #[test]
    fn every_bad_field_is_named_including_nested_and_unknown() {
        let got = fields(cart(json!({
            "lines": [{"sku": 5, "count": 2}, {"sku": "b", "count": 0, "extra": true}],
            "note": 3,
            "coupon": "FREE"
        })));
        assert_eq!(got, ["lines[0].sku", "lines[1].count", "lines[1].extra", "note", "coupon"]);
    }

    #[test]
    fn missing_and_wrongly_shaped_members() {
        assert_eq!(fields(cart(json!({}))), ["lines"]);
        assert_eq!(fields(cart(json!({"lines": "x"}))), ["lines"]);
        assert_eq!(fields(cart(json!({"lines": []}))), ["lines"]);
        assert_eq!(fields(cart(json!([1, 2]))), ["body"]);
    }
}
