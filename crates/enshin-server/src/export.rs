//! The clinic's whole data set as one ZIP (DATA-6, 見読性): a Japanese index page, the registry
//! and the visits as CSV, and one folder per patient with their readings (CSV), questionnaires,
//! notes with every version, and plans with every version and agreement (JSON). A manifest
//! lists every file with its SHA-256. Files are written one at a time into a spool file, so the
//! whole export is never held in memory.

use std::io::{Seek, Write};

use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use enshin_core::authz::Action;
use enshin_core::encoding::to_hex;
use enshin_store::monitoring::ReadingQuery;
use enshin_store::registry::{Listed, Reader};
use ring::digest::{SHA256, digest};
use serde_json::{Value, json};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::access::AccessFacts;
use crate::booking::{local, zone};
use crate::clock::{japan_time, now_ms};
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::Authenticated;

/// The name of the manifest inside the ZIP; it lists every other file.
pub const MANIFEST: &str = "manifest.json";

/// One file of the export.
pub struct Written {
    /// Its path inside the ZIP.
    pub path: String,
    /// Its size.
    pub bytes: usize,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// Adds files to the ZIP and keeps the manifest.
struct Archive<W: Write + Seek> {
    zip: ZipWriter<W>,
    written: Vec<Written>,
}

impl<W: Write + Seek> Archive<W> {
    fn add(&mut self, path: String, bytes: &[u8]) -> Result<(), ApiError> {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o600);
        self.zip
            .start_file(path.as_str(), options)
            .map_err(zip_error)?;
        self.zip.write_all(bytes).map_err(|e| zip_error(e.into()))?;
        self.written.push(Written {
            sha256: to_hex(digest(&SHA256, bytes).as_ref()),
            bytes: bytes.len(),
            path,
        });
        Ok(())
    }

    fn add_json(&mut self, path: String, value: &Value) -> Result<(), ApiError> {
        let text = serde_json::to_vec_pretty(value).unwrap_or_default();
        self.add(path, &text)
    }
}

/// The spool could not be written (a full disk): 503, the cause logged.
fn zip_error(e: zip::result::ZipError) -> ApiError {
    ApiError::unavailable(&e)
}

/// A patient's row on the index page.
struct IndexRow {
    id: String,
    name: String,
    kana: String,
    birth_date: String,
}

#[derive(Template)]
#[template(path = "export_index.html")]
struct IndexPage<'a> {
    clinic_name: &'a str,
    made_at: String,
    patients: Vec<IndexRow>,
    files: &'a [Written],
}

/// Header of the visits CSV.
const VISIT_COLUMNS: [&str; 9] = [
    "予約ID",
    "患者ID",
    "医師",
    "メニュー",
    "形態",
    "開始",
    "終了",
    "状態",
    "最終更新",
];

