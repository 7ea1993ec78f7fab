//! TLS for the three listeners (NET-1, NET-2): rustls with the ring provider, TLS 1.3 and 1.2
//! only, AEAD cipher suites only; the clinic listener demands a client certificate of the
//! service CA that its CRL does not list, during the handshake.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use enshin_core::audit::entry::Entry;
use enshin_core::pki::client_cert_facts;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CipherSuite, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};

use crate::audit::AuditLog;
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
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// No client certificate asked for (patient and operator listeners).
    None,
    /// A certificate of the service CA, not on the CRL, is required to finish the handshake
    /// (clinic listener). Refusals of a presented certificate are counted in `refused`.
    RequireServiceCa {
        /// The current CRL of the service CA, DER.
        crl: Vec<u8>,
        /// Presented certificates refused so far.
        refused: Arc<AtomicU64>,
        /// The access log, which records each refusal with the certificate's serial.
        audit: AuditLog,
    },
}

/// Delegates to webpki and, when it refuses a certificate the client did present, logs the
/// certificate's serial and counts the refusal (the access log records these with its issue).
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    refused: Arc<AtomicU64>,
    audit: AuditLog,
}

impl ClientCertVerifier for RecordingVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner
            .verify_client_cert(end_entity, intermediates, now)
            .inspect_err(|error| {
                let total = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
                let serial = client_cert_facts(end_entity)
                    .map_or_else(|_| "unreadable".to_owned(), |facts| facts.serial_hex);
                tracing::warn!(
                    target: "enshin::tls",
                    listener = "clinic",
                    serial,
                    refused_total = total,
                    %error,
                    "client certificate refused"
                );
                // The handshake has no request to hold back: the entry is not waited for.
                self.audit.record_detached(Entry {
                    cert_serial: Some(serial),
                    ..crate::audit::event_entry("clinic", "tls_client_certificate_refused")
                });
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Builds the server configuration of one listener.
pub fn server_config(
    material: &TlsMaterial,
    client_auth: &ClientAuth,
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
        ClientAuth::RequireServiceCa {
            crl,
            refused,
            audit,
        } => {
            let mut roots = RootCertStore::empty();
            for ca in certs(&material.ca_cert_pem, "service CA certificate")? {
                roots.add(ca)?;
            }
            let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .with_crls([CertificateRevocationListDer::from(crl.clone())])
                .only_check_end_entity_revocation()
                .build()?;
            builder.with_client_cert_verifier(Arc::new(RecordingVerifier {
                inner,
                refused: refused.clone(),
                audit: audit.clone(),
            }))
        }
    };
    let mut config = builder.with_single_cert(chain, key)?;
    config.ignore_client_order = true;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
