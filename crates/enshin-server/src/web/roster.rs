//! The registry's CSV pages (FUNC-1), for clinic admins: choose a file, see the check (every
//! refused row by line and column, and the first rows as read), then import all or nothing; and
//! the export. The same functions as the JSON API.

use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use enshin_core::roster;
use serde::Deserialize;

use super::context::{Frame, Page, Posted, SignedIn};
use crate::access::AccessFacts;
use crate::error::ApiError;
use crate::registry::{Checked, check_import, commit_import, export_csv};
use crate::routes::AppState;
use crate::session::Authenticated;

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    f: Frame,
    error: Option<String>,
}

/// `GET /patients/import` (clinic admin): the file form.
pub async fn import_page(page: Page, SignedIn(auth): SignedIn) -> Response {
    if let Err(e) = auth.member_clinic(enshin_core::authz::Action::TransferRegistry) {
        return page.error(Some(&auth), &e);
    }
    let template = ImportPage {
        f: page.frame(Some(&auth)),
        error: None,
    };
    page.render(StatusCode::OK, &template)
}

struct ErrorRow {
    line: u64,
    field: String,
    message: String,
}

struct PreviewRow {
    line: u64,
    name: String,
    kana: String,
    birth_date: String,
    card_number: String,
}

#[derive(Template)]
#[template(path = "import_check.html")]
struct CheckPage {
    f: Frame,
    ready: usize,
    errors: Vec<ErrorRow>,
    preview: Vec<PreviewRow>,
    csv: String,
    error: Option<String>,
}

fn check_view(
    page: &Page,
    auth: &Authenticated,
    checked: &Checked,
    csv: String,
    err: Option<&ApiError>,
) -> Response {
    let t = page.t();
    let template = CheckPage {
        f: page.frame(Some(auth)),
        ready: checked.records.len(),
        errors: checked
            .errors
            .iter()
            .map(|e| {
                // The message without its "field: " prefix: the field has a column of its own.
                let message = e
                    .field
                    .and_then(|f| e.message.strip_prefix(&format!("{f}: ")))
                    .unwrap_or(&e.message);
                let shown =
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
                        .with_problem(e.code);
                ErrorRow {
                    line: e.line,
                    field: e.field.map(|f| t.field(f)).unwrap_or_default().to_owned(),
                    message: t.error(&shown),
                }
            })
            .collect(),
        preview: checked
            .records
            .iter()
            .take(20)
            .map(|(line, _, p)| PreviewRow {
                line: *line,
                name: p.name(),
                kana: p.kana(),
                birth_date: p.birth_date.clone(),
                card_number: p.card_number.clone(),
            })
            .collect(),
        // Offered for the import only when every row is good.
        csv: if checked.errors.is_empty() {
            csv
        } else {
            String::new()
        },
        error: err.map(|e| t.error(e)),
    };
    let status = err.map_or(
        if checked.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        |e| e.status,
    );
    page.render(status, &template)
}

fn unreadable() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_form",
        "the form could not be read; choose the file again",
    )
}

/// `POST /patients/import` (clinic admin, multipart: `csrf`, `file`): the check; nothing stored.
pub async fn check(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let result = async {
        let mut multipart = multipart.map_err(|_| unreadable())?;
        let (mut csrf, mut file) = (String::new(), None);
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            ApiError::new(
                e.status(),
                "invalid_form",
                "the file is too large (at most 4 MiB) or could not be read",
            )
        })? {
            match field.name() {
                Some("csrf") => csrf = field.text().await.map_err(|_| unreadable())?,
                Some("file") => file = Some(field.bytes().await.map_err(|_| unreadable())?),
                _ => {}
            }
        }
        page.check_form(&headers, &csrf)?;
        let bytes = file.ok_or_else(unreadable)?;
        let text = roster::decode(&bytes)?;
        let checked = check_import(&state, &auth, text.as_bytes()).await?;
        Ok::<_, ApiError>((checked, text))
    }
    .await;
    match result {
        Ok((checked, text)) => check_view(&page, &auth, &checked, text, None),
        Err(e) if e.code == "invalid_csv" => {
            let template = ImportPage {
                f: page.frame(Some(&auth)),
                error: Some(page.t().error(&e)),
            };
            page.render(e.status, &template)
        }
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// The import form of the check page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommitForm {
    csv: String,
}

/// `POST /patients/import/commit` (clinic admin): checks the text again and imports every row,
/// or none.
pub async fn commit(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<CommitForm>,
) -> Response {
    let checked = match check_import(&state, &auth, form.csv.as_bytes()).await {
        Ok(checked) => checked,
        Err(e) => return page.error(Some(&auth), &e),
    };
    if !checked.errors.is_empty() {
        return check_view(&page, &auth, &checked, form.csv, None);
    }
    match commit_import(&state, &auth, &checked).await {
        Ok(_) => page.redirect("/patients?done=imported"),
        Err(e) => check_view(&page, &auth, &checked, String::new(), Some(&e)),
    }
}

/// `GET /export.zip` (clinic admin): the clinic's whole data set (DATA-6).
pub async fn export_all(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
) -> Response {
    match crate::export::export_response(&state, &auth, &facts).await {
        Ok(response) => response,
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// `GET /patients/export.csv` (clinic admin).
pub async fn export(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
) -> Response {
    match export_csv(&state, &auth, &facts).await {
        Ok(bytes) => crate::registry::csv_response("patients.csv", bytes),
        Err(e) => page.error(Some(&auth), &e),
    }
}
