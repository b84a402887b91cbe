//! Product images move with the shop: the box served them itself
//! (`<box origin>/images/<product>/<upload>`), the stack serves the same
//! keys from its CDN (`IMAGES_URL`). An image URL of anyone else's (an
//! import's) is left as it is.

use crate::admin::IMAGES_PREFIX;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rehost {
    from: String,
    to: String,
}

impl Rehost {
    /// From the box's public origin to the CDN's, each without a trailing `/`.
    pub fn new(from: &str, to: &str) -> Self {
        Self { from: from.trim_end_matches('/').to_owned(), to: to.trim_end_matches('/').to_owned() }
    }

    /// `url` on the CDN when it is one of the box's images.
    pub fn url(&self, url: &str) -> Option<String> {
        let key = url.strip_prefix(&self.from)?.strip_prefix('/')?;
        key.starts_with(IMAGES_PREFIX).then(|| format!("{}/{key}", self.to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_boxs_images_move_to_the_cdn() {
        let rehost = Rehost::new("http://127.0.0.1:3000/", "https://d1.cloudfront.net");
        assert_eq!(
            rehost.url("http://127.0.0.1:3000/images/p-1/01J").as_deref(),
            Some("https://d1.cloudfront.net/images/p-1/01J")
        );
        assert_eq!(rehost.url("http://127.0.0.1:3000/uploads/u/01J"), None, "not an image key");
        assert_eq!(rehost.url("http://127.0.0.1:30000/images/p/01J"), None, "another origin");
        assert_eq!(rehost.url("https://cdn.example.com/mug.png"), None, "an import's own URL");
    }
}
