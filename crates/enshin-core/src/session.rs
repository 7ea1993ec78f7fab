//! Session rules (SESS-1..3): tokens, their stored digest, idle and absolute expiry, and the
//! lock-out schedule for failed log-ins (AUTH-10). Time is passed in, so every rule is testable.

use ring::digest::{SHA256, digest};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::encoding::{from_hex, to_hex};

/// Session lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session idle this long ends (SESS-1 default 30 min).
    pub idle_ms: i64,
    /// A session this old ends however active (SESS-1 default 12 h).
    pub absolute_ms: i64,
}

impl SessionPolicy {
    /// The defaults of SESS-1.
    pub const DEFAULT: Self = Self {
        idle_ms: 30 * 60_000,
        absolute_ms: 12 * 3_600_000,
    };

    /// Operators' sessions are shorter (AUTH-9): 15 minutes idle, 8 hours in all.
    pub const OPERATOR: Self = Self {
        idle_ms: 15 * 60_000,
        absolute_ms: 8 * 3_600_000,
    };
}

/// Why a session no longer admits requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// Idle longer than allowed.
    Idle,
    /// Older than the absolute lifetime.
    Absolute,
    /// Ended explicitly (log-out, forced log-off, disabled account).
    Ended,
}

/// The times that decide whether a session is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    /// Created, unix ms.
    pub created_at: i64,
    /// Last request, unix ms.
    pub last_seen_at: i64,
    /// Ended explicitly, unix ms.
    pub ended_at: Option<i64>,
}

impl SessionPolicy {
    /// `Ok` while the session admits requests at `now`, else why not.
    pub fn check(&self, times: SessionTimes, now: i64) -> Result<(), SessionEnd> {
        if times.ended_at.is_some() {
            Err(SessionEnd::Ended)
        } else if now >= times.created_at + self.absolute_ms {
            Err(SessionEnd::Absolute)
        } else if now >= times.last_seen_at + self.idle_ms {
            Err(SessionEnd::Idle)
        } else {
            Ok(())
        }
    }

    /// When the session will end if it stays idle from `last_seen_at` (for `expires_at`).
    pub fn expires_at(&self, times: SessionTimes) -> i64 {
        (times.last_seen_at + self.idle_ms).min(times.created_at + self.absolute_ms)
    }
}

/// A fresh session token (256 random bits, hex) and the digest stored in its place.
pub fn new_token() -> Result<(String, String), ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    let token = to_hex(&bytes);
    let stored = token_digest(&token);
    Ok((token, stored))
}

/// The stored form of a token: SHA-256, hex. Lookup by digest means the database never holds a
/// usable token, and the comparison is an index lookup, not a byte-by-byte compare of secrets.
pub fn token_digest(token: &str) -> String {
    to_hex(digest(&SHA256, token.as_bytes()).as_ref())
}

/// The token a page form carries against cross-site request forgery (SESS-3): an HMAC keyed by
/// the browser's random form secret (an HttpOnly cookie another site cannot read) over the session
/// token, so a token is useless with another secret and stops working when the session changes.
pub fn form_token(form_secret: &str, session_token: Option<&str>) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, form_secret.as_bytes());
    to_hex(hmac::sign(&key, &form_token_message(session_token)).as_ref())
}

/// Whether `presented` is the form token of this secret and session, compared in constant time.
pub fn form_token_matches(form_secret: &str, session_token: Option<&str>, presented: &str) -> bool {
    let Some(tag) = from_hex(presented) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, form_secret.as_bytes());
    hmac::verify(&key, &form_token_message(session_token), &tag).is_ok()
}

fn form_token_message(session_token: Option<&str>) -> Vec<u8> {
    let mut message = b"enshin-form-v1|".to_vec();
    message.extend_from_slice(session_token.unwrap_or("").as_bytes());
    message
}

/// Which failures a lock-out counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    /// Failures against one login ID, from anywhere.
    Account,
    /// Failures from one source address, against any ID (higher thresholds: clinics share NAT).
    Address,
    /// Patient registrations from one source address (a script creating accounts, or burning
    /// CPU on Argon2id); generous, since a clinic's front desk may help many patients register.
    Registration,
}

