//! The clinic's whole data set as one ZIP (DATA-6, 見読性): a Japanese index page, the registry
//! and the visits as CSV, and one folder per patient with the record as a page to read or print
//! (plan, notes with every version, questionnaires, readings), the readings as CSV, the
//! questionnaires with their photos, the notes with every version and the plans with every
//! version and agreement as JSON, and the patient and readings as a FHIR R4 Bundle. A manifest
//! lists every file with its SHA-256 and is signed by the service. Files are written one at a
//! time into a spool file, so the whole export is never held in memory.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};

use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use enshin_core::audit::checkpoint::WriterKey;
use enshin_core::authz::Action;
use enshin_core::encoding::to_hex;
use enshin_core::export::{
    ExportError, MANIFEST, MANIFEST_FORMAT, Manifest, ManifestFile, Requested, SIGNATURE,
};
use enshin_core::fhir;
use enshin_store::Store;
use enshin_store::keyring::Keyring;
use enshin_store::monitoring::{MANUAL, ReadingQuery, StoredReading};
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
use crate::web::questionnaires::{RequestRow, request_row};
use crate::web::records::{ExportedRecord, export_record_html};

/// Adds files to the ZIP and keeps the manifest.
struct Archive<W: Write + Seek> {
    zip: ZipWriter<W>,
    written: Vec<ManifestFile>,
}

impl<W: Write + Seek> Archive<W> {
    fn add_unlisted(&mut self, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o600);
        self.zip.start_file(path, options).map_err(zip_error)?;
        self.zip.write_all(bytes).map_err(|e| zip_error(e.into()))
    }

    fn add(&mut self, path: String, bytes: &[u8]) -> Result<(), ApiError> {
        self.add_unlisted(&path, bytes)?;
        self.written.push(ManifestFile {
            sha256: to_hex(digest(&SHA256, bytes).as_ref()),
            bytes: bytes.len() as u64,
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
    requested: &'a Requested,
    patients: Vec<IndexRow>,
    files: &'a [ManifestFile],
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

/// What an export reads.
pub struct Source<'a> {
    /// The database.
    pub store: &'a Store,
    /// The clinics' data keys.
    pub keyring: &'a Keyring,
}

/// How far an export has got, after each patient.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Patients written.
    pub done: usize,
    /// Patients in all.
    pub patients: usize,
}

/// What an export wrote.
pub struct Exported {
    /// Every file but the manifest and its signature.
    pub files: Vec<ManifestFile>,
    /// The registry records it holds, for the access log.
    pub patients: Vec<String>,
}

/// The file name of a photo of this content type.
fn photo_name(request_id: &str, photo_id: &str, content_type: &str) -> String {
    let ext = match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/heic" => "heic",
        _ => "bin",
    };
    format!("photos/{request_id}-{photo_id}.{ext}")
}

