//! People: the kinds of principal, clinic roles, and login IDs (AUTH-8).

use std::fmt;
use std::str::FromStr;

use crate::password::normalize;

/// What kind of principal an account is; each logs in on its own listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountKind {
    /// A clinic member (admin, doctor, staff), on the clinic listener.
    Member,
    /// A patient, on the patient listener.
    Patient,
    /// An operator of the service company, on the operator listener.
    Operator,
}

impl AccountKind {
    /// Stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Patient => "patient",
            Self::Operator => "operator",
        }
    }
}

/// A clinic member's role (§3-②(e)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Manages the clinic's members, certificates and settings.
    Admin,
    /// Sees patients, writes and finalises records.
    Doctor,
    /// Reception and proxy entry.
    Staff,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Doctor, Role::Staff];

    /// Stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Doctor => "doctor",
            Self::Staff => "staff",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of admin, doctor, staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role \"{0}\" (use admin, doctor or staff)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Why a login ID is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginIdError {
    /// Shorter than 4 or longer than 64 characters.
    #[error("a login ID has 4 to 64 characters")]
    Length,
    /// A character outside a-z, 0-9 and . _ - @.
    #[error("a login ID may contain only letters a-z, digits and . _ - @")]
    Character,
}

/// A login ID in its canonical form: NFKC, lower case, so that "Ｔａｎａｋａ" and "tanaka" are
/// one ID and can never be registered twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginId(String);

impl LoginId {
    /// Checks and canonicalises a login ID as typed.
    pub fn parse(typed: &str) -> Result<Self, LoginIdError> {
        let id = normalize(typed.trim()).to_lowercase();
        if !(4..=64).contains(&id.chars().count()) {
            return Err(LoginIdError::Length);
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_@".contains(&b))
        {
            return Err(LoginIdError::Character);
        }
        Ok(Self(id))
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LoginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a display name (of a clinic or a member) is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty, or longer than the limit.
    #[error("a name has 1 to {0} characters")]
    Length(usize),
    /// A control character such as a line break.
    #[error("a name must not contain control characters")]
    Control,
}

/// Checks a display name: trimmed, NFKC, 1 to `max_chars` characters, no control characters.
pub fn display_name(typed: &str, max_chars: usize) -> Result<String, NameError> {
    let name = normalize(typed.trim()).to_string();
    if name.is_empty() || name.chars().count() > max_chars {
        return Err(NameError::Length(max_chars));
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::Control);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_ids_are_canonical() {
        assert_eq!(
            LoginId::parse(" Tanaka.Doc ").unwrap().as_str(),
            "tanaka.doc"
        );
        assert_eq!(LoginId::parse("ｔａｎａｋａ").unwrap().as_str(), "tanaka");
        assert_eq!(LoginId::parse("abc"), Err(LoginIdError::Length));
        assert_eq!(LoginId::parse(&"a".repeat(65)), Err(LoginIdError::Length));
        for bad in ["tan aka", "田中太郎さん", "a/b/c/d", "x'; --", "abc\u{0}d"] {
            assert_eq!(LoginId::parse(bad), Err(LoginIdError::Character), "{bad:?}");
        }
    }

    #[test]
    fn roles_round_trip_and_unknown_ones_are_named() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert_eq!(
            "root".parse::<Role>().unwrap_err().to_string(),
            "unknown role \"root\" (use admin, doctor or staff)"
        );
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            display_name("  遠診クリニック ", 100).unwrap(),
            "遠診クリニック"
        );
        assert_eq!(display_name("   ", 100), Err(NameError::Length(100)));
        assert_eq!(
            display_name(&"あ".repeat(101), 100),
            Err(NameError::Length(100))
        );
        assert_eq!(display_name("a\nb", 100), Err(NameError::Control));
    }
}
