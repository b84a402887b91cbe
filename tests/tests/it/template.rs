//! template.yaml against the code: the HTTP API's routes are the routes the
//! functions serve (and `cargo lambda watch` routes), each function's IAM
//! actions and environment are exactly the lists kept next to its code
//! (`functions/*/deploy.json`), and the table is the one `create_table` makes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use galley_http::route::Route;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Yaml {
    serde_yaml::from_str(&std::fs::read_to_string(root().join("template.yaml")).unwrap()).unwrap()
}

fn resources() -> serde_yaml::Mapping {
    template()["Resources"].as_mapping().unwrap().clone()
}

/// A template value as text: `!GetAtt Table.Arn`, `!Sub ...`, or the scalar.
fn expression(value: &Yaml) -> String {
    match value {
        Yaml::Tagged(tagged) => format!("{} {}", tagged.tag, expression(&tagged.value)),
        Yaml::String(s) => s.clone(),
        Yaml::Sequence(items) => format!("[{}]", items.iter().map(expression).collect::<Vec<_>>().join(", ")),
        other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
    }
}

struct Deployed {
    crate_dir: String,
    resource: String,
    binary: String,
    environment: BTreeSet<String>,
    permissions: BTreeMap<String, BTreeSet<String>>,
}

fn deploy_lists() -> Vec<Deployed> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(root().join("functions")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue; // link.rs, the functions' shared build script
        }
        let list: Json = serde_json::from_str(&std::fs::read_to_string(dir.join("deploy.json")).unwrap()).unwrap();
        for function in list["functions"].as_array().unwrap() {
            let strings = |v: &Json| -> BTreeSet<String> {
                v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
            };
            all.push(Deployed {
                crate_dir: format!("functions/{}", dir.file_name().unwrap().to_str().unwrap()),
                resource: function["resource"].as_str().unwrap().to_owned(),
                binary: function["binary"].as_str().unwrap().to_owned(),
                environment: strings(&function["environment"]),
                permissions: function["permissions"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(resource, actions)| (resource.clone(), strings(actions)))
                    .collect(),
            });
        }
    }
    all
}

/// How template.yaml and scripts/bench build a function for Lambda.
const LAMBDA_BUILD: [&str; 3] = ["--no-default-features", "--features", "aws"];

/// The crate's `aws` feature, which the Lambda build uses alone, must not
/// pull in the embedded store (SQLite) that only local runs need.
fn assert_lambda_feature_leaves_out_the_embedded_store(crate_dir: &str) {
    let manifest: toml::Table =
        std::fs::read_to_string(root().join(crate_dir).join("Cargo.toml")).unwrap().parse().unwrap();
    let features = manifest["features"].as_table().unwrap();
    // The feature and the crate's own features it turns on, all the way down.
    let mut aws: Vec<&str> = vec!["aws"];
    let mut next = 0;
    while next < aws.len() {
        if let Some(enabled) = features.get(aws[next]).and_then(|f| f.as_array()) {
            aws.extend(enabled.iter().filter_map(|f| f.as_str()));
        }
        next += 1;
    }
    assert!(aws.contains(&"galley-lambda/aws"), "{crate_dir}: the aws feature selects the AWS adapters");
    assert!(aws.iter().all(|f| !f.contains("embedded") && !f.contains("full")), "{crate_dir}: {aws:?}");
}

