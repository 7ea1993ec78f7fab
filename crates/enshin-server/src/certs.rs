//! Clinic client certificates (AUTH-1, NET-2): issued by the service CA as PKCS#12 bundles,
//! recorded in the database, revoked there; every instance rebuilds the clinic listener's CRL
//! from the database within `crl_reload_secs`, without a restart.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use enshin_core::encoding::to_hex;
use enshin_core::pki::{BundleCipher, IssuedCert, PkiError, Revoked, ServiceCa, pkcs12_bundle};
use enshin_store::Store;
use enshin_store::certificates::{CertificateRecord, NewCertificate, RevokeError};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::ServerConfig;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::audit::AuditLog;
use crate::clock::now_ms;
use crate::datadir::TlsMaterial;
use crate::tls::{ClientAuth, TlsError, server_config};

/// Longest certificate label, in characters.
pub const LABEL_MAX: usize = 100;
/// Certificates expiring within this many days are flagged to admins and operators.
pub const EXPIRY_WARNING_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// Why a certificate could not be issued or revoked.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// No clinic has this id.
    #[error("there is no clinic with id {0}")]
    NoSuchClinic(String),
    /// The label is empty, too long or has control characters.
    #[error("the label must have 1 to {LABEL_MAX} characters and no control characters")]
    Label,
    /// The revocation reason is empty, too long or has control characters.
    #[error("the reason must have 1 to 200 characters and no control characters")]
    Reason,
    /// Signing or bundling failed.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// The revocation was refused.
    #[error(transparent)]
    Revoke(#[from] RevokeError),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

/// A freshly issued certificate, as handed to the clinic: the bundle and its one-time password.
pub struct IssuedBundle {
    /// The certificate and key.
    pub issued: IssuedCert,
    /// The PKCS#12 bundle.
    pub pkcs12: Vec<u8>,
    /// The bundle's password, shown once and stored nowhere.
    pub password: zeroize::Zeroizing<String>,
}

/// A bundle password: 20 characters from an alphabet without look-alikes (about 100 bits),
/// in groups of five so it can be read out over the phone.
fn bundle_password() -> Result<zeroize::Zeroizing<String>, CertError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = zeroize::Zeroizing::new([0u8; 20]);
    let rng = SystemRandom::new();
    let mut password = zeroize::Zeroizing::new(String::with_capacity(23));
    rng.fill(bytes.as_mut()).map_err(|_| CertError::Rng)?;
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            password.push('-');
        }
        // 256 is not a multiple of 31: the first 8 letters are a little likelier (< 0.5 bit lost).
        password.push(char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]));
    }
    Ok(password)
}

fn checked_text(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    let ok = !text.is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control);
    ok.then(|| text.to_owned())
}

/// What a certificate is issued for.
pub struct IssueRequest<'a> {
    /// The clinic.
    pub clinic_id: &'a str,
    /// Which PC or purpose (shown to the clinic's admins).
    pub label: &'a str,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// How the bundle is encrypted.
    pub cipher: BundleCipher,
}

/// Issues a client certificate for a clinic, records it, and bundles it with a new password.
pub async fn issue(
    store: &Store,
    ca: &ServiceCa,
    request: &IssueRequest<'_>,
) -> Result<IssuedBundle, CertError> {
    let label = checked_text(request.label, LABEL_MAX).ok_or(CertError::Label)?;
    if !store.clinic_exists(request.clinic_id).await? {
        return Err(CertError::NoSuchClinic(request.clinic_id.to_owned()));
    }
    let issued = ca.issue_client(request.clinic_id, request.not_before, request.not_after)?;
    let password = bundle_password()?;
    let pkcs12 = pkcs12_bundle(
        &issued,
        ca.cert_pem(),
        &format!("enshin {label}"),
        &password,
        request.cipher,
    )?;
    let unix_ms =
        |t: OffsetDateTime| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    store
        .record_certificate(
            &NewCertificate {
                serial: &issued.serial_hex,
                clinic_id: request.clinic_id,
                label: &label,
                not_before: unix_ms(request.not_before),
                not_after: unix_ms(request.not_after),
            },
            now_ms(),
        )
        .await?;
    Ok(IssuedBundle {
        issued,
        pkcs12,
        password,
    })
}

/// The validity of a certificate issued now for `days` days (starting five minutes early, for
/// client clocks a little behind).
pub fn validity_from_now(days: i64) -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    (
        now - time::Duration::minutes(5),
        now + time::Duration::days(days),
    )
}

/// Revokes a certificate (it ends its sessions at once; its handshakes stop within
/// `crl_reload_secs` on every instance). Returns the number of sessions ended.
pub async fn revoke(store: &Store, serial: &str, reason: &str) -> Result<u64, CertError> {
    let reason = checked_text(reason, 200).ok_or(CertError::Reason)?;
    let serial = normalize_serial(serial)
        .ok_or_else(|| RevokeError::NoSuchCertificate(serial.trim().to_owned()))?;
    Ok(store.revoke_certificate(&serial, &reason, now_ms()).await?)
}

