//! Emergency accounts of incident mode (AVAIL-4, §8-②(b)): while a clinic is in an emergency its
//! normal member IDs are held (not disabled: they come back when the emergency ends), and
//! temporary accounts, whose credentials go to the clinic's administrator, act in their place
//! until they expire by themselves.

use ring::rand::{SecureRandom, SystemRandom};

/// Longest emergency, in hours.
pub const MAX_HOURS: i64 = 72;
/// Most emergency accounts issued at once.
pub const MAX_ACCOUNTS: usize = 5;
const HOUR_MS: i64 = 3_600_000;

/// Whether a member account may log in and act at `now`: `own_until` is the expiry of an
/// emergency account (`None` for a normal one), `clinic_until` the end of the clinic's
/// emergency (`None` when there is none).
pub fn member_may_act(own_until: Option<i64>, clinic_until: Option<i64>, now: i64) -> bool {
    match own_until {
        Some(until) => now < until,
        None => clinic_until.is_none_or(|until| now >= until),
    }
}

/// Why an emergency cannot start as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmergencyError {
    /// Hours outside 1..=72.
    #[error("an emergency lasts 1 to {MAX_HOURS} hours")]
    Hours,
    /// No accounts, or more than five.
    #[error("issue 1 to {MAX_ACCOUNTS} emergency accounts")]
    Accounts,
}

/// The end of an emergency of `hours` starting at `now`.
pub fn ends_at(now: i64, hours: i64) -> Result<i64, EmergencyError> {
    if (1..=MAX_HOURS).contains(&hours) {
        Ok(now + hours * HOUR_MS)
    } else {
        Err(EmergencyError::Hours)
    }
}

/// Checks the number of accounts asked for.
pub fn account_count(count: usize) -> Result<usize, EmergencyError> {
    if (1..=MAX_ACCOUNTS).contains(&count) {
        Ok(count)
    } else {
        Err(EmergencyError::Accounts)
    }
}

/// Letters and digits that cannot be mistaken for one another when read aloud or typed from
/// paper (no 0/O, 1/l/I).
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Password length: 20 characters of a 56-letter alphabet, about 116 bits.
const PASSWORD_LEN: usize = 20;

/// A fresh emergency account's login ID and password.
pub fn credentials() -> Result<(String, String), ring::error::Unspecified> {
    let rng = SystemRandom::new();
    let mut id = [0u8; 5];
    rng.fill(&mut id)?;
    let login_id = format!("emergency-{}", crate::encoding::to_hex(&id));
    let mut password = String::with_capacity(PASSWORD_LEN);
    while password.len() < PASSWORD_LEN {
        let mut byte = [0u8; 1];
        rng.fill(&mut byte)?;
        // Rejection sampling keeps every letter equally likely.
        if usize::from(byte[0]) < 256 - 256 % ALPHABET.len() {
            password.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    Ok((login_id, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_ids_are_held_during_an_emergency_and_come_back_after() {
        assert!(member_may_act(None, None, 10));
        assert!(!member_may_act(None, Some(20), 10));
        assert!(member_may_act(None, Some(20), 20));
    }

    #[test]
    fn emergency_accounts_expire_by_themselves() {
        assert!(member_may_act(Some(20), Some(20), 19));
        assert!(!member_may_act(Some(20), Some(20), 20));
        assert!(!member_may_act(Some(20), None, 25), "ended early");
    }

    #[test]
    fn credentials_are_valid_login_ids_and_differ() {
        let (a, pa) = credentials().unwrap();
        let (b, pb) = credentials().unwrap();
        assert!(crate::people::LoginId::parse(&a).is_ok(), "{a}");
        assert_ne!(a, b);
        assert_ne!(pa, pb);
        assert_eq!(pa.len(), PASSWORD_LEN);
        assert!(pa.bytes().all(|c| ALPHABET.contains(&c)));
    }

    #[test]
    fn limits() {
        assert_eq!(ends_at(0, 1), Ok(HOUR_MS));
        assert_eq!(ends_at(0, 73), Err(EmergencyError::Hours));
        assert_eq!(ends_at(0, 0), Err(EmergencyError::Hours));
        assert_eq!(account_count(0), Err(EmergencyError::Accounts));
        assert_eq!(account_count(6), Err(EmergencyError::Accounts));
        assert_eq!(account_count(2), Ok(2));
    }
}
