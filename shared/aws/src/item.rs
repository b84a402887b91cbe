//! Reading and writing DynamoDB attribute maps.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use galley_shared::Error;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The primary key of an item.
pub(crate) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// Typed access to an item's attributes; a missing or mistyped attribute
/// is a corrupt item, reported as an internal error.
pub(crate) struct Reader<'a>(pub &'a Item);

impl Reader<'_> {
    fn corrupt(&self, name: &str, what: &str) -> Error {
        Error::internal(format!("item attribute {name}: {what}"))
    }

    pub fn s(&self, name: &str) -> Result<&str, Error> {
        match self.0.get(name) {
            Some(AttributeValue::S(v)) => Ok(v),
            _ => Err(self.corrupt(name, "missing or not a string")),
        }
    }

    pub fn opt_s(&self, name: &str) -> Result<Option<&str>, Error> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v)),
            Some(_) => Err(self.corrupt(name, "not a string")),
        }
    }

    pub fn n<T: FromStr>(&self, name: &str) -> Result<T, Error> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| self.corrupt(name, "not a valid number")),
            _ => Err(self.corrupt(name, "missing or not a number")),
        }
    }
}

impl crate::DynamoStore {
    /// One item by key, read consistently (a write a moment ago counts).
    pub(crate) async fn read_item(&self, key: Item) -> Result<Option<Item>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::errors::sdk_error("GetItem", e))?;
        Ok(output.item)
    }
}
