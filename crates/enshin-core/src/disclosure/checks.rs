//! The live checks: what the service observed of itself, and the rule that turns each
//! observation into evidence that holds or a visible non-conformance. Observing is the server's
//! work; the rules live here so that each can be tried with observations no real deployment
//! could produce (a listener offering TLS 1.1, say).

use serde::{Deserialize, Serialize};

use crate::password::HashParams;
use crate::session::SessionPolicy;

/// A live check's id, as the catalogue names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Protocol versions and suites each listener accepts, by real handshakes (NET-1).
    Tls,
    /// The clinic listener refuses a client without a certificate (NET-2, AUTH-1).
    ClientCertificates,
    /// Every clinic holds a valid client certificate, none about to expire.
    Certificates,
    /// The password rules and hashing parameters in force (AUTH-3, AUTH-5).
    PasswordPolicy,
    /// Session idle and absolute timeouts (SESS-1).
    Sessions,
    /// Operator accounts and their second factor (AUTH-9).
    OperatorTotp,
    /// The operator console listens on loopback or a private network (NET-3).
    OperatorListener,
    /// The access log verifies and its checkpoints are current (LOG-4).
    AccessLog,
    /// The clock is synchronised (LOG-5).
    Clock,
    /// Last backup, last failure and last restore drill (AVAIL-1).
    Backups,
    /// Which database, reached how (AVAIL-2, NET-4).
    Database,
    /// Suspensions in force (AVAIL-4).
    IncidentMode,
    /// Where the data is kept (G-43: in Japan).
    DataLocation,
    /// A-class encryption: the master key and every clinic's data key (DATA-3).
    Encryption,
    /// Clinical records' version chains verify (ROLE-3).
    Records,
    /// Every clinic's public page has a contact point and a doctor (FUNC-9).
    ClinicPages,
    /// Service changes were announced with the notice period (AVAIL-5).
    Announcements,
    /// Revisions of this document are kept and signed (§13).
    DisclosureRevisions,
}

impl Check {
    /// Every check, in the order the document lists their evidence.
    pub const ALL: [Check; 18] = [
        Check::Tls,
        Check::ClientCertificates,
        Check::Certificates,
        Check::PasswordPolicy,
        Check::Sessions,
        Check::OperatorTotp,
        Check::OperatorListener,
        Check::AccessLog,
        Check::Clock,
        Check::Backups,
        Check::Database,
        Check::IncidentMode,
        Check::DataLocation,
        Check::Encryption,
        Check::Records,
        Check::ClinicPages,
        Check::Announcements,
        Check::DisclosureRevisions,
    ];

    /// The id in the catalogue and the JSON document.
    pub fn id(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::ClientCertificates => "client_certificates",
            Self::Certificates => "certificates",
            Self::PasswordPolicy => "password_policy",
            Self::Sessions => "sessions",
            Self::OperatorTotp => "operator_totp",
            Self::OperatorListener => "operator_listener",
            Self::AccessLog => "access_log",
            Self::Clock => "clock",
            Self::Backups => "backups",
            Self::Database => "database",
            Self::IncidentMode => "incident_mode",
            Self::DataLocation => "data_location",
            Self::Encryption => "encryption",
            Self::Records => "records",
            Self::ClinicPages => "clinic_pages",
            Self::Announcements => "announcements",
            Self::DisclosureRevisions => "disclosure_revisions",
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The claim holds.
    Holds,
    /// Could not be observed here; the claim is not made.
    Unknown,
    /// The claim does not hold: a non-conformance.
    Fails,
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Both {
    /// Japanese.
    pub ja: String,
    /// English.
    pub en: String,
}

impl Both {
    fn new(ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            ja: ja.into(),
            en: en.into(),
        }
    }
}

/// One check's evidence: what was seen, when, and whether the claim holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The check.
    pub check: Check,
    /// The verdict.
    pub status: Status,
    /// The values seen.
    pub seen: Both,
    /// When, unix ms.
    pub at_ms: i64,
}

/// One listener's handshakes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerProbe {
    /// `patient`, `clinic` or `operator`.
    pub listener: String,
    /// The address probed.
    pub address: String,
    /// What the handshakes found, or why the listener could not be probed.
    pub outcome: Result<TlsSeen, String>,
}

/// What handshakes with one listener found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSeen {
    /// Versions a handshake completed with (`TLSv1.3`, `TLSv1.2`, `TLSv1.1` …).
    pub versions: Vec<String>,
    /// Suites a handshake completed with (IANA names).
    pub suites: Vec<String>,
    /// The server asked for a client certificate.
    pub client_cert_requested: bool,
    /// A client without a certificate was refused.
    pub anonymous_refused: bool,
}

/// The password rules as tried at the moment of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordSeen {
    /// Shortest password allowed.
    pub min_chars: usize,
    /// Entries of the common-password list in force.
    pub common_list: usize,
    /// Sample passwords that broke a rule and were still accepted (should be none).
    pub weak_accepted: Vec<String>,
    /// A strong sample was accepted.
    pub strong_accepted: bool,
    /// The hash a new password gets: algorithm and parameters read back from its PHC string.
    pub algorithm: String,
    /// Its parameters.
    pub hash: HashParams,
}

