//! TLS for the three listeners (NET-1, NET-2): rustls with the ring provider, TLS 1.3 and 1.2
//! only, AEAD cipher suites only; the clinic listener demands a client certificate of the
//! service CA during the handshake.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{CipherSuite, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::datadir::TlsMaterial;

/// The only suites offered: forward-secret AEADs (GCM and ChaCha20-Poly1305).
pub const ALLOWED_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file holds no usable certificate or key.
    #[error("{what}")]
    Pem {
        /// Which material.
        what: &'static str,
        /// The parse error.
        source: rustls_pki_types::pem::Error,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration")]
    Rustls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built.
    #[error("client certificate verifier")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// The ring provider restricted to [`ALLOWED_SUITES`]; every config is built with it explicitly.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .retain(|suite| ALLOWED_SUITES.contains(&suite.suite()));
    Arc::new(provider)
}

fn certs(pem: &str, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|source| TlsError::Pem { what, source })
}

/// Which listener a configuration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate asked for (patient and operator listeners).
    None,
    /// A certificate of the service CA is required to finish the handshake (clinic listener).
    RequireServiceCa,
}

/// Builds the server configuration of one listener.
pub fn server_config(
    material: &TlsMaterial,
    client_auth: ClientAuth,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = crypto_provider();
    let chain = certs(&material.server_cert_pem, "server certificate")?;
    let key =
        PrivateKeyDer::from_pem_slice(material.server_key_pem.as_bytes()).map_err(|source| {
            TlsError::Pem {
                what: "server key",
                source,
            }
        })?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let builder = match client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::RequireServiceCa => {
            let mut roots = RootCertStore::empty();
            for ca in certs(&material.ca_cert_pem, "service CA certificate")? {
                roots.add(ca)?;
            }
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build()?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key)?;
    config.ignore_client_order = true;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