/// Writes the clinic's export into `out`; returns the files written (the manifest last) and the
/// registry records it holds, for the access log.
pub async fn write_export<W: Write + Seek>(
    state: &AppState,
    clinic_id: &str,
    out: W,
) -> Result<(Vec<Written>, Vec<String>), ApiError> {
    let now = now_ms();
    let settings = crate::schedule::settings_of(state, clinic_id).await?;
    let tz = zone(&settings);
    let clinic_name = state
        .store
        .clinic_name(clinic_id)
        .await?
        .unwrap_or_default();
    let mut archive = Archive {
        zip: ZipWriter::new(out),
        written: Vec::new(),
    };
    let registry: Vec<Listed> = state
        .store
        .list_clinic_patients(&state.keyring, Reader::Member { clinic_id }, clinic_id, now)
        .await?;
    archive.add(
        "registry.csv".into(),
        &enshin_core::roster::export(registry.iter().map(|p| p.fields.values())),
    )?;
    let visits = state
        .store
        .clinic_appointments(clinic_id, i64::MIN, i64::MAX, None)
        .await?;
    let rows = visits.iter().map(|a| {
        [
            a.id.clone(),
            a.clinic_patient_id.clone(),
            a.doctor_name.clone(),
            a.menu_name.clone(),
            a.mode.clone(),
            local(a.starts_at, &tz),
            local(a.ends_at, &tz),
            a.state.as_str().to_owned(),
            local(a.updated_at, &tz),
        ]
    });
    archive.add(
        "appointments.csv".into(),
        &enshin_core::roster::spreadsheet(&VISIT_COLUMNS, rows),
    )?;

    for patient in &registry {
        let dir = format!("patients/{}", patient.id);
        if let Some(account) = state.store.linked_account(clinic_id, &patient.id).await? {
            let query = ReadingQuery {
                kind: None,
                from: i64::MIN,
                until: i64::MAX,
                limit: i64::MAX,
                notes: true,
                newest_first: false,
            };
            let readings = state
                .store
                .readings(&state.keyring, &account, query)
                .await?;
            archive.add(
                format!("{dir}/readings.csv"),
                &crate::monitoring::readings_spreadsheet(&readings, &tz),
            )?;
        }
        let mut questionnaires = Vec::new();
        for request in state
            .store
            .patient_requests(&state.keyring, clinic_id, &patient.id)
            .await?
        {
            let shown = crate::questionnaires::shown(state, request).await?;
            questionnaires.push(crate::questionnaires::answers_json(&shown, &tz));
        }
        archive.add_json(
            format!("{dir}/questionnaires.json"),
            &json!({ "questionnaires": questionnaires }),
        )?;
        let mut notes = Vec::new();
        for note in state
            .store
            .patient_notes(&state.keyring, clinic_id, &patient.id)
            .await?
        {
            let versions = state.store.note_versions(&state.keyring, &note).await?;
            notes.push(crate::notes::note_json(&note, &versions));
        }
        archive.add_json(format!("{dir}/notes.json"), &json!({ "notes": notes }))?;
        let plan = crate::plans::record_of(state, clinic_id, &patient.id).await?;
        archive.add_json(
            format!("{dir}/plan.json"),
            &crate::plans::record_json(&plan, true),
        )?;
    }

    let index = IndexPage {
        clinic_name: &clinic_name,
        made_at: japan_time(now),
        patients: registry
            .iter()
            .map(|p| IndexRow {
                id: p.id.clone(),
                name: p.fields.name(),
                kana: p.fields.kana(),
                birth_date: p.fields.birth_date.clone(),
            })
            .collect(),
        files: &archive.written,
    }
    .render()
    .map_err(|e| ApiError::unavailable(&e))?;
    archive.add("index.html".into(), index.as_bytes())?;
    let manifest = json!({
        "format": "enshin-export/v1",
        "clinic_id": clinic_id,
        "clinic_name": clinic_name,
        "created_at": now,
        "files": archive.written.iter().map(|w| json!({ "path": w.path, "bytes": w.bytes, "sha256": w.sha256 })).collect::<Vec<_>>(),
    });
    archive.add_json(MANIFEST.into(), &manifest)?;
    archive.zip.finish().map_err(zip_error)?;
    Ok((
        archive.written,
        registry.into_iter().map(|p| p.id).collect(),
    ))
}

/// Reads the spool file back in chunks, so the response never holds the whole export.
fn stream_file(file: std::fs::File) -> Body {
    let file = tokio::fs::File::from_std(file);
    let chunks = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    Body::from_stream(chunks)
}

/// The clinic admin's export as a ZIP download; every patient in it is noted as read.
pub async fn export_response(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
) -> Result<Response, ApiError> {
    let clinic_id = auth.member_clinic(Action::ExportClinic)?.to_owned();
    // An unnamed temporary file: it disappears when the response has been sent.
    let mut spool = tempfile::tempfile().map_err(|e| ApiError::unavailable(&e))?;
    let (_, patients) = write_export(state, &clinic_id, &mut spool).await?;
    facts.read_patients(patients.iter().map(String::as_str));
    spool.rewind().map_err(|e| ApiError::unavailable(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"enshin-export-{clinic_id}.zip\""),
            ),
        ],
        stream_file(spool),
    )
        .into_response())
}

/// `GET /api/v1/export` (clinic admin): the clinic's whole data set as
/// `enshin-export-<clinic>.zip`.
pub async fn download(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
) -> Result<Response, ApiError> {
    export_response(&state, &auth, &facts).await
}
