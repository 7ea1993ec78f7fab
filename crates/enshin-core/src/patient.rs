//! A patient's own profile at registration: names in kanji and kana, birth date, contact.
//! Every field here is A-class (DATA-1): stored sealed, never logged, never mailed.

use crate::password::normalize;

/// A field that failed validation, named as in the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    /// The JSON field.
    pub field: &'static str,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a field; pages translate it by [`Problem::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Empty or longer than [`NAME_MAX`].
    #[error("must have 1 to 50 characters")]
    Length,
    /// Contains control characters.
    #[error("must not contain control characters")]
    ControlCharacter,
    /// Not kana.
    #[error("must be written in kana (ひらがな or カタカナ)")]
    NotKana,
    /// Not written YYYY-MM-DD.
    #[error("must be a date written YYYY-MM-DD")]
    DateFormat,
    /// Not a day of the calendar (e.g. 02-30).
    #[error("is not a date in the calendar")]
    NoSuchDate,
    /// Before 1900 or in the future.
    #[error("must lie between 1900-01-01 and today")]
    DateRange,
    /// Not an e-mail address.
    #[error("is not an e-mail address")]
    Email,
    /// Not a phone number.
    #[error("is not a phone number (10 to 15 digits, e.g. 090-1234-5678)")]
    Phone,
    /// Neither an e-mail address nor a phone number was given.
    #[error("give an e-mail address or a phone number (needed to reset the password)")]
    NoContact,
    /// Not one of the sexes of the registry.
    #[error("must be male, female, other or unknown (男, 女, その他, 不明)")]
    Sex,
    /// Not a clinic card number.
    #[error("must have 1 to 20 letters, digits or hyphens")]
    CardNumber,
    /// Neither an e-mail address nor a phone number.
    #[error("must be a phone number or an e-mail address")]
    Contact,
}

impl Problem {
    /// A stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Length => "length",
            Self::ControlCharacter => "control_character",
            Self::NotKana => "not_kana",
            Self::DateFormat => "date_format",
            Self::NoSuchDate => "no_such_date",
            Self::DateRange => "date_range",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::NoContact => "no_contact",
            Self::Sex => "sex",
            Self::CardNumber => "card_number",
            Self::Contact => "contact",
        }
    }
}

fn err(field: &'static str, problem: Problem) -> FieldError {
    FieldError { field, problem }
}

/// Longest name part, in characters.
pub const NAME_MAX: usize = 50;

/// A name part: NFKC, trimmed, 1..=50 characters, no control characters.
pub fn name(field: &'static str, typed: &str) -> Result<String, FieldError> {
    let value = normalize(typed.trim()).to_string();
    if value.is_empty() || value.chars().count() > NAME_MAX {
        return Err(err(field, Problem::Length));
    }
    if value.chars().any(char::is_control) {
        return Err(err(field, Problem::ControlCharacter));
    }
    Ok(value)
}

/// A kana reading: hiragana or katakana (half-width input becomes full-width), long vowel mark,
/// middle dot and spaces; stored as katakana so that searches match either way of typing.
pub fn kana(field: &'static str, typed: &str) -> Result<String, FieldError> {
    let value = name(field, typed)?;
    let katakana: String = value
        .chars()
        .map(|c| match c {
            // Hiragana to katakana: the blocks are 0x60 apart.
            'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            other => other,
        })
        .collect();
    let ok = katakana
        .chars()
        .all(|c| matches!(c, 'ァ'..='ヺ' | 'ー' | '・' | ' ' | '\u{3000}'));
    if !ok {
        return Err(err(field, Problem::NotKana));
    }
    Ok(katakana)
}

/// A birth date `YYYY-MM-DD` between 1900-01-01 and `today` (both `YYYY-MM-DD`).
pub fn birth_date(typed: &str, today: &str) -> Result<String, FieldError> {
    const FIELD: &str = "birth_date";
    let parts: Vec<&str> = typed.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(err(FIELD, Problem::DateFormat));
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return Err(err(FIELD, Problem::DateFormat));
    }
    let (year, month, day): (u32, u32, u32) = (
        y.parse().unwrap_or(0),
        m.parse().unwrap_or(0),
        d.parse().unwrap_or(0),
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if day == 0 || day > days {
        return Err(err(FIELD, Problem::NoSuchDate));
    }
    let date = format!("{y}-{m}-{d}");
    // ISO dates compare correctly as text.
    if date.as_str() < "1900-01-01" || date.as_str() > today {
        return Err(err(FIELD, Problem::DateRange));
    }
    Ok(date)
}

