//! Query strings: percent-decoded, each parameter given at most once, and
//! every parameter nobody asked for named as unknown.

use galley_shared::{Error, FieldError};

use crate::request::Request;

/// A request's query parameters, taken one by one by the route that parses
/// them; `finish` then reports every problem at once.
#[derive(Debug, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
    /// Every name as first given, so errors come back in the client's order.
    order: Vec<String>,
    errors: Vec<FieldError>,
}

impl QueryParams {
    pub fn of(request: &Request) -> Self {
        Self::parse(request.uri().query().unwrap_or(""))
    }

    /// Decodes `query`; a repeated parameter is recorded as an error (an
    /// API that kept the first or the last would answer another question
    /// than the one asked).
    pub fn parse(query: &str) -> Self {
        let mut params = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()).into_owned() {
            if params.pairs.iter().any(|(seen, _)| *seen == name) {
                if !params.errors.iter().any(|e| e.field == name) {
                    params.errors.push(FieldError::new(name, "must be given at most once"));
                }
                continue;
            }
            params.order.push(name.clone());
            params.pairs.push((name, value));
        }
        params
    }

    /// The value of `name`, if given.
    pub fn take(&mut self, name: &str) -> Option<String> {
        let at = self.pairs.iter().position(|(n, _)| n == name)?;
        Some(self.pairs.remove(at).1)
    }

    /// Every error, or nothing: each parameter's (repeats, the caller's
    /// `errors`, parameters nobody took) in the order the query named them,
    /// then the broken `rules` that span parameters (e.g. `min_price <= max_price`).
    pub fn finish(self, errors: Vec<FieldError>, rules: Vec<FieldError>) -> Result<(), Error> {
        let mut all = self.errors;
        all.extend(errors);
        all.extend(self.pairs.into_iter().map(|(name, _)| FieldError::new(name, "is not a known parameter")));
        let order = self.order;
        all.sort_by_key(|e| order.iter().position(|name| *name == e.field).unwrap_or(usize::MAX));
        all.extend(rules);
        if all.is_empty() { Ok(()) } else { Err(Error::Validation(all)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(result: Result<(), Error>) -> Vec<String> {
        match result {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation_failed, got {other:?}"),
        }
    }

    #[test]
    fn values_are_decoded_and_taken_once() {
        let mut params = QueryParams::parse("q=blue+mug%21&n=1");
        assert_eq!(params.take("q").as_deref(), Some("blue mug!"));
        assert_eq!(params.take("q"), None);
        assert_eq!(params.take("n").as_deref(), Some("1"));
        assert!(params.finish(Vec::new(), Vec::new()).is_ok());
    }

    #[test]
    fn repeats_and_unknown_parameters_are_each_named() {
        let mut params = QueryParams::parse("sort=x&a=1&a=2&a=3&b=1");
        params.take("a");
        params.take("b");
        let rule = FieldError::new("a", "must not exceed b");
        assert_eq!(fields(params.finish(vec![FieldError::new("b", "is bad")], vec![rule])), ["sort", "a", "b", "a"]);
    }
}
