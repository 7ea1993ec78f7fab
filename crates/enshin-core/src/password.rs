//! Passwords: the policy of AUTH-3 and Argon2id hashing of AUTH-5.
//!
//! A password is NFKC-normalised before it is checked or hashed, so that the full-width
//! "Ｐａｓｓ１！" typed on a Japanese keyboard and the half-width "Pass1!" are the same password.
//! It is never truncated.

use std::collections::HashSet;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use ring::rand::{SecureRandom, SystemRandom};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// Shortest accepted password, in characters after normalisation.
pub const MIN_CHARS: usize = 8;
/// Longest accepted password, in characters after normalisation (AUTH-3 asks for at least 128).
pub const MAX_CHARS: usize = 128;
/// Login IDs shorter than this are not looked for inside passwords (too many false matches).
const MIN_ID_CHARS_TO_CHECK: usize = 3;

/// The rule a rejected password broke; `code()` is what the API returns as `"rule"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("the password must have at least 8 characters")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("the password must have at most 128 characters")]
    TooLong,
    /// No letter.
    #[error("the password must contain a letter")]
    NoLetter,
    /// No digit.
    #[error("the password must contain a digit")]
    NoDigit,
    /// No symbol (anything that is neither a letter nor a digit, a space included).
    #[error("the password must contain a symbol such as ! # % or a space")]
    NoSymbol,
    /// A control character (e.g. a tab or a line break).
    #[error("the password must not contain control characters")]
    ControlCharacter,
    /// On the list of common and breached passwords.
    #[error("the password is on a list of common or breached passwords")]
    Common,
    /// Contains the login ID.
    #[error("the password must not contain the login ID")]
    ContainsLoginId,
}

impl PasswordRule {
    /// Stable snake_case name of the rule.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::NoLetter => "no_letter",
            Self::NoDigit => "no_digit",
            Self::NoSymbol => "no_symbol",
            Self::ControlCharacter => "control_character",
            Self::Common => "common",
            Self::ContainsLoginId => "contains_login_id",
        }
    }
}

/// The NFKC form of a password: what is checked, and what is hashed.
pub fn normalize(password: &str) -> Zeroizing<String> {
    Zeroizing::new(password.nfkc().collect())
}

/// The bundled list of common and breached passwords, NFKC-normalised and lower-cased.
pub struct CommonPasswords(HashSet<String>);

/// The list shipped in `data/common-passwords.txt` (about 49,000 entries).
pub const BUNDLED_LIST: &str = include_str!("../data/common-passwords.txt");

impl CommonPasswords {
    /// Parses a list: one password per line, `#` starts a comment line.
    pub fn parse(text: &str) -> Self {
        Self(
            text.lines()
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(|line| normalize(line).to_lowercase())
                .collect(),
        )
    }

    /// The bundled list.
    pub fn bundled() -> Self {
        Self::parse(BUNDLED_LIST)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty list.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn contains(&self, normalized: &str) -> bool {
        self.0.contains(&normalized.to_lowercase())
    }
}

/// Checks a password against AUTH-3; the first broken rule is returned, in the order a person
/// fixes them (length, then character classes, then list and login ID).
pub fn check(password: &str, login_id: &str, common: &CommonPasswords) -> Result<(), PasswordRule> {
    let password = normalize(password);
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordRule::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordRule::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordRule::ControlCharacter);
    }
    if !password.chars().any(char::is_alphabetic) {
        return Err(PasswordRule::NoLetter);
    }
    if !password.chars().any(|c| c.is_numeric()) {
        return Err(PasswordRule::NoDigit);
    }
    if !password.chars().any(|c| !c.is_alphanumeric()) {
        return Err(PasswordRule::NoSymbol);
    }
    if common.contains(&password) {
        return Err(PasswordRule::Common);
    }
    let id = normalize(login_id).to_lowercase();
    if id.chars().count() >= MIN_ID_CHARS_TO_CHECK && password.to_lowercase().contains(&id) {
        return Err(PasswordRule::ContainsLoginId);
    }
    Ok(())
}

/// Why hashing or verification could not run (not: the password was wrong).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The stored hash is not a PHC string of a known algorithm.
    #[error("stored password hash is malformed")]
    Malformed,
    /// Argon2 failed (parameters or memory).
    #[error("password hashing failed")]
    Hashing,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Parallelism.
    pub p: u32,
}

impl HashParams {
    /// OWASP's minimum recommendation for Argon2id (AUTH-5).
    pub const OWASP: Self = Self {
        m_kib: 19_456,
        t: 2,
        p: 1,
    };

    fn argon2(self) -> Result<Argon2<'static>, HashError> {
        let params =
            Params::new(self.m_kib, self.t, self.p, None).map_err(|_| HashError::Hashing)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// What verifying a password against a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password.
    No,
    /// Right password, and the hash has the current parameters.
    Yes,
    /// Right password, but the hash has other parameters: store a new hash (AUTH-5).
    YesRehash,
}

/// Hashes a password (normalised, never truncated) with a fresh 16-byte salt; returns a PHC string.
/// CPU-heavy: call it off the async threads.
pub fn hash(password: &str, params: HashParams) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| HashError::Rng)?;
    let hash = params
        .argon2()?
        .hash_password_with_salt(normalize(password).as_bytes(), &salt)
        .map_err(|_| HashError::Hashing)?;
    Ok(hash.to_string())
}

