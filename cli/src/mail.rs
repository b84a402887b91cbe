//! Who `galley serve`'s receipts come from.

/// The receipts' sender (`MAIL_FROM`; in AWS a verified SES identity).
pub fn mail_from() -> String {
    std::env::var("MAIL_FROM").unwrap_or_else(|_| "Galley <receipts@galley.localhost>".into())
}
