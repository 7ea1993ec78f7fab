//! Clinical records (FUNC-6, FUNC-7, ROLE-3): a visit note is drafted, finalised by its doctor
//! (an online one only with its outcome and identity check, and with the call's times), amended
//! only with a reason, marked in error without losing anything; staff's proxy drafts wait for the
//! named doctor; a plan is offered only complete, agreed per version, and gates the call; stored
//! versions cannot be changed, and `enshin records verify` finds one changed behind the database's
//! back; another clinic sees nothing.
// covers FUNC-6, FUNC-7, ROLE-2, ROLE-3, LOG-1, DATA-3

use enshin_core::people::Role;
use enshin_testkit::{TestApp, call, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::audit::{audit_store, entries};
use crate::calls::{OnlineVisit, grant, member, visit_without_plan};
use crate::cli::enshin;

/// A plan with every item filled in.
pub(crate) fn full_plan() -> Value {
    json!({
        "conditions_and_treatment": "高血圧症。降圧薬の継続処方",
        "combination": "3か月に1回は対面で診察と採血",
        "schedule": "月1回、平日午前",
        "method_and_devices": "スマートフォンのビデオ通話(enshin)",
        "switch_to_in_person": "家庭血圧180/110以上、または通信障害が続くとき",
        "patient_cooperation": "家庭血圧を毎朝記録する",
        "emergency_policy": "急変時は119番に通報し、当院へ連絡",
        "emergency_institution": "市立中央病院",
        "emergency_phone": "03-1234-5678",
        "doctors": "主治医が全ての診察を行う",
        "security": "端末とパスワードの管理は患者、通信の暗号化は事業者",
    })
}

/// `method` on the clinic site as the visit's doctor.
pub(crate) async fn doctor(
    app: &TestApp,
    v: &OnlineVisit,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call(
        &v.doctor.pc,
        method,
        app.clinic_url(path),
        &v.doctor.token,
        body,
    )
    .await
}

/// `method` on the patient site as the visit's patient.
async fn patient(
    app: &TestApp,
    v: &OnlineVisit,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call(
        &app.client(),
        method,
        app.patient_url(path),
        &v.patient,
        body,
    )
    .await
}

/// The doctor offers a complete plan and the patient agrees to it in the app.
pub(crate) async fn agreed_plan(app: &TestApp, v: &OnlineVisit) {
    agreed_plan_with(app, v, full_plan()).await;
}

/// The doctor offers `plan` and the patient agrees to it in the app.
pub(crate) async fn agreed_plan_with(app: &TestApp, v: &OnlineVisit, plan: Value) {
    let path = format!("/api/v1/patients/{}/plan", v.record);
    let (status, _) = doctor(app, v, Method::PUT, &path, Some(plan)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, offered) = doctor(app, v, Method::POST, &format!("{path}/offer"), None).await;
    assert_eq!(status, StatusCode::OK, "{offered}");
    let version = offered["current_version"].as_i64().unwrap();
    let id = offered["id"].as_str().unwrap().to_owned();
    let (status, _) = patient(
        app,
        v,
        Method::POST,
        &format!("/api/v1/plans/{id}/agree"),
        Some(json!({ "version": version })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

fn note_path(v: &OnlineVisit, rest: &str) -> String {
    format!("/api/v1/appointments/{}/note{rest}", v.appointment)
}

#[tokio::test]
async fn a_note_is_finalised_with_its_checks_amended_with_a_reason_and_never_lost() {
    let app = spawn_app().await;
    let v = visit_without_plan(&app, "noted").await;
    let soap = json!({ "subjective": "頭痛が続く", "objective": "BP 152/94", "assessment": "高血圧症", "plan": "アムロジピン継続" });

    // Nothing yet: finalising has nothing to finalise.
    let (status, _) = doctor(&app, &v, Method::POST, &note_path(&v, "/finalise"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, note) = doctor(
        &app,
        &v,
        Method::PUT,
        &note_path(&v, ""),
        Some(json!({ "soap": soap })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{note}");
    assert_eq!(note["notes"][0]["state"], "draft");
    assert_eq!(note["notes"][0]["draft"]["soap"]["assessment"], "高血圧症");

    // An online visit needs its outcome, then the identity check.
    let (status, body) = doctor(&app, &v, Method::POST, &note_path(&v, "/finalise"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "outcome_required");
    let (status, _) = doctor(
        &app,
        &v,
        Method::PUT,
        &note_path(&v, ""),
        Some(json!({ "soap": soap, "outcome": { "kind": "switched_to_in_person" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = doctor(&app, &v, Method::POST, &note_path(&v, "/finalise"), None).await;
    assert_eq!(body["error"]["code"], "outcome_reason_required");
    let (status, _) = doctor(
        &app,
        &v,
        Method::PUT,
        &note_path(&v, ""),
        Some(json!({ "soap": soap, "outcome": { "kind": "completed_online" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = doctor(&app, &v, Method::POST, &note_path(&v, "/finalise"), None).await;
    assert_eq!(body["error"]["code"], "identity_check_required");
    let identity = format!("/api/v1/appointments/{}/identity-check", v.appointment);
    let (status, body) = doctor(
        &app,
        &v,
        Method::POST,
        &identity,
        Some(json!({ "method": "passport<script>" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "method");
    let (status, _) = doctor(
        &app,
        &v,
        Method::POST,
        &identity,
        Some(json!({ "method": "photo_id" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // Staff may not finalise; the doctor does, and the version names them and the call.
    let (status, _) = call(
        &v.staff_pc,
        Method::POST,
        app.clinic_url(&note_path(&v, "/finalise")),
        &v.staff,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, note) = doctor(&app, &v, Method::POST, &note_path(&v, "/finalise"), None).await;
    assert_eq!(status, StatusCode::OK, "{note}");
    let first = &note["notes"][0];
    assert_eq!(first["state"], "final");
    assert_eq!(first["draft"], Value::Null);
    assert_eq!(first["versions"][0]["kind"], "original");
    assert_eq!(first["versions"][0]["signed_by"], v.doctor.id.as_str());
    assert_eq!(first["versions"][0]["identity"]["method"], "photo_id");
    assert_eq!(first["versions"][0]["identity"]["by"], v.doctor.id.as_str());
    assert!(
        first["versions"][0]["call"].is_object(),
        "the call's times have their place in an online note: {first}"
    );

    // A finalised note no longer takes drafts; an amendment needs a reason.
    let (status, body) = doctor(
        &app,
        &v,
        Method::PUT,
        &note_path(&v, ""),
        Some(json!({ "soap": { "plan": "変更" } })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "note_finalised");
    let amended = json!({ "subjective": "頭痛が続く", "objective": "BP 152/94", "assessment": "高血圧症", "plan": "アムロジピン 5mg に増量" });
    let (status, body) = doctor(
        &app,
        &v,
        Method::POST,
        &note_path(&v, "/amend"),
        Some(json!({ "soap": amended, "outcome": { "kind": "completed_online" }, "reason": "  " })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "reason");
    let (status, note) = doctor(
        &app,
        &v,
        Method::POST,
        &note_path(&v, "/amend"),
        Some(json!({ "soap": amended, "outcome": { "kind": "completed_online" }, "reason": "用量の記載誤り" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{note}");
    let versions = note["notes"][0]["versions"].as_array().unwrap().clone();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["soap"]["plan"], "アムロジピン継続");
    assert_eq!(versions[1]["soap"]["plan"], "アムロジピン 5mg に増量");
    assert_eq!(versions[1]["kind"], "amendment");
    assert_eq!(versions[1]["reason"], "用量の記載誤り");
    assert_eq!(
        versions[1]["identity"], versions[0]["identity"],
        "the identity check stays with the amended note"
    );

    // Entered in error: a last version with the reason; everything stays readable.
    let (status, _) = doctor(
        &app,
        &v,
        Method::POST,
        &note_path(&v, "/entered-in-error"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, note) = doctor(
        &app,
        &v,
        Method::POST,
        &note_path(&v, "/entered-in-error"),
        Some(json!({ "reason": "別の患者のカルテに記載した" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let kept = &note["notes"][0];
    assert_eq!(kept["state"], "entered_in_error");
    assert_eq!(kept["versions"].as_array().unwrap().len(), 3);
    assert_eq!(kept["versions"][2]["kind"], "entered_in_error");
    assert_eq!(
        kept["versions"][2]["soap"]["plan"],
        "アムロジピン 5mg に増量"
    );
    let (status, _) = doctor(
        &app,
        &v,
        Method::POST,
        &note_path(&v, "/amend"),
        Some(json!({ "soap": amended, "reason": "x" })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a note in error is not in force: there is nothing to amend"
    );
    // The visit takes a new note; the one in error stays beside it.
    let (status, note) = doctor(
        &app,
        &v,
        Method::PUT,
        &note_path(&v, ""),
        Some(json!({ "soap": { "assessment": "正しい記載" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(note["notes"].as_array().unwrap().len(), 2);

    // Hostile input: unknown fields, oversized text, control characters, not JSON.
    for (body, status) in [
        (json!({ "soap": { "sql": "1" } }), 422),
        (
            json!({ "soap": { "plan": "x".repeat(enshin_core::record::TEXT_MAX + 1) } }),
            422,
        ),
        (json!({ "soap": { "plan": "a\u{0}b" } }), 422),
        (json!({ "outcome": { "kind": "teleported" } }), 422),
    ] {
        let (got, answer) = doctor(&app, &v, Method::PUT, &note_path(&v, ""), Some(body)).await;
        assert_eq!(got.as_u16(), status, "{answer}");
    }
    let raw = v
        .doctor
        .pc
        .put(app.clinic_url(&note_path(&v, "")))
        .bearer_auth(&v.doctor.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);

    // Another clinic's doctor gets what a missing visit gets.
    let (other_clinic, _, _, _) = crate::links::clinic(&app, "B").await;
    let stranger = member(&app, &other_clinic, Role::Doctor).await;
    let (status, _) = call(
        &stranger.pc,
        Method::GET,
        app.clinic_url(&note_path(&v, "")),
        &stranger.token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every answer that showed the note is a read of the patient in the access log.
    let store = audit_store(&app).await;
    let reads: Vec<_> = entries(&store)
        .await
        .into_iter()
        .map(|s| s.entry)
        .filter(|e| {
            e.action.ends_with("/note")
                && e.status == 200
                && e.principal_id.as_deref() == Some(&v.doctor.id)
        })
        .collect();
    assert!(!reads.is_empty());
    assert!(
        reads.iter().all(|e| e.subjects.contains(&v.record)
            && e.target_id.as_deref() == Some(v.appointment.as_str())),
        "{reads:?}"
    );
}

#[tokio::test]
async fn a_staff_proxy_draft_waits_for_the_named_doctor() {
    let app = spawn_app().await;
    let v = visit_without_plan(&app, "proxied").await;
    let other = member(&app, &v.clinic_id, Role::Doctor).await;
    let staff_put = |body: Value| {
        let pc = v.staff_pc.clone();
        let url = app.clinic_url(&note_path(&v, ""));
        let token = v.staff.clone();
        async move { call(&pc, Method::PUT, url, &token, Some(body)).await }
    };

    let (status, body) = staff_put(json!({ "soap": { "assessment": "感冒" } })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "doctor_required");
    let staff_id = account_of(&app, &v.staff_pc, &v.staff).await;
    let (status, body) =
        staff_put(json!({ "soap": { "assessment": "感冒" }, "doctor_id": staff_id })).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a staff member is no doctor: {body}"
    );
    let (status, note) = staff_put(json!({
        "soap": { "subjective": "咳", "assessment": "感冒" },
        "outcome": { "kind": "completed_online" },
        "doctor_id": v.doctor.id,
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{note}");
    assert_eq!(note["notes"][0]["state"], "awaiting_approval");
    assert_eq!(note["notes"][0]["doctor_id"], v.doctor.id.as_str());

    // Another doctor can neither approve nor take it over.
    let (status, body) = call(
        &other.pc,
        Method::POST,
        app.clinic_url(&note_path(&v, "/finalise")),
        &other.token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "not_your_note");
    let (status, _) = call(
        &other.pc,
        Method::PUT,
        app.clinic_url(&note_path(&v, "")),
        &other.token,
        Some(json!({ "soap": { "assessment": "肺炎" } })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The named doctor corrects it, checks identity, and approves: both people are recorded.
    let (status, note) = doctor(
        &app,
        &v,
        Method::PUT,
        &note_path(&v, ""),
        Some(json!({ "soap": { "subjective": "咳と微熱", "assessment": "感冒" }, "outcome": { "kind": "completed_online" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(note["notes"][0]["state"], "awaiting_approval");
    let (status, _) = doctor(
        &app,
        &v,
        Method::POST,
        &format!("/api/v1/appointments/{}/identity-check", v.appointment),
        Some(json!({ "method": "known_patient" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, note) = doctor(&app, &v, Method::POST, &note_path(&v, "/finalise"), None).await;
    assert_eq!(status, StatusCode::OK, "{note}");
    let version = &note["notes"][0]["versions"][0];
    assert_eq!(version["signed_by"], v.doctor.id.as_str());
    assert_eq!(version["entered_by"], staff_id.as_str());
    assert_eq!(version["soap"]["subjective"], "咳と微熱");
}

/// The account id behind a clinic session.
pub(crate) async fn account_of(app: &TestApp, pc: &reqwest::Client, token: &str) -> String {
    let (_, me) = call(pc, Method::GET, app.clinic_url("/api/v1/me"), token, None).await;
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_plan_is_offered_complete_agreed_per_version_and_gates_the_call() {
    let app = spawn_app().await;
    let v = visit_without_plan(&app, "planned").await;
    let path = format!("/api/v1/patients/{}/plan", v.record);

    // Without a plan, neither side may start the call.
    let (status, body) = grant(&app, Some(&v.doctor), &v.doctor.token, &v.appointment).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "plan_not_agreed");

    // Staff do not write plans; a blank item keeps the plan from being offered.
    let (status, _) = call(
        &v.staff_pc,
        Method::PUT,
        app.clinic_url(&path),
        &v.staff,
        Some(full_plan()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut partial = full_plan();
    partial["emergency_phone"] = json!(" ");
    let (status, _) = doctor(&app, &v, Method::PUT, &path, Some(partial)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = doctor(&app, &v, Method::POST, &format!("{path}/offer"), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "plan_incomplete");
    assert!(body["error"]["message"].as_str().is_some());
    let (status, plans) = patient(&app, &v, Method::GET, "/api/v1/plans", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        plans["plans"],
        json!([]),
        "a draft is not shown to the patient"
    );

    let (status, _) = doctor(&app, &v, Method::PUT, &path, Some(full_plan())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, plan) = doctor(&app, &v, Method::POST, &format!("{path}/offer"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plan["current_version"], 1);
    assert_eq!(plan["agreed"], false);
    // The same items again are not a new version.
    doctor(&app, &v, Method::PUT, &path, Some(full_plan())).await;
    let (status, body) = doctor(&app, &v, Method::POST, &format!("{path}/offer"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "plan_unchanged");
    let plan_id = plan["id"].as_str().unwrap().to_owned();

    // The patient sees exactly the offered version and agrees to it.
    let (_, plans) = patient(&app, &v, Method::GET, "/api/v1/plans", None).await;
    assert_eq!(plans["plans"][0]["versions"][0]["items"], full_plan());
    assert_eq!(plans["plans"][0]["draft"], Value::Null);
    let agree = format!("/api/v1/plans/{plan_id}/agree");
    for bad in [json!({ "version": 0 }), json!({ "version": 2 })] {
        let (status, body) = patient(&app, &v, Method::POST, &agree, Some(bad)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }
    let (status, _) = patient(
        &app,
        &v,
        Method::POST,
        &agree,
        Some(json!({ "version": "1" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = patient(
        &app,
        &v,
        Method::POST,
        &agree,
        Some(json!({ "version": 1 })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = grant(&app, Some(&v.doctor), &v.doctor.token, &v.appointment).await;
    assert_eq!(status, StatusCode::OK);

    // A changed plan needs agreement again; the old agreement stays with the old version.
    let mut changed = full_plan();
    changed["schedule"] = json!("2週間に1回");
    doctor(&app, &v, Method::PUT, &path, Some(changed.clone())).await;
    let (_, plan) = doctor(&app, &v, Method::POST, &format!("{path}/offer"), None).await;
    assert_eq!(plan["current_version"], 2);
    assert_eq!(plan["agreed"], false);
    let (status, _) = grant(&app, None, &v.patient, &v.appointment).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = patient(
        &app,
        &v,
        Method::POST,
        &agree,
        Some(json!({ "version": 1 })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "agreeing to the old version is refused"
    );

    // A doctor attests a verbal agreement to version 2.
    let (status, plan) = doctor(
        &app,
        &v,
        Method::POST,
        &format!("{path}/verbal-agreement"),
        Some(json!({ "version": 2 })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    assert_eq!(plan["agreed"], true);
    let agreements = plan["agreements"].as_array().unwrap();
    assert_eq!(agreements.len(), 2);
    assert_eq!(agreements[0]["method"], "patient");
    assert_eq!(agreements[0]["version"], 1);
    assert_eq!(agreements[1]["method"], "verbal");
    assert_eq!(agreements[1]["attested_by"], v.doctor.id.as_str());
    assert_eq!(agreements[1]["version_hash"], plan["versions"][1]["hash"]);
    let (status, _) = grant(&app, None, &v.patient, &v.appointment).await;
    assert_eq!(status, StatusCode::OK);

    // The patient can still open the version they agreed to.
    let (_, plans) = patient(&app, &v, Method::GET, "/api/v1/plans", None).await;
    assert_eq!(plans["plans"][0]["versions"][0]["items"], full_plan());
    assert_eq!(plans["plans"][0]["versions"][1]["items"], changed);

    // Another clinic sees nothing; another patient cannot agree to this plan.
    let (other_clinic, other_pc, other_staff, _) = crate::links::clinic(&app, "B").await;
    let (status, _) = call(
        &other_pc,
        Method::GET,
        app.clinic_url(&path),
        &other_staff,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stranger = member(&app, &other_clinic, Role::Doctor).await;
    let (status, _) = call(
        &stranger.pc,
        Method::POST,
        app.clinic_url(&format!("{path}/offer")),
        &stranger.token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let intruder = crate::links::patient(&app, "intruder").await;
    let (status, _) = call(
        &app.client(),
        Method::POST,
        app.patient_url(&agree),
        &intruder,
        Some(json!({ "version": 2 })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The clinic may turn the requirement off.
    let admin = member(&app, &v.clinic_id, Role::Admin).await;
    let (status, _) = call(
        &admin.pc,
        Method::PUT,
        app.clinic_url("/api/v1/record-settings"),
        &admin.token,
        Some(json!({ "plan_required_for_calls": "no" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = doctor(
        &app,
        &v,
        Method::PUT,
        "/api/v1/record-settings",
        Some(json!({ "plan_required_for_calls": false })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins change it");
    let (status, _) = call(
        &admin.pc,
        Method::PUT,
        app.clinic_url("/api/v1/record-settings"),
        &admin.token,
        Some(json!({ "plan_required_for_calls": false })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, plan) = doctor(&app, &v, Method::PUT, &path, Some(full_plan())).await;
    assert!(plan["draft"].is_object());
    doctor(&app, &v, Method::POST, &format!("{path}/offer"), None).await;
    let (status, _) = grant(&app, None, &v.patient, &v.appointment).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn versions_cannot_be_changed_and_records_verify_finds_a_change_made_anyway() {
    let app = spawn_app().await;
    let v = visit_without_plan(&app, "verified").await;
    agreed_plan(&app, &v).await;
    doctor(
        &app,
        &v,
        Method::PUT,
        &note_path(&v, ""),
        Some(json!({ "soap": { "assessment": "高血圧症" }, "outcome": { "kind": "completed_online" } })),
    )
    .await;
    doctor(
        &app,
        &v,
        Method::POST,
        &format!("/api/v1/appointments/{}/identity-check", v.appointment),
        Some(json!({ "method": "two_ids" })),
    )
    .await;
    let (status, _) = doctor(&app, &v, Method::POST, &note_path(&v, "/finalise"), None).await;
    assert_eq!(status, StatusCode::OK);

    let verify = || {
        let mut cmd = enshin(&app.data_dir());
        cmd.env("ENSHIN_DATA_DIR", app.data_dir());
        if let Some(url) = &app.config().database_url {
            cmd.env("ENSHIN_DATABASE_URL", url);
        }
        let out = cmd.args(["records", "verify", "--json"]).output().unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!("{}", String::from_utf8_lossy(&out.stderr));
        });
        (out.status.code(), report)
    };
    let (code, report) = verify();
    assert_eq!(code, Some(0), "{report}");
    // At rest, a note and a plan are sealed (DATA-3): their words are in no database file.
    if app.config().database_url.is_none() {
        for file in ["enshin.db", "enshin.db-wal"] {
            let bytes = std::fs::read(app.data_dir().join(file)).unwrap_or_default();
            for canary in ["高血圧症", "市立中央病院"] {
                assert!(
                    !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                    "{file} holds {canary} in plaintext"
                );
            }
        }
    }
    assert_eq!(report["notes"], 1);
    assert_eq!(report["plans"], 1);
    assert_eq!(report["versions"], 2);

    // The database itself refuses to change or remove a version, an agreement or a check.
    let pool = app.store().pool();
    for sql in [
        "UPDATE visit_note_versions SET signed_by = signed_by",
        "DELETE FROM visit_note_versions",
        "UPDATE care_plan_versions SET created_at = 0",
        "DELETE FROM care_plan_versions",
        "DELETE FROM plan_agreements",
        "UPDATE identity_checks SET method = 'photo_id'",
    ] {
        let refused = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await;
        assert!(refused.is_err(), "{sql} was allowed");
    }

    // Someone with full database access switches the protection off and edits the content:
    // verify names the note and the version, and exits 1.
    let postgres = app.config().database_url.is_some();
    let off = if postgres {
        "ALTER TABLE visit_note_versions DISABLE TRIGGER visit_note_versions_append_only"
    } else {
        "DROP TRIGGER visit_note_versions_append_only_update"
    };
    sqlx::query(sqlx::AssertSqlSafe(off))
        .execute(pool)
        .await
        .unwrap();
    let note_id = {
        let (_, note) = doctor(&app, &v, Method::GET, &note_path(&v, ""), None).await;
        note["notes"][0]["id"].as_str().unwrap().to_owned()
    };
    let row = sqlx::query("SELECT content FROM visit_note_versions WHERE note_id = $1")
        .bind(&note_id)
        .fetch_one(pool)
        .await
        .unwrap();
    let mut content: Vec<u8> = sqlx::Row::get(&row, 0);
    let last = content.len() - 1;
    content[last] ^= 1;
    sqlx::query("UPDATE visit_note_versions SET content = $1 WHERE note_id = $2")
        .bind(content)
        .bind(&note_id)
        .execute(pool)
        .await
        .unwrap();
    let (code, report) = verify();
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["id"], note_id.as_str());
    assert_eq!(report["problems"][0]["record"], "note");
    assert!(
        report["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("version 1"),
        "{report}"
    );
}

#[tokio::test]
async fn the_record_pages_write_show_and_print_what_the_api_keeps() {
    use crate::pages::{PASSWORD, log_in};
    let app = spawn_app().await;
    let v = visit_without_plan(&app, "paged").await;
    let desk = app.member_browser(&v.doctor.login).await;
    let phone = app.patient_browser();
    assert_eq!(
        log_in(&phone, "paged", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    // The doctor offers a plan; a blank item brings the form back with what was typed.
    let page = desk.get(&format!("/patients/{}/plan", v.record)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("オンライン診療計画"), "{}", page.body);
    let csrf = page.csrf();
    let plan = full_plan();
    let mut fields: Vec<(&str, &str)> = enshin_core::plan::ITEMS
        .iter()
        .map(|name| (*name, plan[*name].as_str().unwrap()))
        .collect();
    fields.retain(|(name, _)| *name != "security");
    fields.push(("csrf", &csrf));
    let refused = desk
        .post(&format!("/patients/{}/plan/offer", v.record), &fields)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("情報セキュリティの責任の分担"),
        "the blank item is named"
    );
    assert!(
        refused.body.contains("市立中央病院"),
        "what was typed stays"
    );
    fields.push(("security", plan["security"].as_str().unwrap()));
    let offered = desk
        .post(&format!("/patients/{}/plan/offer", v.record), &fields)
        .await;
    assert_eq!(offered.status, StatusCode::SEE_OTHER, "{}", offered.body);

    // The patient reads it on the phone and agrees.
    let mine = phone.get("/plans").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("この診療計画に同意する") && mine.body.contains("市立中央病院"));
    let action_start = mine.body.find("action=\"/plans/").unwrap() + "action=\"".len();
    let action_end = mine.body[action_start..].find('"').unwrap();
    let action = mine.body[action_start..action_start + action_end].to_owned();
    let csrf = mine.csrf();
    let agreed = phone
        .post(&action, &[("csrf", &csrf), ("version", "1")])
        .await;
    assert_eq!(agreed.status, StatusCode::SEE_OTHER);
    let mine = phone.get("/plans").await;
    assert!(mine.body.contains("同意済み") && !mine.body.contains("この診療計画に同意する"));
    // A new version: the agreed one moves to "earlier versions", signed by the doctor's name.
    let mut changed = full_plan();
    changed["schedule"] = json!("2週間に1回");
    let path = format!("/api/v1/patients/{}/plan", v.record);
    doctor(&app, &v, Method::PUT, &path, Some(changed)).await;
    let (status, _) = doctor(&app, &v, Method::POST, &format!("{path}/offer"), None).await;
    assert_eq!(status, StatusCode::OK);
    let mine = phone.get("/plans").await;
    assert!(mine.body.contains("以前の版") && mine.body.contains("この診療計画に同意する"));
    assert!(
        !mine.body.contains(&v.doctor.id),
        "the patient sees names, not account ids"
    );
    let csrf = mine.csrf();
    let agreed = phone
        .post(&action, &[("csrf", &csrf), ("version", "2")])
        .await;
    assert_eq!(agreed.status, StatusCode::SEE_OTHER);

    // The note: identity, draft, finalise, then an amendment without a reason keeps the text.
    let note = format!("/visits/{}/note", v.appointment);
    let page = desk.get(&note).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("山田 花子") || page.body.contains("山田花子"),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    let checked = desk
        .post(
            &format!("/visits/{}/identity", v.appointment),
            &[("csrf", &csrf), ("method", "photo_id")],
        )
        .await;
    assert_eq!(checked.status, StatusCode::SEE_OTHER);
    let bogus = desk
        .post(
            &note,
            &[
                ("csrf", &csrf),
                ("subjective", "咳"),
                ("outcome", "teleported"),
            ],
        )
        .await;
    assert_eq!(bogus.status, StatusCode::UNPROCESSABLE_ENTITY);
    let long = "長".repeat(enshin_core::record::TEXT_MAX + 1);
    let too_long = desk
        .post(&note, &[("csrf", &csrf), ("objective", &long)])
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        too_long.body.contains(&long),
        "the typed text comes back, not lost"
    );
    let drafted = desk
        .post(
            &note,
            &[
                ("csrf", &csrf),
                ("subjective", "咳が続く"),
                ("assessment", "感冒"),
                ("plan", "去痰薬"),
                ("outcome", "completed_online"),
            ],
        )
        .await;
    assert_eq!(drafted.status, StatusCode::SEE_OTHER);
    let finalised = desk
        .post(&format!("{note}/finalise"), &[("csrf", &csrf)])
        .await;
    assert_eq!(finalised.status, StatusCode::SEE_OTHER);
    let unreasoned = desk
        .post(
            &format!("{note}/amend"),
            &[
                ("csrf", &csrf),
                ("assessment", "急性気管支炎"),
                ("outcome", "completed_online"),
            ],
        )
        .await;
    assert_eq!(unreasoned.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unreasoned.body.contains("急性気管支炎"));
    let amended = desk
        .post(
            &format!("{note}/amend"),
            &[
                ("csrf", &csrf),
                ("subjective", "咳が続く"),
                ("assessment", "急性気管支炎"),
                ("plan", "去痰薬"),
                ("outcome", "completed_online"),
                ("reason", "診断名の修正"),
            ],
        )
        .await;
    assert_eq!(amended.status, StatusCode::SEE_OTHER);

    // The print view holds the plan, the agreement and both versions with the reason.
    let printed = desk.get(&format!("/patients/{}/record", v.record)).await;
    assert_eq!(printed.status, StatusCode::OK);
    for text in [
        "市立中央病院",
        "患者さん本人がアプリで同意",
        "感冒",
        "急性気管支炎",
        "診断名の修正",
        "顔写真付きの身分証をカメラで確認",
    ] {
        assert!(
            printed.body.contains(text),
            "{text} missing from the print view"
        );
    }
    let english = desk
        .get(&format!("/patients/{}/record?lang=en", v.record))
        .await;
    assert!(english.body.contains("Clinical record") && english.body.contains("Amendment"));

    // The admin switches the plan requirement on /schedule; on by default.
    let admin = app.add_member(&v.clinic_id, Role::Admin).await;
    let office = app.member_browser(&admin).await;
    let schedule = office.get("/schedule").await;
    assert!(
        schedule
            .body
            .contains("name=\"plan_required_for_calls\" value=\"on\" checked")
    );
    let csrf = schedule.csrf();
    let saved = office
        .post(
            "/schedule/settings",
            &[
                ("csrf", &csrf),
                ("cancel_deadline_minutes", "60"),
                ("time_zone", "Asia/Tokyo"),
                ("contact_phone", "03-1234-5678"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, settings) = doctor(&app, &v, Method::GET, "/api/v1/record-settings", None).await;
    assert_eq!(settings["plan_required_for_calls"], false);
}