#[test]
fn every_function_is_built_configured_and_allowed_as_its_list_says() {
    let resources = resources();
    let lists = deploy_lists();
    let functions: BTreeSet<String> = resources
        .iter()
        .filter(|(name, r)| r["Type"] == "AWS::Serverless::Function" && name.as_str() != Some(TOKEN_KEYS))
        .map(|(name, _)| name.as_str().unwrap().to_owned())
        .collect();
    let listed: BTreeSet<String> = lists.iter().map(|d| d.resource.clone()).collect();
    assert_eq!(functions, listed, "every Rust function in the template has a deploy.json entry and no other");

    for deployed in &lists {
        let function = &resources[deployed.resource.as_str()];
        let name = &deployed.resource;
        assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        assert_eq!(
            function["Metadata"]["BuildProperties"]["Binary"].as_str(),
            Some(deployed.binary.as_str()),
            "{name}"
        );
        assert_eq!(function["Properties"]["CodeUri"].as_str(), Some(deployed.crate_dir.as_str()), "{name}");
        let flags: Vec<&str> = function["Metadata"]["BuildProperties"]["CargoLambdaFlags"]
            .as_sequence()
            .map(|flags| flags.iter().filter_map(|f| f.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(flags, LAMBDA_BUILD, "{name}: built as the Lambda build");
        assert_lambda_feature_leaves_out_the_embedded_store(&deployed.crate_dir);

        let environment: BTreeSet<String> = function["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(environment, deployed.environment, "{name}: environment");

        let mut granted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for policy in function["Properties"]["Policies"].as_sequence().unwrap() {
            for statement in policy["Statement"].as_sequence().unwrap() {
                assert_eq!(statement["Effect"], "Allow", "{name}: only Allow statements");
                let actions = statement["Action"].as_sequence().unwrap().iter().map(|a| a.as_str().unwrap().to_owned());
                granted.entry(expression(&statement["Resource"])).or_default().extend(actions);
            }
        }
        assert_eq!(granted, deployed.permissions, "{name}: IAM actions per resource");
        for actions in granted.values() {
            assert!(actions.iter().all(|a| !a.contains('*')), "{name}: no wildcard actions");
        }
        // S3 answers a read of a missing key 404 only to a role that may
        // list the bucket, 403 otherwise: the code that reads (or copies)
        // an upload tells "gone" from "refused" by that 404.
        for (resource, actions) in &granted {
            if let Some(bucket) = resource.strip_suffix("/uploads/*").filter(|_| actions.contains("s3:GetObject")) {
                let listed = granted.get(bucket).is_some_and(|a| a.contains("s3:ListBucket"));
                assert!(listed, "{name}: reads uploads, so needs s3:ListBucket on {bucket}");
            }
        }
    }
}

/// The (method, path, binary) triples of the HTTP functions' routers.
fn served() -> BTreeSet<(String, String, String)> {
    fn of<R>(binary: &str, routes: &[Route<R>]) -> Vec<(String, String, String)> {
        routes.iter().map(|r| (r.method.as_str().to_owned(), r.pattern.to_owned(), binary.to_owned())).collect()
    }
    [
        of("search", galley_search::ROUTES),
        of("login", galley_login::ROUTES),
        of("checkout", galley_checkout::ROUTES),
        of("upload", galley_upload::ROUTES),
        of("admin", galley_admin::ROUTES),
        of("webhook", galley_webhook::ROUTES),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[test]
fn the_http_api_and_cargo_lambda_watch_route_exactly_what_the_functions_serve() {
    let api: BTreeSet<(String, String, String)> = galley_http::api::API
        .iter()
        .map(|r| (r.method.as_str().to_owned(), r.pattern.to_owned(), r.tag.to_owned()))
        .collect();
    assert_eq!(api, served(), "galley_http::api::API is the functions' routes");

    let resources = resources();
    let binaries: BTreeMap<String, String> =
        deploy_lists().into_iter().map(|d| (d.resource.clone(), d.binary.clone())).collect();
    let mut in_template = BTreeSet::new();
    for (name, resource) in &resources {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else { continue };
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let properties = &event["Properties"];
            assert_eq!(expression(&properties["ApiId"]), "!Ref HttpApi");
            in_template.insert((
                properties["Method"].as_str().unwrap().to_owned(),
                properties["Path"].as_str().unwrap().to_owned(),
                binaries[name.as_str().unwrap()].clone(),
            ));
        }
    }
    let mut expected = served();
    expected.insert(("ANY".into(), "$default".into(), "search".into()));
    assert_eq!(in_template, expected, "template.yaml HttpApi routes, and $default to the fallback");

    let manifest: toml::Table = std::fs::read_to_string(root().join("Cargo.toml")).unwrap().parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"].as_table().unwrap();
    let in_watch: BTreeSet<(String, String)> =
        router.iter().map(|(path, function)| (path.clone(), function.as_str().unwrap().to_owned())).collect();
    let mut expected: BTreeSet<(String, String)> =
        served().into_iter().map(|(_, path, function)| (path, function)).collect();
    expected.insert(("/{*unmatched}".into(), "search".into()));
    assert_eq!(in_watch, expected, "Cargo.toml [workspace.metadata.lambda.watch.router]: every method of a path");
}

#[test]
fn the_table_is_the_one_create_table_makes() {
    use galley_aws::table::{
        GSI1, GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI2, GSI2_PARTITION_KEY, GSI2_SORT_KEY, PARTITION_KEY, SORT_KEY,
        TITLE_INDEX, TITLE_INDEX_ATTRIBUTES, TITLE_INDEX_SORT_KEY, TTL_ATTRIBUTE,
    };
    let table = &resources()["Table"]["Properties"];
    let keys = |schema: &Yaml| -> Vec<String> {
        schema.as_sequence().unwrap().iter().map(|k| k["AttributeName"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(keys(&table["KeySchema"]), [PARTITION_KEY, SORT_KEY]);
    let globals = table["GlobalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(globals.len(), 2, "gsi1 and gsi2, as create_table makes them");
    for (index, (name, partition, sort)) in
        globals.iter().zip([(GSI1, GSI1_PARTITION_KEY, GSI1_SORT_KEY), (GSI2, GSI2_PARTITION_KEY, GSI2_SORT_KEY)])
    {
        assert_eq!(index["IndexName"].as_str(), Some(name));
        assert_eq!(keys(&index["KeySchema"]), [partition, sort]);
        assert_eq!(index["Projection"]["ProjectionType"], "ALL");
    }
    let locals = table["LocalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(locals.len(), 1);
    assert_eq!(locals[0]["IndexName"].as_str(), Some(TITLE_INDEX));
    assert_eq!(keys(&locals[0]["KeySchema"]), [PARTITION_KEY, TITLE_INDEX_SORT_KEY]);
    assert_eq!(locals[0]["Projection"]["ProjectionType"], "INCLUDE");
    let projected: Vec<&str> = locals[0]["Projection"]["NonKeyAttributes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(projected, TITLE_INDEX_ATTRIBUTES);
    let defined: BTreeSet<&str> = table["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a["AttributeName"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = [
        PARTITION_KEY,
        SORT_KEY,
        GSI1_PARTITION_KEY,
        GSI1_SORT_KEY,
        GSI2_PARTITION_KEY,
        GSI2_SORT_KEY,
        TITLE_INDEX_SORT_KEY,
    ]
    .into();
    assert_eq!(defined, expected, "every key attribute defined, and no other");
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"].as_str(), Some(TTL_ATTRIBUTE));
    assert_eq!(table["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
}

/// The IAM resources a function's policies name for an action.
fn resources_allowed(function: &str, action: &str) -> Vec<String> {
    let resources = resources();
    let policies = resources[function]["Properties"]["Policies"].as_sequence().unwrap().clone();
    let mut found = Vec::new();
    for policy in policies {
        for statement in policy["Statement"].as_sequence().into_iter().flatten() {
            let actions = statement["Action"].as_sequence().unwrap();
            if actions.iter().any(|a| a.as_str() == Some(action)) {
                found.push(expression(&statement["Resource"]));
            }
        }
    }
    found
}

/// The one function that is not Galley's Rust: the custom resource that
/// computes the access tokens' public keys at deploy time.
const TOKEN_KEYS: &str = "TokenKeysFunction";

/// #27: only login can mint a token. The signing secret is read by login and
/// by the deploy-time `TokenKeys` alone; every other HTTP function is given
/// the public keys and, where it pages, the cursor key, resolved into its
/// configuration at deploy, and reads no secret at all but Stripe's.
#[test]
fn only_login_holds_the_token_signing_secret() {
    let resources = resources();
    let readers: BTreeSet<&str> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, _)| name.as_str().unwrap())
        .filter(|name| {
            resources_allowed(name, "secretsmanager:GetSecretValue").contains(&"!Ref SigningKeySecret".into())
        })
        .collect();
    assert_eq!(readers, BTreeSet::from(["LoginFunction", TOKEN_KEYS]));
    for function in ["SearchFunction", "UploadFunction"] {
        assert_eq!(resources_allowed(function, "secretsmanager:GetSecretValue"), Vec::<String>::new(), "{function}");
    }
    for function in ["LoginFunction", "CheckoutFunction", "UploadFunction", "AdminFunction"] {
        let variables = &resources[function]["Properties"]["Environment"]["Variables"];
        assert_eq!(expression(&variables["GALLEY_TOKEN_PUBLIC_KEYS"]), "!GetAtt TokenKeys.PublicKeys", "{function}");
    }
    for function in ["SearchFunction", "CheckoutFunction", "AdminFunction"] {
        let variables = &resources[function]["Properties"]["Environment"]["Variables"];
        assert_eq!(
            expression(&variables["GALLEY_CURSOR_KEY"]),
            "!Sub {{resolve:secretsmanager:${CursorKeySecret}:SecretString}}",
            "{function}"
        );
    }
    let token_keys = &resources["TokenKeys"]["Properties"];
    assert_eq!(expression(&token_keys["ServiceToken"]), format!("!GetAtt {TOKEN_KEYS}.Arn"));
    assert_eq!(expression(&token_keys["SecretId"]), "!Ref SigningKeySecret");
    assert_eq!(resources_allowed(TOKEN_KEYS, "secretsmanager:GetSecretValue"), ["!Ref SigningKeySecret"]);
    let statements = resources[TOKEN_KEYS]["Properties"]["Policies"][0]["Statement"].as_sequence().unwrap().len();
    assert_eq!(statements, 1, "TokenKeys may read the secret and nothing else");
}

/// #24: the Stripe key is read only by the functions that pay, settle or
/// refund, and the webhook's signing secret only by the webhook, which
/// holds no token key.
#[test]
fn only_the_functions_that_pay_read_the_stripe_secrets() {
    let key = "!If [CreateStripeKey, !Ref StripeKeySecret, !Ref StripeSecretKeyArn]";
    let signing = "!If [CreateWebhookSecret, !Ref StripeWebhookSecret, !Ref StripeWebhookSecretArn]";
    for function in ["CheckoutFunction", "AdminFunction"] {
        assert_eq!(resources_allowed(function, "secretsmanager:GetSecretValue"), [key]);
    }
    assert_eq!(resources_allowed("SettlerFunction", "secretsmanager:GetSecretValue"), [key]);
    assert_eq!(resources_allowed("WebhookFunction", "secretsmanager:GetSecretValue"), [key, signing]);
    for function in ["SearchFunction", "LoginFunction", "UploadFunction", "ReceiptsFunction", "UploadCheckFunction"] {
        let read = resources_allowed(function, "secretsmanager:GetSecretValue");
        assert!(read.iter().all(|r| !r.contains("Stripe")), "{function} reads {read:?}");
    }
}

/// #20 item 9: CORS names the shop's own origin; no wildcard by default.
#[test]
fn the_allowed_origin_has_no_default_and_no_wildcard() {
    let parameter = &template()["Parameters"]["AllowedOrigin"];
    assert!(parameter.get("Default").is_none(), "a shop must name its origin");
    let pattern = regex_lite(parameter["AllowedPattern"].as_str().unwrap());
    assert!(pattern("https://shop.example") && pattern("http://localhost:5173"));
    assert!(!pattern("*") && !pattern("https://*.shop.example") && !pattern("https://shop.example/path"));
}

/// `^https?://[^*\s/]+$`, the one pattern the template uses, as a predicate.
fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
    assert_eq!(pattern, r"^https?://[^*\s/]+$", "the test knows this pattern");
    |origin: &str| {
        let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        rest.is_some_and(|host| !host.is_empty() && !host.contains(['*', '/']) && !host.contains(char::is_whitespace))
    }
}

/// #20 item 14: 5xx answers are normal returns to Lambda, so the alarms
/// that see them watch the HTTP API: its 5xx rate and its p99 latency.
#[test]
fn the_api_alarms_on_its_5xx_rate_and_p99_latency() {
    let resources = resources();
    let rate = &resources["Api5xxRate"]["Properties"];
    let metrics = rate["Metrics"].as_sequence().unwrap();
    let named = |name: &str| {
        metrics.iter().any(|m| {
            let metric = &m["MetricStat"]["Metric"];
            metric["Namespace"] == "AWS/ApiGateway"
                && metric["MetricName"] == name
                && expression(&metric["Dimensions"][0]["Value"]) == "!Ref HttpApi"
        })
    };
    assert!(named("5xx") && named("Count"), "{metrics:?}");
    assert!(metrics.iter().any(|m| m["Expression"].as_str().is_some_and(|e| e.contains("100 * errors / requests"))));
    assert_eq!(expression(&rate["AlarmActions"][0]), "!Ref AlarmTopic");
    let latency = &resources["ApiLatencyP99"]["Properties"];
    assert_eq!(
        (latency["Namespace"].as_str(), latency["MetricName"].as_str()),
        (Some("AWS/ApiGateway"), Some("Latency"))
    );
    assert_eq!(latency["ExtendedStatistic"], "p99");
    assert_eq!(expression(&latency["Threshold"]), "!Ref ApiP99LatencyMs");
}

/// #20 item 9: stored uploads do not pile up for ever: S3 expires
/// `uploads/` after the shop's retention.
#[test]
fn uploaded_bytes_expire_after_the_shops_retention() {
    let resources = resources();
    let rules =
        resources["UploadBucket"]["Properties"]["LifecycleConfiguration"]["Rules"].as_sequence().unwrap().clone();
    let uploads = rules.iter().find(|rule| rule["Prefix"] == "uploads/").expect("a rule for uploads/");
    assert_eq!(uploads["Status"], "Enabled");
    assert_eq!(expression(&uploads["ExpirationInDays"]), "!Ref UploadRetentionDays");
    assert!(template()["Parameters"]["UploadRetentionDays"]["Default"].as_u64().is_some());
}

/// #22: product images are public through CloudFront with origin access
/// control, and only `images/`: the bucket blocks every public access, and
/// its policy lets the distribution alone read that prefix and nothing else.
#[test]
fn images_are_public_only_through_the_distribution_and_only_images() {
    let resources = resources();
    let block = &resources["UploadBucket"]["Properties"]["PublicAccessBlockConfiguration"];
    for setting in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
        assert_eq!(block[setting], true, "{setting}");
    }
    let oac = &resources["ImagesOriginAccessControl"]["Properties"]["OriginAccessControlConfig"];
    assert_eq!(
        (oac["OriginAccessControlOriginType"].as_str(), oac["SigningBehavior"].as_str()),
        (Some("s3"), Some("always"))
    );
    assert_eq!(oac["SigningProtocol"], "sigv4");
    let config = &resources["ImagesDistribution"]["Properties"]["DistributionConfig"];
    let origins = config["Origins"].as_sequence().unwrap();
    assert_eq!(origins.len(), 1);
    assert_eq!(expression(&origins[0]["DomainName"]), "!GetAtt UploadBucket.RegionalDomainName");
    assert_eq!(expression(&origins[0]["OriginAccessControlId"]), "!GetAtt ImagesOriginAccessControl.Id");
    assert_eq!(config["DefaultCacheBehavior"]["ViewerProtocolPolicy"], "redirect-to-https");
    let methods: Vec<&str> = config["DefaultCacheBehavior"]["AllowedMethods"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(methods, ["GET", "HEAD"], "the distribution only reads");

    let policy = &resources["UploadBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"];
    let allows: Vec<&Yaml> = policy.as_sequence().unwrap().iter().filter(|s| s["Effect"] == "Allow").collect();
    assert_eq!(allows.len(), 1, "one grant in the bucket policy, the distribution's");
    let grant = allows[0];
    assert_eq!(grant["Principal"]["Service"], "cloudfront.amazonaws.com");
    assert_eq!(grant["Action"], "s3:GetObject");
    assert_eq!(expression(&grant["Resource"]), "!Sub ${UploadBucket.Arn}/images/*");
    let source = expression(&grant["Condition"]["StringEquals"]["AWS:SourceArn"]);
    assert!(source.ends_with(":distribution/${ImagesDistribution}"), "{source}");
}

/// GitHub's anchor of a Markdown heading.
fn anchor(heading: &str) -> String {
    let lower = heading.trim().to_lowercase();
    let kept = lower.chars().filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'));
    kept.map(|c| if c == ' ' { '-' } else { c }).collect()
}

/// #26: the dashboard and the alarms read only metrics the functions write
/// (`galley_shared::metrics`), under the dimensions and values they write
/// them with (a route alarm names a route the function serves), in the
/// stack's own namespace; and every alarm names its runbook section.
#[test]
fn the_dashboard_and_alarms_read_what_the_functions_write_and_name_their_runbook() {
    let written: BTreeSet<&str> = galley_shared::metrics::METRICS.iter().map(|m| m.name).collect();
    let functions =
        ["search", "login", "checkout", "upload", "admin", "webhook", "receipts", "settler", "upload-check"];
    let routes: BTreeSet<String> =
        served().into_iter().map(|(method, pattern, _)| format!("{method} {pattern}")).collect();
    let runbook = std::fs::read_to_string(root().join("docs/operations.md")).unwrap();
    let sections: BTreeSet<String> =
        runbook.lines().filter_map(|l| l.strip_prefix('#')).map(|h| anchor(h.trim_start_matches('#'))).collect();

    let mut galley_metrics = 0;
    for (name, resource) in resources() {
        let name = name.as_str().unwrap();
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let properties = &resource["Properties"];
        let description = properties["AlarmDescription"].as_str().unwrap_or_default();
        let section = description.rsplit_once("Runbook: docs/operations.md#").map(|(_, s)| s.trim());
        assert!(section.is_some_and(|s| sections.contains(s)), "{name}: runbook section {section:?}");
        let watched = properties["Metrics"].as_sequence().into_iter().flatten().map(|m| &m["MetricStat"]["Metric"]);
        for metric in watched.chain(std::iter::once(properties)) {
            if expression(&metric["Namespace"]) != "!Sub Galley/${AWS::StackName}" {
                continue;
            }
            galley_metrics += 1;
            let metric_name = metric["MetricName"].as_str().unwrap();
            assert!(written.contains(metric_name), "{name}: no function writes {metric_name}");
            for dimension in metric["Dimensions"].as_sequence().unwrap() {
                let (key, value) = (dimension["Name"].as_str().unwrap(), dimension["Value"].as_str().unwrap());
                let known = match key {
                    "Function" => functions.contains(&value),
                    "Route" => routes.contains(value),
                    "Outcome" => ["2xx", "4xx", "5xx"].contains(&value),
                    "Kind" => ["throttled", "timeout", "connection", "5xx", "4xx"].contains(&value),
                    "Dependency" => ["dynamodb", "ses", "s3", "secretsmanager", "stripe"].contains(&value),
                    _ => false,
                };
                assert!(known, "{name}: {metric_name} is never written with {key}={value}");
            }
        }
    }
    assert!(galley_metrics > 10, "the alarms watch Galley's own metrics");

    let dashboard = serde_yaml::to_string(&resources()["Dashboard"]["Properties"]["DashboardBody"]).unwrap();
    // SEARCH('{Galley/${AWS::StackName},Function} MetricName=\"OrdersDeclined\"', …)
    let searched: Vec<&str> = (dashboard.split("SEARCH('{").skip(1))
        .filter(|search| search.starts_with("Galley/"))
        .filter_map(|search| search.split("MetricName=\\\"").nth(1)?.split('\\').next())
        .collect();
    assert!(searched.len() > 10, "the dashboard reads Galley's metrics");
    for metric in &searched {
        assert!(written.contains(metric), "the dashboard reads {metric}, which no function writes");
    }
    assert!(!dashboard.contains("{Galley,"), "the dashboard reads the stack's own namespace");
}
