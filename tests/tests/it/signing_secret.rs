//! In AWS login's secret is a Secrets Manager secret the stack generates;
//! login reads it on its first login or refresh, not at cold start. Checked
//! against moto.

use galley_shared::auth::{KeyId, TokenSigner};
use galley_shared::keys::SigningKey;

#[tokio::test]
async fn the_key_is_read_from_the_generated_secret_when_first_needed() {
    galley_tests::fixtures::moto_endpoint();
    let config = galley_aws::load_sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!("galley-signing-{}", ulid::Ulid::new());
    // What `GenerateSecretString` in the template makes: 64 characters, no punctuation.
    let generated = client
        .get_random_password()
        .password_length(64)
        .exclude_punctuation(true)
        .send()
        .await
        .unwrap()
        .random_password
        .unwrap();
    let created = client.create_secret().name(&name).secret_string(&generated).send().await.unwrap();
    let arn = created.arn().unwrap();

    let source = galley_lambda::keys::managed_key(&config, arn);
    let key = source.key().await.unwrap();
    let expected = SigningKey::new(generated.clone().into_bytes()).unwrap();
    let kid = KeyId::first();
    assert_eq!(
        TokenSigner::derive(&key, &kid).public_key(),
        TokenSigner::derive(&expected, &kid).public_key(),
        "login signs with the key the stack's public key is computed from"
    );

    let missing = galley_lambda::keys::managed_key(&config, "no-such-secret").key().await.unwrap_err();
    assert!(!format!("{missing}").contains(&generated));
    client.create_secret().name(format!("{name}-short")).secret_string("too short").send().await.unwrap();
    assert!(galley_lambda::keys::managed_key(&config, &format!("{name}-short")).key().await.is_err());
}