/// Operator accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorsSeen {
    /// Active operator accounts.
    pub active: u64,
    /// Of them, with a TOTP secret.
    pub with_totp: u64,
}

/// The access log's verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogSeen {
    /// Writers.
    pub writers: usize,
    /// Entries verified.
    pub entries: u64,
    /// Problems found (empty: verified).
    pub findings: Vec<String>,
    /// The newest signed checkpoint, unix ms.
    pub last_checkpoint_ms: Option<i64>,
    /// Entries no signed checkpoint covers yet.
    pub unsigned_tail: u64,
}

/// Backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupsSeen {
    /// The embedded default: enshin takes them.
    Embedded {
        /// Scheduled interval, ms (none: taken by cron).
        interval_ms: Option<i64>,
        /// The newest backup, unix ms.
        last_ms: Option<i64>,
        /// A failure since the newest success, unix ms.
        failed_ms: Option<i64>,
        /// The last successful restore drill, unix ms.
        drill_ms: Option<i64>,
    },
    /// PostgreSQL: pgBackRest takes them, outside enshin's sight.
    External,
}

/// The database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSeen {
    /// `sqlite` or `postgresql`.
    pub kind: String,
    /// Reached over TLS with verification, a local socket or loopback.
    pub protected_path: bool,
    /// How (`sslmode=verify-full`, `loopback`, `file` …).
    pub path: String,
}

/// A suspension in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspensionSeen {
    /// `service` or a clinic's id.
    pub scope: String,
    /// Since when, unix ms.
    pub since_ms: i64,
}

/// Where the operator declared the data to be.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocationSeen {
    /// ISO 3166 country code of `data_country`.
    pub country: Option<String>,
    /// The free-text `data_region`.
    pub region: Option<String>,
}

/// Encryption keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionSeen {
    /// The master key loaded.
    pub master_key: bool,
    /// Clinics in service.
    pub clinics: u64,
    /// Clinics whose data key could not be unwrapped.
    pub unreadable: Vec<String>,
}

/// Record version chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsSeen {
    /// Versions verified.
    pub versions: u64,
    /// Problems found.
    pub findings: Vec<String>,
}

/// Clinics' public pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicPagesSeen {
    /// Clinics in service.
    pub clinics: u64,
    /// Clinics without a contact telephone number.
    pub without_contact: Vec<String>,
    /// Clinics without an active doctor.
    pub without_doctor: Vec<String>,
}

/// Announcements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementsSeen {
    /// Announcements of changes.
    pub published: u64,
    /// Those published with less notice than required.
    pub short_notice: u64,
}

/// Published revisions of this document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionsSeen {
    /// How many.
    pub count: u64,
    /// The newest: number and when.
    pub latest: Option<(u64, i64)>,
    /// Revisions whose signature does not verify.
    pub bad_signatures: Vec<u64>,
}

/// Everything observed for one document.
#[derive(Debug, Clone)]
pub struct Observations {
    /// When the observation began, unix ms.
    pub at_ms: i64,
    /// The three listeners.
    pub listeners: Vec<ListenerProbe>,
    /// Each clinic in service with its latest certificate expiry (none: no valid certificate),
    /// or why they could not be read.
    pub certificates: Result<Vec<(String, Option<i64>)>, String>,
    /// Password rules.
    pub password: PasswordSeen,
    /// Session policy of members and patients.
    pub sessions: SessionPolicy,
    /// Session policy of operators.
    pub operator_sessions: SessionPolicy,
    /// Operator accounts, or why they could not be counted.
    pub operators: Result<OperatorsSeen, String>,
    /// The operator listener's configured address.
    pub operator_addr: std::net::SocketAddr,
    /// The access log, or why it could not be verified.
    pub access_log: Result<AccessLogSeen, String>,
    /// The clock is synchronised.
    pub clock_synchronized: bool,
    /// Backups.
    pub backups: BackupsSeen,
    /// The database.
    pub database: DatabaseSeen,
    /// Suspensions in force, or why they could not be read.
    pub suspensions: Result<Vec<SuspensionSeen>, String>,
    /// Where the data is.
    pub location: LocationSeen,
    /// Encryption keys, or why they could not be read.
    pub encryption: Result<EncryptionSeen, String>,
    /// Record chains, or why they could not be read.
    pub records: Result<RecordsSeen, String>,
    /// Clinics' public pages, or why they could not be read.
    pub clinic_pages: Result<ClinicPagesSeen, String>,
    /// Announcements, or why they could not be read.
    pub announcements: Result<AnnouncementsSeen, String>,
    /// Revisions of this document, or why they could not be read.
    pub revisions: Result<RevisionsSeen, String>,
}

/// A certificate expiring within this many days is reported (as on the clinic's page).
pub const CERT_WARNING_DAYS: i64 = 30;
/// The newest checkpoint may be this old while entries wait for one.
pub const CHECKPOINT_MAX_AGE_MS: i64 = 60_000;
/// Without a schedule (cron), a backup older than this fails.
pub const BACKUP_MAX_AGE_MS: i64 = 26 * 3_600_000;
/// A restore drill is due every quarter.
pub const DRILL_MAX_AGE_MS: i64 = 92 * 86_400_000;

