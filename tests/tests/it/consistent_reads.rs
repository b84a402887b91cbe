//! #20 item 15: every read that must see a write made a moment before asks
//! DynamoDB for a strongly consistent read. moto answers consistently
//! whatever it is asked, so the requests themselves are checked, as the SDK
//! sends them (an interceptor of the real client records each body).

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use galley_aws::DynamoStore;
use galley_shared::auth::{DisplayName, Email, PasswordHashString, Role, User, UserProfile};
use galley_shared::id::UserId;
use galley_shared::ports::Users;
use galley_tests::fixtures;
use serde_json::Value;

/// Every request's operation (`X-Amz-Target`) and JSON body.
#[derive(Clone, Debug, Default)]
struct Recorder(Arc<Mutex<Vec<(String, Value)>>>);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "galley-test-recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default().to_owned();
        let body = request.body().bytes().map(serde_json::from_slice).transpose()?.unwrap_or(Value::Null);
        self.0.lock().unwrap().push((target, body));
        Ok(())
    }
}

#[tokio::test]
async fn a_user_is_read_by_email_consistently_so_login_finds_a_fresh_registration() {
    let table = fixtures::dynamo_store().await;
    let recorder = Recorder::default();
    let config = galley_aws::load_sdk_config().await;
    let client_config = aws_sdk_dynamodb::config::Builder::from(&config).interceptor(recorder.clone()).build();
    let store = DynamoStore::with_client(aws_sdk_dynamodb::Client::from_conf(client_config), table.table(), &config);
    let email = Email::parse("fresh@example.com").unwrap();
    let user = User {
        profile: UserProfile {
            id: UserId::generate(),
            email: email.clone(),
            name: DisplayName::parse("Fresh").unwrap(),
        },
        password_hash: PasswordHashString::from_stored("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        role: Role::Customer,
    };
    store.create(&user).await.unwrap();
    assert_eq!(store.by_email(&email).await.unwrap().map(|u| u.profile), Some(user.profile));
    let recorded = recorder.0.lock().unwrap().clone();
    let reads: Vec<&Value> =
        recorded.iter().filter(|(target, _)| target.ends_with(".GetItem")).map(|(_, body)| body).collect();
    assert_eq!(reads.len(), 1, "{recorded:?}");
    assert_eq!(reads[0]["ConsistentRead"], true, "{}", reads[0]);
}
