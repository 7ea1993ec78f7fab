//! The patient registry as CSV (FUNC-1): what an import must look like, every row checked with
//! the same rules as a registry form, and the export. Files are UTF-8 (a byte-order mark is
//! allowed, as Excel writes one); the header names the columns in English or in Japanese.

use crate::patient::{self, FieldError};

/// The columns, in order: English header and the fields' API names.
pub const COLUMNS: [&str; 8] = [
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "card_number",
    "contact",
];
/// The same columns with Japanese names (the export's header).
pub const COLUMNS_JA: [&str; 8] = [
    "姓",
    "名",
    "姓(カナ)",
    "名(カナ)",
    "生年月日",
    "性別",
    "診察券番号",
    "連絡先",
];
/// Most rows one import may have.
pub const ROWS_MAX: usize = 10_000;
/// The largest file taken.
pub const BYTES_MAX: usize = 4 * 1024 * 1024;

/// One row's eight checked values, in the order of [`COLUMNS`] (empty: not given).
pub type Values = [String; 8];

/// A good row and its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Line number.
    pub line: u64,
    /// The checked values.
    pub values: Values,
}

/// A row that is refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line number.
    pub line: u64,
    /// The column at fault, if one is.
    pub field: Option<&'static str>,
    /// A stable code.
    pub code: &'static str,
    /// What is wrong, for people (never the value itself: reports may be kept).
    pub message: String,
}

/// Why a file cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterError {
    /// Neither UTF-8 nor Shift_JIS.
    #[error("the file is neither UTF-8 nor Shift_JIS text; in Excel, save it as \"CSV UTF-8\"")]
    NotText,
    /// The first line is not the expected header.
    #[error("the first line must name the columns: {}", COLUMNS.join(","))]
    Header,
    /// No data rows.
    #[error("the file has no rows")]
    Empty,
    /// More than [`ROWS_MAX`] rows.
    #[error("at most 10,000 rows per file; split it")]
    TooManyRows,
}

/// The result of reading a file: its good rows and the refused ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// Good rows.
    pub rows: Vec<Row>,
    /// Refused rows.
    pub errors: Vec<RowError>,
}

fn field_error(line: u64, e: &FieldError) -> RowError {
    RowError {
        line,
        field: Some(e.field),
        code: e.problem.code(),
        message: e.to_string(),
    }
}

/// A cell as written back by [`export`]: a leading `'` that guarded a formula character is
/// dropped.
fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => cell,
    }
}

fn check(record: &csv::StringRecord, today: &str) -> Result<Values, FieldError> {
    let cell = |i: usize| unguard(record.get(i).unwrap_or("")).to_owned();
    Ok([
        patient::name("family_name", &cell(0))?,
        patient::name("given_name", &cell(1))?,
        patient::kana("family_name_kana", &cell(2))?,
        patient::kana("given_name_kana", &cell(3))?,
        patient::birth_date(&cell(4), today)?,
        patient::sex(&cell(5))?,
        patient::card_number(&cell(6))?,
        patient::contact(&cell(7))?,
    ])
}

/// The text of a file: UTF-8, or Shift_JIS (Windows-31J) as Excel in Japan saves CSV unless
/// told otherwise; a byte-order mark is dropped.
pub fn decode(bytes: &[u8]) -> Result<String, RosterError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => {
            let (text, _, malformed) = encoding_rs::SHIFT_JIS.decode(bytes);
            if malformed {
                return Err(RosterError::NotText);
            }
            text.into_owned()
        }
    };
    Ok(text
        .strip_prefix('\u{feff}')
        .map_or(text.clone(), str::to_owned))
}

/// Reads a CSV file; every row is checked (birth dates up to `today`, `YYYY-MM-DD`), and a card
/// number used twice in the file is refused on its second line.
pub fn parse(bytes: &[u8], today: &str) -> Result<Parsed, RosterError> {
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        _ => return Err(RosterError::Empty),
    };
    let names: Vec<&str> = header.iter().map(str::trim).collect();
    if names != COLUMNS && names != COLUMNS_JA {
        return Err(RosterError::Header);
    }
    let mut parsed = Parsed::default();
    let mut cards = std::collections::HashMap::new();
    for (i, record) in records.enumerate() {
        if i >= ROWS_MAX {
            return Err(RosterError::TooManyRows);
        }
        let line = match &record {
            Ok(r) => r.position().map_or(i as u64 + 2, csv::Position::line),
            Err(e) => e.position().map_or(i as u64 + 2, csv::Position::line),
        };
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                parsed.errors.push(RowError {
                    line,
                    field: None,
                    code: "unreadable",
                    message: "this line cannot be read as CSV (check its quotes)".into(),
                });
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() != COLUMNS.len() {
            parsed.errors.push(RowError {
                line,
                field: None,
                code: "columns",
                message: format!(
                    "this line has {} columns instead of {}",
                    record.len(),
                    COLUMNS.len()
                ),
            });
            continue;
        }
        match check(&record, today) {
            Ok(values) => {
                let card = values[6].clone();
                if !card.is_empty()
                    && let Some(first) = cards.insert(card, line)
                {
                    parsed.errors.push(RowError {
                        line,
                        field: Some("card_number"),
                        code: "card_number_twice",
                        message: format!("card_number: also on line {first}"),
                    });
                    continue;
                }
                parsed.rows.push(Row { line, values });
            }
            Err(e) => parsed.errors.push(field_error(line, &e)),
        }
    }
    if parsed.rows.is_empty() && parsed.errors.is_empty() {
        return Err(RosterError::Empty);
    }
    Ok(parsed)
}

