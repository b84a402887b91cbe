//! The CloudWatch Embedded Metric Format's rules, checked on what a function
//! writes (docs.aws.amazon.com, "Specification: Embedded metric format"):
//! a root `_aws` member with a millisecond `Timestamp` and
//! `CloudWatchMetrics` directives; each directive a namespace, dimension
//! sets of at most 30 names, at most 100 metrics with a known unit; each
//! dimension a string member of the root and each metric a number (or at
//! most 100 numbers) there. And Galley's own rule: dimensions are bounded,
//! only those listed here, never an id.

use serde_json::{Map, Value};

/// The dimensions Galley's metrics may carry.
pub const DIMENSIONS: &[&str] = &["Function", "Route", "Outcome", "Currency", "Dependency", "Kind"];

const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// The EMF documents among a process's output lines (other lines are
/// left alone, as CloudWatch leaves plain log lines).
pub fn documents(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|doc| doc.get("_aws").is_some())
        .collect()
}

/// Whether `doc` is a valid EMF document; why not, if it is not.
pub fn check(doc: &Value) -> Result<(), String> {
    let root = doc.as_object().ok_or("not a JSON object")?;
    let aws = root.get("_aws").and_then(Value::as_object).ok_or("no _aws object")?;
    aws.get("Timestamp").and_then(Value::as_u64).ok_or("_aws.Timestamp is not a whole number of milliseconds")?;
    let directives = aws.get("CloudWatchMetrics").and_then(Value::as_array).ok_or("no _aws.CloudWatchMetrics")?;
    if directives.is_empty() {
        return Err("no metric directive".into());
    }
    directives.iter().try_for_each(|directive| check_directive(root, directive))
}

fn check_directive(root: &Map<String, Value>, directive: &Value) -> Result<(), String> {
    let namespace = directive.get("Namespace").and_then(Value::as_str).ok_or("a directive without Namespace")?;
    if namespace.is_empty() || namespace.len() > 1024 || namespace.trim() != namespace {
        return Err(format!("namespace {namespace:?}"));
    }
    let sets = directive.get("Dimensions").and_then(Value::as_array).ok_or("a directive without Dimensions")?;
    for set in sets {
        let names = set.as_array().ok_or("a dimension set that is not an array")?;
        if names.len() > 30 {
            return Err(format!("{} dimensions in one set (at most 30)", names.len()));
        }
        for name in names {
            let name = name.as_str().ok_or("a dimension name that is not a string")?;
            if !DIMENSIONS.contains(&name) {
                return Err(format!("dimension {name} is not one of the bounded {DIMENSIONS:?}"));
            }
            match root.get(name).and_then(Value::as_str) {
                Some(value) if !value.is_empty() && value.len() <= 1024 => {}
                _ => return Err(format!("dimension {name} has no string value at the root")),
            }
        }
    }
    let metrics = directive.get("Metrics").and_then(Value::as_array).ok_or("a directive without Metrics")?;
    if metrics.len() > 100 {
        return Err(format!("{} metrics in one directive (at most 100)", metrics.len()));
    }
    for metric in metrics {
        let name = metric.get("Name").and_then(Value::as_str).ok_or("a metric without Name")?;
        if name.is_empty() || name.len() > 1024 {
            return Err(format!("metric name {name:?}"));
        }
        if let Some(unit) = metric.get("Unit") {
            let unit = unit.as_str().ok_or("a Unit that is not a string")?;
            if !UNITS.contains(&unit) {
                return Err(format!("{name}: unit {unit} is not a CloudWatch unit"));
            }
        }
        if let Some(resolution) = metric.get("StorageResolution")
            && resolution.as_u64() != Some(1)
            && resolution.as_u64() != Some(60)
        {
            return Err(format!("{name}: storage resolution {resolution}"));
        }
        match root.get(name) {
            Some(Value::Number(_)) => {}
            Some(Value::Array(values)) if values.len() <= 100 && values.iter().all(Value::is_number) => {}
            _ => return Err(format!("metric {name} has no number (or at most 100 numbers) at the root")),
        }
    }
    Ok(())
}

/// The value of metric `name` in `doc` whose dimensions hold `wanted`
/// (name, value) pairs: the sum of its values; 0 when absent.
pub fn value(doc: &Value, name: &str, wanted: &[(&str, &str)]) -> f64 {
    let matches = wanted.iter().all(|(k, v)| doc.get(*k).and_then(Value::as_str) == Some(*v));
    match doc.get(name) {
        Some(Value::Number(n)) if matches => n.as_f64().unwrap_or(0.0),
        Some(Value::Array(values)) if matches => values.len() as f64,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({
            "_aws": {"Timestamp": 1_795_262_400_000u64, "CloudWatchMetrics": [{
                "Namespace": "Galley", "Dimensions": [["Function", "Route"]],
                "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]},
            "Function": "search", "Route": "GET /products", "Latency": [1.5, 2.0], "requestId": "r-1"
        })
    }

    #[test]
    fn a_document_by_the_specification_passes() {
        assert_eq!(check(&valid()), Ok(()));
        assert_eq!(value(&valid(), "Latency", &[("Route", "GET /products")]), 2.0);
        assert_eq!(value(&valid(), "Latency", &[("Route", "GET /orders")]), 0.0);
    }

    #[test]
    fn each_broken_rule_is_found() {
        let broken = |edit: fn(&mut Value)| {
            let mut doc = valid();
            edit(&mut doc);
            check(&doc).unwrap_err()
        };
        assert!(broken(|d| d["_aws"]["Timestamp"] = json!("now")).contains("Timestamp"));
        assert!(broken(|d| d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Cents")).contains("unit"));
        assert!(
            broken(|d| d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][1] = json!("OrderId")).contains("bounded")
        );
        assert!(broken(|d| d["Route"] = json!(7)).contains("no string value"));
        assert!(broken(|d| d["Latency"] = json!("fast")).contains("no number"));
        assert!(broken(|d| d["_aws"]["CloudWatchMetrics"] = json!([])).contains("no metric directive"));
    }

    #[test]
    fn only_emf_lines_are_documents() {
        let output = format!("plain text\n{}\n{{\"level\":\"INFO\"}}\n", valid());
        assert_eq!(documents(&output).len(), 1);
    }
}
