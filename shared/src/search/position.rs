//! Where a page of search results ended.

use serde::{Deserialize, Serialize};

/// The last item's rank (with a query) and title key. Not a table key:
/// stores resume from it through their own queries. The edge seals it into
/// an opaque cursor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "w", skip_serializing_if = "Option::is_none", default)]
    pub title_words: Option<u32>,
    #[serde(rename = "k")]
    pub title_key: String,
}
