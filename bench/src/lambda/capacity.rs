//! What a DynamoDB request costs in on-demand request units, computed from
//! the items it actually reads and writes by DynamoDB's rules (developer
//! guide: "DynamoDB item sizes and formats", "DynamoDB read consistency",
//! "Capacity management for transactions", "Improving data access with
//! secondary indexes"). moto's `ConsumedCapacity` is a constant per call,
//! so it is not used.
//!
//! - An item's size: each attribute's name (UTF-8 bytes) plus its value: a
//!   string's UTF-8 bytes, a binary's raw bytes, a number's one byte per two
//!   significant digits plus one, one byte for a boolean or null, three bytes
//!   for a list or map plus one per element plus the elements.
//! - Reads, in 4 KB units: `GetItem` and each item of `BatchGetItem` rounded
//!   up alone, at least one unit even when nothing is found; `Query` the
//!   items it evaluated summed, then rounded up. Eventually consistent reads
//!   cost half; transactional reads double.
//! - Writes, in 1 KB units: each item the larger of its size before and
//!   after, at least one unit; transactional writes double. Every secondary
//!   index whose entry the write adds, changes or removes costs a write of
//!   that entry (two when its key changes: the old entry out, the new in).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ProjectionType};
use base64::Engine as _;
use serde_json::{Map, Value};

/// Read and write request units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Units {
    pub read: f64,
    pub write: f64,
}

impl std::ops::AddAssign for Units {
    fn add_assign(&mut self, other: Units) {
        self.read += other.read;
        self.write += other.write;
    }
}

/// An item in DynamoDB's JSON wire format (`{"name": {"S": "…"}}`).
pub type Item = Map<String, Value>;

/// An item's size in bytes.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else { return 0 };
    let strings = || inner.as_array().into_iter().flatten().filter_map(Value::as_str);
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(0, number_size),
        "B" => inner.as_str().map_or(0, binary_size),
        "BOOL" | "NULL" => 1,
        "SS" => strings().map(str::len).sum(),
        "NS" => strings().map(number_size).sum(),
        "BS" => strings().map(binary_size).sum(),
        "L" => 3 + inner.as_array().into_iter().flatten().map(|e| 1 + value_size(e)).sum::<usize>(),
        "M" => 3 + inner.as_object().into_iter().flatten().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
        _ => 0,
    }
}

/// One byte per two significant digits, plus one.
fn number_size(number: &str) -> usize {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

fn binary_size(encoded: &str) -> usize {
    base64::engine::general_purpose::STANDARD.decode(encoded).map_or(0, |raw| raw.len())
}

fn units(bytes: usize, unit: usize) -> f64 {
    bytes.div_ceil(unit).max(1) as f64
}

/// Read units for `bytes` read as one unit of rounding.
pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    units(bytes, 4096) * if consistent { 1.0 } else { 0.5 }
}

/// The SDK's attribute value in the wire format.
pub fn wire(value: &AttributeValue) -> Value {
    let b64 = |bytes: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
    let (kind, inner) = match value {
        AttributeValue::S(s) => ("S", Value::String(s.clone())),
        AttributeValue::N(n) => ("N", Value::String(n.clone())),
        AttributeValue::B(b) => ("B", b64(b.as_ref())),
        AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
        AttributeValue::Null(_) => ("NULL", Value::Bool(true)),
        AttributeValue::Ss(v) => ("SS", v.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(v) => ("NS", v.iter().cloned().map(Value::String).collect()),
        AttributeValue::Bs(v) => ("BS", v.iter().map(|b| b64(b.as_ref())).collect()),
        AttributeValue::L(v) => ("L", v.iter().map(wire).collect()),
        AttributeValue::M(m) => ("M", Value::Object(wire_item(m))),
        _ => ("NULL", Value::Bool(true)),
    };
    Value::Object(Map::from_iter([(kind.to_owned(), inner)]))
}

pub fn wire_item(item: &HashMap<String, AttributeValue>) -> Item {
    item.iter().map(|(name, value)| (name.clone(), wire(value))).collect()
}

/// A secondary index: its key attributes and what it projects.
#[derive(Clone, Debug)]
pub struct Index {
    pub keys: Vec<String>,
    pub projection: Projection,
}

#[derive(Clone, Debug)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

impl Projection {
    pub fn of(kind: Option<&ProjectionType>, non_key: &[String]) -> Self {
        match kind {
            Some(ProjectionType::KeysOnly) => Projection::KeysOnly,
            Some(ProjectionType::Include) => Projection::Include(non_key.to_vec()),
            _ => Projection::All,
        }
    }
}

/// A table's primary key attributes and its secondary indexes.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub keys: Vec<String>,
    pub indexes: Vec<Index>,
}

