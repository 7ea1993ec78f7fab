//! The clinic's patient list with printed invitations, and the patient's "my clinics" page
//! (FUNC-1 (a)). The same functions as the JSON API.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::context::{Button, Frame, Page, Posted, SignedIn};
use crate::clock::japan_time;
use crate::error::ApiError;
use crate::links::{invite, my_clinics, redeem};
use crate::registry::{NewPatient, add_patient, registry};
use crate::routes::AppState;
use crate::session::Authenticated;

struct PatientRow {
    id: String,
    name: String,
    kana: String,
    birth_date: String,
    linked: bool,
}

#[derive(Template)]
#[template(path = "patients.html")]
struct PatientsPage {
    f: Frame,
    patients: Vec<PatientRow>,
    new: NewPatient,
    error: Option<String>,
}

async fn patients_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    new: NewPatient,
    err: Option<&ApiError>,
) -> Response {
    let list = match registry(state, auth).await {
        Ok(list) => list,
        Err(e) => return page.error(Some(auth), &e),
    };
    let template = PatientsPage {
        f: page.frame(Some(auth)),
        patients: list
            .into_iter()
            .map(|p| PatientRow {
                name: format!("{} {}", p.fields.family_name, p.fields.given_name),
                kana: format!("{} {}", p.fields.family_name_kana, p.fields.given_name_kana),
                birth_date: p.fields.birth_date,
                linked: p.linked,
                id: p.id,
            })
            .collect(),
        new,
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /patients` (clinic): the registry and the form to add a patient.
pub async fn patients_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    patients_view(&state, &page, &auth, NewPatient::default(), None).await
}

/// The add-patient form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PatientForm {
    family_name: String,
    given_name: String,
    family_name_kana: String,
    given_name_kana: String,
    birth_date: String,
}

/// `POST /patients`.
pub async fn add(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<PatientForm>,
) -> Response {
    let new = NewPatient {
        family_name: form.family_name,
        given_name: form.given_name,
        family_name_kana: form.family_name_kana,
        given_name_kana: form.given_name_kana,
        birth_date: form.birth_date,
    };
    match add_patient(&state, &auth, &new).await {
        Ok(_) => page.redirect("/patients?done=patient_added"),
        Err(e) if e.status == StatusCode::FORBIDDEN || e.status == StatusCode::NOT_FOUND => {
            page.error(Some(&auth), &e)
        }
        Err(e) => {
            let cut = |s: &str| s.chars().take(50).collect::<String>();
            let typed = NewPatient {
                family_name: cut(&new.family_name),
                given_name: cut(&new.given_name),
                family_name_kana: cut(&new.family_name_kana),
                given_name_kana: cut(&new.given_name_kana),
                birth_date: new.birth_date.chars().take(10).collect(),
            };
            patients_view(&state, &page, &auth, typed, Some(&e)).await
        }
    }
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    f: Frame,
    code: String,
    until: String,
    qr: String,
}

/// The QR code of `text` as inline SVG markup (attributes only: no script, no style).
fn qr_svg(text: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| ApiError::unavailable(&e))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    // The XML declaration does not belong inside an HTML page.
    Ok(svg
        .split_once("?>")
        .map_or(svg.clone(), |(_, rest)| rest.to_owned()))
}

/// `POST /patients/{id}/invitation`: makes the code and shows the page to print (once).
pub async fn invitation(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    let inv = match invite(&state, &auth, &id).await {
        Ok(inv) => inv,
        Err(e) => return page.error(Some(&auth), &e),
    };
    let link = format!(
        "{}/link?code={}",
        state.patient_url,
        inv.code.replace('-', "")
    );
    let qr = match qr_svg(&link) {
        Ok(qr) => qr,
        Err(e) => return page.error(Some(&auth), &e),
    };
    let template = InvitationPage {
        f: page.frame(Some(&auth)),
        code: inv.code,
        until: japan_time(inv.expires_at),
        qr,
    };
    page.render(StatusCode::OK, &template)
}

struct ClinicRow {
    name: String,
    since: String,
}

#[derive(Template)]
#[template(path = "my_clinics.html")]
struct ClinicsPage {
    f: Frame,
    clinics: Vec<ClinicRow>,
    code: String,
    error: Option<String>,
}

async fn clinics_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    code: String,
    err: Option<&ApiError>,
) -> Response {
    let list = match my_clinics(state, auth).await {
        Ok(list) => list,
        Err(e) => return page.error(Some(auth), &e),
    };
    let template = ClinicsPage {
        f: page.frame(Some(auth)),
        clinics: list
            .into_iter()
            .map(|l| ClinicRow {
                name: l.clinic_name,
                since: japan_time(l.linked_at)[..10].to_owned(),
            })
            .collect(),
        code,
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /clinics` (patient): the patient's clinics and the code form.
pub async fn clinics_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    clinics_view(&state, &page, &auth, String::new(), None).await
}

/// `?code=` from a scanned invitation.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeQuery {
    code: String,
}

/// `GET /link?code=…` (patient, from the QR code): the code form, filled in.
pub async fn link_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Query(q): Query<CodeQuery>,
) -> Response {
    let code = q
        .code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    clinics_view(&state, &page, &auth, code, None).await
}

/// The code form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    code: String,
}

/// `POST /clinics` (patient): links the account with the code.
pub async fn link(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<LinkForm>,
) -> Response {
    match redeem(&state, &auth, &form.code).await {
        Ok(_) => page.redirect("/clinics?done=clinic_linked"),
        Err(e) => {
            let typed = form.code.chars().take(20).collect();
            clinics_view(&state, &page, &auth, typed, Some(&e)).await
        }
    }
}
