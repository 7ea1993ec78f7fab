//! The router of each listener: a route of one listener does not exist on another (NET-3).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use enshin_core::password::CommonPasswords;
use enshin_core::session::SessionPolicy;
use enshin_store::Store;
use enshin_store::keyring::Keyring;

use crate::error::ApiError;
use crate::health::healthz;
use crate::listener::ListenerKind;
use crate::middleware::request_frame;
use crate::{
    announcements, booking, calls, certificates, console, emergency, grants, links, members,
    monitoring, notes, patients, plans, questionnaires, registry, reset, schedule, session,
};

/// What handlers of one listener share.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The listener this router belongs to.
    pub listener: ListenerKind,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// The keyring of data keys (A-class columns are sealed with it).
    pub keyring: Arc<Keyring>,
    /// The bundled list of common passwords (AUTH-3).
    pub common_passwords: Arc<CommonPasswords>,
    /// An Argon2id hash of a random password: unknown IDs are verified against it, so that
    /// their answer takes as long as a wrong password's.
    pub dummy_hash: Arc<str>,
    /// The service CA (issues clinic certificates, signs the CRL).
    pub ca: Arc<enshin_core::pki::ServiceCa>,
    /// Client certificates refused at the clinic listener's handshake since start.
    pub refused_certificates: Arc<std::sync::atomic::AtomicU64>,
    /// The access log of this instance.
    pub audit: crate::audit::AuditLog,
    /// The access log's store, for operators' reading (LOG-3).
    pub audit_store: enshin_store::audit::AuditStore,
    /// Suspensions in force (AVAIL-4).
    pub suspensions: crate::incident::Suspensions,
    /// The outgoing-message queue (e-mail and SMS).
    pub messages: crate::messages::Messages,
    /// The clinic site's address as clinic PCs reach it, for links in mail.
    pub clinic_url: Arc<str>,
    /// The patient site's address as patients reach it, for links and QR codes.
    pub patient_url: Arc<str>,
    /// The group-committing writer of readings.
    pub ingest: crate::ingest::Ingest,
    /// Video calls: the bus between instances and the ICE servers.
    pub calls: crate::calls::CallHub,
    /// The counters behind `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The data backups' directory (the embedded default; PostgreSQL has pgBackRest's own).
    pub backups: Option<Arc<std::path::Path>>,
    /// The configuration the instance started with (a clinic's deletion reaches the keyring
    /// backups and reads the backup schedule).
    pub config: Arc<crate::config::Config>,
    /// Where the three listeners are bound (the disclosure probes them).
    pub addrs: crate::app::Addrs,
}

/// Largest request body; the API takes small JSON documents.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Largest device batch: [`enshin_core::vitals::BATCH_MAX`] readings with notes.
pub const DEVICE_BODY_LIMIT: usize = 256 * 1024;

