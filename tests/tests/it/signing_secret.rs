//! In AWS the signing key is a Secrets Manager secret the stack generates;
//! a function reads it once at cold start. Checked against moto.

use galley_shared::keys::SigningKey;

#[tokio::test]
async fn the_key_is_read_from_the_generated_secret() {
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

    let key = galley_lambda::keys::key_from_secret(&config, arn).await.unwrap();
    let expected = SigningKey::new(generated.into_bytes()).unwrap();
    assert_eq!(key.derive("galley/access-token/v1"), expected.derive("galley/access-token/v1"));

    let missing = galley_lambda::keys::key_from_secret(&config, "no-such-secret").await.unwrap_err();
    assert!(!format!("{missing}").contains(&name));
    client.create_secret().name(format!("{name}-short")).secret_string("too short").send().await.unwrap();
    assert!(galley_lambda::keys::key_from_secret(&config, &format!("{name}-short")).await.is_err());
}
