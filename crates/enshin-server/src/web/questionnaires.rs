//! Questionnaire pages (FUNC-3): the patient answers on the phone (save for later, then send
//! once; photos from the camera); the clinic builds questionnaires one question at a time, asks a
//! patient, and reads the submitted answers. The same functions as the JSON API.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::questionnaire::{Definition, Question, QuestionType};
use serde::Deserialize;
use serde_json::Value;

use super::context::{Button, Frame, Page, Posted, SignedIn};
use super::questionnaire_texts::QuestionnaireTexts;
use crate::error::ApiError;
use crate::questionnaires::{
    Shown, TypedAnswers, add, add_photo, ask, catalogue, change, current, own_request,
    own_requests, patient_answers, request_state, save,
};
use crate::routes::AppState;
use crate::session::Authenticated;

fn state_label(q: &QuestionnaireTexts, state: &str) -> &'static str {
    match state {
        "submitted" => q.states[2],
        "draft" => q.states[1],
        _ => q.states[0],
    }
}

/// A request in a patient's list.
struct RequestCard {
    id: String,
    title: String,
    clinic: String,
    state: &'static str,
    done: bool,
}

#[derive(Template)]
#[template(path = "questionnaires_mine.html")]
struct MinePage {
    f: Frame,
    cards: Vec<RequestCard>,
}

/// `GET /questionnaires` (patient): what the clinics asked.
pub async fn mine_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    let q = page.t().q;
    let list = match own_requests(&state, &auth).await {
        Ok(list) => list,
        Err(e) => return page.error(Some(&auth), &e),
    };
    let template = MinePage {
        f: page.frame(Some(&auth)),
        cards: list
            .iter()
            .map(|(s, clinic)| RequestCard {
                id: s.request.id.clone(),
                title: s.definition.patient_title.clone(),
                clinic: clinic.clone(),
                state: state_label(q, request_state(&s.request)),
                done: s.request.submitted_at.is_some(),
            })
            .collect(),
    };
    page.render(StatusCode::OK, &template)
}

/// One question on the answer form, with what is answered so far.
struct Field {
    id: String,
    text: String,
    required: bool,
    /// `yes_no`, `single`, `multiple`, `number`, `date`, `text` or `photo`.
    kind: &'static str,
    choices: Vec<(String, bool)>,
    unit: String,
    value: String,
    yes: Option<bool>,
    invalid: bool,
}

fn kind_name(k: &QuestionType) -> &'static str {
    match k {
        QuestionType::YesNo => "yes_no",
        QuestionType::Single { .. } => "single",
        QuestionType::Multiple { .. } => "multiple",
        QuestionType::Number { .. } => "number",
        QuestionType::Date => "date",
        QuestionType::Text => "text",
        QuestionType::Photo => "photo",
    }
}

fn fields(d: &Definition, answers: &BTreeMap<String, Value>, bad: Option<&str>) -> Vec<Field> {
    d.questions
        .iter()
        .map(|q| {
            let a = answers.get(&q.id);
            let text_of = |v: Option<&Value>| match v {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            let picked = |c: &String| match a {
                Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(c)),
                Some(Value::String(s)) => s == c,
                _ => false,
            };
            let (choices, unit) = match &q.kind {
                QuestionType::Single { choices } | QuestionType::Multiple { choices } => (
                    choices.iter().map(|c| (c.clone(), picked(c))).collect(),
                    String::new(),
                ),
                QuestionType::Number { unit, .. } => (Vec::new(), unit.clone()),
                _ => (Vec::new(), String::new()),
            };
            Field {
                id: q.id.clone(),
                text: q.text.clone(),
                required: q.required,
                kind: kind_name(&q.kind),
                choices,
                unit,
                value: text_of(a),
                yes: a.and_then(Value::as_bool),
                invalid: bad == Some(q.id.as_str()),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "questionnaire_answer.html")]
struct AnswerPage {
    f: Frame,
    id: String,
    title: String,
    version: i64,
    fields: Vec<Field>,
    done: bool,
    error: Option<String>,
}

/// The question an answer error names (`q2: …`), if any.
fn question_of<'a>(d: &'a Definition, err: &ApiError) -> Option<&'a Question> {
    let (id, _) = err.message.split_once(": ")?;
    d.questions.iter().find(|q| q.id == id)
}