/// Whether a certificate expires within [`EXPIRY_WARNING_DAYS`] of `now` (and is still in use).
pub fn expires_soon(cert: &CertificateRecord, now: i64) -> bool {
    cert.revoked_at.is_none() && cert.not_after - now < EXPIRY_WARNING_DAYS * DAY_MS
}

/// The CRL of the service CA for the revocations recorded in the database.
async fn current_crl(store: &Store, ca: &ServiceCa) -> Result<(Vec<u8>, Vec<String>), CertError> {
    let revoked = store.revoked_certificates().await?;
    let listed: Vec<Revoked> = revoked
        .iter()
        .map(|(serial, at)| Revoked {
            serial_hex: serial.clone(),
            revoked_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(*at) * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        })
        .collect();
    let now = OffsetDateTime::now_utc();
    // The CRL number only has to grow; milliseconds since the epoch do, across instances too.
    let number = u64::try_from(now_ms()).unwrap_or(0);
    let der = ca.crl(&listed, now, now + time::Duration::days(7), number)?;
    Ok((der, revoked.into_iter().map(|(serial, _)| serial).collect()))
}

/// The clinic listener's TLS configuration and what keeps its CRL current.
pub struct ClinicTls {
    /// The configuration in force; the accept loop takes a fresh one for every connection.
    pub configs: watch::Receiver<Arc<ServerConfig>>,
    sender: watch::Sender<Arc<ServerConfig>>,
    listed: Vec<String>,
    built_at: i64,
    refused: Arc<AtomicU64>,
    audit: AuditLog,
}

/// Why the clinic listener's TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClinicTlsError {
    /// The CRL could not be made.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// rustls refused the configuration.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl ClinicTls {
    /// Builds the configuration with the CRL of the database's revocations as of now.
    pub async fn build(
        store: &Store,
        ca: &ServiceCa,
        material: &TlsMaterial,
        refused: Arc<AtomicU64>,
        audit: AuditLog,
    ) -> Result<Self, ClinicTlsError> {
        let (crl, listed) = current_crl(store, ca).await?;
        let config = server_config(
            material,
            &ClientAuth::RequireServiceCa {
                crl,
                refused: refused.clone(),
                audit: audit.clone(),
            },
        )?;
        let (sender, configs) = watch::channel(config);
        Ok(Self {
            configs,
            sender,
            listed,
            built_at: now_ms(),
            refused,
            audit,
        })
    }

    /// Re-reads the revocations every `every` and swaps in a new configuration when they changed
    /// (or daily, before the CRL's next update), until `stop` turns true.
    pub async fn keep_current(
        mut self,
        store: Store,
        ca: Arc<ServiceCa>,
        material: TlsMaterial,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = async { let _ = stop.wait_for(|s| *s).await; } => return,
            }
            let listed = match store.revoked_certificates().await {
                Ok(rows) => rows
                    .into_iter()
                    .map(|(serial, _)| serial)
                    .collect::<Vec<_>>(),
                Err(error) => {
                    tracing::warn!(%error, "could not read certificate revocations; keeping the current CRL");
                    continue;
                }
            };
            if listed == self.listed && now_ms() - self.built_at < DAY_MS {
                continue;
            }
            let rebuilt = async {
                let (crl, listed) = current_crl(&store, &ca).await?;
                let auth = ClientAuth::RequireServiceCa {
                    crl,
                    refused: self.refused.clone(),
                    audit: self.audit.clone(),
                };
                let config = server_config(&material, &auth)?;
                Ok::<_, ClinicTlsError>((config, listed))
            };
            match rebuilt.await {
                Ok((config, listed)) => {
                    tracing::info!(revoked = listed.len(), "clinic listener CRL reloaded");
                    self.listed = listed;
                    self.built_at = now_ms();
                    let _ = self.sender.send(config);
                }
                Err(error) => {
                    tracing::error!(%error, "could not rebuild the clinic listener's CRL")
                }
            }
        }
    }
}

/// A serial as typed by an operator: hex, any case, colons allowed (as tools print them).
pub fn normalize_serial(typed: &str) -> Option<String> {
    let hex: String = typed
        .trim()
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    let ok = (2..=40).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| to_hex(&enshin_core::encoding::from_hex(&hex).unwrap_or_default()))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_passwords_are_long_random_and_unambiguous() {
        let a = bundle_password().unwrap();
        let b = bundle_password().unwrap();
        assert_ne!(*a, *b);
        assert_eq!(a.len(), 23);
        assert_eq!(a.matches('-').count(), 3);
        assert!(!a.contains(['0', 'o', '1', 'l', 'i']));
    }

    #[test]
    fn serials_are_read_as_operators_copy_them() {
        assert_eq!(normalize_serial(" 4A:0b:FF "), Some("4a0bff".into()));
        assert_eq!(normalize_serial("abc"), None, "odd number of digits");
        assert_eq!(normalize_serial("zz"), None);
        assert_eq!(normalize_serial(""), None);
    }
}
