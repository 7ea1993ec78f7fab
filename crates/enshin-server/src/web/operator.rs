//! The operator console's access-log page (LOG-3).
//! Ids and clinic names only; nothing here can show a patient's data.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::context::{Frame, Page, SignedIn};
use crate::clock::japan_time;
use crate::console::search_log;
use crate::routes::AppState;

struct EntryRow {
    time: String,
    listener: String,
    action: String,
    status: u16,
    outcome: &'static str,
    principal: String,
    clinic: String,
    target: String,
    source: String,
}

#[derive(Template)]
#[template(path = "operator_audit.html")]
struct AuditPage {
    f: Frame,
    q: HashMap<String, String>,
    entries: Vec<EntryRow>,
    next: Option<String>,
}

impl AuditPage {
    fn value(&self, key: &str) -> &str {
        self.q.get(key).map_or("", String::as_str)
    }

    /// The query of the next page: the same filters, continued after the last entry.
    fn next_query(&self, after: &str) -> String {
        let mut pairs: Vec<String> = ["from", "to", "clinic", "principal", "outcome"]
            .iter()
            .filter_map(|k| self.q.get(*k).filter(|v| !v.is_empty()).map(|v| (k, v)))
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        pairs.push(format!("after={}", encode(after)));
        pairs.join("&")
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /audit?from&to&clinic&principal&outcome&after`: the access log, 100 entries a page.
pub async fn audit_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Query(mut q): Query<HashMap<String, String>>,
) -> Response {
    // Empty form fields mean "any".
    q.retain(|k, v| !v.is_empty() && k != "lang");
    match search_log(&state, &auth, &q).await {
        Ok((entries, next)) => {
            let dash = |v: Option<&String>| v.cloned().unwrap_or_else(|| "-".into());
            let rows = entries
                .into_iter()
                .map(|s| {
                    let e = s.entry;
                    EntryRow {
                        time: japan_time(e.at_ms),
                        listener: e.listener,
                        action: e.action,
                        status: e.status,
                        outcome: e.outcome.as_str(),
                        principal: dash(e.principal_id.as_ref()),
                        clinic: dash(e.clinic_id.as_ref()),
                        target: dash(e.target_id.as_ref()),
                        source: dash(e.source.as_ref()),
                    }
                })
                .collect();
            let template = AuditPage {
                f: page.frame(Some(&auth)),
                q,
                entries: rows,
                next,
            };
            page.render(StatusCode::OK, &template)
        }
        Err(err) => page.error(Some(&auth), &err),
    }
}
