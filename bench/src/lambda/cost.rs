//! What Galley costs to run on AWS, per request and per order, from the
//! bench's own figures: the request units each route's DynamoDB calls
//! consumed (`capacity`, from the items they read and wrote), its Lambda
//! time, and the calls it makes to API Gateway, SES and S3, priced with
//! AWS's public on-demand prices for one region.

use super::capacity::Units;
use super::routes::Route;

/// The price list: us-east-1 (N. Virginia), on-demand, as AWS's pricing
/// pages gave it after DynamoDB's 2024-11-01 on-demand price cut (the list
/// these figures use is dated below; prices change, the units do not).
pub const PRICES_AS_OF: &str = "2025-01 (us-east-1, on-demand; DynamoDB after its 2024-11-01 cut)";
const PER_MILLION_WRITE_UNITS: f64 = 0.625;
pub const PER_MILLION_READ_UNITS: f64 = 0.125;
const PER_MILLION_HTTP_API_REQUESTS: f64 = 1.00;
const PER_MILLION_LAMBDA_REQUESTS: f64 = 0.20;
/// Arm64 (Graviton), per GB-second.
const PER_LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
const PER_THOUSAND_EMAILS: f64 = 0.10;
const PER_THOUSAND_S3_PUTS: f64 = 0.005;
const PER_THOUSAND_S3_GETS: f64 = 0.0004;

/// A function gets one vCPU at 1 769 MB, and a share in proportion below
/// (Lambda's documentation); template.yaml gives login 512 MB for its
/// password hash and every other function the Globals' 128 MB.
const FULL_CORE_MB: f64 = 1769.0;
fn memory_mb(function: &str) -> f64 {
    if function == "login" { 512.0 } else { 128.0 }
}

/// DynamoDB's answer time as Lambda waits for it: its "single-digit
/// milliseconds", taken at the worst single digit. The one figure here
/// that is not Galley's measurement; see the note under the table.
const DYNAMODB_ROUND_TRIP_MS: f64 = 9.0;

/// One route's measured figures.
pub struct Measured {
    pub route: Route,
    pub units: Units,
    /// Sequential round trips to AWS on its success path.
    pub sequential: usize,
    /// Warm in-process median on the embedded store, on one full core: the
    /// function's own CPU time with the store's.
    pub cpu_ms: f64,
}

/// What one request of a route costs, in dollars, by service.
#[derive(Clone, Copy, Default)]
pub struct Cost {
    pub gateway: f64,
    pub lambda: f64,
    pub dynamodb: f64,
    pub other: f64,
}

impl Cost {
    pub fn total(&self) -> f64 {
        self.gateway + self.lambda + self.dynamodb + self.other
    }

    fn times(self, n: f64) -> Cost {
        Cost { gateway: self.gateway * n, lambda: self.lambda * n, dynamodb: self.dynamodb * n, other: self.other * n }
    }

    fn plus(self, o: Cost) -> Cost {
        Cost {
            gateway: self.gateway + o.gateway,
            lambda: self.lambda + o.lambda,
            dynamodb: self.dynamodb + o.dynamodb,
            other: self.other + o.other,
        }
    }
}

impl Measured {
    /// Billed Lambda milliseconds: the CPU time stretched by the function's
    /// share of a core, plus the wait for its sequential round trips,
    /// rounded up to the millisecond as Lambda bills.
    pub fn billed_ms(&self) -> f64 {
        let function = self.route.function();
        let cpu = self.cpu_ms * (FULL_CORE_MB / memory_mb(function)).max(1.0);
        (cpu + self.sequential as f64 * DYNAMODB_ROUND_TRIP_MS).ceil()
    }

    pub fn cost(&self) -> Cost {
        let function = self.route.function();
        let http = !matches!(self.route, Route::UploadCheck | Route::Receipt);
        let gb_seconds = memory_mb(function) / 1024.0 * self.billed_ms() / 1000.0;
        let other = match self.route {
            Route::Receipt => PER_THOUSAND_EMAILS / 1000.0,
            Route::UploadCheck => PER_THOUSAND_S3_GETS / 1000.0,
            // The ticket's presigned PUT, billed to the bucket's owner.
            Route::CreateUpload => PER_THOUSAND_S3_PUTS / 1000.0,
            _ => 0.0,
        };
        Cost {
            gateway: if http { PER_MILLION_HTTP_API_REQUESTS / 1e6 } else { 0.0 },
            lambda: PER_MILLION_LAMBDA_REQUESTS / 1e6 + gb_seconds * PER_LAMBDA_GB_SECOND,
            dynamodb: (self.units.read * PER_MILLION_READ_UNITS + self.units.write * PER_MILLION_WRITE_UNITS) / 1e6,
            other,
        }
    }
}

/// The browsing and buying of a typical order: what a shopper does from
/// the first search to reading the order (an assumption, stated with the
/// figures; change it here).
pub const ORDER: &[(Route, f64)] = &[
    (Route::SearchProducts, 10.0),
    (Route::ListProducts, 3.0),
    (Route::GetProduct, 5.0),
    (Route::Login, 1.0),
    (Route::Me, 1.0),
    (Route::Checkout, 1.0),
    (Route::Receipt, 1.0),
    (Route::GetOrder, 1.0),
];

