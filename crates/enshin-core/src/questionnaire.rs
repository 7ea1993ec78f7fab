//! Questionnaires (問診, FUNC-3): what a clinic may ask and what a patient may answer. A
//! definition is checked whole (titles, questions, choices, number ranges); answers are checked
//! against the exact version they answer, leniently for a draft (anything may be missing) and
//! strictly at submission (every required question answered). Photos are recognised by their
//! bytes, not by what the sender says they are.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::password::normalize;

/// Most questions in one questionnaire.
pub const QUESTIONS_MAX: usize = 50;
/// Longest title, in characters.
pub const TITLE_MAX: usize = 100;
/// Longest question, in characters.
pub const QUESTION_MAX: usize = 300;
/// Most choices of a choice question.
pub const CHOICES_MAX: usize = 20;
/// Longest choice, in characters.
pub const CHOICE_MAX: usize = 100;
/// Longest free-text answer, in characters.
pub const TEXT_MAX: usize = 400;
/// Largest photo, in bytes.
pub const PHOTO_BYTES_MAX: usize = 5 * 1024 * 1024;
/// Most photos in one response.
pub const PHOTOS_MAX: usize = 10;
/// Digits after the point a number answer may have.
const NUMBER_DECIMALS: u32 = 2;

/// What kind of answer a question takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionType {
    /// Yes or no.
    YesNo,
    /// One of the choices.
    Single {
        /// The choices.
        choices: Vec<String>,
    },
    /// Any of the choices.
    Multiple {
        /// The choices.
        choices: Vec<String>,
    },
    /// A number in a range, with a unit.
    Number {
        /// The unit shown after the field.
        #[serde(default)]
        unit: String,
        /// Lowest allowed, as written.
        min: String,
        /// Highest allowed, as written.
        max: String,
    },
    /// A calendar date.
    Date,
    /// Free text.
    Text,
    /// A photo (JPEG or PNG).
    Photo,
}

/// One question. (Unknown fields cannot be refused here: serde does not combine that with the
/// flattened type.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable id within the questionnaire (`q1`, …), given by the server when absent.
    #[serde(default)]
    pub id: String,
    /// The question as the patient reads it.
    pub text: String,
    /// Must it be answered to submit?
    #[serde(default)]
    pub required: bool,
    /// What it takes.
    #[serde(flatten)]
    pub kind: QuestionType,
}

/// A questionnaire's content (one version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The title staff see in lists.
    pub staff_title: String,
    /// The title patients see.
    pub patient_title: String,
    /// The questions, in order.
    pub questions: Vec<Question>,
}

/// Why a definition is refused; `at` is the question's position (from 1) when one is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// A title is empty or too long.
    #[error("titles: 1 to {TITLE_MAX} characters each")]
    Title,
    /// No questions, or too many.
    #[error("questions: 1 to {QUESTIONS_MAX}")]
    Count,
    /// A question's text is empty or too long.
    #[error("question {0}: the text needs 1 to {QUESTION_MAX} characters")]
    Text(usize),
    /// An id is malformed or used twice.
    #[error("question {0}: ids are 1 to 20 of a-z, 0-9 and _, each used once")]
    Id(usize),
    /// Choices: too few, too many, empty, too long or repeated.
    #[error("question {0}: 2 to {CHOICES_MAX} different choices of 1 to {CHOICE_MAX} characters")]
    Choices(usize),
    /// A number range that is not a range.
    #[error("question {0}: min and max are numbers with at most 2 decimals, min below max")]
    Range(usize),
    /// A unit too long.
    #[error("question {0}: the unit has at most 20 characters")]
    Unit(usize),
}

fn clean(text: &str) -> String {
    normalize(text.trim()).to_string()
}

fn fits(text: &str, max: usize) -> bool {
    let n = text.chars().count();
    n >= 1 && n <= max && !text.chars().any(char::is_control)
}

