//! The HTTPS client every SDK client shares, trusting Amazon's roots only.
//!
//! The SDK's default client trusts the operating system's roots, and reads
//! them when it is built: the bundle and then every file in `/etc/ssl/certs`
//! (292 here), which was most of a function's cold start. AWS endpoints
//! present chains to Amazon Trust Services, so these five roots, compiled
//! in, are all an AWS call needs. `SSL_CERT_FILE`, when set, adds a bundle
//! (a TLS-intercepting proxy, an emulator on HTTPS).

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Amazon Root CA 1–4 and the Starfield Services G2 root they are
/// cross-signed by, as https://www.amazontrust.com/repository/ lists them.
const AMAZON_ROOTS: [&str; 5] = [
    include_str!("../certs/Amazon_Root_CA_1.pem"),
    include_str!("../certs/Amazon_Root_CA_2.pem"),
    include_str!("../certs/Amazon_Root_CA_3.pem"),
    include_str!("../certs/Amazon_Root_CA_4.pem"),
    include_str!("../certs/Starfield_Services_Root_Certificate_Authority_-_G2.pem"),
];

/// The trust store: Amazon's roots, plus `extra_bundle` (PEM).
fn trust_store(extra_bundle: Option<Vec<u8>>) -> TrustStore {
    let mut store = TrustStore::empty().with_native_roots(false);
    for root in AMAZON_ROOTS {
        store.add_pem_certificate(root.as_bytes());
    }
    if let Some(bundle) = extra_bundle {
        store.add_pem_certificate(bundle);
    }
    store
}

/// The shared client: rustls over aws-lc (the SDK's default provider) with
/// the trust store above. Nothing is read or parsed until the first call.
pub fn client() -> SharedHttpClient {
    let extra = std::env::var_os("SSL_CERT_FILE").and_then(|path| {
        let usable = std::fs::read(&path).map_err(|e| e.to_string()).and_then(usable_bundle);
        usable.inspect_err(|e| tracing::warn!(path = %path.to_string_lossy(), error = %e, "SSL_CERT_FILE ignored")).ok()
    });
    let context =
        TlsContext::builder().with_trust_store(trust_store(extra)).build().expect("a TLS context of PEM roots");
    let hyper = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    SharedHttpClient::new(ConnectorOnFirstCall(hyper))
}

/// The hyper client, minus its start-up check. The SDK's client builds a
/// whole TLS connector in `validate_base_client_config`, once for every SDK
/// client constructed, and drops it: that check exists to read the system's
/// roots at start-up rather than on the first call. These roots are
/// compiled in, so the check was only a TLS set-up per SDK client at every
/// cold start; the connector the calls use is built, and kept, on the first.
#[derive(Debug)]
struct ConnectorOnFirstCall(SharedHttpClient);

impl HttpClient for ConnectorOnFirstCall {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// `bundle` if every certificate in it can be a trust anchor: the SDK would
/// panic on the first connection over a bad one.
fn usable_bundle(bundle: Vec<u8>) -> Result<Vec<u8>, String> {
    let certs = CertificateDer::pem_slice_iter(&bundle).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no PEM certificate in it".into());
    }
    for cert in &certs {
        webpki::anchor_from_trusted_cert(cert).map_err(|e| e.to_string())?;
    }
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_amazon_root_is_one_usable_trust_anchor() {
        for root in AMAZON_ROOTS {
            assert_eq!(CertificateDer::pem_slice_iter(root.as_bytes()).count(), 1);
            usable_bundle(root.as_bytes().to_vec()).expect("a usable trust anchor");
        }
    }

    #[test]
    fn an_extra_bundle_is_taken_whole_or_not_at_all() {
        let two = [AMAZON_ROOTS[0], AMAZON_ROOTS[4]].concat().into_bytes();
        assert_eq!(usable_bundle(two.clone()), Ok(two));
        assert!(usable_bundle(b"not a certificate".to_vec()).is_err());
        let damaged = AMAZON_ROOTS[0].replace("MIID", "MIIE");
        assert!(usable_bundle([AMAZON_ROOTS[1], &damaged].concat().into_bytes()).is_err());
    }
}