const DAY_MS: i64 = 86_400_000;

/// A time as the document shows it: `2026-11-29 01:50 UTC`.
pub fn when(at_ms: i64) -> String {
    let t = crate::fhir::instant(at_ms);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

fn ago(now: i64, at: i64) -> Both {
    let minutes = (now - at).max(0) / 60_000;
    let (ja, en) = if minutes < 120 {
        (format!("{minutes}分前"), format!("{minutes} min ago"))
    } else if minutes < 48 * 60 {
        (
            format!("{}時間前", minutes / 60),
            format!("{} h ago", minutes / 60),
        )
    } else {
        (
            format!("{}日前", minutes / 1440),
            format!("{} days ago", minutes / 1440),
        )
    };
    Both::new(
        format!("{} ({ja})", when(at)),
        format!("{} ({en})", when(at)),
    )
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

fn verdict(ok: bool) -> Status {
    if ok { Status::Holds } else { Status::Fails }
}

/// Whether an IANA suite name is one NET-1 allows: TLS 1.3, or ECDHE with an AEAD.
pub fn strong_suite(name: &str) -> bool {
    name.starts_with("TLS13_")
        || (name.starts_with("TLS_ECDHE_")
            && (name.contains("_GCM_") || name.ends_with("CHACHA20_POLY1305_SHA256")))
}

fn tls(obs: &Observations) -> (Status, Both) {
    let mut ok = !obs.listeners.is_empty();
    let (mut ja, mut en) = (Vec::new(), Vec::new());
    for probe in &obs.listeners {
        let head = format!("{} ({})", probe.listener, probe.address);
        match &probe.outcome {
            Ok(seen) => {
                let fine = !seen.versions.is_empty()
                    && seen
                        .versions
                        .iter()
                        .all(|v| ["TLSv1.2", "TLSv1.3"].contains(&v.as_str()))
                    && seen.suites.iter().all(|s| strong_suite(s));
                ok &= fine;
                let mark = if fine { "" } else { " ✗" };
                // Versions and suite names read the same in both languages.
                let line = format!(
                    "{head}: {} / {}{mark}",
                    seen.versions.join(", "),
                    seen.suites.join(", ")
                );
                ja.push(line.clone());
                en.push(line);
            }
            Err(why) => {
                ok = false;
                ja.push(format!("{head}: 接続できません: {why} ✗"));
                en.push(format!("{head}: not reachable: {why} ✗"));
            }
        }
    }
    (verdict(ok), Both::new(ja.join("; "), en.join("; ")))
}

fn client_certificates(obs: &Observations) -> (Status, Both) {
    let Some(probe) = obs.listeners.iter().find(|p| p.listener == "clinic") else {
        return (
            Status::Fails,
            Both::new("医療機関の受付口がありません", "no clinic listener"),
        );
    };
    match &probe.outcome {
        Ok(seen) => {
            let ok = seen.client_cert_requested && seen.anonymous_refused;
            let ja = format!(
                "{}: 証明書の要求 {}、証明書なしの接続 {}",
                probe.address,
                if seen.client_cert_requested {
                    "あり"
                } else {
                    "なし"
                },
                if seen.anonymous_refused {
                    "拒否"
                } else {
                    "受付"
                }
            );
            let en = format!(
                "{}: certificate {}, a client without one {}",
                probe.address,
                if seen.client_cert_requested {
                    "requested"
                } else {
                    "not requested"
                },
                if seen.anonymous_refused {
                    "refused"
                } else {
                    "accepted"
                }
            );
            (verdict(ok), Both::new(ja, en))
        }
        Err(why) => (
            Status::Fails,
            Both::new(
                format!("{}: 接続できません: {why}", probe.address),
                format!("{}: not reachable: {why}", probe.address),
            ),
        ),
    }
}

fn certificates(obs: &Observations) -> (Status, Both) {
    let clinics = match &obs.certificates {
        Ok(clinics) => clinics,
        Err(why) => return unreadable(why),
    };
    let missing: Vec<String> = clinics
        .iter()
        .filter(|(_, e)| e.is_none())
        .map(|(c, _)| c.clone())
        .collect();
    let soon: Vec<String> = clinics
        .iter()
        .filter(|(_, e)| e.is_some_and(|e| e - obs.at_ms < CERT_WARNING_DAYS * DAY_MS))
        .map(|(c, _)| c.clone())
        .collect();
    let n = clinics.len();
    (
        verdict(missing.is_empty() && soon.is_empty()),
        Both::new(
            format!(
                "医療機関 {n}、有効な証明書のない医療機関: {}、{CERT_WARNING_DAYS}日以内に期限切れ: {}",
                list(&missing),
                list(&soon)
            ),
            format!(
                "{n} clinic(s); without a valid certificate: {}; expiring within {CERT_WARNING_DAYS} days: {}",
                list(&missing),
                list(&soon)
            ),
        ),
    )
}

/// What a check shows when its source could not be read: a non-conformance, never a claim.
fn unreadable(why: &str) -> (Status, Both) {
    (
        Status::Fails,
        Both::new(
            format!("読めません: {why}"),
            format!("could not read: {why}"),
        ),
    )
}

fn password(obs: &Observations) -> (Status, Both) {
    let p = &obs.password;
    let min = HashParams::OWASP;
    let hash_ok = p.algorithm == "argon2id"
        && p.hash.m_kib >= min.m_kib
        && p.hash.t >= min.t
        && p.hash.p >= 1;
    let ok = p.min_chars >= 8
        && p.weak_accepted.is_empty()
        && p.strong_accepted
        && p.common_list > 0
        && hash_ok;
    let hash = format!(
        "{} m={} KiB t={} p={}",
        p.algorithm, p.hash.m_kib, p.hash.t, p.hash.p
    );
    (
        verdict(ok),
        Both::new(
            format!(
                "最短 {} 文字、よく使われるパスワード {} 件を拒否、規則に反する見本で受け付けられたもの: {}、ハッシュ {hash}",
                p.min_chars,
                p.common_list,
                list(&p.weak_accepted)
            ),
            format!(
                "at least {} characters; {} common passwords refused; rule-breaking samples accepted: {}; hash {hash}",
                p.min_chars,
                p.common_list,
                list(&p.weak_accepted)
            ),
        ),
    )
}

fn sessions(obs: &Observations) -> (Status, Both) {
    let d = crate::session::SessionPolicy::DEFAULT;
    let s = obs.sessions;
    let o = obs.operator_sessions;
    let ok = s.idle_ms <= d.idle_ms
        && s.absolute_ms <= d.absolute_ms
        && o.idle_ms <= d.idle_ms
        && o.absolute_ms <= d.absolute_ms;
    (
        verdict(ok),
        Both::new(
            format!(
                "無操作 {} 分・最長 {} 時間(運営者 {} 分・{} 時間)、基準 {} 分・{} 時間以内",
                s.idle_ms / 60_000,
                s.absolute_ms / 3_600_000,
                o.idle_ms / 60_000,
                o.absolute_ms / 3_600_000,
                d.idle_ms / 60_000,
                d.absolute_ms / 3_600_000
            ),
            format!(
                "idle {} min, absolute {} h (operators {} min, {} h); limit {} min, {} h",
                s.idle_ms / 60_000,
                s.absolute_ms / 3_600_000,
                o.idle_ms / 60_000,
                o.absolute_ms / 3_600_000,
                d.idle_ms / 60_000,
                d.absolute_ms / 3_600_000
            ),
        ),
    )
}

fn operators(obs: &Observations) -> (Status, Both) {
    let o = match &obs.operators {
        Ok(o) => o,
        Err(why) => return unreadable(why),
    };
    (
        verdict(o.active > 0 && o.with_totp == o.active),
        Both::new(
            format!(
                "運営者アカウント {} 件、うちTOTP設定済み {} 件",
                o.active, o.with_totp
            ),
            format!(
                "{} operator account(s), {} with TOTP",
                o.active, o.with_totp
            ),
        ),
    )
}

fn operator_listener(obs: &Observations) -> (Status, Both) {
    let ip = obs.operator_addr.ip();
    let private = match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local(),
    };
    (
        verdict(private),
        Both::new(
            format!(
                "管理画面の受付口 {} ({})",
                obs.operator_addr,
                if private {
                    "ループバック又は私設網"
                } else {
                    "公開アドレス"
                }
            ),
            format!(
                "operator console at {} ({})",
                obs.operator_addr,
                if private {
                    "loopback or private network"
                } else {
                    "public address"
                }
            ),
        ),
    )
}

fn access_log(obs: &Observations) -> (Status, Both) {
    match &obs.access_log {
        Ok(log) => {
            let stale = log.unsigned_tail > 0
                && log
                    .last_checkpoint_ms
                    .is_none_or(|at| obs.at_ms - at > CHECKPOINT_MAX_AGE_MS);
            let ok = log.findings.is_empty() && !stale;
            let (cp_ja, cp_en) = match log.last_checkpoint_ms {
                Some(at) => {
                    let a = ago(obs.at_ms, at);
                    (a.ja, a.en)
                }
                None => ("なし".into(), "none".into()),
            };
            (
                verdict(ok),
                Both::new(
                    format!(
                        "記録者 {}、{} 件を検証、問題: {}、最新の署名済みチェックポイント {cp_ja}、未署名 {} 件",
                        log.writers,
                        log.entries,
                        list(&log.findings),
                        log.unsigned_tail
                    ),
                    format!(
                        "{} writer(s), {} entries verified, findings: {}, newest signed checkpoint {cp_en}, {} entries not yet signed",
                        log.writers,
                        log.entries,
                        list(&log.findings),
                        log.unsigned_tail
                    ),
                ),
            )
        }
        Err(why) => (
            Status::Fails,
            Both::new(
                format!("検証できません: {why}"),
                format!("could not verify: {why}"),
            ),
        ),
    }
}

fn clock(obs: &Observations) -> (Status, Both) {
    if obs.clock_synchronized {
        (
            Status::Holds,
            Both::new("時刻同期済み", "clock synchronised"),
        )
    } else {
        (
            Status::Fails,
            Both::new("時刻が同期していません", "clock not synchronised"),
        )
    }
}

fn backups(obs: &Observations) -> (Status, Both) {
    match &obs.backups {
        BackupsSeen::External => (
            Status::Unknown,
            Both::new(
                "PostgreSQLのバックアップはpgBackRestが取得します(本サービスからは確認できません。運用手順書の確認手順に従ってください)",
                "PostgreSQL is backed up by pgBackRest, which enshin cannot see (follow the runbook's checks)",
            ),
        ),
        BackupsSeen::Embedded {
            interval_ms,
            last_ms,
            failed_ms,
            drill_ms,
        } => {
            let limit = interval_ms.map_or(BACKUP_MAX_AGE_MS, |i| 2 * i + 60_000);
            let fresh = last_ms.is_some_and(|at| obs.at_ms - at <= limit);
            let drilled = drill_ms.is_some_and(|at| obs.at_ms - at <= DRILL_MAX_AGE_MS);
            let ok = fresh && failed_ms.is_none() && drilled;
            let fmt = |at: &Option<i64>| at.map(|at| ago(obs.at_ms, at));
            let none = Both::new("なし", "none");
            let last = fmt(last_ms).unwrap_or_else(|| none.clone());
            let failed = fmt(failed_ms).unwrap_or_else(|| none.clone());
            let drill = fmt(drill_ms).unwrap_or(none);
            (
                verdict(ok),
                Both::new(
                    format!(
                        "最新のバックアップ {}、その後の失敗 {}、最新の復元訓練 {}(訓練は {} 日以内)",
                        last.ja,
                        failed.ja,
                        drill.ja,
                        DRILL_MAX_AGE_MS / DAY_MS
                    ),
                    format!(
                        "newest backup {}, failure since {}, last restore drill {} (due every {} days)",
                        last.en,
                        failed.en,
                        drill.en,
                        DRILL_MAX_AGE_MS / DAY_MS
                    ),
                ),
            )
        }
    }
}

fn database(obs: &Observations) -> (Status, Both) {
    let d = &obs.database;
    (
        verdict(d.protected_path),
        Both::new(
            format!("{}、接続経路 {}", d.kind, d.path),
            format!("{}, reached by {}", d.kind, d.path),
        ),
    )
}

fn incident(obs: &Observations) -> (Status, Both) {
    match &obs.suspensions {
        Ok(list) if list.is_empty() => (
            Status::Holds,
            Both::new(
                "停止中の範囲なし(通常運用)",
                "nothing suspended (normal operation)",
            ),
        ),
        Ok(list) => {
            let items: Vec<String> = list
                .iter()
                .map(|s| format!("{} ({})", s.scope, when(s.since_ms)))
                .collect();
            let service = list.iter().any(|s| s.scope == "service");
            (
                verdict(!service),
                Both::new(
                    format!("利用停止中: {}", items.join(", ")),
                    format!("suspended: {}", items.join(", ")),
                ),
            )
        }
        Err(why) => unreadable(why),
    }
}

fn location(obs: &Observations) -> (Status, Both) {
    let l = &obs.location;
    let region = l.region.clone().unwrap_or_else(|| "-".into());
    match l.country.as_deref() {
        Some("JP") => (
            Status::Holds,
            Both::new(format!("日本 ({region})"), format!("Japan ({region})")),
        ),
        Some(other) => (
            Status::Fails,
            Both::new(
                format!("日本国外 {other} ({region})"),
                format!("outside Japan: {other} ({region})"),
            ),
        ),
        None => (
            Status::Fails,
            Both::new(
                "data_country が設定されていません",
                "data_country is not configured",
            ),
        ),
    }
}

fn encryption(obs: &Observations) -> (Status, Both) {
    match &obs.encryption {
        Ok(e) => (
            verdict(e.master_key && e.unreadable.is_empty()),
            Both::new(
                format!(
                    "AES-256-GCM、マスター鍵 {}、医療機関 {} のデータ鍵を確認、開けない鍵: {}",
                    if e.master_key {
                        "読込済み"
                    } else {
                        "なし"
                    },
                    e.clinics,
                    list(&e.unreadable)
                ),
                format!(
                    "AES-256-GCM; master key {}; data keys of {} clinic(s) checked; unreadable: {}",
                    if e.master_key { "loaded" } else { "missing" },
                    e.clinics,
                    list(&e.unreadable)
                ),
            ),
        ),
        Err(why) => (
            Status::Fails,
            Both::new(
                format!("鍵を確認できません: {why}"),
                format!("keys not reachable: {why}"),
            ),
        ),
    }
}

fn records(obs: &Observations) -> (Status, Both) {
    match &obs.records {
        Ok(r) => (
            verdict(r.findings.is_empty()),
            Both::new(
                format!(
                    "診療記録 {} 版を検証、問題: {}",
                    r.versions,
                    list(&r.findings)
                ),
                format!(
                    "{} record versions verified, findings: {}",
                    r.versions,
                    list(&r.findings)
                ),
            ),
        ),
        Err(why) => (
            Status::Fails,
            Both::new(
                format!("検証できません: {why}"),
                format!("could not verify: {why}"),
            ),
        ),
    }
}

fn clinic_pages(obs: &Observations) -> (Status, Both) {
    match &obs.clinic_pages {
        Ok(p) => (
            verdict(p.without_contact.is_empty() && p.without_doctor.is_empty()),
            Both::new(
                format!(
                    "医療機関 {}、連絡先のない医療機関: {}、医師のいない医療機関: {}",
                    p.clinics,
                    list(&p.without_contact),
                    list(&p.without_doctor)
                ),
                format!(
                    "{} clinic(s); without a contact number: {}; without a doctor: {}",
                    p.clinics,
                    list(&p.without_contact),
                    list(&p.without_doctor)
                ),
            ),
        ),
        Err(why) => unreadable(why),
    }
}

fn announcements(obs: &Observations) -> (Status, Both) {
    match &obs.announcements {
        Ok(a) => (
            verdict(a.short_notice == 0),
            Both::new(
                format!(
                    "変更の告知 {} 件、{} 日未満の告知 {} 件",
                    a.published,
                    crate::announcement::NOTICE_DAYS,
                    a.short_notice
                ),
                format!(
                    "{} change announcement(s), {} with less than {} days' notice",
                    a.published,
                    a.short_notice,
                    crate::announcement::NOTICE_DAYS
                ),
            ),
        ),
        Err(why) => unreadable(why),
    }
}

fn revisions(obs: &Observations) -> (Status, Both) {
    match &obs.revisions {
        Ok(r) => {
            let latest = match r.latest {
                Some((n, at)) => Both::new(
                    format!("第{n}版 ({})", when(at)),
                    format!("revision {n} ({})", when(at)),
                ),
                None => Both::new("未公開", "never published"),
            };
            let bad: Vec<String> = r.bad_signatures.iter().map(u64::to_string).collect();
            (
                verdict(bad.is_empty()),
                Both::new(
                    format!(
                        "公開済み {} 版、最新 {}、署名の合わない版: {}",
                        r.count,
                        latest.ja,
                        list(&bad)
                    ),
                    format!(
                        "{} revision(s) published, latest {}, signature mismatches: {}",
                        r.count,
                        latest.en,
                        list(&bad)
                    ),
                ),
            )
        }
        Err(why) => unreadable(why),
    }
}

/// Runs one check's rule over the observations.
pub fn evaluate(check: Check, obs: &Observations) -> Evidence {
    let (status, seen) = match check {
        Check::Tls => tls(obs),
        Check::ClientCertificates => client_certificates(obs),
        Check::Certificates => certificates(obs),
        Check::PasswordPolicy => password(obs),
        Check::Sessions => sessions(obs),
        Check::OperatorTotp => operators(obs),
        Check::OperatorListener => operator_listener(obs),
        Check::AccessLog => access_log(obs),
        Check::Clock => clock(obs),
        Check::Backups => backups(obs),
        Check::Database => database(obs),
        Check::IncidentMode => incident(obs),
        Check::DataLocation => location(obs),
        Check::Encryption => encryption(obs),
        Check::Records => records(obs),
        Check::ClinicPages => clinic_pages(obs),
        Check::Announcements => announcements(obs),
        Check::DisclosureRevisions => revisions(obs),
    };
    Evidence {
        check,
        status,
        seen,
        at_ms: obs.at_ms,
    }
}

/// Every check's evidence, in [`Check::ALL`] order.
pub fn evaluate_all(obs: &Observations) -> Vec<Evidence> {
    Check::ALL.iter().map(|c| evaluate(*c, obs)).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const NOW: i64 = 1_795_000_000_000;

    fn seen(versions: &[&str], suites: &[&str]) -> TlsSeen {
        TlsSeen {
            versions: versions.iter().map(|s| (*s).to_owned()).collect(),
            suites: suites.iter().map(|s| (*s).to_owned()).collect(),
            client_cert_requested: false,
            anonymous_refused: false,
        }
    }

    /// A deployment where every check holds.
    pub(crate) fn good() -> Observations {
        let strong = seen(
            &["TLSv1.3", "TLSv1.2"],
            &[
                "TLS13_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            ],
        );
        let probe = |listener: &str, outcome: TlsSeen| ListenerProbe {
            listener: listener.into(),
            address: "127.0.0.1:1".into(),
            outcome: Ok(outcome),
        };
        Observations {
            at_ms: NOW,
            listeners: vec![
                probe("patient", strong.clone()),
                probe(
                    "clinic",
                    TlsSeen {
                        client_cert_requested: true,
                        anonymous_refused: true,
                        ..strong.clone()
                    },
                ),
                probe("operator", strong),
            ],
            certificates: Ok(vec![("c1".into(), Some(NOW + 200 * DAY_MS))]),
            password: PasswordSeen {
                min_chars: 8,
                common_list: 10_000,
                weak_accepted: Vec::new(),
                strong_accepted: true,
                algorithm: "argon2id".into(),
                hash: HashParams::OWASP,
            },
            sessions: SessionPolicy::DEFAULT,
            operator_sessions: SessionPolicy::OPERATOR,
            operators: Ok(OperatorsSeen {
                active: 2,
                with_totp: 2,
            }),
            operator_addr: "127.0.0.1:8445".parse().unwrap(),
            access_log: Ok(AccessLogSeen {
                writers: 2,
                entries: 40,
                findings: Vec::new(),
                last_checkpoint_ms: Some(NOW - 5_000),
                unsigned_tail: 3,
            }),
            clock_synchronized: true,
            backups: BackupsSeen::Embedded {
                interval_ms: Some(3_600_000),
                last_ms: Some(NOW - 600_000),
                failed_ms: None,
                drill_ms: Some(NOW - 10 * DAY_MS),
            },
            database: DatabaseSeen {
                kind: "sqlite".into(),
                protected_path: true,
                path: "file".into(),
            },
            suspensions: Ok(Vec::new()),
            location: LocationSeen {
                country: Some("JP".into()),
                region: Some("Tokyo".into()),
            },
            encryption: Ok(EncryptionSeen {
                master_key: true,
                clinics: 1,
                unreadable: Vec::new(),
            }),
            records: Ok(RecordsSeen {
                versions: 3,
                findings: Vec::new(),
            }),
            clinic_pages: Ok(ClinicPagesSeen {
                clinics: 1,
                without_contact: Vec::new(),
                without_doctor: Vec::new(),
            }),
            announcements: Ok(AnnouncementsSeen {
                published: 1,
                short_notice: 0,
            }),
            revisions: Ok(RevisionsSeen {
                count: 1,
                latest: Some((1, NOW - DAY_MS)),
                bad_signatures: Vec::new(),
            }),
        }
    }

    fn status(check: Check, obs: &Observations) -> Status {
        evaluate(check, obs).status
    }

    #[test]
    fn every_check_holds_on_a_sound_deployment() {
        let obs = good();
        for e in evaluate_all(&obs) {
            assert_eq!(e.status, Status::Holds, "{:?}: {:?}", e.check, e.seen);
            assert!(!e.seen.ja.is_empty() && !e.seen.en.is_empty());
            assert_eq!(e.at_ms, NOW);
        }
    }

    /// What turns a sound deployment into one where a check fails.
    type Breaks = Box<dyn Fn(&mut Observations)>;

    /// Each check, with one observation that breaks it; the evidence names what was seen.
    #[test]
    fn each_check_fails_on_what_breaks_it() {
        let cases: Vec<(Check, Breaks, &str)> = vec![
            (
                Check::Tls,
                Box::new(|o| {
                    o.listeners[0].outcome = Ok(seen(
                        &["TLSv1.2", "TLSv1.1"],
                        &["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
                    ));
                }),
                "TLSv1.1",
            ),
            (
                Check::Tls,
                Box::new(|o| {
                    o.listeners[2].outcome =
                        Ok(seen(&["TLSv1.2"], &["TLS_RSA_WITH_AES_128_CBC_SHA"]));
                }),
                "TLS_RSA_WITH_AES_128_CBC_SHA",
            ),
            (
                Check::Tls,
                Box::new(|o| o.listeners[1].outcome = Err("connection refused".into())),
                "connection refused",
            ),
            (
                Check::ClientCertificates,
                Box::new(|o| {
                    o.listeners[1].outcome = Ok(seen(&["TLSv1.3"], &["TLS13_AES_128_GCM_SHA256"]));
                }),
                "not requested",
            ),
            (
                Check::Certificates,
                Box::new(|o| {
                    if let Ok(c) = &mut o.certificates {
                        c.push(("c2".into(), None));
                    }
                }),
                "c2",
            ),
            (
                Check::Certificates,
                Box::new(|o| {
                    if let Ok(c) = &mut o.certificates {
                        c[0].1 = Some(NOW + 3 * DAY_MS);
                    }
                }),
                "c1",
            ),
            (
                Check::Certificates,
                Box::new(|o| o.certificates = Err("database closed".into())),
                "could not read: database closed",
            ),
            (
                Check::PasswordPolicy,
                Box::new(|o| o.password.weak_accepted.push("password".into())),
                "password",
            ),
            (
                Check::PasswordPolicy,
                Box::new(|o| o.password.hash.m_kib = 4096),
                "m=4096",
            ),
            (
                Check::Sessions,
                Box::new(|o| o.sessions.idle_ms = 120 * 60_000),
                "120",
            ),
            (
                Check::OperatorTotp,
                Box::new(|o| {
                    o.operators = Ok(OperatorsSeen {
                        active: 2,
                        with_totp: 1,
                    });
                }),
                "1 with TOTP",
            ),
            (
                Check::OperatorListener,
                Box::new(|o| o.operator_addr = "203.0.113.5:8445".parse().unwrap()),
                "public address",
            ),
            (
                Check::AccessLog,
                Box::new(|o| {
                    if let Ok(log) = &mut o.access_log {
                        log.findings.push("entry 7 of w1: hash mismatch".into());
                    }
                }),
                "hash mismatch",
            ),
            (
                Check::AccessLog,
                Box::new(|o| {
                    if let Ok(log) = &mut o.access_log {
                        log.last_checkpoint_ms = Some(NOW - 3_600_000);
                    }
                }),
                "60 min ago",
            ),
            (
                Check::Clock,
                Box::new(|o| o.clock_synchronized = false),
                "not synchronised",
            ),
            (
                Check::Backups,
                Box::new(|o| {
                    o.backups = BackupsSeen::Embedded {
                        interval_ms: Some(3_600_000),
                        last_ms: Some(NOW - 600_000),
                        failed_ms: None,
                        drill_ms: None,
                    };
                }),
                "last restore drill none",
            ),
            (
                Check::Backups,
                Box::new(|o| {
                    o.backups = BackupsSeen::Embedded {
                        interval_ms: Some(3_600_000),
                        last_ms: Some(NOW - 5 * 3_600_000),
                        failed_ms: Some(NOW - 60_000),
                        drill_ms: Some(NOW),
                    };
                }),
                "5 h ago",
            ),
            (
                Check::Database,
                Box::new(|o| {
                    o.database = DatabaseSeen {
                        kind: "postgresql".into(),
                        protected_path: false,
                        path: "db.example:5432 sslmode=prefer".into(),
                    };
                }),
                "sslmode=prefer",
            ),
            (
                Check::IncidentMode,
                Box::new(|o| {
                    o.suspensions = Ok(vec![SuspensionSeen {
                        scope: "service".into(),
                        since_ms: NOW,
                    }]);
                }),
                "suspended: service",
            ),
            (
                Check::DataLocation,
                Box::new(|o| o.location.country = Some("US".into())),
                "outside Japan: US",
            ),
            (
                Check::DataLocation,
                Box::new(|o| o.location = LocationSeen::default()),
                "not configured",
            ),
            (
                Check::Encryption,
                Box::new(|o| o.encryption = Err("master key missing".into())),
                "master key missing",
            ),
            (
                Check::Records,
                Box::new(|o| {
                    o.records = Ok(RecordsSeen {
                        versions: 2,
                        findings: vec!["note n1 version 2".into()],
                    });
                }),
                "note n1",
            ),
            (
                Check::ClinicPages,
                Box::new(|o| {
                    o.clinic_pages = Ok(ClinicPagesSeen {
                        clinics: 1,
                        without_contact: vec!["c1".into()],
                        without_doctor: Vec::new(),
                    });
                }),
                "without a contact number: c1",
            ),
            (
                Check::Announcements,
                Box::new(|o| {
                    o.announcements = Ok(AnnouncementsSeen {
                        published: 2,
                        short_notice: 1,
                    });
                }),
                "1 with less than 14 days",
            ),
            (
                Check::DisclosureRevisions,
                Box::new(|o| {
                    o.revisions = Ok(RevisionsSeen {
                        count: 2,
                        latest: Some((2, NOW)),
                        bad_signatures: vec![1],
                    });
                }),
                "signature mismatches: 1",
            ),
        ];
        let covered: std::collections::BTreeSet<Check> = cases.iter().map(|(c, _, _)| *c).collect();
        assert_eq!(
            covered.len(),
            Check::ALL.len(),
            "every check has a failing case"
        );
        for (check, breaks, shown) in cases {
            let mut obs = good();
            breaks(&mut obs);
            let e = evaluate(check, &obs);
            assert_eq!(e.status, Status::Fails, "{check:?} {:?}", e.seen);
            assert!(
                e.seen.en.contains(shown),
                "{check:?}: {} lacks {shown}",
                e.seen.en
            );
            assert!(!e.seen.ja.is_empty());
        }
    }

    #[test]
    fn backups_outside_sight_are_unknown_not_claimed() {
        let mut obs = good();
        obs.backups = BackupsSeen::External;
        assert_eq!(status(Check::Backups, &obs), Status::Unknown);
    }

    #[test]
    fn a_quiet_log_needs_no_fresh_checkpoint_and_a_clinic_suspension_is_no_failure() {
        let mut obs = good();
        if let Ok(log) = &mut obs.access_log {
            log.unsigned_tail = 0;
            log.last_checkpoint_ms = Some(NOW - 30 * DAY_MS);
        }
        obs.suspensions = Ok(vec![SuspensionSeen {
            scope: "c1".into(),
            since_ms: NOW,
        }]);
        assert_eq!(status(Check::AccessLog, &obs), Status::Holds);
        assert_eq!(status(Check::IncidentMode, &obs), Status::Holds);
    }

    #[test]
    fn strong_suites_are_forward_secret_aeads() {
        assert!(strong_suite("TLS13_CHACHA20_POLY1305_SHA256"));
        assert!(strong_suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"));
        assert!(!strong_suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"));
        assert!(!strong_suite("TLS_RSA_WITH_AES_256_GCM_SHA384"));
    }
}
