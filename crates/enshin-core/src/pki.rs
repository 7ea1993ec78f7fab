//! The service's own certificate authority (NET-1, NET-2): it signs the listeners' server
//! certificate and issues one client certificate per clinic PC, naming the clinic in a SAN URI.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use time::{Duration, OffsetDateTime};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::encoding::{from_hex, to_hex};

/// Prefix of the SAN URI that carries a clinic id in a client certificate.
pub const CLINIC_URI_PREFIX: &str = "urn:enshin:clinic:";

/// Why a certificate could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen refused the parameters or the key.
    #[error("certificate generation failed")]
    Generate(#[from] rcgen::Error),
    /// The bytes are not a certificate we can parse.
    #[error("not a readable X.509 certificate")]
    Parse,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
    /// A serial number is not hex.
    #[error("not a serial number: {0}")]
    Serial(String),
    /// The PKCS#12 bundle could not be written.
    #[error("PKCS#12 bundle: {0}")]
    Pkcs12(String),
}

/// A revoked client certificate, as the CRL lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The serial number, hex.
    pub serial_hex: String,
    /// When it was revoked.
    pub revoked_at: OffsetDateTime,
}

/// How a PKCS#12 bundle is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleCipher {
    /// PBES2 with AES-256-CBC and HMAC-SHA256: current Windows, macOS, Chrome and Firefox.
    Modern,
    /// 3DES with SHA-1 MAC: for older systems that cannot read PBES2 (e.g. macOS before 14,
    /// Windows before 10 1709). Weaker; use only where needed.
    Legacy,
}

/// A certificate with its private key, both PEM, as written to disk or handed to a client.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key (PKCS#8), PEM.
    pub key_pem: String,
    /// The serial number, lower-case hex.
    pub serial_hex: String,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

/// The service CA, loaded and ready to sign.
pub struct ServiceCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

/// A random positive 128-bit serial (the top bit cleared so DER never needs a sign byte).
fn random_serial() -> Result<(SerialNumber, String), PkiError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PkiError::Rng)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok((SerialNumber::from_slice(&bytes), to_hex(&bytes)))
}

fn params(
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<(CertificateParams, String), PkiError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "enshin");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_after;
    let (serial, serial_hex) = random_serial()?;
    params.serial_number = Some(serial);
    Ok((params, serial_hex))
}

/// Certificates start five minutes early, so that a client whose clock is a little behind
/// does not refuse a certificate issued a moment ago.
fn from_now(now: OffsetDateTime, valid_days: i64) -> (OffsetDateTime, OffsetDateTime) {
    (now - Duration::minutes(5), now + Duration::days(valid_days))
}

impl ServiceCa {
    /// Creates a new CA (ECDSA P-256) valid for `valid_days`.
    pub fn generate(
        common_name: &str,
        now: OffsetDateTime,
        valid_days: i64,
    ) -> Result<(Self, IssuedCert), PkiError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let (not_before, not_after) = from_now(now, valid_days);
        let (mut params, serial_hex) = params(common_name, not_before, not_after)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key)?;
        let issued = IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial_hex,
            not_after: params.not_after,
        };
        let ca = Self {
            cert_pem: issued.cert_pem.clone(),
            issuer: Issuer::new(params, key),
        };
        Ok((ca, issued))
    }

    /// Loads a CA from its certificate and private key (PEM).
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let key = KeyPair::from_pem(key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key)?;
        Ok(Self {
            issuer,
            cert_pem: cert_pem.to_owned(),
        })
    }

    /// The CA certificate, PEM (what clients trust).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    fn sign(
        &self,
        mut params: CertificateParams,
        serial_hex: String,
    ) -> Result<IssuedCert, PkiError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial_hex,
            not_after: params.not_after,
        })
    }

    /// Issues a TLS server certificate for the given DNS names and IP addresses.
    pub fn issue_server(
        &self,
        names: &[String],
        now: OffsetDateTime,
        valid_days: i64,
    ) -> Result<IssuedCert, PkiError> {
        let first = names.first().map(String::as_str).unwrap_or("enshin");
        let (not_before, not_after) = from_now(now, valid_days);
        let (mut params, serial_hex) = params(first, not_before, not_after)?;
        params.subject_alt_names = CertificateParams::new(names.to_vec())?.subject_alt_names;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params, serial_hex)
    }

    /// Issues a client certificate for one clinic: the clinic id travels in a SAN URI.
    pub fn issue_client(
        &self,
        clinic_id: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCert, PkiError> {
        let (mut params, serial_hex) =
            params(&format!("enshin clinic {clinic_id}"), not_before, not_after)?;
        let uri = format!("{CLINIC_URI_PREFIX}{clinic_id}").try_into()?;
        params.subject_alt_names = vec![SanType::URI(uri)];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params, serial_hex)
    }
}

