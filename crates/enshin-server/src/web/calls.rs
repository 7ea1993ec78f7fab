//! The video consultation pages: the room of an appointment (the doctor's on the clinic site,
//! the patient's on the patient site) and the patients' camera and microphone test. The pages
//! carry what each side must always see of the other; `call.js` does the rest.

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use enshin_core::call::Role;

use super::context::{Frame, Page, SignedIn};
use crate::access::AccessFacts;
use crate::calls::{counterpart, enter};
use crate::routes::AppState;

/// Only the call pages may use the camera and the microphone (every other page is denied
/// them by the default header).
const MEDIA_ALLOWED: &str = "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()";

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    f: Frame,
    id: String,
    doctor: bool,
    doctor_name: String,
    clinic_name: String,
    clinic_phone: String,
    patient_name: String,
    patient_kana: String,
    birth_date: String,
    start: String,
    menu_name: String,
}

#[derive(Template)]
#[template(path = "call_test.html")]
struct TestPage {
    f: Frame,
}

fn with_media(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(MEDIA_ALLOWED),
    );
    response
}

/// `GET /calls/{id}` (clinic and patient sites): the room of an appointment.
pub async fn call_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Response {
    let view = async {
        let entrant = enter(&state, &auth, &id).await?;
        let who = counterpart(&state, &entrant, &facts).await?;
        Ok::<_, crate::error::ApiError>((entrant, who))
    }
    .await;
    let (entrant, who) = match view {
        Ok(v) => v,
        Err(e) => return page.error(Some(&auth), &e),
    };
    let a = &entrant.appointment;
    let patient = who.patient.as_ref();
    let template = CallPage {
        f: page.frame(Some(&auth)),
        id: a.id.clone(),
        doctor: entrant.role == Role::Doctor,
        doctor_name: a.doctor_name.clone(),
        clinic_name: a.clinic_name.clone(),
        clinic_phone: who.clinic_phone,
        patient_name: patient.map(|p| p.name()).unwrap_or_default(),
        patient_kana: patient.map(|p| p.kana()).unwrap_or_default(),
        birth_date: patient.map(|p| p.birth_date.clone()).unwrap_or_default(),
        start: super::booking::when(page.t().b, a.starts_at, &who.tz),
        menu_name: a.menu_name.clone(),
    };
    with_media(page.render(StatusCode::OK, &template))
}

/// `GET /call-test` (patient site): camera, microphone and speaker, tested on the device only.
pub async fn test_page(page: Page) -> Response {
    let template = TestPage {
        f: page.frame(None),
    };
    with_media(page.render(StatusCode::OK, &template))
}

/// The call pages' script: a same-origin ES module, so the strict CSP holds.
pub async fn call_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/call.js"),
    )
}