/// Writes the clinic's export into `out`, signed with `signer` (an access-log writer key);
/// `progress` hears after each patient.
pub async fn write_export<W: Write + Seek>(
    source: &Source<'_>,
    clinic_id: &str,
    requested: Requested,
    signer: &WriterKey,
    out: W,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Exported, ApiError> {
    let Source { store, keyring } = *source;
    let now = now_ms();
    let settings = store
        .booking_settings(clinic_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let tz = zone(&settings);
    let clinic_name = store.clinic_name(clinic_id).await?.unwrap_or_default();
    let names = crate::web::records::names(store, clinic_id).await?;
    let texts = crate::web::texts::Lang::Ja.texts();
    let mut archive = Archive {
        zip: ZipWriter::new(out),
        written: Vec::new(),
    };
    let registry: Vec<Listed> = store
        .list_clinic_patients(keyring, Reader::Member { clinic_id }, clinic_id, now)
        .await?;
    archive.add(
        "registry.csv".into(),
        &enshin_core::roster::export(registry.iter().map(|p| p.fields.values())),
    )?;
    let visits = store
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
    archive.add(
        "style.css".into(),
        include_str!("../static/app.css").as_bytes(),
    )?;
    let visits: HashMap<String, _> = visits.into_iter().map(|a| (a.id.clone(), a)).collect();

    for (done, patient) in registry.iter().enumerate() {
        let dir = format!("patients/{}", patient.id);
        let mut readings: Vec<StoredReading> = Vec::new();
        if let Some(account) = store.linked_account(clinic_id, &patient.id).await? {
            let query = ReadingQuery {
                kind: None,
                from: i64::MIN,
                until: i64::MAX,
                limit: i64::MAX,
                notes: true,
                newest_first: false,
            };
            readings = store.readings(keyring, &account, query).await?;
            archive.add(
                format!("{dir}/readings.csv"),
                &crate::monitoring::readings_spreadsheet(&readings, &tz),
            )?;
        }

        let mut questionnaires = Vec::new();
        let mut requests: Vec<RequestRow> = Vec::new();
        for request in store
            .patient_requests(keyring, clinic_id, &patient.id)
            .await?
        {
            let mut photos = HashMap::new();
            for photo_id in store.photo_ids(&request.id).await? {
                let (content_type, bytes) = store.photo(keyring, &request, &photo_id).await?;
                let name = photo_name(&request.id, &photo_id, &content_type);
                archive.add(format!("{dir}/{name}"), &bytes)?;
                photos.insert(photo_id, name);
            }
            let shown = crate::questionnaires::shown(store, request).await?;
            let mut answers = crate::questionnaires::answers_json(&shown, &tz);
            answers["photos"] = json!(photos);
            questionnaires.push(answers);
            requests.push(request_row(texts.q, &shown, &tz, &|_, photo| {
                photos.get(photo).cloned()
            }));
        }
        archive.add_json(
            format!("{dir}/questionnaires.json"),
            &json!({ "questionnaires": questionnaires }),
        )?;

        let mut notes = Vec::new();
        let mut notes_json = Vec::new();
        for note in store.patient_notes(keyring, clinic_id, &patient.id).await? {
            let versions = store.note_versions(keyring, &note).await?;
            notes_json.push(crate::notes::note_json(&note, &versions));
            let visit = visits.get(&note.appointment_id).cloned();
            notes.push((note, versions, visit));
        }
        archive.add_json(format!("{dir}/notes.json"), &json!({ "notes": notes_json }))?;
        let plan = crate::plans::record_of(store, keyring, clinic_id, &patient.id).await?;
        archive.add_json(
            format!("{dir}/plan.json"),
            &crate::plans::record_json(&plan, true),
        )?;

        let page = export_record_html(&ExportedRecord {
            clinic_name: &clinic_name,
            patient: &patient.fields,
            made_at: now,
            tz: &tz,
            names: &names,
            plan: &plan,
            notes: &notes,
            requests: &requests,
            readings: &readings,
        })
        .map_err(|e| ApiError::unavailable(&e))?;
        archive.add(format!("{dir}/record.html"), page.as_bytes())?;

        let f = &patient.fields;
        let mut resources = vec![fhir::patient(&fhir::PatientFacts {
            id: &patient.id,
            clinic_id,
            family_name: &f.family_name,
            given_name: &f.given_name,
            family_name_kana: &f.family_name_kana,
            given_name_kana: &f.given_name_kana,
            birth_date: &f.birth_date,
            sex: &f.sex,
            card_number: &f.card_number,
            contact: &f.contact,
        })];
        resources.extend(readings.iter().map(|r| {
            fhir::observation(
                &patient.id,
                &fhir::ReadingFacts {
                    id: &r.id,
                    kind: r.kind,
                    scaled: r.scaled,
                    measured_at: r.measured_at,
                    recorded_at: r.recorded_at,
                    manual: r.source == MANUAL,
                    note: r.note.as_deref(),
                },
            )
        }));
        archive.add_json(
            format!("{dir}/fhir.json"),
            &fhir::collection(resources, now),
        )?;
        progress(Progress {
            done: done + 1,
            patients: registry.len(),
        });
    }

    let index = IndexPage {
        clinic_name: &clinic_name,
        made_at: japan_time(now),
        requested: &requested,
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
    let public_key = signer.public_key();
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        clinic_id: clinic_id.to_owned(),
        clinic_name,
        created_at: now,
        requested,
        signer: crate::audit::writer_id(&public_key),
        public_key: STANDARD.encode(&public_key),
        files: std::mem::take(&mut archive.written),
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    archive.add_unlisted(MANIFEST, &manifest_bytes)?;
    let signature = enshin_core::export::sign(&manifest_bytes, signer);
    archive.add_unlisted(SIGNATURE, signature.as_bytes())?;
    archive.zip.finish().map_err(zip_error)?;
    Ok(Exported {
        files: manifest.files,
        patients: registry.into_iter().map(|p| p.id).collect(),
    })
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
    let requested = Requested {
        by: "clinic_admin".into(),
        principal: auth.session.account_id.clone(),
        reference: None,
    };
    let source = Source {
        store: &state.store,
        keyring: &state.keyring,
    };
    let exported = write_export(
        &source,
        &clinic_id,
        requested,
        state.audit.signer(),
        &mut spool,
        &mut |_| {},
    )
    .await?;
    facts.read_patients(exported.patients.iter().map(String::as_str));
    // The length lets the browser show the download's progress.
    let length = spool
        .rewind()
        .and_then(|()| spool.metadata())
        .map_err(|e| ApiError::unavailable(&e))?
        .len();
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
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

/// Checks an export ZIP: the manifest's signature, then every file against it. Returns the
/// manifest, or every problem found (the signer's standing is for the caller to check).
pub fn verify_zip<R: std::io::Read + Seek>(reader: R) -> Result<Manifest, Vec<ExportError>> {
    let format = |e: zip::result::ZipError| vec![ExportError::Format(e.to_string())];
    let mut zip = zip::ZipArchive::new(reader).map_err(format)?;
    let mut read_small = |name: &str| -> Result<Vec<u8>, Vec<ExportError>> {
        let mut file = zip
            .by_name(name)
            .map_err(|_| vec![ExportError::Format(format!("{name} is missing"))])?;
        let mut bytes = Vec::new();
        // The manifest lists every file: a few MB at most; anything far larger is not ours.
        (&mut file)
            .take(256 << 20)
            .read_to_end(&mut bytes)
            .map_err(|e| vec![ExportError::Format(format!("{name}: {e}"))])?;
        Ok(bytes)
    };
    let manifest_bytes = read_small(MANIFEST)?;
    let signature = read_small(SIGNATURE)?;
    let manifest = Manifest::verify(&manifest_bytes, &String::from_utf8_lossy(&signature))
        .map_err(|e| vec![e])?;
    let mut found = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).map_err(format)?;
        let name = file.name().map_err(format)?.into_owned();
        let mut hash = ring::digest::Context::new(&SHA256);
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| vec![ExportError::Format(format!("{name}: {e}"))])?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            size += n as u64;
        }
        found.insert(name, (size, to_hex(hash.finish().as_ref())));
    }
    let problems = manifest.check(&found);
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(problems)
    }
}
