//! The conformance disclosure on the web (DISC-1): the console's live document with its publish
//! button and revision history (§13-②), the public current revision, and each clinic's public
//! page that links it (FUNC-9).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::disclosure::{Document, SIGNED_FORMAT, Signed, View};
use enshin_store::disclosures::StoredDisclosure;

use super::context::{Button, Frame, Page, Posted, SignedIn};
use super::texts::Lang;
use crate::clock::japan_time;
use crate::disclosure::{Sources, generate, publish, verified};
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::Authenticated;

/// The style of the file `enshin disclose --format html` writes.
const STANDALONE_BASE: &str = "body { font-family: \"Noto Sans CJK JP\", \"Noto Sans JP\", sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }\ncode { font-size: .9em; }\n";

/// The disclosure as one HTML file that stands alone.
#[derive(Template)]
#[template(path = "disclosure_standalone.html")]
struct Standalone<'a> {
    v: &'a View,
    css: String,
}

/// The document as a standalone HTML file.
pub fn disclosure_html(doc: &Document, lang: enshin_core::disclosure::Lang) -> String {
    let v = doc.view(lang);
    Standalone {
        v: &v,
        css: format!(
            "{STANDALONE_BASE}{}",
            include_str!("../../static/disclosure.css")
        ),
    }
    .render()
    .unwrap_or_default()
}

struct HistoryRow {
    revision: u64,
    at: String,
    by: String,
    conformant: bool,
    verified: bool,
    shown: bool,
}

struct Console {
    live: bool,
    history: Vec<HistoryRow>,
}

#[derive(Template)]
#[template(path = "disclosure.html")]
struct DisclosurePage {
    f: Frame,
    v: View,
    console: Option<Console>,
}

fn doc_lang(page: &Page) -> enshin_core::disclosure::Lang {
    match page.t().lang {
        Lang::Ja => enshin_core::disclosure::Lang::Ja,
        Lang::En => enshin_core::disclosure::Lang::En,
    }
}

async fn history(state: &AppState, shown: Option<u64>) -> Result<Vec<HistoryRow>, ApiError> {
    Ok(state
        .store
        .disclosures()
        .await?
        .iter()
        .map(|d| HistoryRow {
            revision: d.revision,
            at: japan_time(d.published_at),
            by: d.published_by.clone(),
            conformant: d.conformant,
            verified: verified(d),
            shown: shown == Some(d.revision),
        })
        .collect())
}

fn stored_document(d: &StoredDisclosure) -> Result<Document, ApiError> {
    serde_json::from_str(&d.document).map_err(|e| ApiError::unavailable(&e))
}

async fn console_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    revision: Option<u64>,
) -> Result<Response, ApiError> {
    authorize(&auth.actor, Action::PublishDisclosure, Target::Service)?;
    let doc = match revision {
        None => generate(&Sources::of(state)).await,
        Some(n) => stored_document(
            &state
                .store
                .disclosure(n)
                .await?
                .ok_or_else(ApiError::not_found)?,
        )?,
    };
    let template = DisclosurePage {
        f: page.frame(Some(auth)),
        v: doc.view(doc_lang(page)),
        console: Some(Console {
            live: revision.is_none(),
            history: history(state, revision).await?,
        }),
    };
    Ok(page.render(StatusCode::OK, &template))
}

/// `GET /disclosure` (console): the document generated now, the publish button and the history.
pub async fn console_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    console_view(&state, &page, &auth, None)
        .await
        .unwrap_or_else(|e| page.error(Some(&auth), &e))
}

fn revision_number(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(ApiError::not_found)
}

/// `GET /disclosure/revisions/{n}` (console): a published revision as it was published.
pub async fn revision_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(n): Path<String>,
) -> Response {
    let shown = async {
        let n = revision_number(&n)?;
        console_view(&state, &page, &auth, Some(n)).await
    };
    shown.await.unwrap_or_else(|e| page.error(Some(&auth), &e))
}

