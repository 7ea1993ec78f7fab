//! The clinic's patient list with printed invitations, and the patient's "my clinics" page
//! (FUNC-1 (a)). The same functions as the JSON API.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::context::{Button, Frame, Page, Posted, SignedIn};
use crate::access::AccessFacts;
use crate::clock::japan_time;
use crate::error::ApiError;
use crate::links::{
    approve, clinic_code, invite, my_clinics, my_requests, open_requests, redeem, refuse,
    request_join,
};
use crate::params::Params;
use crate::registry::{NewPatient, Search, add_patient, registry};
use crate::routes::AppState;
use crate::session::Authenticated;

struct PatientRow {
    id: String,
    name: String,
    kana: String,
    birth_date: String,
    card_number: String,
    linked: bool,
}

struct RequestRow {
    id: String,
    name: String,
    kana: String,
    birth_date: String,
    asked: String,
}

#[derive(Template)]
#[template(path = "patients.html")]
struct PatientsPage {
    f: Frame,
    patients: Vec<PatientRow>,
    requests: Vec<RequestRow>,
    clinic_code: String,
    new: NewPatient,
    q: String,
    admin: bool,
    error: Option<String>,
}

async fn patients_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    facts: &AccessFacts,
    (new, q): (NewPatient, String),
    err: Option<&ApiError>,
) -> Response {
    let (list, requests, clinic_code) = match tokio::try_join!(
        registry(state, auth, facts, &q),
        open_requests(state, auth),
        clinic_code(state, auth)
    ) {
        Ok(all) => all,
        Err(e) => return page.error(Some(auth), &e),
    };
    let template = PatientsPage {
        f: page.frame(Some(auth)),
        requests: requests
            .into_iter()
            .map(|r| RequestRow {
                id: r.id,
                name: format!("{} {}", r.patient.family_name, r.patient.given_name),
                kana: format!(
                    "{} {}",
                    r.patient.family_name_kana, r.patient.given_name_kana
                ),
                birth_date: r.patient.birth_date,
                asked: japan_time(r.created_at),
            })
            .collect(),
        clinic_code,
        patients: list
            .into_iter()
            .map(|p| PatientRow {
                name: p.fields.name(),
                kana: p.fields.kana(),
                birth_date: p.fields.birth_date,
                card_number: p.fields.card_number,
                linked: p.linked,
                id: p.id,
            })
            .collect(),
        new,
        q,
        admin: matches!(
            auth.actor,
            enshin_core::authz::Actor::Member {
                role: enshin_core::people::Role::Admin,
                ..
            }
        ),
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /patients` (clinic): the registry and the form to add a patient.
pub async fn patients_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Params(search): Params<Search>,
) -> Response {
    let q = search.q.chars().take(50).collect();
    patients_view(
        &state,
        &page,
        &auth,
        &facts,
        (NewPatient::default(), q),
        None,
    )
    .await
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
    sex: String,
    card_number: String,
    contact: String,
}

/// `POST /patients`.
pub async fn add(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Posted(form): Posted<PatientForm>,
) -> Response {
    let new = NewPatient {
        family_name: form.family_name,
        given_name: form.given_name,
        family_name_kana: form.family_name_kana,
        given_name_kana: form.given_name_kana,
        birth_date: form.birth_date,
        sex: form.sex,
        card_number: form.card_number,
        contact: form.contact,
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
                sex: new.sex.chars().take(10).collect(),
                card_number: new.card_number.chars().take(20).collect(),
                contact: cut(&new.contact),
            };
            patients_view(
                &state,
                &page,
                &auth,
                &facts,
                (typed, String::new()),
                Some(&e),
            )
            .await
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

struct AskedRow {
    clinic: String,
    state: String,
    asked: String,
}

#[derive(Template)]
#[template(path = "my_clinics.html")]
struct ClinicsPage {
    f: Frame,
    clinics: Vec<ClinicRow>,
    asked: Vec<AskedRow>,
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
    let (list, asked) = match tokio::try_join!(my_clinics(state, auth), my_requests(state, auth)) {
        Ok(both) => both,
        Err(e) => return page.error(Some(auth), &e),
    };
    let t = page.t();
    let template = ClinicsPage {
        f: page.frame(Some(auth)),
        asked: asked
            .into_iter()
            .map(|(clinic, state, at)| AskedRow {
                clinic,
                state: match state.as_str() {
                    "approved" => t.state_approved,
                    "refused" => t.state_refused,
                    _ => t.state_pending,
                }
                .to_owned(),
                asked: japan_time(at)[..10].to_owned(),
            })
            .collect(),
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
    Params(q): Params<CodeQuery>,
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

/// The ask-by-code form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct JoinForm {
    clinic_code: String,
}

/// `POST /clinics/join` (patient): asks the clinic with this code.
pub async fn join(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<JoinForm>,
) -> Response {
    match request_join(&state, &auth, &form.clinic_code).await {
        Ok(_) => page.redirect("/clinics?done=join_requested"),
        Err(e) => clinics_view(&state, &page, &auth, String::new(), Some(&e)).await,
    }
}

/// The approve form: an existing record, or none for a new one.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ApproveForm {
    clinic_patient_id: String,
}

/// `POST /patients/requests/{id}/approve` (clinic member).
pub async fn approve_request(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<ApproveForm>,
) -> Response {
    let record = Some(form.clinic_patient_id).filter(|r| !r.is_empty());
    match approve(&state, &auth, &id, record).await {
        Ok(_) => page.redirect("/patients?done=join_approved"),
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// `POST /patients/requests/{id}/refuse` (clinic member).
pub async fn refuse_request(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    match refuse(&state, &auth, &id).await {
        Ok(()) => page.redirect("/patients?done=join_refused"),
        Err(e) => page.error(Some(&auth), &e),
    }
}