/// aws-samples/serverless-rust-demo's get-product, from its published
/// figures: 128 MB arm64 behind an HTTP API, one eventually consistent
/// GetItem of a small item (½ read unit), warm p50 5.13 ms (its README's
/// load test: 300 requests/s for 10 minutes, all routes).
fn peer() -> Cost {
    let billed_ms = 5.13_f64.ceil();
    Cost {
        gateway: PER_MILLION_HTTP_API_REQUESTS / 1e6,
        lambda: PER_MILLION_LAMBDA_REQUESTS / 1e6 + 128.0 / 1024.0 * billed_ms / 1000.0 * PER_LAMBDA_GB_SECOND,
        dynamodb: 0.5 * PER_MILLION_READ_UNITS / 1e6,
        other: 0.0,
    }
}

fn dollars(cost: f64) -> String {
    format!("${cost:.4}")
}

/// The BENCHMARKS.md section.
pub fn section(measured: &[Measured]) -> String {
    let mut out = String::from("\n### Cost on AWS, per request and per order\n\n");
    out.push_str(&format!(
        "Prices: AWS's public on-demand prices, {PRICES_AS_OF}: DynamoDB ${PER_MILLION_WRITE_UNITS} per million \
         write and ${PER_MILLION_READ_UNITS} per million read request units; Lambda arm64 \
         ${PER_LAMBDA_GB_SECOND} per GB-second and ${PER_MILLION_LAMBDA_REQUESTS} per million requests; HTTP API \
         ${PER_MILLION_HTTP_API_REQUESTS} per million requests; SES ${PER_THOUSAND_EMAILS} per 1 000 emails; S3 \
         ${PER_THOUSAND_S3_PUTS} per 1 000 PUTs and ${PER_THOUSAND_S3_GETS} per 1 000 GETs. Storage, logs and \
         data transfer are left out.\n\n\
         Request units are computed from the items each call read and wrote on moto, by DynamoDB's rules \
         (`bench/src/lambda/capacity.rs`: item sizes, 4 KB reads, halved when eventually consistent, 1 KB writes of \
         the larger of before and after, doubled in transactions, index entries written), not moto's \
         `ConsumedCapacity` (a constant). Lambda's billed time is the route's warm embedded median (its CPU on one \
         core) stretched by the function's share of a core (1 769 MB = one vCPU; login 512 MB, the rest 128 MB), \
         plus {DYNAMODB_ROUND_TRIP_MS} ms per sequential round trip to DynamoDB, rounded up to the millisecond.\n\n"
    ));
    out.push_str(
        "| route | read units | write units | billed ms | $ per million: API | Lambda | DynamoDB | other | total |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for m in measured {
        let c = m.cost().times(1e6);
        out.push_str(&format!(
            "| {} | {:.1} | {:.1} | {} | {:.2} | {:.2} | {:.2} | {:.2} | **{:.2}** |\n",
            m.route.name(),
            m.units.read,
            m.units.write,
            m.billed_ms(),
            c.gateway,
            c.lambda,
            c.dynamodb,
            c.other,
            c.total()
        ));
    }
    let of = |route: Route| measured.iter().find(|m| m.route == route).map(Measured::cost).unwrap_or_default();
    let order = ORDER.iter().fold(Cost::default(), |sum, (route, n)| sum.plus(of(*route).times(*n)));
    let journey: Vec<String> = ORDER.iter().map(|(route, n)| format!("{n} × {}", route.name())).collect();
    let per_thousand = order.times(1000.0);
    out.push_str(&format!(
        "\n**1 000 orders: {}** (API {}, Lambda {}, DynamoDB {}, SES and S3 {}), each order being {}.\n\n",
        dollars(per_thousand.total()),
        dollars(per_thousand.gateway),
        dollars(per_thousand.lambda),
        dollars(per_thousand.dynamodb),
        dollars(per_thousand.other),
        journey.join(", ")
    ));
    let searches = of(Route::SearchProducts).times(1e6);
    let peer = peer().times(1e6);
    out.push_str(&format!(
        "**1 million searches: {}** (API {}, Lambda {}, DynamoDB {}). The peer, aws-samples/serverless-rust-demo's \
         get-product (128 MB arm64, HTTP API, one eventually consistent GetItem: ½ read unit, warm p50 5.13 ms as \
         its README publishes): **{} per million** (API {}, Lambda {}, DynamoDB {}); Galley's one-product page \
         costs {} per million.\n",
        dollars(searches.total()),
        dollars(searches.gateway),
        dollars(searches.lambda),
        dollars(searches.dynamodb),
        dollars(peer.total()),
        dollars(peer.gateway),
        dollars(peer.lambda),
        dollars(peer.dynamodb),
        dollars(of(Route::GetProduct).times(1e6).total()),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_priced_by_its_units_time_and_calls() {
        let m =
            Measured { route: Route::GetProduct, units: Units { read: 1.0, write: 0.0 }, sequential: 1, cpu_ms: 0.1 };
        // 0.1 ms × 1769/128 = 1.38 ms, + 9 ms, rounded up: 11 ms.
        assert_eq!(m.billed_ms(), 11.0);
        let c = m.cost().times(1e6);
        assert!((c.gateway - 1.0).abs() < 1e-9);
        assert!((c.dynamodb - 0.125).abs() < 1e-9);
        let duration = 128.0 / 1024.0 * 0.011 * PER_LAMBDA_GB_SECOND * 1e6;
        assert!((c.lambda - (0.20 + duration)).abs() < 1e-9);
        assert_eq!(c.other, 0.0);
    }
}