/// Reads a decimal with at most two places as hundredths (`62.5` → 6250).
fn hundredths(typed: &str) -> Option<i64> {
    let t = clean(typed).replace(',', ".");
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, t),
    };
    let (whole, fraction) = t.split_once('.').unwrap_or((&t, ""));
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) || t.ends_with('.') {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > NUMBER_DECIMALS as usize {
        return None;
    }
    let scale = 10i64.pow(NUMBER_DECIMALS);
    let f: i64 = format!("{fraction:0<2}").parse().ok()?;
    let v = whole.parse::<i64>().ok()? * scale + f;
    Some(if neg { -v } else { v })
}

/// Checks and normalises a definition; gives ids to questions without one.
pub fn definition(mut d: Definition) -> Result<Definition, DefinitionError> {
    d.staff_title = clean(&d.staff_title);
    d.patient_title = clean(&d.patient_title);
    if !fits(&d.staff_title, TITLE_MAX) || !fits(&d.patient_title, TITLE_MAX) {
        return Err(DefinitionError::Title);
    }
    if d.questions.is_empty() || d.questions.len() > QUESTIONS_MAX {
        return Err(DefinitionError::Count);
    }
    let mut ids = HashSet::new();
    let taken: HashSet<String> = d.questions.iter().map(|q| q.id.clone()).collect();
    let mut next = 1;
    for (i, q) in d.questions.iter_mut().enumerate() {
        let at = i + 1;
        q.text = clean(&q.text);
        if !fits(&q.text, QUESTION_MAX) {
            return Err(DefinitionError::Text(at));
        }
        if q.id.is_empty() {
            while taken.contains(&format!("q{next}")) {
                next += 1;
            }
            q.id = format!("q{next}");
            next += 1;
        }
        let id_ok = q.id.len() <= 20
            && q.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !id_ok || !ids.insert(q.id.clone()) {
            return Err(DefinitionError::Id(at));
        }
        match &mut q.kind {
            QuestionType::Single { choices } | QuestionType::Multiple { choices } => {
                for c in choices.iter_mut() {
                    *c = clean(c);
                }
                let distinct: HashSet<&String> = choices.iter().collect();
                if !(2..=CHOICES_MAX).contains(&choices.len())
                    || distinct.len() != choices.len()
                    || !choices.iter().all(|c| fits(c, CHOICE_MAX))
                {
                    return Err(DefinitionError::Choices(at));
                }
            }
            QuestionType::Number { unit, min, max } => {
                *unit = clean(unit);
                if unit.chars().count() > 20 || unit.chars().any(char::is_control) {
                    return Err(DefinitionError::Unit(at));
                }
                match (hundredths(min), hundredths(max)) {
                    (Some(lo), Some(hi)) if lo < hi => {
                        *min = format_hundredths(lo);
                        *max = format_hundredths(hi);
                    }
                    _ => return Err(DefinitionError::Range(at)),
                }
            }
            QuestionType::YesNo | QuestionType::Date | QuestionType::Text | QuestionType::Photo => {
            }
        }
    }
    Ok(d)
}

/// Hundredths as written, without trailing zeros (`6250` → `62.5`).
fn format_hundredths(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let (whole, frac) = (a / 100, a % 100);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let f = format!("{frac:02}");
        format!("{sign}{whole}.{}", f.trim_end_matches('0'))
    }
}

/// What is wrong with an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerProblem {
    /// No such question in this version.
    #[error("not a question of this questionnaire")]
    Unknown,
    /// A required question left unanswered at submission.
    #[error("an answer is required")]
    Required,
    /// The wrong shape for the question (e.g. text for yes/no).
    #[error("not an answer of this kind")]
    Shape,
    /// Not one of the choices.
    #[error("not one of the choices")]
    Choice,
    /// Not a number, or outside the range.
    #[error("a number from {min} to {max} with at most 2 decimals")]
    Number {
        /// Lowest.
        min: String,
        /// Highest.
        max: String,
    },
    /// Not a date, or in the future.
    #[error("a date written YYYY-MM-DD, not in the future")]
    Date,
    /// Text too long or with control characters.
    #[error("at most {TEXT_MAX} characters")]
    Text,
}