fn answer_view(
    page: &Page,
    auth: &Authenticated,
    s: &Shown,
    typed: Option<&BTreeMap<String, Value>>,
    err: Option<&ApiError>,
) -> Response {
    let saved = s.request.answers.clone().unwrap_or_default();
    let answers = typed.unwrap_or(&saved);
    let bad = err.and_then(|e| question_of(&s.definition, e));
    let error = err.map(|e| match bad {
        Some(q) => format!("{}: {}", q.text, page.t().error(e)),
        None => page.t().error(e),
    });
    let template = AnswerPage {
        f: page.frame(Some(auth)),
        id: s.request.id.clone(),
        title: s.definition.patient_title.clone(),
        version: s.version,
        fields: fields(&s.definition, answers, bad.map(|q| q.id.as_str())),
        done: s.request.submitted_at.is_some(),
        error,
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /questionnaires/{id}` (patient): the form, or the sent answers.
pub async fn answer_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
) -> Response {
    match own_request(&state, &auth, &id).await {
        Ok(s) => answer_view(&page, &auth, &s, None, None),
        Err(e) => page.error(Some(&auth), &e),
    }
}

fn unreadable() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_form",
        "the form could not be read; reload the page and try again",
    )
}

/// A form part that could not be read: too large (413) or malformed (400).
fn unread(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::new(
        e.status(),
        "invalid_form",
        "the photos are too large (5 MB each at most) or the form could not be read",
    )
}

/// What the answer form sent: its token, version, button, and each question's fields; photo
/// files are attached as they are read.
struct Sent {
    csrf: String,
    version: i64,
    submit: bool,
    answers: BTreeMap<String, Value>,
}

async fn read_form(
    state: &AppState,
    auth: &Authenticated,
    page: &Page,
    headers: &HeaderMap,
    s: &Shown,
    mut multipart: Multipart,
) -> Result<Sent, ApiError> {
    let mut sent = Sent {
        csrf: String::new(),
        version: 0,
        submit: false,
        answers: BTreeMap::new(),
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(unread)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "csrf" => sent.csrf = field.text().await.map_err(unread)?,
            "version" => {
                sent.version = field
                    .text()
                    .await
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
            }
            "action" => sent.submit = field.text().await.map_err(unread)? == "submit",
            _ => {
                let Some(q) = s.definition.questions.iter().find(|q| q.id == name) else {
                    continue;
                };
                if matches!(q.kind, QuestionType::Photo) {
                    if field.file_name().is_some() {
                        let bytes = field.bytes().await.map_err(unread)?;
                        if !bytes.is_empty() {
                            files.push((name, bytes.to_vec()));
                        }
                    } else {
                        let kept = field.text().await.map_err(unread)?;
                        sent.answers.insert(name, Value::String(kept));
                    }
                    continue;
                }
                let text = field.text().await.map_err(unread)?;
                let value = match &q.kind {
                    QuestionType::YesNo => match text.as_str() {
                        "yes" => Value::Bool(true),
                        "no" => Value::Bool(false),
                        _ => Value::String(text),
                    },
                    QuestionType::Multiple { .. } => {
                        let mut items = match sent.answers.remove(&name) {
                            Some(Value::Array(items)) => items,
                            _ => Vec::new(),
                        };
                        items.push(Value::String(text));
                        Value::Array(items)
                    }
                    _ => Value::String(text),
                };
                sent.answers.insert(name, value);
            }
        }
    }
    page.check_form(headers, &sent.csrf)?;
    for (question, bytes) in files {
        let photo = add_photo(state, auth, &s.request.id, &bytes).await?;
        sent.answers.insert(question, Value::String(photo));
    }
    Ok(sent)
}

/// `POST /questionnaires/{id}` (patient, multipart): save for later, or send.
pub async fn answer(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let s = match own_request(&state, &auth, &id).await {
        Ok(s) => s,
        Err(e) => return page.error(Some(&auth), &e),
    };
    let Ok(multipart) = multipart else {
        return page.error(Some(&auth), &unreadable());
    };
    let sent = match read_form(&state, &auth, &page, &headers, &s, multipart).await {
        Ok(sent) => sent,
        Err(e) if e.code == "csrf" || e.code == "invalid_form" => {
            return page.error(Some(&auth), &e);
        }
        Err(e) => return answer_view(&page, &auth, &s, None, Some(&e)),
    };
    let typed = TypedAnswers {
        version: sent.version,
        answers: sent.answers.clone(),
    };
    match save(&state, &auth, &id, &typed, sent.submit).await {
        Ok(_) if sent.submit => page.redirect("/questionnaires?done=answers_submitted"),
        Ok(_) => page.redirect(&format!("/questionnaires/{id}?done=answers_saved")),
        Err(e) => answer_view(&page, &auth, &s, Some(&sent.answers), Some(&e)),
    }
}

/// A questionnaire in the clinic's list.
struct Listed {
    id: String,
    title: String,
    version: i64,
    questions: usize,
}

#[derive(Template)]
#[template(path = "questionnaires.html")]
struct ListPage {
    f: Frame,
    list: Vec<Listed>,
    may_build: bool,
    kinds: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

fn kinds(q: &QuestionnaireTexts) -> Vec<(&'static str, &'static str)> {
    [
        "yes_no", "single", "multiple", "number", "date", "text", "photo",
    ]
    .into_iter()
    .map(|k| (k, q.kind_name(k)))
    .collect()
}

fn may_build(auth: &Authenticated) -> bool {
    auth.member_clinic(Action::ManageQuestionnaires).is_ok()
}

async fn list_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    err: Option<&ApiError>,
) -> Response {
    let list = match catalogue(state, auth).await {
        Ok(list) => list,
        Err(e) => return page.error(Some(auth), &e),
    };
    let template = ListPage {
        f: page.frame(Some(auth)),
        list: list
            .iter()
            .map(|c| Listed {
                id: c.id.clone(),
                title: c.definition.staff_title.clone(),
                version: c.version,
                questions: c.definition.questions.len(),
            })
            .collect(),
        may_build: may_build(auth),
        kinds: kinds(page.t().q),
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /questionnaires` (clinic).
pub async fn list_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    list_view(&state, &page, &auth, None).await
}

/// A question as typed in the builder.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QuestionForm {
    text: String,
    kind: String,
    required: Option<String>,
    choices: String,
    unit: String,
    min: String,
    max: String,
}

