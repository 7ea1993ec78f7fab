//! The disclosure's TLS probe: real handshakes against a listener, one per protocol version and
//! cipher suite, to report what it accepts as a client would find it (NET-1, NET-2). Versions
//! before TLS 1.2, which rustls cannot speak, are tried with a hand-built ClientHello.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use enshin_core::disclosure::{ListenerProbe, TlsSeen};
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, SignatureScheme, SupportedCipherSuite};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one handshake may take.
const STEP: Duration = Duration::from_secs(5);

/// What to probe.
pub struct Target<'a> {
    /// `patient`, `clinic` or `operator`.
    pub listener: &'a str,
    /// The bound address (an unspecified address is reached on loopback).
    pub addr: SocketAddr,
    /// The name the server certificate must carry (the first of `server_names`).
    pub server_name: &'a str,
    /// The service CA certificate, PEM (trusted beside the public roots).
    pub ca_pem: &'a str,
}

/// Notes whether the server asked for a client certificate; offers none.
#[derive(Debug, Default)]
struct Asked(AtomicBool);

impl ResolvesClientCert for Asked {
    fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.0.store(true, Ordering::SeqCst);
        None
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Where to connect for a listener bound to `addr`.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

fn roots(ca_pem: &str) -> RootCertStore {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()).flatten() {
        let _ = roots.add(cert);
    }
    roots
}

/// The result of one handshake.
enum Shake {
    /// Completed with this suite.
    Done(String),
    /// The server accepted version and suite and then asked for a certificate we lack.
    CertificateAsked(String),
    /// Refused.
    Refused(String),
}