/// An answer refused, naming its question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{question}: {problem}")]
pub struct AnswerError {
    /// The question's id.
    pub question: String,
    /// What is wrong.
    pub problem: AnswerProblem,
}

/// Checked answers by question id, ready to seal (unanswered questions are absent).
pub type Answers = BTreeMap<String, Value>;

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Checks answers against a version: every answer must fit its question; at submission every
/// required question must be answered. `today` (YYYY-MM-DD) bounds dates; `photo_ok` says
/// whether a photo id belongs to this response.
pub fn answers(
    def: &Definition,
    given: &BTreeMap<String, Value>,
    submit: bool,
    today: &str,
    photo_ok: &dyn Fn(&str) -> bool,
) -> Result<Answers, AnswerError> {
    let err = |question: &str, problem| AnswerError {
        question: question.to_owned(),
        problem,
    };
    if let Some(unknown) = given
        .keys()
        .find(|k| !def.questions.iter().any(|q| &q.id == *k))
    {
        return Err(err(unknown, AnswerProblem::Unknown));
    }
    let mut out = Answers::new();
    for q in &def.questions {
        let Some(v) = given.get(&q.id).filter(|v| !is_blank(v)) else {
            if submit && q.required {
                return Err(err(&q.id, AnswerProblem::Required));
            }
            continue;
        };
        let checked = match (&q.kind, v) {
            (QuestionType::YesNo, Value::Bool(b)) => Value::Bool(*b),
            (QuestionType::Single { choices }, Value::String(s)) => {
                let s = clean(s);
                if !choices.contains(&s) {
                    return Err(err(&q.id, AnswerProblem::Choice));
                }
                Value::String(s)
            }
            (QuestionType::Multiple { choices }, Value::Array(items)) => {
                let mut picked = Vec::new();
                for item in items {
                    let Value::String(s) = item else {
                        return Err(err(&q.id, AnswerProblem::Shape));
                    };
                    let s = clean(s);
                    if !choices.contains(&s) {
                        return Err(err(&q.id, AnswerProblem::Choice));
                    }
                    if !picked.contains(&s) {
                        picked.push(s);
                    }
                }
                // Kept in the order of the choices, whatever order they came in.
                picked.sort_by_key(|s| choices.iter().position(|c| c == s));
                Value::Array(picked.into_iter().map(Value::String).collect())
            }
            (QuestionType::Number { min, max, .. }, Value::String(_) | Value::Number(_)) => {
                let typed = match v {
                    Value::Number(n) => n.to_string(),
                    other => other.as_str().unwrap_or_default().to_owned(),
                };
                let range = || AnswerProblem::Number {
                    min: min.clone(),
                    max: max.clone(),
                };
                let value = hundredths(&typed).ok_or_else(|| err(&q.id, range()))?;
                let (lo, hi) = (hundredths(min).unwrap_or(0), hundredths(max).unwrap_or(0));
                if value < lo || value > hi {
                    return Err(err(&q.id, range()));
                }
                Value::String(format_hundredths(value))
            }
            (QuestionType::Date, Value::String(s)) => {
                let s = clean(s);
                let ok =
                    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok() && s.as_str() <= today;
                if !ok {
                    return Err(err(&q.id, AnswerProblem::Date));
                }
                Value::String(s)
            }
            (QuestionType::Text, Value::String(s)) => {
                let s = s.trim().replace("\r\n", "\n");
                if s.chars().count() > TEXT_MAX || s.chars().any(|c| c.is_control() && c != '\n') {
                    return Err(err(&q.id, AnswerProblem::Text));
                }
                Value::String(s)
            }
            (QuestionType::Photo, Value::String(s)) if photo_ok(s) => Value::String(s.clone()),
            _ => return Err(err(&q.id, AnswerProblem::Shape)),
        };
        out.insert(q.id.clone(), checked);
    }
    Ok(out)
}