impl QuestionForm {
    fn question(&self) -> Question {
        let choices = || {
            self.choices
                .lines()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let kind = match self.kind.as_str() {
            "yes_no" => QuestionType::YesNo,
            "single" => QuestionType::Single { choices: choices() },
            "multiple" => QuestionType::Multiple { choices: choices() },
            "number" => QuestionType::Number {
                unit: self.unit.clone(),
                min: self.min.clone(),
                max: self.max.clone(),
            },
            "date" => QuestionType::Date,
            "photo" => QuestionType::Photo,
            _ => QuestionType::Text,
        };
        Question {
            id: String::new(),
            text: self.text.clone(),
            required: self.required.is_some(),
            kind,
        }
    }
}

/// The new-questionnaire form: names and the first question.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateForm {
    staff_title: String,
    patient_title: String,
    #[serde(flatten)]
    first: QuestionForm,
}

/// `POST /questionnaires` (clinic: admin, doctor).
pub async fn create(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<CreateForm>,
) -> Response {
    let d = Definition {
        staff_title: form.staff_title.clone(),
        patient_title: form.patient_title.clone(),
        questions: vec![form.first.question()],
    };
    match add(&state, &auth, d).await {
        Ok(q) => page.redirect(&format!(
            "/questionnaires/{}?done=questionnaire_changed",
            q.id
        )),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            list_view(&state, &page, &auth, Some(&e)).await
        }
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// A question in the builder.
struct BuiltQuestion {
    id: String,
    text: String,
    kind: &'static str,
    required: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "questionnaire_edit.html")]