/// A cell that a spreadsheet could take for a formula gets a leading `'` (CSV injection);
/// [`parse`] drops it again.
fn guard(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The registry as CSV for spreadsheets: UTF-8 with a byte-order mark, Japanese header, CRLF.
pub fn export<'a>(rows: impl IntoIterator<Item = [&'a str; 8]>) -> Vec<u8> {
    spreadsheet(&COLUMNS_JA, rows)
}

/// Any table as CSV for spreadsheets (Excel in Japan): UTF-8 with a byte-order mark, CRLF, and
/// every cell guarded against formula injection.
pub fn spreadsheet<R, C>(header: &[&str], rows: impl IntoIterator<Item = R>) -> Vec<u8>
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer("\u{feff}".as_bytes().to_vec());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(header);
    for row in rows {
        let _ = writer.write_record(row.into_iter().map(|c| guard(c.as_ref())));
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: &str = "2026-11-28";
    const HEAD: &str = "family_name,given_name,family_name_kana,given_name_kana,birth_date,sex,card_number,contact\n";

    #[test]
    fn good_rows_are_checked_and_normalised() {
        let file = format!(
            "\u{feff}{HEAD}山田,花子,やまだ,はなこ,1948-03-09,女,０１２３,03-1234-5678\n\
             \"佐藤, 二世\",一郎,サトウ,イチロウ,1950-01-02,,,\n"
        );
        let parsed = parse(file.as_bytes(), TODAY).unwrap();
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[0].values[2], "ヤマダ");
        assert_eq!(parsed.rows[0].values[5], "female");
        assert_eq!(parsed.rows[0].values[6], "0123");
        assert_eq!(parsed.rows[1].values[0], "佐藤, 二世");
        assert_eq!(parsed.rows[1].line, 3);
    }

    #[test]
    fn a_shift_jis_file_from_excel_is_read() {
        let file = format!("{HEAD}山田,花子,ヤマダ,ハナコ,1948-03-09,女,A1,\r\n");
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&file);
        let parsed = parse(&bytes, TODAY).unwrap();
        assert_eq!(parsed.rows[0].values[0], "山田");
        assert_eq!(parsed.rows[0].values[5], "female");
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_column() {
        let file = format!(
            "{HEAD}山田,花子,yamada,はなこ,1948-03-09,,,\n\
             山田,花子,ヤマダ,ハナコ,1948-02-30,,,\n\
             山田,花子,ヤマダ,ハナコ,1948-03-09,,A1,\n\
             山田,花子,ヤマダ,ハナコ,1948-03-09,,a1,\n\
             only,three,columns\n\
             山田,花子,ヤマダ,ハナコ,1948-03-09,x,,\n"
        );
        let parsed = parse(file.as_bytes(), TODAY).unwrap();
        let got: Vec<(u64, Option<&str>)> =
            parsed.errors.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            got,
            [
                (2, Some("family_name_kana")),
                (3, Some("birth_date")),
                (5, Some("card_number")),
                (6, None),
                (7, Some("sex")),
            ]
        );
        assert_eq!(parsed.rows.len(), 1);
        assert!(parsed.errors.iter().all(|e| !e.message.contains("yamada")));
    }

    #[test]
    fn unreadable_files_are_refused_whole() {
        assert_eq!(parse(b"\xff\xfe\x00", TODAY), Err(RosterError::NotText));
        assert_eq!(parse(b"a,b\n1,2\n", TODAY), Err(RosterError::Header));
        assert_eq!(parse(HEAD.as_bytes(), TODAY), Err(RosterError::Empty));
        assert_eq!(parse(b"", TODAY), Err(RosterError::Empty));
        let many = format!(
            "{HEAD}{}",
            "山田,花子,ヤマダ,ハナコ,1948-03-09,,,\n".repeat(ROWS_MAX + 1)
        );
        assert_eq!(parse(many.as_bytes(), TODAY), Err(RosterError::TooManyRows));
    }

    #[test]
    fn the_export_reads_back_and_guards_formulas() {
        let rows = [[
            "=HYPERLINK(\"x\")",
            "花子",
            "ヤマダ",
            "ハナコ",
            "1948-03-09",
            "female",
            "A1",
            "+819012345678",
        ]];
        let bytes = export(rows);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("\u{feff}姓,名,"));
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
        assert!(text.contains("'+819012345678"));
        let parsed = parse(&bytes, TODAY).unwrap();
        assert_eq!(parsed.rows[0].values[0], "=HYPERLINK(\"x\")");
        assert_eq!(parsed.rows[0].values[7], "+819012345678");
    }
}
