//! Emails as the domain writes them, and their MIME form (built by
//! `lettre`, not glued from strings): `multipart/alternative` with a text and
//! an HTML part, properly encoded headers.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::auth::Email;
use crate::error::Error;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailMessage {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A stable id (e.g. from the order), so a resent copy is recognisably the same message.
    pub message_id: String,
}

impl EmailMessage {
    /// The RFC 5322 message, from `from` (e.g. `Galley <receipts@shop.example>`).
    pub fn to_mime(&self, from: &str) -> Result<Vec<u8>, Error> {
        let from: Mailbox = from.parse().map_err(|e| Error::internal(format!("sender address: {e}")))?;
        let to: Mailbox = self.to.as_str().parse().map_err(|e| Error::internal(format!("recipient address: {e}")))?;
        let message = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.clone())
            .message_id(Some(self.message_id.clone()))
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(self.text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(self.html.clone())),
            )
            .map_err(|e| Error::internal(format!("build email: {e}")))?;
        Ok(message.formatted())
    }
}

/// Escapes text for an HTML body.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_multipart_alternative_with_both_parts() {
        let message = EmailMessage {
            to: Email::parse("ann@example.com").unwrap(),
            subject: "Your order — Crème".into(),
            text: "Thanks!".into(),
            html: "<p>Thanks!</p>".into(),
            message_id: "<order-1@galley>".into(),
        };
        let mime = String::from_utf8(message.to_mime("Galley <receipts@galley.example>").unwrap()).unwrap();
        assert!(mime.contains("Content-Type: multipart/alternative"), "{mime}");
        assert!(mime.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(mime.contains("Content-Type: text/html; charset=utf-8"));
        assert!(mime.contains("To: ann@example.com"));
        assert!(mime.contains("Message-ID: <order-1@galley>"));
        assert!(mime.contains("Subject: Your order =?utf-8?b?"), "non-ASCII words are encoded (RFC 2047): {mime}");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(html_escape("<b>\"A&B\"</b>"), "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;");
    }
}