/// The router of one listener.
pub fn router(state: AppState) -> Router {
    let listener = state.listener;
    // Every listener has the session API; operators log in with a TOTP code as well.
    let mut router = Router::new()
        .route(
            "/api/v1/session",
            post(session::login).delete(session::logout),
        )
        .route("/api/v1/me", get(session::me))
        .route("/api/v1/sessions", get(session::list_own))
        .route("/api/v1/sessions/{id}", delete(session::end_own));
    if listener == ListenerKind::Clinic {
        router = router
            .route("/api/v1/members", get(members::list).post(members::add))
            .route("/api/v1/members/{id}/disable", post(members::disable))
            .route("/api/v1/members/{id}/role", put(members::change_role))
            .route("/api/v1/members/{id}/password", put(reset::member_password))
            .route("/api/v1/me/email", put(reset::own_email))
            .route("/api/v1/password-reset", post(reset::request))
            .route("/api/v1/password-reset/link", post(reset::link))
            .route(
                "/api/v1/members/{id}/sessions",
                delete(members::end_sessions),
            )
            .route("/api/v1/certificates", get(certificates::list))
            .route("/api/v1/announcements", get(announcements::list))
            .route("/api/v1/patients", get(registry::list).post(registry::add))
            .route(
                "/api/v1/patients/import",
                post(registry::import).layer(DefaultBodyLimit::max(enshin_core::roster::BYTES_MAX)),
            )
            .route("/api/v1/patients/export", get(registry::export))
            .route("/api/v1/export", get(crate::export::download))
            .route("/api/v1/patients/{id}", get(registry::read))
            .route("/api/v1/patients/{id}/invitations", post(links::create))
            .route("/api/v1/clinic-code", get(links::code))
            .route("/api/v1/join-requests", get(links::join_requests))
            .route(
                "/api/v1/join-requests/{id}/approve",
                post(links::approve_join),
            )
            .route(
                "/api/v1/join-requests/{id}/refuse",
                post(links::refuse_join),
            )
            .route("/api/v1/access-grants", get(grants::list))
            .route("/api/v1/access-grants/{id}/approve", post(grants::approve))
            .route("/api/v1/access-grants/{id}/refuse", post(grants::refuse))
            .route("/api/v1/access-grants/{id}/end", post(grants::end))
            .route("/api/v1/operator-access", get(grants::operator_access))
            .route(
                "/api/v1/booking-settings",
                get(schedule::get_settings).put(schedule::put_settings),
            )
            .route(
                "/api/v1/menus",
                get(schedule::list_menus).post(schedule::create_menu),
            )
            .route("/api/v1/menus/{id}/withdraw", post(schedule::withdraw_menu))
            .route("/api/v1/menus/{id}/offer", post(schedule::offer_menu))
            .route("/api/v1/doctors", get(schedule::list_doctors))
            .route(
                "/api/v1/doctors/{id}/hours",
                get(schedule::get_week).put(schedule::put_week),
            )
            .route(
                "/api/v1/doctors/{id}/days/{date}",
                put(schedule::put_day).delete(schedule::delete_day),
            )
            .route("/api/v1/slots", get(booking::clinic_slots))
            .route(
                "/api/v1/appointments",
                get(booking::clinic_list).post(booking::create),
            )
            .route("/api/v1/appointments/{id}", get(booking::read))
            .route(
                "/api/v1/appointments/{id}/call",
                get(calls::record).post(calls::credential),
            )
            .route("/api/v1/appointments/{id}/call/signal", get(calls::signal))
            .route("/api/v1/clinic-contact", put(calls::put_contact))
            .route(
                "/api/v1/appointments/{id}/note",
                get(notes::read).put(notes::put_draft),
            )
            .route(
                "/api/v1/appointments/{id}/note/finalise",
                post(notes::post_finalise),
            )
            .route(
                "/api/v1/appointments/{id}/note/amend",
                post(notes::post_amend),
            )
            .route(
                "/api/v1/appointments/{id}/note/entered-in-error",
                post(notes::post_in_error),
            )
            .route(
                "/api/v1/appointments/{id}/identity-check",
                post(notes::post_identity),
            )
            .route(
                "/api/v1/patients/{id}/plan",
                get(plans::read).put(plans::put_draft),
            )
            .route("/api/v1/patients/{id}/plan/offer", post(plans::post_offer))
            .route(
                "/api/v1/patients/{id}/plan/verbal-agreement",
                post(plans::post_verbal),
            )
            .route(
                "/api/v1/record-settings",
                get(plans::get_settings).put(plans::put_settings),
            )
            .route(
                "/api/v1/appointments/{id}/state",
                post(booking::change_state),
            )
            .route(
                "/api/v1/appointments/{id}/reschedule",
                post(booking::reschedule),
            )
            .route(
                "/api/v1/patients/{id}/readings",
                get(monitoring::list_for_clinic),
            )
            .route(
                "/api/v1/patients/{id}/readings/export",
                get(monitoring::export),
            )
            .route(
                "/api/v1/patients/{id}/thresholds",
                get(monitoring::list_thresholds)
                    .put(monitoring::put_threshold)
                    .delete(monitoring::delete_threshold),
            )
            .route("/api/v1/alerts", get(monitoring::list_alerts))
            .route(
                "/api/v1/questionnaires",
                get(questionnaires::list).post(questionnaires::create),
            )
            .route(
                "/api/v1/questionnaires/{id}",
                get(questionnaires::read).put(questionnaires::put),
            )
            .route(
                "/api/v1/menus/{id}/questionnaire",
                put(questionnaires::put_menu),
            )
            .route(
                "/api/v1/patients/{id}/questionnaires",
                get(questionnaires::patient_list).post(questionnaires::post_ask),
            )
            .route(
                "/api/v1/appointments/{id}/questionnaires",
                get(questionnaires::visit_list),
            )
            .route(
                "/api/v1/questionnaire-requests/{id}/photos/{photo}",
                get(questionnaires::get_photo),
            )
            .route(
                "/api/v1/alerts/{id}/acknowledge",
                post(monitoring::acknowledge_alert),
            );
    }
    if listener == ListenerKind::Operator {
        router = router
            .route(
                "/api/v1/clinics",
                get(console::clinics).post(console::create_clinic),
            )
            .route("/api/v1/clinics/{id}", get(console::clinic_overview))
            .route(
                "/api/v1/clinics/{id}/admin-email",
                put(emergency::set_admin_email),
            )
            .route(
                "/api/v1/clinics/{id}/emergency",
                post(emergency::start).delete(emergency::end),
            )
            .route(
                "/api/v1/clinics/{id}/access-requests",
                post(grants::request),
            )
            .route(
                "/api/v1/clinics/{id}/break-glass",
                post(grants::break_glass),
            )
            .route(
                "/api/v1/clinics/{id}/patients/{patient}",
                get(registry::read_as_operator),
            )
            .route("/api/v1/access-grants", get(grants::list))
            .route("/api/v1/audit", get(console::audit))
            .route(
                "/api/v1/announcements",
                get(announcements::list).post(announcements::publish),
            )
            .route(
                "/api/v1/suspensions",
                get(console::suspensions).post(console::suspend),
            )
            .route("/api/v1/suspensions/{scope}", delete(console::lift))
            .route(
                "/api/v1/accounts/{id}/sessions",
                delete(console::end_sessions),
            );
    }
    if listener == ListenerKind::Patient {
        router = router
            .route("/api/v1/patients", post(patients::register))
            .route("/api/v1/profile", get(patients::profile))
            .route("/api/v1/terms", get(patients::terms))
            .route("/api/v1/terms/accept", post(patients::accept))
            .route("/api/v1/password-reset", post(reset::request))
            .route("/api/v1/password-reset/confirm", post(reset::confirm))
            .route("/api/v1/contact/verify", post(reset::verify_start))
            .route(
                "/api/v1/contact/verify/confirm",
                post(reset::verify_confirm),
            )
            .route("/api/v1/links", get(links::list).post(links::link))
            .route(
                "/api/v1/join-requests",
                get(links::join_requests).post(links::ask_to_join),
            )
            .route("/api/v1/clinics/{id}/offer", get(booking::patient_offer))
            .route("/api/v1/clinics/{id}/slots", get(booking::patient_slots))
            .route(
                "/api/v1/appointments",
                get(booking::patient_list).post(booking::create),
            )
            .route(
                "/api/v1/appointments/{id}/reschedule",
                post(booking::reschedule),
            )
            .route("/api/v1/appointments/{id}/cancel", post(booking::cancel))
            .route("/api/v1/appointments/{id}/call", post(calls::credential))
            .route("/api/v1/appointments/{id}/call/signal", get(calls::signal))
            .route("/api/v1/plans", get(plans::own_list))
            .route("/api/v1/plans/{id}/agree", post(plans::post_agree))
            .route(
                "/api/v1/readings",
                get(monitoring::list_own).post(monitoring::post_own),
            )
            .route(
                "/api/v1/readings/{id}/withdraw",
                post(monitoring::post_withdraw),
            )
            .route("/api/v1/profile/time-zone", put(monitoring::put_zone))
            .route(
                "/api/v1/devices",
                get(monitoring::list_devices).post(monitoring::create_device),
            )
            .route("/api/v1/devices/{id}/revoke", post(monitoring::revoke))
            .route(
                "/api/v1/questionnaire-requests",
                get(questionnaires::own_list),
            )
            .route(
                "/api/v1/questionnaire-requests/{id}",
                get(questionnaires::own_read).put(questionnaires::put_draft),
            )
            .route(
                "/api/v1/questionnaire-requests/{id}/submit",
                post(questionnaires::submit),
            )
            .route(
                "/api/v1/questionnaire-requests/{id}/photos",
                post(questionnaires::post_photo).layer(DefaultBodyLimit::max(
                    enshin_core::questionnaire::PHOTO_BYTES_MAX,
                )),
            )
            .route(
                "/api/v1/questionnaire-requests/{id}/photos/{photo}",
                get(questionnaires::get_photo),
            )
            .route(
                "/api/v1/device/readings",
                post(monitoring::post_device).layer(DefaultBodyLimit::max(DEVICE_BODY_LIMIT)),
            );
    }
    let router = crate::web::pages(router, listener);
    // Scrapers reach the operator listener (loopback or a management network) only.
    let router = if listener == ListenerKind::Operator {
        router.route("/metrics", get(crate::metrics::metrics))
    } else {
        router
    };
    // Every route above is closed while suspended (AVAIL-4) and gets an access-log entry, the
    // refusal included; health checks and the stylesheet touch no data.
    router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::incident::gate,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::access::record,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::measure,
        ))
        .route("/healthz", get(healthz))
        .route("/static/app.css", get(crate::web::stylesheet))
        .route("/static/worklist.js", get(crate::web::worklist_script))
        .route("/static/call.js", get(crate::web::call_script))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(request_frame))
        .with_state(state)
}