struct EditPage {
    f: Frame,
    id: String,
    staff_title: String,
    patient_title: String,
    version: i64,
    questions: Vec<BuiltQuestion>,
    may_build: bool,
    kinds: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn edit_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    err: Option<&ApiError>,
) -> Response {
    let q = page.t().q;
    let c = match current(state, auth, id).await {
        Ok(c) => c,
        Err(e) => return page.error(Some(auth), &e),
    };
    let template = EditPage {
        f: page.frame(Some(auth)),
        id: c.id.clone(),
        staff_title: c.definition.staff_title.clone(),
        patient_title: c.definition.patient_title.clone(),
        version: c.version,
        questions: c
            .definition
            .questions
            .iter()
            .map(|x| BuiltQuestion {
                id: x.id.clone(),
                text: x.text.clone(),
                kind: q.kind_name(kind_name(&x.kind)),
                required: x.required,
                detail: match &x.kind {
                    QuestionType::Single { choices } | QuestionType::Multiple { choices } => {
                        choices.join(" / ")
                    }
                    QuestionType::Number { unit, min, max } => format!("{min}–{max} {unit}"),
                    _ => String::new(),
                },
            })
            .collect(),
        may_build: may_build(auth),
        kinds: kinds(q),
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /questionnaires/{id}` (clinic): the questions, and the builder for doctors and admins.
pub async fn edit_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
) -> Response {
    edit_view(&state, &page, &auth, &id, None).await
}

/// Applies a change to a questionnaire's current content and saves it (a new version once
/// answered).
async fn edit_with(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    change_it: impl FnOnce(&mut Definition),
) -> Response {
    let mut c = match current(state, auth, id).await {
        Ok(c) => c,
        Err(e) => return page.error(Some(auth), &e),
    };
    change_it(&mut c.definition);
    match change(state, auth, id, c.definition).await {
        Ok(_) => page.redirect(&format!("/questionnaires/{id}?done=questionnaire_changed")),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            edit_view(state, page, auth, id, Some(&e)).await
        }
        Err(e) => page.error(Some(auth), &e),
    }
}

/// `POST /questionnaires/{id}/questions` (clinic: admin, doctor): adds a question at the end.
pub async fn add_question(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<QuestionForm>,
) -> Response {
    let question = form.question();
    edit_with(&state, &page, &auth, &id, |d| d.questions.push(question)).await
}

/// `POST /questionnaires/{id}/questions/{question}/remove` (clinic: admin, doctor).
pub async fn remove_question(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path((id, question)): Path<(String, String)>,
    Posted(_): Posted<Button>,
) -> Response {
    edit_with(&state, &page, &auth, &id, |d| {
        d.questions.retain(|q| q.id != question);
    })
    .await
}

/// The names form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TitlesForm {
    staff_title: String,
    patient_title: String,
}

/// `POST /questionnaires/{id}/titles` (clinic: admin, doctor).
pub async fn titles(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<TitlesForm>,
) -> Response {
    edit_with(&state, &page, &auth, &id, |d| {
        d.staff_title = form.staff_title;
        d.patient_title = form.patient_title;
    })
    .await
}

/// A submitted answer as the clinic reads it.
pub(crate) struct AnswerRow {
    pub(crate) question: String,
    pub(crate) answer: String,
    pub(crate) photo: Option<String>,
}

/// A request as the clinic reads it: on the patient's questionnaire page and in the export.
pub(crate) struct RequestRow {
    pub(crate) title: String,
    pub(crate) version: i64,
    pub(crate) state: &'static str,
    pub(crate) asked: String,
    pub(crate) submitted: String,
    pub(crate) answers: Vec<AnswerRow>,
}

/// A request with its submitted answers; `photo_link(request, photo)` is where a photo answer
/// is shown from.
pub(crate) fn request_row(
    q: &QuestionnaireTexts,
    s: &Shown,
    tz: &jiff::tz::TimeZone,
    photo_link: &dyn Fn(&str, &str) -> Option<String>,
) -> RequestRow {
    let wall = |ms: i64| super::monitoring::wall(ms, tz);
    let r = &s.request;
    let answers = match (&r.answers, r.submitted_at) {
        (Some(a), Some(_)) => s
            .definition
            .questions
            .iter()
            .map(|x| {
                let v = a.get(&x.id);
                let photo = match (&x.kind, v) {
                    (QuestionType::Photo, Some(Value::String(p))) => photo_link(&r.id, p),
                    _ => None,
                };
                AnswerRow {
                    question: x.text.clone(),
                    answer: shown_answer(q, &x.kind, v),
                    photo,
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    RequestRow {
        title: s.definition.staff_title.clone(),
        version: s.version,
        state: state_label(q, request_state(r)),
        asked: wall(r.requested_at),
        submitted: r.submitted_at.map(wall).unwrap_or_default(),
        answers,
    }
}

#[derive(Template)]
#[template(path = "patient_questionnaires.html")]
struct PatientPage {
    f: Frame,
    id: String,
    name: String,
    kana: String,
    birth_date: String,
    catalogue: Vec<(String, String)>,
    requests: Vec<RequestRow>,
}

fn shown_answer(q: &QuestionnaireTexts, kind: &QuestionType, v: Option<&Value>) -> String {
    match (kind, v) {
        (_, None) => q.unanswered.to_owned(),
        (QuestionType::YesNo, Some(Value::Bool(b))) => (if *b { q.yes } else { q.no }).to_owned(),
        (QuestionType::Multiple { .. }, Some(Value::Array(items))) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" / "),
        (QuestionType::Number { unit, .. }, Some(Value::String(s))) => format!("{s} {unit}"),
        (_, Some(Value::String(s))) => s.clone(),
        (_, Some(other)) => other.to_string(),
    }
}

/// `GET /patients/{id}/questionnaires` (clinic): ask, and read what was submitted.
pub async fn patient_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
) -> Response {
    let q = page.t().q;
    let loaded = async {
        let list = patient_answers(&state, &auth, &id).await?;
        let clinic_id = auth.member_clinic(Action::ReadAnswers)?;
        let record = crate::registry::member_record(&state, clinic_id, &id).await?;
        let tz = crate::booking::zone(&crate::schedule::settings_of(&state, clinic_id).await?);
        let asks = authorize(
            &auth.actor,
            Action::AskQuestionnaire,
            Target::Clinic(clinic_id),
        )
        .is_ok();
        let catalogue = if asks {
            catalogue(&state, &auth).await?
        } else {
            Vec::new()
        };
        Ok::<_, ApiError>((list, record, tz, catalogue))
    }
    .await;
    let (list, record, tz, catalogue) = match loaded {
        Ok(found) => found,
        Err(e) => return page.error(Some(&auth), &e),
    };
    let f = &record;
    let template = PatientPage {
        f: page.frame(Some(&auth)),
        id: id.clone(),
        name: f.name(),
        kana: f.kana(),
        birth_date: f.birth_date.clone(),
        catalogue: catalogue
            .iter()
            .map(|c| (c.id.clone(), c.definition.staff_title.clone()))
            .collect(),
        requests: list
            .iter()
            .map(|s| {
                request_row(q, s, &tz, &|request, photo| {
                    Some(format!(
                        "/api/v1/questionnaire-requests/{request}/photos/{photo}"
                    ))
                })
            })
            .collect(),
    };
    page.render(StatusCode::OK, &template)
}

/// The ask form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AskForm {
    questionnaire_id: String,
}

/// `POST /patients/{id}/questionnaires` (clinic).
pub async fn ask_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<AskForm>,
) -> Response {
    match ask(&state, &auth, &id, &form.questionnaire_id).await {
        Ok(_) => page.redirect(&format!(
            "/patients/{id}/questionnaires?done=questionnaire_asked"
        )),
        Err(e) => page.error(Some(&auth), &e),
    }
}
