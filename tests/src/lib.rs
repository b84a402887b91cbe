//! Test support shared by Galley's suites: store fixtures for every adapter
//! and the port contract suite that each adapter must pass. The suites
//! themselves are one binary, `tests/it/`.
//!
//! | module     | what it is for                                              |
//! |------------|-------------------------------------------------------------|
//! | `contract` | the port contract, one case per rule, run over every adapter |
//! | `fixtures` | stores (embedded, moto), products, a confirmed order, a PNG  |
//! | `faults`   | canned AWS errors injected into a real SDK client            |
//! | `http`     | requests for calling handlers directly                      |
//! | `reference`| search by brute force, the rules of API.md product by product |

pub mod contract;
pub mod faults;
pub mod fixtures;
pub mod http;
pub mod reference;

/// Generates one test per case on the embedded store and one on DynamoDB
/// (moto); each case is an `async fn(Arc<store>)` generic over the store.
#[macro_export]
macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let temp = $crate::fixtures::embedded_store();
                    super::$case(temp.store.clone()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::fixtures::dynamo_store().await).await;
                }
            )*
        }
    };
}