impl Schema {
    /// The entry `item` has in `index`: none without the index's keys.
    fn entry(&self, index: &Index, item: Option<&Item>) -> Option<Item> {
        let item = item?;
        if !index.keys.iter().all(|k| item.contains_key(k)) {
            return None;
        }
        let kept = |name: &String| match &index.projection {
            Projection::All => true,
            Projection::KeysOnly => false,
            Projection::Include(names) => names.contains(name),
        };
        let keys = |name: &String| index.keys.contains(name) || self.keys.contains(name);
        Some(item.iter().filter(|(name, _)| keys(name) || kept(name)).map(|(n, v)| (n.clone(), v.clone())).collect())
    }

    /// Write units of one item written from `before` to `after` (either
    /// absent), `transactional` or not, its indexes' entries included.
    pub fn write_units(&self, before: Option<&Item>, after: Option<&Item>, transactional: bool) -> f64 {
        let size = |item: Option<&Item>| item.map_or(0, item_size);
        let base = units(size(before).max(size(after)), 1024) * if transactional { 2.0 } else { 1.0 };
        let indexed: f64 = self
            .indexes
            .iter()
            .map(|index| {
                let key = |entry: &Item| index.keys.iter().map(|k| entry.get(k).cloned()).collect::<Vec<_>>();
                match (self.entry(index, before), self.entry(index, after)) {
                    (None, None) => 0.0,
                    (Some(old), None) => units(item_size(&old), 1024),
                    (None, Some(new)) => units(item_size(&new), 1024),
                    (Some(old), Some(new)) if key(&old) != key(&new) => {
                        units(item_size(&old), 1024) + units(item_size(&new), 1024)
                    }
                    (Some(old), Some(new)) if old != new => units(item_size(&new), 1024),
                    _ => 0.0,
                }
            })
            .sum();
        base + indexed
    }
}

/// The items a write request writes: (table, key, transactional).
pub fn written_keys(operation: &str, request: &Value, schemas: &BTreeMap<String, Schema>) -> Vec<(String, Item, bool)> {
    let table = |v: &Value| v["TableName"].as_str().unwrap_or_default().to_owned();
    let key_of = |table: &str, item: &Value| -> Item {
        let keys = schemas.get(table).map(|s| s.keys.clone()).unwrap_or_default();
        let item = item.as_object().cloned().unwrap_or_default();
        item.into_iter().filter(|(name, _)| keys.contains(name)).collect()
    };
    let mut written = Vec::new();
    match operation {
        "PutItem" => written.push((table(request), key_of(&table(request), &request["Item"]), false)),
        "UpdateItem" | "DeleteItem" => {
            written.push((table(request), request["Key"].as_object().cloned().unwrap_or_default(), false))
        }
        "TransactWriteItems" => {
            for action in request["TransactItems"].as_array().into_iter().flatten() {
                if let Some(put) = action.get("Put") {
                    written.push((table(put), key_of(&table(put), &put["Item"]), true));
                }
                for kind in ["Update", "Delete", "ConditionCheck"] {
                    if let Some(one) = action.get(kind) {
                        written.push((table(one), one["Key"].as_object().cloned().unwrap_or_default(), true));
                    }
                }
            }
        }
        "BatchWriteItem" => {
            for (name, requests) in request["RequestItems"].as_object().into_iter().flatten() {
                for one in requests.as_array().into_iter().flatten() {
                    if let Some(put) = one.get("PutRequest") {
                        written.push((name.clone(), key_of(name, &put["Item"]), false));
                    }
                    if let Some(delete) = one.get("DeleteRequest") {
                        written.push((name.clone(), delete["Key"].as_object().cloned().unwrap_or_default(), false));
                    }
                }
            }
        }
        _ => {}
    }
    written
}