/// The signed envelope of a revision: the document's exact bytes, the signer and the signature.
fn signed_json(d: &StoredDisclosure) -> Response {
    let body = Signed {
        format: SIGNED_FORMAT.into(),
        revision: d.revision,
        document: d.document.clone(),
        signer: d.signer.clone(),
        public_key: d.public_key.clone(),
        signature: d.signature.clone(),
    };
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"disclosure-{}.json\"", d.revision),
            ),
        ],
        serde_json::to_string_pretty(&body).unwrap_or_default(),
    )
        .into_response()
}

/// `GET /disclosure/revisions/{n}/signed.json` (console).
pub async fn revision_json(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(n): Path<String>,
) -> Response {
    let found = async {
        authorize(&auth.actor, Action::PublishDisclosure, Target::Service)?;
        let n = revision_number(&n)?;
        state
            .store
            .disclosure(n)
            .await?
            .ok_or_else(ApiError::not_found)
    };
    match found.await {
        Ok(d) => signed_json(&d),
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// `POST /disclosure/publish` (console): generates the document afresh and publishes it, signed
/// with this instance's access-log writer key.
pub async fn publish_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(_): Posted<Button>,
) -> Response {
    let published = async {
        authorize(&auth.actor, Action::PublishDisclosure, Target::Service)?;
        let doc = generate(&Sources::of(&state)).await;
        Ok::<_, ApiError>(
            publish(
                &state.store,
                doc,
                state.audit.signer(),
                &auth.session.account_id,
            )
            .await?,
        )
    };
    match published.await {
        Ok(d) => page.redirect(&format!(
            "/disclosure/revisions/{}?done=disclosure_published",
            d.revision
        )),
        Err(e) => page.error(Some(&auth), &e),
    }
}

fn not_published() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_published",
        "The service conformance disclosure has not been published yet.",
    )
}

/// `GET /disclosure` (public): the current revision, in the page's language.
pub async fn public_page(State(state): State<AppState>, page: Page) -> Response {
    let shown = async {
        let latest = state
            .store
            .latest_disclosure()
            .await?
            .ok_or_else(not_published)?;
        let doc = stored_document(&latest)?;
        Ok::<_, ApiError>(DisclosurePage {
            f: page.frame(None),
            v: doc.view(doc_lang(&page)),
            console: None,
        })
    };
    match shown.await {
        Ok(template) => page.render(StatusCode::OK, &template),
        Err(e) => page.error(None, &e),
    }
}

/// `GET /disclosure.json` (public): the current revision, signed.
pub async fn public_json(State(state): State<AppState>, page: Page) -> Response {
    match state.store.latest_disclosure().await {
        Ok(Some(d)) => signed_json(&d),
        Ok(None) => page.error(None, &not_published()),
        Err(e) => page.error(None, &e.into()),
    }
}

#[derive(Template)]
#[template(path = "clinic_about.html")]
struct ClinicAbout {
    f: Frame,
    id: String,
    name: String,
    phone: Option<String>,
    doctors: Vec<String>,
    storage: String,
}

/// `GET /clinics/{id}/about` (public): the clinic's page for patients (FUNC-9): compliance with
/// the guideline, contact point, doctors, the security explanation and the current disclosure.
pub async fn clinic_about(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    let shown = async {
        let id = (id.len() <= 64 && !id.is_empty())
            .then_some(id)
            .ok_or_else(ApiError::not_found)?;
        let name = state
            .store
            .clinic_name(&id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let phone = state
            .store
            .clinic_phone(&id)
            .await?
            .filter(|p| !p.trim().is_empty());
        let doctors = state
            .store
            .doctors(&id)
            .await?
            .into_iter()
            .map(|d| d.name)
            .collect();
        let t = page.t().d;
        let place = match (&state.config.data_country, &state.config.data_region) {
            (Some(c), Some(r)) => format!("{c}, {r}"),
            (Some(c), None) => c.clone(),
            _ => t.storage_unknown.to_owned(),
        };
        Ok::<_, ApiError>(ClinicAbout {
            f: page.frame(None),
            storage: t.storage_text.replace("{place}", &place),
            id,
            name,
            phone,
            doctors,
        })
    };
    match shown.await {
        Ok(template) => page.render(StatusCode::OK, &template),
        Err(e) => page.error(None, &e),
    }
}
