//! Time-based one-time passwords for operators (AUTH-9): RFC 6238 with HMAC-SHA-1, 6 digits,
//! 30-second steps, one step of clock drift either way, and each step usable once.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;

/// A new random secret.
pub fn generate_secret() -> Result<Vec<u8>, ring::error::Unspecified> {
    let mut secret = vec![0u8; SECRET_BYTES];
    SystemRandom::new().fill(&mut secret)?;
    Ok(secret)
}

/// The HOTP value of `secret` at `counter` (RFC 4226 §5.3), `DIGITS` digits.
pub fn code_at(secret: &[u8], counter: u64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = (u32::from(mac[offset]) & 0x7f) << 24
        | u32::from(mac[offset + 1]) << 16
        | u32::from(mac[offset + 2]) << 8
        | u32::from(mac[offset + 3]);
    binary % 10u32.pow(DIGITS)
}

/// The step of a unix time.
pub fn step_of(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The step the typed code belongs to, among the current one and one either side, if it is
/// later than `last_used` (a code, once used, never works again). The caller must then record
/// the step atomically, so that two racing requests cannot both use it.
pub fn matching_step(
    secret: &[u8],
    typed: &str,
    unix_secs: u64,
    last_used: Option<u64>,
) -> Option<u64> {
    let typed = typed.trim();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    let mut found = None;
    // Every candidate is computed and compared, whether or not an earlier one matched.
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = format!("{:0width$}", code_at(secret, step), width = DIGITS as usize);
        let same = expected
            .bytes()
            .zip(typed.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if same && last_used.is_none_or(|last| step > last) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding, as authenticator apps read secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        encode(issuer),
        encode(account),
        base32(secret),
        encode(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        // RFC 6238 appendix B gives 8 digits; the last 6 are the 6-digit codes.
        for (time, eight) in [
            (59u64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(
                code_at(RFC_SECRET, step_of(time)),
                eight % 1_000_000,
                "T={time}"
            );
        }
    }

    #[test]
    fn a_code_matches_within_one_step_and_only_once() {
        let t = 1_234_567_890;
        let code = format!("{:06}", code_at(RFC_SECRET, step_of(t)));
        let step = matching_step(RFC_SECRET, &code, t, None).unwrap();
        assert_eq!(step, step_of(t));
        assert_eq!(
            matching_step(RFC_SECRET, &code, t + 30, None),
            Some(step),
            "a step late"
        );
        assert_eq!(
            matching_step(RFC_SECRET, &code, t - 30, None),
            Some(step),
            "a step early"
        );
        assert_eq!(
            matching_step(RFC_SECRET, &code, t + 90, None),
            None,
            "too late"
        );
        assert_eq!(
            matching_step(RFC_SECRET, &code, t, Some(step)),
            None,
            "used once"
        );
        assert_eq!(matching_step(RFC_SECRET, "12345", t, None), None);
        assert_eq!(matching_step(RFC_SECRET, "12345a", t, None), None);
    }

    #[test]
    fn base32_and_the_otpauth_uri() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        let uri = otpauth_uri("enshin", "ops one", RFC_SECRET);
        assert_eq!(
            uri,
            "otpauth://totp/enshin:ops%20one?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=enshin&algorithm=SHA1&digits=6&period=30"
        );
    }
}