/// Read units of a read request from its answer.
pub fn read_request_units(operation: &str, request: &Value, response: &Value) -> f64 {
    let consistent = |v: &Value| v["ConsistentRead"].as_bool().unwrap_or(false);
    let items =
        |v: &Value| v.as_array().into_iter().flatten().filter_map(Value::as_object).cloned().collect::<Vec<_>>();
    match operation {
        "GetItem" => {
            let size = response["Item"].as_object().map_or(0, item_size);
            read_units(size, consistent(request))
        }
        "BatchGetItem" => {
            let mut total = 0.0;
            for (table, found) in response["Responses"].as_object().into_iter().flatten() {
                let strong = consistent(&request["RequestItems"][table]);
                total += items(found).iter().map(|item| read_units(item_size(item), strong)).sum::<f64>();
                // Keys asked for and not found cost a unit each too.
                let asked = request["RequestItems"][table]["Keys"].as_array().map_or(0, Vec::len);
                let missing = asked.saturating_sub(items(found).len());
                total += missing as f64 * read_units(0, strong);
            }
            total
        }
        "Query" | "Scan" => {
            let returned = items(&response["Items"]);
            let sizes: usize = returned.iter().map(item_size).sum();
            // A filter drops items after they were read (and paid for):
            // those are counted at the returned items' mean size.
            let scanned = response["ScannedCount"].as_u64().unwrap_or(returned.len() as u64) as usize;
            let dropped = scanned.saturating_sub(returned.len());
            let mean = if returned.is_empty() { 0 } else { sizes / returned.len() };
            read_units(sizes + dropped * mean, consistent(request))
        }
        "TransactGetItems" => response["Responses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| 2.0 * read_units(r["Item"].as_object().map_or(0, item_size), true))
            .sum(),
        _ => 0.0,
    }
}

/// The items a read's answer holds (`Item`, `Items`, or `Responses` by
/// table), and their size in bytes.
pub fn items_returned(response: &Value) -> (usize, usize) {
    let mut items: Vec<&Item> = response["Item"].as_object().into_iter().collect();
    items.extend(response["Items"].as_array().into_iter().flatten().filter_map(Value::as_object));
    for found in response["Responses"].as_object().into_iter().flat_map(|tables| tables.values()) {
        items.extend(found.as_array().into_iter().flatten().filter_map(Value::as_object));
    }
    (items.len(), items.iter().map(|item| item_size(item)).sum())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(v: Value) -> Item {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn sizes_follow_the_developer_guide() {
        // "pk" (2) + "p#1" (3); "n" (1) + 12345 (3 digits pairs → 3 + 1 = 4); "ok" (2) + 1.
        assert_eq!(item_size(&item(json!({"pk": {"S": "p#1"}, "n": {"N": "12345"}, "ok": {"BOOL": true}}))), 5 + 5 + 3);
        // A list: 3 + per element 1 + its size; a map also counts its names.
        assert_eq!(item_size(&item(json!({"l": {"L": [{"S": "ab"}, {"N": "7"}]}}))), 1 + 3 + (1 + 2) + (1 + 2));
        assert_eq!(item_size(&item(json!({"m": {"M": {"k": {"S": "v"}}}}))), 1 + 3 + (1 + 1 + 1));
        assert_eq!(item_size(&item(json!({"b": {"B": "AAEC"}}))), 1 + 3);
        assert_eq!(number_size("100.500"), 3, "zeros at both ends trimmed: 1005");
    }

    #[test]
    fn writes_round_to_kilobytes_double_in_transactions_and_pay_for_index_entries() {
        let schema = Schema {
            keys: vec!["pk".into(), "sk".into()],
            indexes: vec![Index { keys: vec!["gsi1pk".into()], projection: Projection::All }],
        };
        let small = item(json!({"pk": {"S": "a"}, "sk": {"S": "b"}}));
        assert_eq!(schema.write_units(None, Some(&small), false), 1.0);
        assert_eq!(schema.write_units(None, Some(&small), true), 2.0);
        let big = item(json!({"pk": {"S": "a"}, "sk": {"S": "b"}, "x": {"S": "y".repeat(1500)}}));
        assert_eq!(schema.write_units(Some(&big), Some(&small), false), 2.0, "the larger of before and after");
        let indexed = item(json!({"pk": {"S": "a"}, "sk": {"S": "b"}, "gsi1pk": {"S": "g"}}));
        assert_eq!(schema.write_units(None, Some(&indexed), false), 2.0, "the item and its index entry");
        let moved = item(json!({"pk": {"S": "a"}, "sk": {"S": "b"}, "gsi1pk": {"S": "h"}}));
        assert_eq!(schema.write_units(Some(&indexed), Some(&moved), false), 3.0, "old entry out, new in");
        assert_eq!(schema.write_units(Some(&indexed), Some(&indexed), false), 1.0, "an unchanged entry costs nothing");
    }

    #[test]
    fn reads_round_to_four_kilobytes_and_eventual_reads_cost_half() {
        let request = json!({"ConsistentRead": true});
        let found = json!({"Item": {"pk": {"S": "x".repeat(5000)}}});
        assert_eq!(read_request_units("GetItem", &request, &found), 2.0);
        assert_eq!(read_request_units("GetItem", &json!({}), &json!({})), 0.5, "nothing found still costs");
        let query =
            json!({"Items": [{"pk": {"S": "x".repeat(3000)}}, {"pk": {"S": "x".repeat(3000)}}], "ScannedCount": 2});
        assert_eq!(read_request_units("Query", &json!({}), &query), 1.0, "summed, then rounded: 6 KB → 2 × ½");
    }
}