impl ServiceCa {
    /// A certificate revocation list of this CA: `number` must grow with every new list.
    pub fn crl(
        &self,
        revoked: &[Revoked],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        number: u64,
    ) -> Result<Vec<u8>, PkiError> {
        let revoked_certs = revoked
            .iter()
            .map(|r| {
                let serial = from_hex(&r.serial_hex)
                    .filter(|bytes| !bytes.is_empty())
                    .ok_or_else(|| PkiError::Serial(r.serial_hex.clone()))?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&serial),
                    revocation_time: r.revoked_at,
                    reason_code: Some(RevocationReason::Unspecified),
                    invalidity_date: None,
                })
            })
            .collect::<Result<_, PkiError>>()?;
        let params = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.der().to_vec())
    }
}

/// A PKCS#12 bundle of a client certificate, its key and the CA certificate, protected by
/// `password`, as browsers and operating systems import it.
pub fn pkcs12_bundle(
    issued: &IssuedCert,
    ca_cert_pem: &str,
    name: &str,
    password: &str,
    cipher: BundleCipher,
) -> Result<Vec<u8>, PkiError> {
    use p12_keystore::{
        Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey,
        PrivateKeyChain,
    };
    let p12 = |e: p12_keystore::error::Error| PkiError::Pkcs12(e.to_string());
    let der = |pem: &str| {
        x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .map(|(_, pem)| pem.contents)
            .map_err(|_| PkiError::Parse)
    };
    let cert = Certificate::from_der(&der(&issued.cert_pem)?).map_err(p12)?;
    let ca = Certificate::from_der(&der(ca_cert_pem)?).map_err(p12)?;
    let key_der = zeroize::Zeroizing::new(der(&issued.key_pem)?);
    let key = PrivateKey::from_der(&key_der).map_err(p12)?;
    let local_key_id = from_hex(&issued.serial_hex).ok_or(PkiError::Parse)?;
    let mut store = KeyStore::new();
    store.add_entry(
        name,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, key, [cert, ca])),
    );
    let (encryption, mac) = match cipher {
        BundleCipher::Modern => (
            EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
            MacAlgorithm::HmacSha256,
        ),
        BundleCipher::Legacy => (
            EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
            MacAlgorithm::HmacSha1,
        ),
    };
    store
        .writer(password)
        .encryption_algorithm(encryption)
        .mac_algorithm(mac)
        .encryption_iterations(100_000)
        .mac_iterations(100_000)
        .write()
        .map_err(p12)
}

/// What the service needs to know of a verified client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertFacts {
    /// Serial number, lower-case hex (the access log records it).
    pub serial_hex: String,
    /// The clinic named in the certificate's SAN URI, if any.
    pub clinic_id: Option<String>,
}

