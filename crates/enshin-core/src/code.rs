//! One-time codes sent to a patient (AUTH-6): a password reset, or the check that an e-mail
//! address or phone number is theirs. Six digits, ten minutes, five tries, used once.

use ring::rand::{SecureRandom, SystemRandom};

/// How long a code is valid.
pub const TTL_MS: i64 = 10 * 60_000;
/// Wrong tries after which a code is dead.
pub const ATTEMPTS: i64 = 5;
/// Codes an account may be sent per purpose within an hour (stops using enshin to flood a phone).
pub const PER_HOUR: i64 = 5;

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Setting a new password.
    Reset,
    /// Proving the e-mail address.
    VerifyEmail,
    /// Proving the phone number.
    VerifyPhone,
}

impl Purpose {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::VerifyEmail => "verify_email",
            Self::VerifyPhone => "verify_phone",
        }
    }
}

/// A fresh six-digit code, every value equally likely.
pub fn new_code() -> Result<String, ring::error::Unspecified> {
    let rng = SystemRandom::new();
    loop {
        let mut bytes = [0u8; 4];
        rng.fill(&mut bytes)?;
        let n = u32::from_be_bytes(bytes);
        // Rejection sampling: the top partial range would favour small codes.
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// Whether typed text is a code at all (six ASCII digits after trimming).
pub fn well_formed(typed: &str) -> bool {
    let t = typed.trim();
    t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit())
}

/// Compares a typed code with the stored one in constant time: both are MACed under a fresh
/// random key and ring's constant-time tag check decides.
pub fn matches(typed: &str, stored: &[u8]) -> bool {
    let Ok(key) = ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &SystemRandom::new()) else {
        return false;
    };
    let tag = ring::hmac::sign(&key, stored);
    ring::hmac::verify(&key, typed.trim().as_bytes(), tag.as_ref()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: Vec<String> = (0..50).map(|_| new_code().unwrap()).collect();
        assert!(codes.iter().all(|c| well_formed(c)));
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 40);
    }

    #[test]
    fn only_the_same_six_digits_match() {
        assert!(matches(" 012345 ", b"012345"));
        assert!(!matches("012346", b"012345"));
        assert!(!matches("12345", b"012345"));
        assert!(!well_formed("12a456"));
        assert!(!well_formed("1234567"));
    }
}
