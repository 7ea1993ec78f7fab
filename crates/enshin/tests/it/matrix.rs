//! Every route of the clinic listener with every kind of principal, and with another clinic's
//! admin: the answers follow the permission matrix, and another clinic's ids answer exactly like
//! missing ones.
// covers ROLE-1, ROLE-2, SESS-2, AUTH-7

use enshin_core::authz::{Action, Actor, Denied, Target, authorize};
use enshin_core::people::Role;
use enshin_testkit::{TestApp, TestMember, spawn_app};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

struct Principal {
    name: &'static str,
    member: TestMember,
    actor: Actor,
    client: Client,
    token: String,
    spare_session: String,
}

async fn log_in(app: &TestApp, client: &Client, m: &TestMember) -> String {
    let response = client
        .post(app.clinic_url("/api/v1/session"))
        .json(&json!({ "login_id": m.login_id, "password": m.password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn principal(app: &TestApp, name: &'static str, clinic: &str, role: Role) -> Principal {
    let member = app.add_member(clinic, role).await;
    let client = app.clinic_client(clinic).await;
    // Two sessions: one to work with, a spare one to end through the API.
    log_in(app, &client, &member).await;
    let token = log_in(app, &client, &member).await;
    let sessions: Value = client
        .get(app.clinic_url("/api/v1/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let spare_session = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .expect("the spare session is listed")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let actor = Actor::Member {
        account_id: member.id.clone(),
        clinic_id: clinic.to_owned(),
        role,
    };
    Principal {
        name,
        member,
        actor,
        client,
        token,
        spare_session,
    }
}

#[tokio::test]
async fn every_route_follows_the_matrix_for_every_principal() {
    let app = spawn_app().await;
    let (a, b) = (app.add_clinic("A").await, app.add_clinic("B").await);
    let principals = [
        principal(&app, "admin of A", &a, Role::Admin).await,
        principal(&app, "doctor of A", &a, Role::Doctor).await,
        principal(&app, "staff of A", &a, Role::Staff).await,
        principal(&app, "admin of B", &b, Role::Admin).await,
    ];
    let target = app.add_member(&a, Role::Staff).await;
    let target_client = app.clinic_client(&a).await;
    let target_token = log_in(&app, &target_client, &target).await;
    let target_session: Value = target_client
        .get(app.clinic_url("/api/v1/sessions"))
        .bearer_auth(&target_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let target_session = target_session["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    type Row = (
        &'static str,
        Method,
        Box<dyn Fn(&Principal) -> String>,
        Action,
        Box<dyn Fn(&Principal) -> (bool, String)>,
        StatusCode,
        [u16; 4],
        Option<Box<dyn Fn(&Principal) -> Value>>,
    );
    let member_path = |suffix: &'static str| {
        let id = target.id.clone();
        Box::new(move |_: &Principal| format!("/api/v1/members/{id}{suffix}"))
            as Box<dyn Fn(&Principal) -> String>
    };
    let a_clinic = a.clone();
    let target_in_a = move || {
        let a = a_clinic.clone();
        Box::new(move |_: &Principal| (false, a.clone()))
            as Box<dyn Fn(&Principal) -> (bool, String)>
    };
    let own_account = || {
        Box::new(|p: &Principal| (true, p.member.id.clone()))
            as Box<dyn Fn(&Principal) -> (bool, String)>
    };
    let own_clinic = || {
        Box::new(|p: &Principal| (false, p.member.clinic_id.clone()))
            as Box<dyn Fn(&Principal) -> (bool, String)>
    };
    let target_owner = target.id.clone();
    // A patient of A in the registry, and an operator's pending request to A.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let fields = enshin_store::registry::PatientFields {
        family_name: "山田".into(),
        given_name: "花子".into(),
        family_name_kana: "ヤマダ".into(),
        given_name_kana: "ハナコ".into(),
        birth_date: "1948-03-09".into(),
        ..Default::default()
    };
    app.store()
        .add_clinic_patient(&app.state().keyring, "p-matrix", &a, &fields, now)
        .await
        .unwrap();
    let operator = app.add_operator("ops.api.matrix").await;
    let asked = enshin_core::grant::ask(enshin_core::grant::Kind::Request, "r", None, 30).unwrap();
    app.store()
        .ask_access("g-api-matrix", &a, &operator.id, &asked, now)
        .await
        .unwrap();
    // A menu of A, and an appointment of the patient with A's doctor tomorrow.
    let doctor_of_a = principals[1].member.id.clone();
    let menu = enshin_core::schedule::Menu::new(
        "再診",
        enshin_core::schedule::Mode::Online,
        enshin_core::schedule::Visit::Repeat,
        15,
        0,
    )
    .unwrap();
    app.store()
        .add_menu("m-matrix", &a, &menu, now)
        .await
        .unwrap();
    app.store()
        .book_appointment(
            &enshin_store::appointments::NewAppointment {
                id: "ap-matrix",
                clinic_id: &a,
                clinic_patient_id: "p-matrix",
                doctor_id: &doctor_of_a,
                menu_id: "m-matrix",
                starts_at: now + 86_400_000,
                ends_at: now + 86_400_000 + 900_000,
                state: enshin_core::appointment::State::Confirmed,
                booked_by: &doctor_of_a,
            },
            now,
        )
        .await
        .unwrap();
    let rows: Vec<Row> = vec![
        (
            "menus",
            Method::GET,
            Box::new(|_| "/api/v1/menus".into()),
            Action::BookVisit,
            own_clinic(),
            StatusCode::OK,
            [200, 200, 200, 200],
            None,
        ),
        (
            "add a menu",
            Method::POST,
            Box::new(|_| "/api/v1/menus".into()),
            Action::ManageSchedule,
            own_clinic(),
            StatusCode::CREATED,
            [201, 403, 403, 201],
            Some(Box::new(
                |_| json!({ "name": "初診", "mode": "in_person", "visit": "first", "minutes": 30, "fee_yen": 2880 }),
            )),
        ),
        (
            "booking settings",
            Method::PUT,
            Box::new(|_| "/api/v1/booking-settings".into()),
            Action::ManageSchedule,
            own_clinic(),
            StatusCode::OK,
            [200, 403, 403, 200],
            Some(Box::new(
                |_| json!({ "self_booking": true, "cancel_deadline_minutes": 120 }),
            )),
        ),
        (
            "a doctor's hours",
            Method::PUT,
            Box::new(move |_| format!("/api/v1/doctors/{doctor_of_a}/hours")),
            Action::ManageSchedule,
            target_in_a(),
            StatusCode::NO_CONTENT,
            [204, 403, 403, 404],
            Some(Box::new(
                |_| json!({ "hours": [{ "weekday": 1, "start": "09:00", "end": "12:00" }] }),
            )),
        ),
        (
            "export the registry",
            Method::GET,
            Box::new(|_| "/api/v1/patients/export".into()),
            Action::TransferRegistry,
            own_clinic(),
            StatusCode::OK,
            [200, 403, 403, 200],
            None,
        ),
        (
            "export the clinic's data set",
            Method::GET,
            Box::new(|_| "/api/v1/export".into()),
            Action::ExportClinic,
            own_clinic(),
            StatusCode::OK,
            [200, 403, 403, 200],
            None,
        ),
        (
            "worklist",
            Method::GET,
            Box::new(|_| "/api/v1/appointments".into()),
            Action::ReadWorklist,
            own_clinic(),
            StatusCode::OK,
            [200, 200, 200, 200],
            None,
        ),
        (
            "read an appointment",
            Method::GET,
            Box::new(|_| "/api/v1/appointments/ap-matrix".into()),
            Action::ReadWorklist,
            target_in_a(),
            StatusCode::OK,
            [200, 200, 200, 404],
            None,
        ),
        (
            "read a visit's notes",
            Method::GET,
            Box::new(|_| "/api/v1/appointments/ap-matrix/note".into()),
            Action::ReadRecords,
            target_in_a(),
            StatusCode::OK,
            [200, 200, 200, 404],
            None,
        ),
        (
            "read a patient's plan",
            Method::GET,
            Box::new(|_| "/api/v1/patients/p-matrix/plan".into()),
            Action::ReadRecords,
            target_in_a(),
            StatusCode::OK,
            [200, 200, 200, 404],
            None,
        ),
        (
            "draft a patient's plan",
            Method::PUT,
            Box::new(|_| "/api/v1/patients/p-matrix/plan".into()),
            Action::WritePlan,
            target_in_a(),
            StatusCode::OK,
            [403, 200, 403, 403],
            Some(Box::new(|_| json!({ "schedule": "月1回" }))),
        ),
        (
            "record settings",
            Method::PUT,
            Box::new(|_| "/api/v1/record-settings".into()),
            Action::ManageSchedule,
            own_clinic(),
            StatusCode::OK,
            [200, 403, 403, 200],
            Some(Box::new(|_| json!({ "plan_required_for_calls": true }))),
        ),
        (
            "me",
            Method::GET,
            Box::new(|_| "/api/v1/me".into()),
            Action::ReadSelf,
            own_account(),
            StatusCode::OK,
            [200, 200, 200, 200],
            None,
        ),
        (
            "my sessions",
            Method::GET,
            Box::new(|_| "/api/v1/sessions".into()),
            Action::ListOwnSessions,
            own_account(),
            StatusCode::OK,
            [200, 200, 200, 200],
            None,
        ),
        (
            "end my other session",
            Method::DELETE,
            Box::new(|p| format!("/api/v1/sessions/{}", p.spare_session)),
            Action::EndOwnSession,
            own_account(),
            StatusCode::NO_CONTENT,
            [204, 204, 204, 204],
            None,
        ),
        (
            "end someone else's session",
            Method::DELETE,
            Box::new(move |_| format!("/api/v1/sessions/{target_session}")),
            Action::EndOwnSession,
            Box::new(move |_| (true, target_owner.clone())),
            StatusCode::NO_CONTENT,
            [404, 404, 404, 404],
            None,
        ),
        (
            "list members",
            Method::GET,
            Box::new(|_| "/api/v1/members".into()),
            Action::ListMembers,
            own_clinic(),
            StatusCode::OK,
            [200, 403, 403, 200],
            None,
        ),
        (
            "force log-off",
            Method::DELETE,
            member_path("/sessions"),
            Action::EndMemberSessions,
            target_in_a(),
            StatusCode::NO_CONTENT,
            [204, 403, 403, 404],
            None,
        ),
        (
            "set member password",
            Method::PUT,
            member_path("/password"),
            Action::SetMemberPassword,
            target_in_a(),
            StatusCode::NO_CONTENT,
            [204, 403, 403, 404],
            Some(Box::new(|_| json!({ "password": "Kaede-77-river!" }))),
        ),
        (
            "own e-mail address",
            Method::PUT,
            Box::new(|_| "/api/v1/me/email".into()),
            Action::SetOwnEmail,
            own_account(),
            StatusCode::NO_CONTENT,
            [204, 204, 204, 204],
            Some(Box::new(|_| json!({ "email": "me@clinic.test" }))),
        ),
        (
            "register patient",
            Method::POST,
            Box::new(|_| "/api/v1/patients".into()),
            Action::RegisterPatient,
            own_clinic(),
            StatusCode::CREATED,
            [201, 201, 201, 201],
            Some(Box::new(|_| {
                json!({
                    "family_name": "佐藤", "given_name": "一郎", "family_name_kana": "サトウ",
                    "given_name_kana": "イチロウ", "birth_date": "1950-01-02",
                })
            })),
        ),
        (
            "read patient",
            Method::GET,
            Box::new(|_| "/api/v1/patients/p-matrix".into()),
            Action::ReadPatient,
            target_in_a(),
            StatusCode::OK,
            [200, 200, 200, 404],
            None,
        ),
        (
            "a patient's readings",
            Method::GET,
            Box::new(|_| "/api/v1/patients/p-matrix/readings".into()),
            Action::ReadReadings,
            target_in_a(),
            StatusCode::OK,
            [200, 200, 200, 404],
            None,
        ),
        (
            "export a patient's readings",
            Method::GET,
            Box::new(|_| "/api/v1/patients/p-matrix/readings/export".into()),
            Action::ReadReadings,
            target_in_a(),
            StatusCode::OK,
            [200, 200, 200, 404],
            None,
        ),
        (
            "set a threshold",
            Method::PUT,
            Box::new(|_| "/api/v1/patients/p-matrix/thresholds".into()),
            Action::SetThresholds,
            target_in_a(),
            StatusCode::OK,
            [200, 200, 403, 404],
            Some(Box::new(|_| json!({ "kind": "systolic", "above": "160" }))),
        ),
        (
            "questionnaires",
            Method::GET,
            Box::new(|_| "/api/v1/questionnaires".into()),
            Action::AskQuestionnaire,
            own_clinic(),
            StatusCode::OK,
            [200, 200, 200, 200],
            None,
        ),
        (
            "build a questionnaire",
            Method::POST,
            Box::new(|_| "/api/v1/questionnaires".into()),
            Action::ManageQuestionnaires,
            own_clinic(),
            StatusCode::CREATED,
            [201, 201, 403, 201],
            Some(Box::new(|_| {
                json!({ "definition": { "staff_title": "問診", "patient_title": "問診票",
                    "questions": [{ "text": "熱は", "type": "yes_no" }] } })
            })),
        ),
        (
            "a patient's questionnaires",
            Method::GET,
            Box::new(|_| "/api/v1/patients/p-matrix/questionnaires".into()),
            Action::ReadAnswers,
            target_in_a(),
            StatusCode::OK,
            [200, 200, 200, 404],
            None,
        ),
        (
            "alerts",
            Method::GET,
            Box::new(|_| "/api/v1/alerts".into()),
            Action::HandleAlerts,
            own_clinic(),
            StatusCode::OK,
            [200, 200, 200, 200],
            None,
        ),
        (
            "operators' requests",
            Method::GET,
            Box::new(|_| "/api/v1/access-grants".into()),
            Action::DecideAccess,
            own_clinic(),
            StatusCode::OK,
            [200, 403, 403, 200],
            None,
        ),
        (
            "operator access",
            Method::GET,
            Box::new(|_| "/api/v1/operator-access".into()),
            Action::DecideAccess,
            own_clinic(),
            StatusCode::OK,
            [200, 403, 403, 200],
            None,
        ),
        (
            "refuse an operator's request",
            Method::POST,
            Box::new(|_| "/api/v1/access-grants/g-api-matrix/refuse".into()),
            Action::DecideAccess,
            target_in_a(),
            StatusCode::OK,
            [200, 403, 403, 404],
            None,
        ),
        (
            "disable member",
            Method::POST,
            member_path("/disable"),
            Action::DisableMember,
            target_in_a(),
            StatusCode::NO_CONTENT,
            [204, 403, 403, 404],
            None,
        ),
        (
            "change role",
            Method::PUT,
            member_path("/role"),
            Action::ChangeMemberRole,
            target_in_a(),
            StatusCode::NO_CONTENT,
            [204, 403, 403, 404],
            Some(Box::new(|_| json!({ "role": "doctor" }))),
        ),
        (
            "add member",
            Method::POST,
            Box::new(|_| "/api/v1/members".into()),
            Action::AddMember,
            own_clinic(),
            StatusCode::CREATED,
            [201, 403, 403, 201],
            Some(Box::new(|p| {
                json!({
                    "login_id": format!("new-{}", p.member.login_id),
                    "name": "新人",
                    "role": "staff",
                    "password": "Kaede-77-river!",
                })
            })),
        ),
    ];
    for (label, method, path, action, target_of, ok, expected, body) in &rows {
        for (p, want) in principals.iter().zip(expected) {
            let mut request = p
                .client
                .request(method.clone(), app.clinic_url(&path(p)))
                .bearer_auth(&p.token);
            if let Some(body) = body {
                request = request.json(&body(p));
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            assert_eq!(status.as_u16(), *want, "{label} by {}", p.name);
            let (is_account, id) = target_of(p);
            let target = if is_account {
                Target::Account(&id)
            } else {
                Target::Clinic(&id)
            };
            let by_matrix = match authorize(&p.actor, *action, target) {
                Ok(()) => *ok,
                Err(Denied::Forbidden) => StatusCode::FORBIDDEN,
                Err(Denied::NotFound) => StatusCode::NOT_FOUND,
            };
            assert_eq!(
                status, by_matrix,
                "{label} by {}: route and matrix disagree",
                p.name
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn another_clinics_member_answers_exactly_like_a_missing_one() {
    let app = spawn_app().await;
    let (a, b) = (app.add_clinic("A").await, app.add_clinic("B").await);
    let admin_b = principal(&app, "admin of B", &b, Role::Admin).await;
    let member_a = app.add_member(&a, Role::Doctor).await;
    let missing = "01900000-0000-7000-8000-000000000000";
    for suffix in ["/disable", "/sessions"] {
        let method = if suffix == "/disable" {
            Method::POST
        } else {
            Method::DELETE
        };
        let mut answers = Vec::new();
        for id in [
            member_a.id.as_str(),
            missing,
            "../../etc/passwd",
            &"9".repeat(5000),
        ] {
            let response = admin_b
                .client
                .request(
                    method.clone(),
                    app.clinic_url(&format!("/api/v1/members/{id}{suffix}")),
                )
                .bearer_auth(&admin_b.token)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            answers.push((status, body));
        }
        assert_eq!(answers[0].0, StatusCode::NOT_FOUND, "{suffix}");
        assert_eq!(
            answers[0], answers[1],
            "{suffix}: another clinic's id vs a missing id"
        );
    }
    // The member of A was not touched.
    let client = app.clinic_client(&a).await;
    assert_eq!(log_in(&app, &client, &member_a).await.len(), 64);
    app.stop().await;
}

#[tokio::test]
async fn a_forced_log_off_ends_the_members_sessions_on_their_next_request() {
    let app = spawn_app().await;
    let a = app.add_clinic("A").await;
    let admin = principal(&app, "admin", &a, Role::Admin).await;
    let doctor = principal(&app, "doctor", &a, Role::Doctor).await;
    let off = admin
        .client
        .delete(app.clinic_url(&format!("/api/v1/members/{}/sessions", doctor.member.id)))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::NO_CONTENT);
    let next = doctor
        .client
        .get(app.clinic_url("/api/v1/me"))
        .bearer_auth(&doctor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), StatusCode::UNAUTHORIZED);
    let list: Value = admin
        .client
        .get(app.clinic_url("/api/v1/members"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["login_id"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&doctor.member.login_id.as_str())
            && names.contains(&admin.member.login_id.as_str())
    );
    assert!(
        list["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m.get("password_hash").is_none())
    );
    app.stop().await;
}

#[tokio::test]
async fn role_changes_take_effect_at_once_and_admins_cannot_remove_themselves() {
    let app = spawn_app().await;
    let a = app.add_clinic("A").await;
    let admin = principal(&app, "admin", &a, Role::Admin).await;
    let staff = principal(&app, "staff", &a, Role::Staff).await;
    let put_role = |id: &str, body: Value| {
        admin
            .client
            .put(app.clinic_url(&format!("/api/v1/members/{id}/role")))
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    assert_eq!(
        put_role(&staff.member.id, json!({ "role": "doctor" }))
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let me: Value = staff
        .client
        .get(app.clinic_url("/api/v1/me"))
        .bearer_auth(&staff.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "doctor", "the live session sees the new role");
    let bad = put_role(&staff.member.id, json!({ "role": "root" }))
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["field"], "role");
    let own = put_role(&admin.member.id, json!({ "role": "staff" }))
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::CONFLICT);
    let disable_self = admin
        .client
        .post(app.clinic_url(&format!("/api/v1/members/{}/disable", admin.member.id)))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(disable_self.status(), StatusCode::CONFLICT);
    let still: Value = admin
        .client
        .get(app.clinic_url("/api/v1/me"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(still["role"], "admin");
    app.stop().await;
}