/// Verifies a password against a stored PHC hash in constant time, and says whether the hash
/// should be renewed because its parameters differ from `current`.
pub fn verify(password: &str, stored: &str, current: HashParams) -> Result<Verified, HashError> {
    let parsed = PasswordHash::new(stored).map_err(|_| HashError::Malformed)?;
    let stored_params = Params::try_from(&parsed).map_err(|_| HashError::Malformed)?;
    let is_argon2id = parsed.algorithm.as_str() == "argon2id";
    let argon2 = HashParams {
        m_kib: stored_params.m_cost(),
        t: stored_params.t_cost(),
        p: stored_params.p_cost(),
    };
    let ok = argon2
        .argon2()?
        .verify_password(normalize(password).as_bytes(), &parsed)
        .is_ok();
    Ok(match ok {
        false => Verified::No,
        true if is_argon2id && argon2 == current => Verified::Yes,
        true => Verified::YesRehash,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;

    static LIST: LazyLock<CommonPasswords> = LazyLock::new(CommonPasswords::bundled);
    // Cheap parameters keep the tests fast; OWASP's are checked separately.
    const FAST: HashParams = HashParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    fn rule(password: &str) -> Result<(), PasswordRule> {
        check(password, "yamada01", &LIST)
    }

    #[test]
    fn the_bundled_list_is_large_and_real() {
        assert!(LIST.len() >= 10_000, "{}", LIST.len());
        assert!(LIST.contains("password") && LIST.contains("123456") && LIST.contains("iloveyou"));
    }

    #[test]
    fn every_rule_is_named() {
        assert_eq!(rule("a1!"), Err(PasswordRule::TooShort));
        assert_eq!(
            rule(&format!("a1!{}", "x".repeat(126))),
            Err(PasswordRule::TooLong)
        );
        assert_eq!(rule("12345678!"), Err(PasswordRule::NoLetter));
        assert_eq!(rule("abcdefgh!"), Err(PasswordRule::NoDigit));
        assert_eq!(rule("abcdefg1"), Err(PasswordRule::NoSymbol));
        assert_eq!(rule("abc\tdef1!"), Err(PasswordRule::ControlCharacter));
        assert_eq!(rule("x-Yamada01-x"), Err(PasswordRule::ContainsLoginId));
        assert_eq!(rule("Blue-Kettle-42"), Ok(()));
        assert_eq!(PasswordRule::ContainsLoginId.code(), "contains_login_id");
    }

    #[test]
    fn common_passwords_are_refused_whatever_the_case_or_width() {
        // On the list in lower case and long enough to pass every other rule.
        let common = LIST.0.iter().find(|p| {
            p.chars().count() >= 8
                && p.chars().any(char::is_alphabetic)
                && p.chars().any(|c| c.is_ascii_digit())
                && p.chars().any(|c| !c.is_alphanumeric())
        });
        let common = common.expect("the list has such an entry");
        assert_eq!(rule(common), Err(PasswordRule::Common));
        assert_eq!(rule(&common.to_uppercase()), Err(PasswordRule::Common));
    }

    #[test]
    fn exactly_128_characters_are_accepted_and_all_of_them_count() {
        let long = format!("a1!{}", "b".repeat(125));
        assert_eq!(long.chars().count(), 128);
        assert_eq!(rule(&long), Ok(()));
        let hashed = hash(&long, FAST).unwrap();
        let mut changed_last = long.clone();
        changed_last.pop();
        changed_last.push('c');
        assert_eq!(verify(&long, &hashed, FAST).unwrap(), Verified::Yes);
        assert_eq!(
            verify(&changed_last, &hashed, FAST).unwrap(),
            Verified::No,
            "no truncation"
        );
    }

    #[test]
    fn full_width_input_is_the_same_password() {
        // Full-width letters, digits and "!" normalise to ASCII under NFKC.
        let full = "Ｂｌｕｅ－Ｋｅｔｔｌｅ－４２！";
        assert_eq!(normalize(full).as_str(), "Blue-Kettle-42!");
        let hashed = hash("Blue-Kettle-42!", FAST).unwrap();
        assert_eq!(verify(full, &hashed, FAST).unwrap(), Verified::Yes);
        assert_eq!(
            check("ｙａｍａｄａ０１-a1!", "yamada01", &LIST),
            Err(PasswordRule::ContainsLoginId)
        );
        assert_eq!(
            check("日本語のパスワード1!", "yamada01", &LIST),
            Ok(()),
            "kana and kanji count as letters"
        );
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_unique_salts() {
        let a = hash("Blue-Kettle-42", HashParams::OWASP).unwrap();
        let b = hash("Blue-Kettle-42", HashParams::OWASP).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "per-hash salt");
        assert_eq!(
            verify("Blue-Kettle-42", &a, HashParams::OWASP).unwrap(),
            Verified::Yes
        );
        assert_eq!(
            verify("blue-kettle-42", &a, HashParams::OWASP).unwrap(),
            Verified::No
        );
    }

    #[test]
    fn old_parameters_ask_for_a_rehash() {
        let old = hash("Blue-Kettle-42", FAST).unwrap();
        assert_eq!(
            verify("Blue-Kettle-42", &old, HashParams::OWASP).unwrap(),
            Verified::YesRehash
        );
        assert_eq!(
            verify("wrong-Kettle-42", &old, HashParams::OWASP).unwrap(),
            Verified::No
        );
    }

    #[test]
    fn malformed_hashes_are_errors_not_matches() {
        for junk in ["", "plain", "$argon2id$v=19$m=x", "$md5$abc"] {
            assert!(
                matches!(verify("x", junk, FAST), Err(HashError::Malformed)),
                "{junk:?}"
            );
        }
    }
}