impl ThrottleScope {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Address => "address",
            Self::Registration => "registration",
        }
    }

    /// How long to lock after `failures` consecutive failures: temporary and escalating, never
    /// permanent. `None` means no lock.
    pub fn lockout_ms(self, failures: i64) -> Option<i64> {
        const MINUTE: i64 = 60_000;
        let steps: &[(i64, i64)] = match self {
            Self::Account => &[(20, 60 * MINUTE), (10, 15 * MINUTE), (5, MINUTE)],
            Self::Address => &[(200, 60 * MINUTE), (100, 15 * MINUTE), (50, MINUTE)],
            Self::Registration => &[(120, 360 * MINUTE), (60, 60 * MINUTE), (30, 15 * MINUTE)],
        };
        steps
            .iter()
            .find(|(at, _)| failures >= *at)
            .map(|(_, ms)| *ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: SessionPolicy = SessionPolicy::DEFAULT;
    const MIN: i64 = 60_000;

    fn times(created_at: i64, last_seen_at: i64) -> SessionTimes {
        SessionTimes {
            created_at,
            last_seen_at,
            ended_at: None,
        }
    }

    #[test]
    fn idle_timeout_ends_a_quiet_session() {
        assert_eq!(P.check(times(0, 0), 30 * MIN - 1), Ok(()));
        assert_eq!(P.check(times(0, 0), 30 * MIN), Err(SessionEnd::Idle));
        assert_eq!(
            P.check(times(0, 29 * MIN), 58 * MIN),
            Ok(()),
            "activity keeps it alive"
        );
    }

    #[test]
    fn absolute_lifetime_ends_even_a_busy_session() {
        let h12 = 12 * 60 * MIN;
        assert_eq!(P.check(times(0, h12 - MIN), h12 - 1), Ok(()));
        assert_eq!(P.check(times(0, h12 - 1), h12), Err(SessionEnd::Absolute));
        assert_eq!(
            P.expires_at(times(0, h12 - MIN)),
            h12,
            "expiry never passes the absolute end"
        );
        assert_eq!(P.expires_at(times(0, 0)), 30 * MIN);
    }

    #[test]
    fn an_ended_session_stays_ended() {
        let ended = SessionTimes {
            ended_at: Some(5),
            ..times(0, 0)
        };
        assert_eq!(P.check(ended, 6), Err(SessionEnd::Ended));
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_digests() {
        let (a, stored_a) = new_token().unwrap();
        let (b, _) = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(stored_a, token_digest(&a));
        assert_ne!(stored_a, a);
    }

    #[test]
    fn form_tokens_bind_the_secret_and_the_session() {
        let token = form_token("secret", Some("session"));
        assert!(form_token_matches("secret", Some("session"), &token));
        assert!(!form_token_matches("other", Some("session"), &token));
        assert!(!form_token_matches("secret", Some("new-session"), &token));
        assert!(!form_token_matches("secret", None, &token));
        assert!(!form_token_matches("secret", Some("session"), &token[..62]));
        assert!(!form_token_matches("secret", Some("session"), "zz"));
        assert!(!form_token_matches("secret", Some("session"), ""));
        let anonymous = form_token("secret", None);
        assert!(form_token_matches("secret", None, &anonymous));
        assert_ne!(anonymous, token);
    }

    #[test]
    fn lockouts_escalate_and_never_become_permanent() {
        let account: Vec<_> = [4, 5, 9, 10, 19, 20, 1000]
            .map(|n| ThrottleScope::Account.lockout_ms(n))
            .into();
        assert_eq!(
            account,
            [
                None,
                Some(MIN),
                Some(MIN),
                Some(15 * MIN),
                Some(15 * MIN),
                Some(60 * MIN),
                Some(60 * MIN)
            ]
        );
        assert_eq!(
            ThrottleScope::Address.lockout_ms(49),
            None,
            "a shared clinic address tolerates more"
        );
        assert_eq!(ThrottleScope::Address.lockout_ms(50), Some(MIN));
        assert_eq!(ThrottleScope::Registration.lockout_ms(29), None);
        assert_eq!(ThrottleScope::Registration.lockout_ms(30), Some(15 * MIN));
        assert_eq!(
            ThrottleScope::Registration.lockout_ms(10_000),
            Some(360 * MIN)
        );
    }
}