/// The image type of a photo by its bytes: JPEG (SOI … EOI) or PNG (signature, IHDR first,
/// IEND last); anything else, or a file cut short, is refused.
pub fn photo_type(bytes: &[u8]) -> Option<&'static str> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() > PHOTO_BYTES_MAX {
        return None;
    }
    if bytes.len() > 4 && bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.ends_with(&[0xFF, 0xD9]) {
        return Some("image/jpeg");
    }
    let png = bytes.len() >= 8 + 25 + 12
        && bytes.starts_with(PNG)
        && &bytes[12..16] == b"IHDR"
        && &bytes[bytes.len() - 8..bytes.len() - 4] == b"IEND";
    png.then_some("image/png")
}

/// A photo without what it says about where and when it was taken: JPEG loses its EXIF (GPS
/// position, time, camera), XMP, IPTC and comments, keeping only the EXIF orientation so a phone
/// photo is not shown on its side; PNG loses its text, time and EXIF chunks. `None` when the
/// structure does not read (the photo is then refused).
pub fn strip_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    match photo_type(bytes)? {
        "image/jpeg" => strip_jpeg(bytes),
        _ => strip_png(bytes),
    }
}

fn strip_jpeg(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    loop {
        if bytes.get(at)? != &0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if marker == 0xD9 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            out.extend_from_slice(&[0xFF, marker]);
            at += 2;
            if marker == 0xD9 {
                return Some(out);
            }
            continue;
        }
        let len = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        let end = at.checked_add(2)?.checked_add(len)?;
        let segment = bytes.get(at..end)?;
        if len < 2 {
            return None;
        }
        match marker {
            // Start of scan: the image data runs to the end; copy it whole.
            0xDA => {
                out.extend_from_slice(&bytes[at..]);
                return Some(out);
            }
            0xE1 => {
                if let Some(o) = orientation(&segment[4..]) {
                    out.extend_from_slice(&orientation_exif(o));
                }
            }
            0xED | 0xFE => {}
            _ => out.extend_from_slice(segment),
        }
        at = end;
    }
}

