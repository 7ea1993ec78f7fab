//! Invitation codes (FUNC-1 (a)): a clinic prints a per-patient code the patient types or scans
//! to link their account to the clinic. Twelve characters of an alphabet without look-alikes,
//! shown in groups of four (about 60 bits), single use, valid 14 days.

use ring::rand::{SecureRandom, SystemRandom};

/// How long an invitation is valid.
pub const TTL_MS: i64 = 14 * 24 * 3_600_000;
/// Letters and digits that are not mistaken for one another (no 0/O, 1/I/L, 5/S, 2/Z, 8/B).
const ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";
const LEN: usize = 12;

/// Length of a clinic's public code (FUNC-1 (b)): public, so short.
pub const CLINIC_CODE_LEN: usize = 8;

/// A fresh invitation code, canonical (no separators).
pub fn new_code() -> Result<String, ring::error::Unspecified> {
    random(LEN)
}

/// A fresh public clinic code, canonical.
pub fn new_clinic_code() -> Result<String, ring::error::Unspecified> {
    random(CLINIC_CODE_LEN)
}

fn random(len: usize) -> Result<String, ring::error::Unspecified> {
    let rng = SystemRandom::new();
    let mut code = String::with_capacity(len);
    while code.len() < len {
        let mut byte = [0u8; 1];
        rng.fill(&mut byte)?;
        if usize::from(byte[0]) < 256 - 256 % ALPHABET.len() {
            code.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    Ok(code)
}

/// A code for people: `ABCD-EFGH-JKMN`.
pub fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The canonical form of a typed invitation code (case, spaces, dashes and full-width forms
/// ignored), or `None` if it cannot be one.
pub fn canonical(typed: &str) -> Option<String> {
    canonical_of_len(typed, LEN)
}

/// The canonical form of a typed public clinic code, or `None`.
pub fn canonical_clinic_code(typed: &str) -> Option<String> {
    canonical_of_len(typed, CLINIC_CODE_LEN)
}

fn canonical_of_len(typed: &str, len: usize) -> Option<String> {
    let code: String = typed
        .chars()
        .map(|c| match c {
            // Full-width ASCII, as a Japanese input method may type it.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !matches!(c, '-' | ' ' | '\u{3000}' | 'ー'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == len && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_twelve_unambiguous_characters_and_read_back_however_typed() {
        let code = new_code().unwrap();
        assert_eq!(code.len(), 12);
        assert_ne!(code, new_code().unwrap());
        let shown = grouped(&code);
        assert_eq!(shown.len(), 14);
        assert_eq!(canonical(&shown).as_deref(), Some(code.as_str()));
        assert_eq!(
            canonical(&shown.to_lowercase()).as_deref(),
            Some(code.as_str())
        );
        let wide: String = shown
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
            .collect();
        assert_eq!(canonical(&wide).as_deref(), Some(code.as_str()));
        assert_eq!(canonical("ACDE-FGHJ-KMN"), None, "too short");
        assert_eq!(
            canonical("ACDE-FGHJ-KMNO"),
            None,
            "O is not in the alphabet"
        );
        assert_eq!(canonical("<script>"), None);
        let clinic = new_clinic_code().unwrap();
        assert_eq!(
            canonical_clinic_code(&grouped(&clinic)).as_deref(),
            Some(clinic.as_str())
        );
        assert_eq!(canonical_clinic_code(&code), None);
    }
}