async fn handshake(
    target: &Target<'_>,
    roots: &Arc<RootCertStore>,
    suite: SupportedCipherSuite,
) -> Shake {
    let name = suite.suite().as_str().unwrap_or("unknown").to_owned();
    let provider = CryptoProvider {
        cipher_suites: vec![suite],
        ..rustls::crypto::ring::default_provider()
    };
    let version = suite.version();
    let asked = Arc::new(Asked::default());
    let config = match ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
    {
        Ok(b) => b
            .with_root_certificates(roots.clone())
            .with_client_cert_resolver(asked.clone()),
        Err(e) => return Shake::Refused(e.to_string()),
    };
    let Ok(server_name) = ServerName::try_from(target.server_name.to_owned()) else {
        return Shake::Refused(format!("{} is not a server name", target.server_name));
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let attempt = async {
        let tcp = TcpStream::connect(reachable(target.addr)).await?;
        connector.connect(server_name, tcp).await
    };
    match tokio::time::timeout(STEP, attempt).await {
        Ok(Ok(_)) => Shake::Done(name),
        Ok(Err(_)) if asked.0.load(Ordering::SeqCst) => Shake::CertificateAsked(name),
        Ok(Err(e)) => Shake::Refused(e.to_string()),
        Err(_) => Shake::Refused("timed out".into()),
    }
}

/// Whether a client without a certificate gets an HTTP answer (TLS 1.3 finishes the client's
/// side of the handshake before the server judges the empty certificate).
async fn anonymous(target: &Target<'_>, roots: &Arc<RootCertStore>) -> (bool, bool) {
    let asked = Arc::new(Asked::default());
    let Ok(builder) =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
    else {
        return (false, false);
    };
    let config = builder
        .with_root_certificates(roots.clone())
        .with_client_cert_resolver(asked.clone());
    let Ok(server_name) = ServerName::try_from(target.server_name.to_owned()) else {
        return (false, false);
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let attempt = async {
        let tcp = TcpStream::connect(reachable(target.addr)).await?;
        let mut tls = connector.connect(server_name, tcp).await?;
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            .await?;
        let mut first = [0u8; 5];
        tls.read_exact(&mut first).await?;
        Ok::<_, std::io::Error>(first == *b"HTTP/")
    };
    let answered = matches!(tokio::time::timeout(STEP, attempt).await, Ok(Ok(true)));
    (asked.0.load(Ordering::SeqCst), !answered)
}

/// A ClientHello with the given legacy version and cipher suites, offering ECDHE groups and
/// signature algorithms, so that only the version or the suites can make the server refuse.
pub fn client_hello(version: [u8; 2], suites: &[u16]) -> Vec<u8> {
    let mut extensions = Vec::new();
    // supported_groups: x25519, secp256r1
    extensions.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]);
    // ec_point_formats: uncompressed
    extensions.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    extensions.extend_from_slice(&[
        0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
    ]);
    let mut body = Vec::new();
    body.extend_from_slice(&version);
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for suite in suites {
        body.extend_from_slice(&suite.to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]);
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// The suites of TLS 1.0 and 1.1 days: ECDHE with GCM or CBC, and RSA key exchange with CBC.
const LEGACY_SUITES: [u16; 8] = [
    0xc02f, 0xc02b, 0xc013, 0xc014, 0xc009, 0xc00a, 0x002f, 0x0035,
];

/// Whether the server answers a legacy ClientHello with a ServerHello of that version.
async fn legacy(target: &Target<'_>, minor: u8) -> bool {
    let attempt = async {
        let mut tcp = TcpStream::connect(reachable(target.addr)).await?;
        tcp.write_all(&client_hello([0x03, minor], &LEGACY_SUITES))
            .await?;
        let mut head = [0u8; 11];
        tcp.read_exact(&mut head).await?;
        // Record type handshake, message ServerHello, and the version the server chose.
        Ok::<_, std::io::Error>(head[0] == 0x16 && head[5] == 0x02 && head[9..11] == [0x03, minor])
    };
    matches!(tokio::time::timeout(STEP, attempt).await, Ok(Ok(true)))
}

/// Probes one listener.
pub async fn probe(target: &Target<'_>) -> ListenerProbe {
    let address = reachable(target.addr).to_string();
    let roots = Arc::new(roots(target.ca_pem));
    let mut seen = TlsSeen::default();
    let mut refusals = Vec::new();
    for (minor, name) in [(1u8, "TLSv1.0"), (2, "TLSv1.1")] {
        if legacy(target, minor).await {
            seen.versions.push(name.into());
        }
    }
    for suite in rustls::crypto::ring::default_provider().cipher_suites {
        let version = if suite.version() == &rustls::version::TLS13 {
            "TLSv1.3"
        } else {
            "TLSv1.2"
        };
        match handshake(target, &roots, suite).await {
            Shake::Done(name) | Shake::CertificateAsked(name) => {
                if !seen.versions.iter().any(|v| v == version) {
                    seen.versions.push(version.into());
                }
                seen.suites.push(name);
            }
            Shake::Refused(why) => refusals.push(why),
        }
    }
    if seen.suites.is_empty() {
        let why = refusals
            .into_iter()
            .next()
            .unwrap_or_else(|| "no handshake".into());
        return ListenerProbe {
            listener: target.listener.into(),
            address,
            outcome: Err(why),
        };
    }
    seen.versions.sort_by(|a, b| b.cmp(a));
    let (asked, refused) = anonymous(target, &roots).await;
    seen.client_cert_requested = asked;
    seen.anonymous_refused = refused;
    ListenerProbe {
        listener: target.listener.into(),
        address,
        outcome: Ok(seen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_hello_is_a_well_formed_record() {
        let hello = client_hello([0x03, 0x02], &LEGACY_SUITES);
        assert_eq!(&hello[..3], &[0x16, 0x03, 0x01]);
        let record_len = u16::from_be_bytes([hello[3], hello[4]]) as usize;
        assert_eq!(record_len, hello.len() - 5);
        assert_eq!(hello[5], 0x01);
        let body_len = u32::from_be_bytes([0, hello[6], hello[7], hello[8]]) as usize;
        assert_eq!(body_len, record_len - 4);
        assert_eq!(&hello[9..11], &[0x03, 0x02]);
        assert_eq!(u16::from_be_bytes([hello[44], hello[45]]), 16, "8 suites");
    }
}