/// The orientation (tag 0x0112) of an EXIF block (`Exif\0\0` + TIFF), if it has one.
fn orientation(exif: &[u8]) -> Option<u16> {
    let tiff = exif.strip_prefix(b"Exif\0\0")?;
    let big = match tiff.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |i: usize| -> Option<u16> {
        let b = [*tiff.get(i)?, *tiff.get(i + 1)?];
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |i: usize| -> Option<u32> {
        let b = [
            *tiff.get(i)?,
            *tiff.get(i + 1)?,
            *tiff.get(i + 2)?,
            *tiff.get(i + 3)?,
        ];
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count.min(256))
        .find_map(|n| {
            let entry = ifd + 2 + n * 12;
            (u16_at(entry)? == 0x0112).then(|| u16_at(entry + 8))?
        })
        .filter(|o| (1..=8).contains(o))
}

/// A minimal APP1 segment holding only an orientation.
fn orientation_exif(o: u16) -> Vec<u8> {
    let mut tiff = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    tiff.extend_from_slice(&o.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let len = u16::try_from(tiff.len() + 2).unwrap_or(u16::MAX);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&len.to_be_bytes());
    segment.extend_from_slice(&tiff);
    segment
}

fn strip_png(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = bytes.get(..8)?.to_vec();
    let mut at = 8;
    while at < bytes.len() {
        let len =
            usize::try_from(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?)).ok()?;
        let end = at.checked_add(12)?.checked_add(len)?;
        let chunk = bytes.get(at..end)?;
        let kind = &chunk[4..8];
        if !matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"tIME" | b"eXIf") {
            out.extend_from_slice(chunk);
        }
        at = end;
        if kind == b"IEND" {
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Definition {
        serde_json::from_value(json!({
            "staff_title": "初診問診(内科)",
            "patient_title": "はじめての方の問診票",
            "questions": [
                { "text": "今日はどうされましたか", "type": "text", "required": true },
                { "text": "熱はありますか", "type": "yes_no", "required": true },
                { "text": "症状", "type": "multiple", "choices": ["せき", "のどの痛み", "頭痛"] },
                { "text": "いつから", "type": "single", "choices": ["今日", "昨日", "それより前"] },
                { "text": "体重", "type": "number", "unit": "kg", "min": "1", "max": "300" },
                { "text": "最後に受診した日", "type": "date" },
                { "text": "患部の写真", "type": "photo" }
            ]
        }))
        .unwrap()
    }

    fn check(given: Value, submit: bool) -> Result<Answers, AnswerError> {
        let def = definition(sample()).unwrap();
        let given: BTreeMap<String, Value> = serde_json::from_value(given).unwrap();
        answers(&def, &given, submit, "2026-11-28", &|id| id == "photo-1")
    }

    #[test]
    fn a_definition_gets_ids_and_is_normalised() {
        let d = definition(sample()).unwrap();
        let ids: Vec<&str> = d.questions.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["questions"][1]["type"], "yes_no");
        assert_eq!(json["questions"][4]["min"], "1");
    }

    #[test]
    fn bad_definitions_name_the_question() {
        let mut d = sample();
        d.questions[2].kind = QuestionType::Multiple {
            choices: vec!["せき".into(), "せき".into()],
        };
        assert_eq!(definition(d), Err(DefinitionError::Choices(3)));
        let mut d = sample();
        d.questions[4].kind = QuestionType::Number {
            unit: "kg".into(),
            min: "300".into(),
            max: "1".into(),
        };
        assert_eq!(definition(d), Err(DefinitionError::Range(5)));
        let mut d = sample();
        d.questions[0].text = " ".into();
        assert_eq!(definition(d), Err(DefinitionError::Text(1)));
        let mut d = sample();
        d.questions[1].id = "Q!".into();
        assert_eq!(definition(d), Err(DefinitionError::Id(2)));
        let mut d = sample();
        d.staff_title = "x".repeat(101);
        assert_eq!(definition(d), Err(DefinitionError::Title));
        let mut d = sample();
        d.questions.clear();
        assert_eq!(definition(d), Err(DefinitionError::Count));
        let bad: Result<Definition, _> = serde_json::from_value(json!({
            "staff_title": "a", "patient_title": "b",
            "questions": [{ "text": "x", "type": "video" }]
        }));
        assert!(bad.is_err());
    }

    #[test]
    fn answers_fit_their_questions() {
        let ok = check(
            json!({ "q1": "のどが痛い", "q2": false, "q3": ["頭痛", "せき", "せき"], "q4": "昨日",
                    "q5": "６２．５", "q6": "2026-10-01", "q7": "photo-1" }),
            true,
        )
        .unwrap();
        assert_eq!(ok["q3"], json!(["せき", "頭痛"]));
        assert_eq!(ok["q5"], json!("62.5"));
        let cases = [
            (json!({ "q2": "yes" }), "q2", AnswerProblem::Shape),
            (json!({ "q4": "先週" }), "q4", AnswerProblem::Choice),
            (json!({ "q3": ["せき", 3] }), "q3", AnswerProblem::Shape),
            (
                json!({ "q5": "301" }),
                "q5",
                AnswerProblem::Number {
                    min: "1".into(),
                    max: "300".into(),
                },
            ),
            (
                json!({ "q5": "6.255" }),
                "q5",
                AnswerProblem::Number {
                    min: "1".into(),
                    max: "300".into(),
                },
            ),
            (json!({ "q6": "2026-11-29" }), "q6", AnswerProblem::Date),
            (json!({ "q6": "2026-02-30" }), "q6", AnswerProblem::Date),
            (json!({ "q1": "x".repeat(401) }), "q1", AnswerProblem::Text),
            (
                json!({ "q7": "someone-elses-photo" }),
                "q7",
                AnswerProblem::Shape,
            ),
            (json!({ "q99": "?" }), "q99", AnswerProblem::Unknown),
        ];
        for (given, question, problem) in cases {
            assert_eq!(
                check(given.clone(), false),
                Err(AnswerError {
                    question: question.into(),
                    problem
                }),
                "{given}"
            );
        }
    }

    #[test]
    fn a_draft_may_be_incomplete_a_submission_may_not() {
        assert!(check(json!({ "q1": "のど" }), false).is_ok());
        assert_eq!(
            check(json!({ "q1": "のど", "q3": [] }), true),
            Err(AnswerError {
                question: "q2".into(),
                problem: AnswerProblem::Required
            })
        );
        assert_eq!(
            check(json!({ "q1": " ", "q2": true }), true)
                .unwrap_err()
                .question,
            "q1"
        );
    }

    #[test]
    fn photos_are_recognised_by_their_bytes() {
        let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0u8; 100], &[0xFF, 0xD9]].concat();
        assert_eq!(photo_type(&jpeg), Some("image/jpeg"));
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0u8; 17]);
        png.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
        assert_eq!(photo_type(&png), Some("image/png"));
        assert_eq!(photo_type(&jpeg[..50]), None, "cut short");
        assert_eq!(photo_type(b"GIF89a...."), None);
        assert_eq!(photo_type(b"<svg onload=alert(1)>"), None);
        let mut polyglot = b"\x89PNG\r\n\x1a\n".to_vec();
        polyglot.extend_from_slice(b"<script>alert(1)</script>");
        assert_eq!(photo_type(&polyglot), None);
    }

    #[test]
    fn photos_lose_their_gps_and_keep_their_orientation() {
        // An EXIF block (little-endian) with orientation 6 and a GPS pointer, then a comment.
        let mut tiff = b"Exif\0\0II\x2a\0\x08\0\0\0\x02\0".to_vec();
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
        tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 0x26, 0, 0, 0]);
        tiff.extend_from_slice(b"\0\0\0\0GPS 35.68N 139.76E");
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&u16::try_from(tiff.len() + 2).unwrap().to_be_bytes());
        app1.extend_from_slice(&tiff);
        let comment = [&[0xFF, 0xFE, 0x00, 0x0A][..], b"home\0\0\0\0"].concat();
        let app0 = [&[0xFF, 0xE0, 0x00, 0x07][..], b"JFIF\0"].concat();
        let scan = [
            &[0xFF, 0xDA, 0x00, 0x04, 1, 2][..],
            &[9u8; 50],
            &[0xFF, 0xD9],
        ]
        .concat();
        let jpeg = [&[0xFF, 0xD8][..], &app0, &app1, &comment, &scan].concat();
        let clean = strip_metadata(&jpeg).unwrap();
        let text = String::from_utf8_lossy(&clean);
        assert!(!text.contains("GPS") && !text.contains("home"));
        assert!(text.contains("JFIF"));
        assert_eq!(photo_type(&clean), Some("image/jpeg"));
        let exif_at = clean.windows(4).position(|w| w == b"Exif").unwrap();
        assert_eq!(orientation(&clean[exif_at..]), Some(6));
        assert!(clean.ends_with(&scan));

        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let png = [
            &b"\x89PNG\r\n\x1a\n"[..],
            &chunk(b"IHDR", &[0; 13]),
            &chunk(b"tEXt", b"Location\0Tokyo, home"),
            &chunk(b"IDAT", &[1, 2, 3]),
            &chunk(b"IEND", &[]),
        ]
        .concat();
        let clean = strip_metadata(&png).unwrap();
        assert!(!String::from_utf8_lossy(&clean).contains("Tokyo"));
        assert_eq!(photo_type(&clean), Some("image/png"));
        assert_eq!(strip_metadata(&png[..png.len() - 3]), None);
    }
}
