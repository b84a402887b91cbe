//! Routing a request to one of a function's routes by method and path
//! pattern, with 404 and 405 (and `Allow`) as API.md says.

use http::Method;

use galley_shared::Error;

/// Values captured from `{name}` segments of a route pattern.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PathParams(Vec<(&'static str, String)>);

impl PathParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// One route of a function: method, pattern such as `/products/{id}`, and
/// the handler's tag for it.
#[derive(Clone, Debug)]
pub struct Route<R> {
    pub method: Method,
    pub pattern: &'static str,
    pub tag: R,
}

impl<R> Route<R> {
    pub const fn new(method: Method, pattern: &'static str, tag: R) -> Self {
        Self { method, pattern, tag }
    }
}

fn match_pattern(pattern: &'static str, path: &str) -> Option<PathParams> {
    let mut wanted = pattern.trim_start_matches('/').split('/');
    let mut given = path.trim_start_matches('/').split('/');
    let mut params = Vec::new();
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(PathParams(params)),
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {
                params.push((&w[1..w.len() - 1], g.to_owned()));
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// Whether `path` fits `pattern` (e.g. `/products/{id}`), whatever the method.
pub fn matches(pattern: &'static str, path: &str) -> bool {
    match_pattern(pattern, path).is_some()
}

/// Finds the route for a request: 404 when no pattern matches the path,
/// 405 (with the allowed methods) when one does but not for this method.
pub fn resolve<R: Copy>(routes: &[Route<R>], method: &Method, path: &str) -> Result<(R, PathParams), Error> {
    let mut allow = Vec::new();
    for route in routes {
        if let Some(params) = match_pattern(route.pattern, path) {
            if route.method == method {
                return Ok((route.tag, params));
            }
            allow.push(route.method.as_str());
        }
    }
    if allow.is_empty() {
        Err(Error::NotFound)
    } else {
        allow.dedup();
        Err(Error::MethodNotAllowed { allow: allow.into_iter().map(static_method).collect() })
    }
}

/// The route `request` is for, as `METHOD /pattern` (a metric's label:
/// bounded, unlike the path), or `None` when no route fits.
pub fn pattern<R>(routes: &[Route<R>], request: &crate::request::Request) -> Option<String> {
    let path = request.uri().path();
    let route = routes.iter().find(|r| r.method == request.method() && matches(r.pattern, path))?;
    Some(format!("{} {}", route.method, route.pattern))
}

fn static_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        _ => "OPTIONS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::problem_response;
    use crate::request::Response;

    fn code(response: &Response) -> String {
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        body["code"].as_str().unwrap().to_owned()
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Tag {
        List,
        One,
        Create,
    }

    const ROUTES: &[Route<Tag>] = &[
        Route::new(Method::GET, "/products", Tag::List),
        Route::new(Method::POST, "/products", Tag::Create),
        Route::new(Method::GET, "/products/{id}", Tag::One),
    ];

    #[test]
    fn router_matches_patterns_and_captures_params() {
        let (tag, params) = resolve(ROUTES, &Method::GET, "/products/mug-1").unwrap();
        assert_eq!(tag, Tag::One);
        assert_eq!(params.get("id"), Some("mug-1"));
        assert_eq!(resolve(ROUTES, &Method::POST, "/products").unwrap().0, Tag::Create);
    }

    #[test]
    fn a_request_is_labelled_by_its_route_not_its_path() {
        let request = |method: Method, path: &str| {
            http::Request::builder().method(method).uri(path).body(bytes::Bytes::new()).unwrap()
        };
        assert_eq!(pattern(ROUTES, &request(Method::GET, "/products/mug-1")).as_deref(), Some("GET /products/{id}"));
        assert_eq!(pattern(ROUTES, &request(Method::POST, "/products")).as_deref(), Some("POST /products"));
        assert_eq!(pattern(ROUTES, &request(Method::DELETE, "/products")), None);
        assert_eq!(pattern(ROUTES, &request(Method::GET, "/wp-admin")), None);
    }

    #[test]
    fn router_answers_404_and_405() {
        for path in ["/nope", "/products/a/b", "/products/", "/"] {
            let err = resolve(ROUTES, &Method::GET, path).unwrap_err();
            assert_eq!(code(&problem_response(&err)), "not_found", "{path}");
        }
        let err = resolve(ROUTES, &Method::DELETE, "/products").unwrap_err();
        let response = problem_response(&err);
        assert_eq!(response.status(), 405);
        assert_eq!(code(&response), "method_not_allowed");
        assert_eq!(response.headers()["allow"], "GET, POST");
    }
}
