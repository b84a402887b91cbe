//! The mail port over Amazon SES v2: the MIME message the domain builds is
//! sent as raw content, so what SES delivers is exactly what `.eml` files
//! hold locally.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use galley_shared::Error;
use galley_shared::mail::EmailMessage;
use galley_shared::ports::Mailer;

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesMailer {
    /// `from` is the sender (a verified SES identity), e.g. `Shop <receipts@shop.example>`.
    pub fn new(config: &SdkConfig, from: impl Into<String>) -> Self {
        let ses = aws_sdk_sesv2::config::Builder::from(config).interceptor(crate::Traced).build();
        Self { client: aws_sdk_sesv2::Client::from_conf(ses), from: from.into() }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), Error> {
        let raw =
            RawMessage::builder().data(Blob::new(message.to_mime(&self.from)?)).build().map_err(Error::internal)?;
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(message.to.as_str()).build())
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            // Every SES failure leaves the receipt in the outbox to be retried.
            .map_err(|e| {
                crate::errors::count("ses", &e);
                Error::unavailable(format!("ses SendEmail: {}", DisplayErrorContext(&e)))
            })?;
        Ok(())
    }
}
