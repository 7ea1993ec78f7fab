//! Server-rendered pages (askama), Japanese first with an English switch (`?lang=en`). Forms post,
//! then redirect (POST → 303 → GET); a form with a mistake is shown again saying what failed.
//! Every page calls the same functions as the JSON API, so the rules cannot differ.

mod access;
mod account;
mod booking;
pub mod booking_texts;
pub mod call_texts;
mod calls;
mod chart;
mod clinic;
mod console;
mod context;
mod disclosure;
pub mod disclosure_texts;
mod links;
pub(crate) mod monitoring;
pub mod monitoring_texts;
mod operator;
mod patient;
pub mod questionnaire_texts;
pub(crate) mod questionnaires;
pub mod record_texts;
pub(crate) mod records;
mod reset;
mod roster;
pub mod texts;

use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::listener::ListenerKind;
use crate::routes::AppState;

/// The pages of a listener, added to its router.
pub fn pages(router: Router<AppState>, listener: ListenerKind) -> Router<AppState> {
    let router = router
        .route("/", get(account::root))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route("/home", get(account::home))
        .route("/sessions", get(account::sessions))
        .route("/sessions/{id}/end", post(account::end_session));
    match listener {
        ListenerKind::Patient => router
            .route("/forgot", get(reset::forgot_page).post(reset::forgot))
            .route("/forgot/code", get(reset::code_page).post(reset::code))
            .route("/contact/verify", post(account::contact_send))
            .route("/clinics", get(links::clinics_page).post(links::link))
            .route("/link", get(links::link_page))
            .route("/clinics/join", post(links::join))
            .route("/clinics/{id}/book", get(booking::book_page))
            .route("/clinics/{id}/about", get(disclosure::clinic_about))
            .route("/disclosure", get(disclosure::public_page))
            .route("/disclosure.json", get(disclosure::public_json))
            .route(
                "/appointments",
                get(booking::appointments_page).post(booking::book),
            )
            .route("/appointments/{id}/cancel", post(booking::cancel))
            .route(
                "/appointments/{id}/move",
                get(booking::move_page).post(booking::move_visit),
            )
            .route(
                "/records",
                get(monitoring::records_page).post(monitoring::record),
            )
            .route("/records/chart", get(monitoring::record_chart_page))
            .route("/calls/{id}", get(calls::call_page))
            .route("/call-test", get(calls::test_page))
            .route("/records/{id}/withdraw", post(monitoring::withdraw_form))
            .route("/records/time-zone", post(monitoring::zone_form))
            .route(
                "/devices",
                get(monitoring::devices_page).post(monitoring::add_device),
            )
            .route("/devices/{id}/revoke", post(monitoring::revoke))
            .route("/plans", get(records::my_plans_page))
            .route("/plans/{id}/agree", post(records::agree_form))
            .route("/questionnaires", get(questionnaires::mine_page))
            .route(
                "/questionnaires/{id}",
                get(questionnaires::answer_page)
                    .post(questionnaires::answer)
                    .layer(axum::extract::DefaultBodyLimit::max(
                        3 * enshin_core::questionnaire::PHOTO_BYTES_MAX,
                    )),
            )
            .route("/contact/verify/confirm", post(account::contact_confirm))
            .route(
                "/register",
                get(patient::register_page).post(patient::register),
            )
            .route("/terms", get(patient::terms_page).post(patient::accept)),
        ListenerKind::Operator => router
            .route(
                "/clinics",
                get(console::clinics_page).post(console::create_clinic),
            )
            .route("/clinics/{id}", get(console::clinic_page))
            .route("/clinics/{id}/admin-email", post(console::admin_email))
            .route(
                "/clinics/{id}/members/{member}/end-sessions",
                post(console::end_member_sessions),
            )
            .route("/clinics/{id}/emergency", post(console::emergency))
            .route("/clinics/{id}/termination", post(console::terminate))
            .route(
                "/clinics/{id}/termination/withdraw",
                post(console::withdraw),
            )
            .route("/clinics/{id}/deletion", post(console::delete))
            .route(
                "/clinics/{id}/deletion-certificate",
                get(console::deletion_certificate),
            )
            .route(
                "/clinics/{id}/deletion-certificate.json",
                get(console::deletion_certificate_json),
            )
            .route("/clinics/{id}/emergency/end", post(console::emergency_end))
            .route("/suspensions", post(console::suspend))
            .route("/suspensions/{scope}/lift", post(console::lift))
            .route(
                "/announcements",
                get(console::announcements_page).post(console::publish),
            )
            .route("/audit", get(operator::audit_page))
            .route("/disclosure", get(disclosure::console_page))
            .route("/disclosure/publish", post(disclosure::publish_form))
            .route("/disclosure/revisions/{n}", get(disclosure::revision_page))
            .route(
                "/disclosure/revisions/{n}/signed.json",
                get(disclosure::revision_json),
            )
            .route("/access", get(access::grants_page).post(access::ask)),
        ListenerKind::Clinic => router
            .route("/forgot", get(reset::forgot_page).post(reset::forgot))
            .route("/reset", get(reset::link_page).post(reset::link))
            .route("/email", post(account::own_email))
            .route("/members", get(clinic::members_page).post(clinic::add))
            .route("/members/{id}/password", post(clinic::set_password))
            .route("/patients", get(links::patients_page).post(links::add))
            .route(
                "/patients/import",
                get(roster::import_page).post(roster::check).layer(
                    axum::extract::DefaultBodyLimit::max(
                        enshin_core::roster::BYTES_MAX + 64 * 1024,
                    ),
                ),
            )
            .route(
                "/patients/import/commit",
                post(roster::commit).layer(axum::extract::DefaultBodyLimit::max(
                    3 * enshin_core::roster::BYTES_MAX + 64 * 1024,
                )),
            )
            .route("/patients/export.csv", get(roster::export))
            .route("/export.zip", get(roster::export_all))
            .route("/patients/{id}/invitation", post(links::invitation))
            .route(
                "/patients/{id}/book",
                get(booking::member_book_page).post(booking::member_book),
            )
            .route(
                "/patients/{id}/monitoring",
                get(monitoring::monitoring_page),
            )
            .route("/patients/{id}/thresholds", post(monitoring::threshold))
            .route("/patients/{id}/thresholds/remove", post(monitoring::remove))
            .route("/patients/{id}/readings.csv", get(monitoring::export))
            .route("/alerts", get(monitoring::alerts_page))
            .route(
                "/questionnaires",
                get(questionnaires::list_page).post(questionnaires::create),
            )
            .route("/questionnaires/{id}", get(questionnaires::edit_page))
            .route(
                "/questionnaires/{id}/questions",
                post(questionnaires::add_question),
            )
            .route(
                "/questionnaires/{id}/questions/{question}/remove",
                post(questionnaires::remove_question),
            )
            .route("/questionnaires/{id}/titles", post(questionnaires::titles))
            .route(
                "/patients/{id}/questionnaires",
                get(questionnaires::patient_page).post(questionnaires::ask_form),
            )
            .route(
                "/alerts/{id}/acknowledge",
                post(monitoring::acknowledge_form),
            )
            .route(
                "/visits/{id}/note",
                get(records::note_page).post(records::draft_form),
            )
            .route("/visits/{id}/note/finalise", post(records::finalise_form))
            .route("/visits/{id}/note/amend", post(records::amend_form))
            .route("/visits/{id}/note/error", post(records::error_form))
            .route("/visits/{id}/identity", post(records::identity_form))
            .route(
                "/patients/{id}/plan",
                get(records::plan_page).post(records::plan_form),
            )
            .route("/patients/{id}/plan/offer", post(records::offer_form))
            .route("/patients/{id}/plan/verbal", post(records::verbal_form))
            .route("/patients/{id}/record", get(records::print_page))
            .route("/worklist", get(booking::worklist_page))
            .route("/calls/{id}", get(calls::call_page))
            .route("/worklist/rows", get(booking::worklist_rows_page))
            .route("/worklist/stamp", get(booking::worklist_stamp))
            .route("/appointments/{id}/state", post(booking::change_state))
            .route("/schedule", get(booking::schedule_page))
            .route("/schedule/settings", post(booking::settings))
            .route("/schedule/menus", post(booking::menu))
            .route("/schedule/menus/{id}/active", post(booking::menu_active))
            .route(
                "/schedule/menus/{id}/questionnaire",
                post(booking::menu_questionnaire),
            )
            .route("/schedule/doctors/{id}/hours", post(booking::week))
            .route("/schedule/doctors/{id}/days", post(booking::day))
            .route(
                "/schedule/doctors/{id}/days/{date}/remove",
                post(booking::remove_day),
            )
            .route(
                "/patients/requests/{id}/approve",
                post(links::approve_request),
            )
            .route(
                "/patients/requests/{id}/refuse",
                post(links::refuse_request),
            )
            .route("/members/{id}/role", post(clinic::change_role))
            .route("/members/{id}/disable", post(clinic::disable))
            .route("/members/{id}/end-sessions", post(clinic::end_sessions))
            .route("/certificates", get(clinic::certificates_page))
            .route("/operator-access", get(access::operator_access_page))
            .route("/operator-access/{id}/approve", post(access::approve))
            .route("/operator-access/{id}/refuse", post(access::refuse))
            .route("/operator-access/{id}/end", post(access::end)),
    }
}

/// The error page for a request that never reached a handler (e.g. a suspended service).
pub fn error_page(parts: &axum::http::request::Parts, err: &ApiError) -> axum::response::Response {
    context::Page::of(parts).error(None, err)
}

/// The worklist's script (see [`booking::worklist_script`]).
pub use booking::worklist_script;
/// The call pages' script (see [`calls::call_script`]).
pub use calls::call_script;
/// The disclosure as one HTML file (see [`disclosure::disclosure_html`]).
pub use disclosure::disclosure_html;

/// The one stylesheet; not personal, so it may be cached.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        concat!(
            include_str!("../../static/app.css"),
            include_str!("../../static/disclosure.css")
        ),
    )
}

/// A posted form, or a 4xx saying why it could not be read (too large, not a form, fields
/// missing or malformed).
fn form<T>(posted: Result<Form<T>, FormRejection>) -> Result<T, ApiError> {
    posted.map(|Form(value)| value).map_err(|rejection| {
        let status = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(
            status,
            "invalid_form",
            "the form could not be read; reload the page and try again",
        )
    })
}
