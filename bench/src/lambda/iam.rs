//! Whether a function's `deploy.json` grants what its calls need: the IAM
//! action on the resource each request names, as AWS authorizes it. A
//! `TransactWriteItems` needs the action of each write it holds
//! (`dynamodb:PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`),
//! a query of an index the grant on `table/index/*`, an S3 request the
//! grant on its key's folder. moto checks none of this, so a missing grant
//! would first show as `AccessDenied` in a deployed stack.

use std::path::Path;

use serde_json::Value;

/// What one request needs: an action on a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    pub action: String,
    pub resource: Resource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    /// The table itself.
    Table,
    /// One of the table's indexes.
    Index,
    /// An S3 object under this folder (`uploads`, `images`).
    Object(String),
    /// Anything else (a secret, a mail identity, a queue): the action alone
    /// is checked.
    Other,
}

impl Need {
    /// Whether the template resource expression `grant` covers this need.
    fn covered_by(&self, grant: &str) -> bool {
        match &self.resource {
            Resource::Table => grant == "!GetAtt Table.Arn",
            Resource::Index => grant == "!Sub ${Table.Arn}/index/*",
            Resource::Object(folder) => grant.ends_with(&format!("/{folder}/*")),
            Resource::Other => true,
        }
    }
}

/// What a request needs, from its action, the JSON body DynamoDB's
/// protocol sends, and the path of an S3 request.
pub fn needs(action: &str, body: Option<&Value>, path: &str) -> Vec<Need> {
    let need = |action: &str, resource| Need { action: action.to_owned(), resource };
    if let Some(operation) = action.strip_prefix("dynamodb:") {
        let body = body.cloned().unwrap_or_default();
        if operation == "TransactWriteItems" {
            let kinds = [("Put", "PutItem"), ("Update", "UpdateItem"), ("Delete", "DeleteItem")];
            let kinds = kinds.into_iter().chain([("ConditionCheck", "ConditionCheckItem")]);
            let kinds: Vec<_> = kinds.collect();
            let mut wanted = Vec::new();
            for item in body["TransactItems"].as_array().into_iter().flatten() {
                for (kind, writes) in &kinds {
                    if item.get(*kind).is_some() {
                        wanted.push(need(&format!("dynamodb:{writes}"), Resource::Table));
                    }
                }
            }
            wanted.dedup();
            return wanted;
        }
        let resource = if body.get("IndexName").is_some() { Resource::Index } else { Resource::Table };
        return vec![need(action, resource)];
    }
    if action.starts_with("s3:") {
        // Path style, as the S3 client uses with an endpoint URL such as
        // moto's: `bucket/uploads/…`.
        let folder = path.trim_start_matches('/').split('/').nth(1).unwrap_or_default();
        return vec![need(action, Resource::Object(folder.to_owned()))];
    }
    vec![need(action, Resource::Other)]
}

/// The grants of one function binary: (resource expression, actions).
#[derive(Clone, Debug, Default)]
pub struct Grants(Vec<(String, Vec<String>)>);

impl Grants {
    /// What `functions/<crate>/deploy.json` grants the binary `function`.
    pub fn of(function: &str) -> Self {
        let crate_dir = match function {
            "upload-check" => "upload",
            other => other,
        };
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../functions/{crate_dir}/deploy.json"));
        let deploy: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("deploy.json")).unwrap();
        let mut grants = Vec::new();
        for f in deploy["functions"].as_array().unwrap() {
            if f["binary"] == function {
                for (resource, list) in f["permissions"].as_object().unwrap() {
                    let actions = list.as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
                    grants.push((resource.clone(), actions));
                }
            }
        }
        assert!(!grants.is_empty(), "{}: no binary {function}", path.display());
        Self(grants)
    }

    /// The needs no grant covers, as `action on resource`.
    pub fn missing<'a>(&self, needs: impl IntoIterator<Item = &'a Need>) -> Vec<String> {
        let mut missing: Vec<String> = needs
            .into_iter()
            .filter(|need| {
                !self.0.iter().any(|(resource, actions)| need.covered_by(resource) && actions.contains(&need.action))
            })
            .map(|need| format!("{} on {:?}", need.action, need.resource))
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_transaction_needs_each_write_it_holds() {
        let body = json!({"TransactItems": [
            {"Put": {"TableName": "t"}}, {"Update": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "t"}}
        ]});
        let actions: Vec<String> =
            needs("dynamodb:TransactWriteItems", Some(&body), "").into_iter().map(|n| n.action).collect();
        assert_eq!(actions, ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]);
    }

    #[test]
    fn a_query_of_an_index_needs_the_index_grant() {
        let grants = Grants(vec![("!GetAtt Table.Arn".into(), vec!["dynamodb:Query".into()])]);
        let query = needs("dynamodb:Query", Some(&json!({"IndexName": "by-title"})), "");
        assert_eq!(grants.missing(&query), ["dynamodb:Query on Index"]);
        let on_table = needs("dynamodb:Query", Some(&json!({"TableName": "t"})), "");
        assert!(grants.missing(&on_table).is_empty());
    }

    #[test]
    fn an_object_needs_the_grant_on_its_folder() {
        let grants = Grants(vec![("!Sub arn:${AWS::Partition}:s3:::b/uploads/*".into(), vec!["s3:PutObject".into()])]);
        assert!(grants.missing(&needs("s3:PutObject", None, "/bucket/uploads/u1/x.png")).is_empty());
        assert_eq!(
            grants.missing(&needs("s3:PutObject", None, "/bucket/images/p1/x.png")),
            ["s3:PutObject on Object(\"images\")"]
        );
    }
}