/// Reads serial and clinic from a DER certificate that TLS has already verified.
pub fn client_cert_facts(der: &[u8]) -> Result<ClientCertFacts, PkiError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| PkiError::Parse)?;
    let serial_hex = to_hex(cert.raw_serial());
    let clinic_id = cert
        .subject_alternative_name()
        .map_err(|_| PkiError::Parse)?
        .into_iter()
        .flat_map(|san| san.value.general_names.iter())
        .find_map(|name| match name {
            GeneralName::URI(uri) => uri.strip_prefix(CLINIC_URI_PREFIX).map(str::to_owned),
            _ => None,
        });
    Ok(ClientCertFacts {
        serial_hex,
        clinic_id,
    })
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::*;

    fn der_of(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .to_vec()
    }

    #[test]
    fn client_certificate_names_its_clinic_and_serial() {
        let now = OffsetDateTime::now_utc();
        let (ca, _) = ServiceCa::generate("test CA", now, 10).unwrap();
        let issued = ca
            .issue_client(
                "0190f0c4-1111-7000-8000-000000000001",
                now,
                now + Duration::days(365),
            )
            .unwrap();
        let facts = client_cert_facts(&der_of(&issued.cert_pem)).unwrap();
        assert_eq!(
            facts.clinic_id.as_deref(),
            Some("0190f0c4-1111-7000-8000-000000000001")
        );
        assert_eq!(facts.serial_hex, issued.serial_hex);
        assert_eq!(facts.serial_hex.len(), 32);
        assert!((issued.not_after - now - Duration::days(365)).abs() < Duration::seconds(1));
    }

    #[test]
    fn serials_are_random_and_server_certs_name_no_clinic() {
        let now = OffsetDateTime::now_utc();
        let (ca, ca_cert) = ServiceCa::generate("test CA", now, 10).unwrap();
        let a = ca
            .issue_server(&["localhost".into(), "127.0.0.1".into()], now, 30)
            .unwrap();
        let b = ca.issue_server(&["localhost".into()], now, 30).unwrap();
        assert_ne!(a.serial_hex, b.serial_hex);
        assert_ne!(a.serial_hex, ca_cert.serial_hex);
        assert_eq!(
            client_cert_facts(&der_of(&a.cert_pem)).unwrap().clinic_id,
            None
        );
    }

    #[test]
    fn reloaded_ca_still_signs() {
        let now = OffsetDateTime::now_utc();
        let (_, ca_cert) = ServiceCa::generate("test CA", now, 10).unwrap();
        let ca = ServiceCa::from_pem(&ca_cert.cert_pem, &ca_cert.key_pem).unwrap();
        assert_eq!(ca.cert_pem(), ca_cert.cert_pem);
        ca.issue_client("c", now, now + Duration::days(1)).unwrap();
        assert!(ServiceCa::from_pem("junk", &ca_cert.key_pem).is_err());
    }

    #[test]
    fn the_crl_lists_the_revoked_serials_and_is_signed_by_the_ca() {
        let now = OffsetDateTime::now_utc();
        let (ca, _) = ServiceCa::generate("test CA", now, 10).unwrap();
        let kept = ca.issue_client("c", now, now + Duration::days(1)).unwrap();
        let gone = ca.issue_client("c", now, now + Duration::days(1)).unwrap();
        let revoked = [Revoked {
            serial_hex: gone.serial_hex.clone(),
            revoked_at: now,
        }];
        let der = ca.crl(&revoked, now, now + Duration::days(1), 7).unwrap();
        let (_, crl) =
            x509_parser::revocation_list::CertificateRevocationList::from_der(&der).unwrap();
        let listed: Vec<String> = crl
            .iter_revoked_certificates()
            .map(|r| to_hex(r.raw_serial()))
            .collect();
        assert_eq!(listed, [gone.serial_hex]);
        assert!(!listed.contains(&kept.serial_hex));
        assert_eq!(crl.crl_number().map(|n| n.to_string()), Some("7".into()));
        let bad = Revoked {
            serial_hex: "zz".into(),
            revoked_at: now,
        };
        assert!(matches!(
            ca.crl(&[bad], now, now + Duration::days(1), 8),
            Err(PkiError::Serial(_))
        ));
    }

    #[test]
    fn a_pkcs12_bundle_opens_with_its_password_only_and_holds_key_cert_and_ca() {
        let now = OffsetDateTime::now_utc();
        let (ca, ca_cert) = ServiceCa::generate("test CA", now, 10).unwrap();
        let issued = ca.issue_client("c", now, now + Duration::days(1)).unwrap();
        for cipher in [BundleCipher::Modern, BundleCipher::Legacy] {
            let bundle =
                pkcs12_bundle(&issued, &ca_cert.cert_pem, "enshin c", "pa55-Word!", cipher)
                    .unwrap();
            let policy = p12_keystore::Pkcs12ImportPolicy::Relaxed;
            assert!(p12_keystore::KeyStore::from_pkcs12(&bundle, "wrong", policy).is_err());
            let store = p12_keystore::KeyStore::from_pkcs12(&bundle, "pa55-Word!", policy).unwrap();
            let (_, chain) = store.private_key_chain().expect("a key with its chain");
            assert_eq!(chain.certs()[0].as_der(), der_of(&issued.cert_pem));
            assert_eq!(chain.certs()[1].as_der(), der_of(&ca_cert.cert_pem));
        }
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(matches!(
            client_cert_facts(b"not der"),
            Err(PkiError::Parse)
        ));
    }
}