/// An e-mail address: one `@`, a dot in the domain, no spaces, at most 254 characters.
pub fn email(typed: &str) -> Result<String, FieldError> {
    let value = typed.trim().to_owned();
    let valid = value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(value.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
    if valid {
        Ok(value)
    } else {
        Err(err("email", Problem::Email))
    }
}

/// A phone number for SMS: digits with an optional leading `+`, separators dropped, 10–15 digits.
pub fn phone(typed: &str) -> Result<String, FieldError> {
    let value: String = normalize(typed.trim())
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '(' | ')'))
        .collect();
    let digits = value.strip_prefix('+').unwrap_or(&value);
    if (10..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(err("phone", Problem::Phone))
    }
}

/// A registry sex (FHIR administrative gender codes), typed in English or Japanese; empty
/// stays empty (not recorded).
pub fn sex(typed: &str) -> Result<String, FieldError> {
    let value = normalize(typed.trim()).to_lowercase();
    let code = match value.as_str() {
        "" => "",
        "male" | "m" | "男" | "男性" => "male",
        "female" | "f" | "女" | "女性" => "female",
        "other" | "その他" => "other",
        "unknown" | "不明" => "unknown",
        _ => return Err(err("sex", Problem::Sex)),
    };
    Ok(code.to_owned())
}

/// A clinic card number (診察券番号): NFKC (full-width digits become ASCII), upper case, 1–20
/// ASCII letters, digits or hyphens; empty stays empty.
pub fn card_number(typed: &str) -> Result<String, FieldError> {
    let value = normalize(typed.trim()).to_uppercase();
    if value.is_empty() {
        return Ok(value);
    }
    if value.len() <= 20
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(value)
    } else {
        Err(err("card_number", Problem::CardNumber))
    }
}

/// A registry contact: a phone number or an e-mail address; empty stays empty.
pub fn contact(typed: &str) -> Result<String, FieldError> {
    let value = typed.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    phone(value)
        .or_else(|_| email(value))
        .map_err(|_| err("contact", Problem::Contact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sex_card_number_and_contact_are_normalised_or_refused() {
        assert_eq!(sex("女").unwrap(), "female");
        assert_eq!(sex(" Male ").unwrap(), "male");
        assert_eq!(sex("").unwrap(), "");
        assert_eq!(sex("x").unwrap_err().problem, Problem::Sex);
        assert_eq!(card_number("ａ０１２３").unwrap(), "A0123");
        assert_eq!(card_number("12-345").unwrap(), "12-345");
        assert!(card_number("12 345").is_err());
        assert!(card_number(&"1".repeat(21)).is_err());
        assert!(card_number("<b>").is_err());
        assert_eq!(contact("03-1234-5678").unwrap(), "0312345678");
        assert_eq!(contact("a@b.jp").unwrap(), "a@b.jp");
        assert_eq!(contact("call me").unwrap_err().problem, Problem::Contact);
    }

    #[test]
    fn kana_accepts_both_scripts_and_stores_katakana() {
        assert_eq!(kana("k", "やまだ").unwrap(), "ヤマダ");
        assert_eq!(kana("k", "ﾔﾏﾀﾞ").unwrap(), "ヤマダ", "half-width katakana");
        assert_eq!(kana("k", "サトウ ジロー").unwrap(), "サトウ ジロー");
        assert_eq!(kana("k", "山田").unwrap_err().field, "k");
        assert!(kana("k", "yamada").is_err());
    }

    #[test]
    fn birth_dates_are_real_and_in_range() {
        let today = "2026-11-27";
        assert_eq!(birth_date("1950-02-28", today).unwrap(), "1950-02-28");
        assert_eq!(birth_date("2024-02-29", today).unwrap(), "2024-02-29");
        for bad in [
            "2023-02-29",
            "1900-13-01",
            "1950-04-31",
            "1950-1-1",
            "19500101",
            "1899-12-31",
            "2026-11-28",
            "abcd-ef-gh",
            "",
        ] {
            assert!(birth_date(bad, today).is_err(), "{bad}");
        }
    }

    #[test]
    fn contacts() {
        assert_eq!(email(" taro@example.jp ").unwrap(), "taro@example.jp");
        for bad in [
            "taro",
            "taro@",
            "@example.jp",
            "a@b",
            "a b@example.jp",
            "a@@example.jp",
            "a@example.jp.",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert_eq!(phone("090-1234-5678").unwrap(), "09012345678");
        assert_eq!(phone("＋８１ 90 1234 5678").unwrap(), "+819012345678");
        assert!(phone("12345").is_err());
        assert!(phone("090-1234-567a").is_err());
    }

    #[test]
    fn names_are_bounded() {
        assert_eq!(name("family_name", " 山田 ").unwrap(), "山田");
        assert!(name("family_name", "").is_err());
        assert!(name("family_name", &"あ".repeat(51)).is_err());
    }
}
