//! Operators and patient data (DATA-4): refused and logged without a grant; a request the
//! clinic's admin approves opens exactly its scope for exactly its time; refusals, lapses and
//! early ends; break-glass opens at once, tells the admin without patient data and shows on the
//! clinic's "operator access" list with the records read. Incident mode's emergency accounts
//! (AVAIL-4) end to end.
// covers DATA-4, DATA-2, AVAIL-4, LOG-1, ROLE-2

use enshin_core::people::Role;
use enshin_testkit::{TestApp, TestMember, call, spawn_app};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::operators::operator_token;

const HOUR_MS: i64 = 3_600_000;

async fn member_token(app: &TestApp, client: &Client, m: &TestMember) -> String {
    let (status, body) = call(
        client,
        Method::POST,
        app.clinic_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": m.login_id, "password": m.password })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// A clinic with an admin and a doctor logged in (one certificate), and two registered patients.
struct Clinic {
    id: String,
    client: Client,
    admin: String,
    doctor: String,
    patients: [String; 2],
}

async fn clinic(app: &TestApp, name: &str) -> Clinic {
    let id = app.add_clinic(name).await;
    let client = app.clinic_client(&id).await;
    let admin = member_token(app, &client, &app.add_member(&id, Role::Admin).await).await;
    let doctor = member_token(app, &client, &app.add_member(&id, Role::Doctor).await).await;
    let mut patients = Vec::new();
    for (family, kana) in [("山田", "ヤマダ"), ("佐藤", "サトウ")] {
        let (status, body) = call(
            &client,
            Method::POST,
            app.clinic_url("/api/v1/patients"),
            &doctor,
            Some(json!({
                "family_name": family, "given_name": "花子", "family_name_kana": kana,
                "given_name_kana": "ハナコ", "birth_date": "1948-03-09",
            })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        patients.push(body["id"].as_str().unwrap().to_owned());
    }
    Clinic {
        id,
        client,
        admin,
        doctor,
        patients: patients.try_into().unwrap(),
    }
}

/// The operator reads a patient of a clinic on the console API.
async fn operator_reads(
    app: &TestApp,
    op: &str,
    clinic: &str,
    patient: &str,
) -> (StatusCode, Value) {
    call(
        &app.client(),
        Method::GET,
        app.operator_url(&format!("/api/v1/clinics/{clinic}/patients/{patient}")),
        op,
        None,
    )
    .await
}

async fn ask(
    app: &TestApp,
    op: &str,
    clinic: &str,
    kind: &str,
    body: Value,
) -> (StatusCode, Value) {
    call(
        &app.client(),
        Method::POST,
        app.operator_url(&format!("/api/v1/clinics/{clinic}/{kind}")),
        op,
        Some(body),
    )
    .await
}

async fn admin_acts(
    app: &TestApp,
    c: &Clinic,
    token: &str,
    grant: &str,
    verb: &str,
) -> (StatusCode, Value) {
    call(
        &c.client,
        Method::POST,
        app.clinic_url(&format!("/api/v1/access-grants/{grant}/{verb}")),
        token,
        None,
    )
    .await
}

/// Moves a grant's times back, as if `ms` had passed.
async fn age_grant(app: &TestApp, grant: &str, ms: i64) {
    sqlx::query(
        "UPDATE access_grants SET requested_at = requested_at - $1, starts_at = starts_at - $1, \
         ends_at = ends_at - $1 WHERE id = $2",
    )
    .bind(ms)
    .bind(grant)
    .execute(app.store().pool())
    .await
    .unwrap();
}

async fn operator_access(app: &TestApp, c: &Clinic) -> Value {
    let (status, body) = call(
        &c.client,
        Method::GET,
        app.clinic_url("/api/v1/operator-access"),
        &c.admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn an_operator_reads_patient_data_only_under_an_approved_grant_within_scope_and_time() {
    let app = spawn_app().await;
    let a = clinic(&app, "A").await;
    let b = clinic(&app, "B").await;
    let op = operator_token(&app, &app.add_operator("ops.grants").await).await;
    let [p1, p2] = a.patients.clone();

    // No grant: refused, without a word of the record, and logged.
    let (status, body) = operator_reads(&app, &op, &a.id, &p1).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "no_access_grant");
    assert!(!body.to_string().contains("山田"));

    // Bad requests are answered with the field at fault.
    for (bad, field) in [
        (json!({ "reason": "", "minutes": 60 }), "reason"),
        (json!({ "reason": "x", "minutes": 481 }), "minutes"),
        (json!({ "reason": "x", "minutes": 0 }), "minutes"),
        (
            json!({ "reason": "x", "minutes": 60, "patient_id": "../etc" }),
            "patient_id",
        ),
    ] {
        let (status, body) = ask(&app, &op, &a.id, "access-requests", bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["field"], field);
    }
    let (status, _) = ask(
        &app,
        &op,
        "no-such-clinic",
        "access-requests",
        json!({ "reason": "x", "minutes": 60 }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A request for one patient, one hour.
    let (status, grant) = ask(
        &app,
        &op,
        &a.id,
        "access-requests",
        json!({ "reason": "問い合わせ #1234 の調査", "patient_id": p1, "minutes": 60 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{grant}");
    assert_eq!(grant["state"], "pending");
    let g1 = grant["id"].as_str().unwrap().to_owned();
    assert_eq!(
        grant["lapses_at"].as_i64().unwrap(),
        grant["requested_at"].as_i64().unwrap() + 96 * HOUR_MS
    );
    assert_eq!(
        operator_reads(&app, &op, &a.id, &p1).await.0,
        StatusCode::FORBIDDEN,
        "pending is not open"
    );

    // Only the clinic's own admin decides.
    assert_eq!(
        admin_acts(&app, &a, &a.doctor, &g1, "approve").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin_acts(&app, &b, &b.admin, &g1, "approve").await.0,
        StatusCode::NOT_FOUND
    );
    let (_, listed) = call(
        &a.client,
        Method::GET,
        app.clinic_url("/api/v1/access-grants"),
        &a.admin,
        None,
    )
    .await;
    assert_eq!(listed["grants"][0]["id"], g1.as_str());
    assert_eq!(listed["grants"][0]["reason"], "問い合わせ #1234 の調査");
    let (_, listed_b) = call(
        &b.client,
        Method::GET,
        app.clinic_url("/api/v1/access-grants"),
        &b.admin,
        None,
    )
    .await;
    assert_eq!(listed_b["grants"], json!([]), "another clinic sees nothing");

    let (status, approved) = admin_acts(&app, &a, &a.admin, &g1, "approve").await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["state"], "active");
    assert_eq!(
        approved["ends_at"].as_i64().unwrap() - approved["starts_at"].as_i64().unwrap(),
        HOUR_MS
    );
    let (status, again) = admin_acts(&app, &a, &a.admin, &g1, "approve").await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    // Within scope: this patient of this clinic, nothing else.
    let (status, record) = operator_reads(&app, &op, &a.id, &p1).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["family_name"], "山田");
    assert_eq!(
        operator_reads(&app, &op, &a.id, &p2).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        operator_reads(&app, &op, &b.id, &b.patients[0]).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        operator_reads(&app, &op, &b.id, &p1).await.0,
        StatusCode::FORBIDDEN,
        "a grant of A does not open A's patient through B"
    );

    // The admin's list shows the refused and the allowed reads, with the grant used.
    let seen = operator_access(&app, &a).await;
    let entries = seen["entries"].as_array().unwrap();
    let reads: Vec<(&str, &str, Option<&str>)> = entries
        .iter()
        .filter(|e| e["target_type"] == "patient")
        .map(|e| {
            (
                e["target_id"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
                e["access"].as_str(),
            )
        })
        .collect();
    let under = format!("grant:{g1}");
    assert_eq!(
        reads,
        [
            (p1.as_str(), "denied", None),
            (p1.as_str(), "denied", None),
            (p1.as_str(), "allowed", Some(under.as_str())),
            (p2.as_str(), "denied", None),
        ]
    );
    assert!(
        !seen.to_string().contains(&b.patients[0]),
        "B's patient is not on A's list"
    );

    // After its time, the grant is closed.
    age_grant(&app, &g1, 2 * HOUR_MS).await;
    assert_eq!(
        operator_reads(&app, &op, &a.id, &p1).await.0,
        StatusCode::FORBIDDEN
    );

    // A refused request never opens; a request nobody decides lapses after 4 days.
    let (_, refused) = ask(
        &app,
        &op,
        &a.id,
        "access-requests",
        json!({ "reason": "r", "minutes": 30 }),
    )
    .await;
    let g2 = refused["id"].as_str().unwrap();
    assert_eq!(
        admin_acts(&app, &a, &a.admin, g2, "refuse").await.1["state"],
        "refused"
    );
    assert_eq!(
        admin_acts(&app, &a, &a.admin, g2, "approve").await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        operator_reads(&app, &op, &a.id, &p2).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, lapsing) = ask(
        &app,
        &op,
        &a.id,
        "access-requests",
        json!({ "reason": "r", "minutes": 30 }),
    )
    .await;
    let g3 = lapsing["id"].as_str().unwrap();
    age_grant(&app, g3, 96 * HOUR_MS).await;
    let (status, lapsed) = admin_acts(&app, &a, &a.admin, g3, "approve").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        lapsed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("lapsed"),
        "{lapsed}"
    );

    // The admin can end open access early.
    let (_, whole) = ask(
        &app,
        &op,
        &a.id,
        "access-requests",
        json!({ "reason": "r", "minutes": 480 }),
    )
    .await;
    let g4 = whole["id"].as_str().unwrap();
    admin_acts(&app, &a, &a.admin, g4, "approve").await;
    assert_eq!(
        operator_reads(&app, &op, &a.id, &p2).await.0,
        StatusCode::OK,
        "clinic scope reaches every patient"
    );
    let (status, ended) = admin_acts(&app, &a, &a.admin, g4, "end").await;
    assert_eq!(
        (status, ended["state"].as_str()),
        (StatusCode::OK, Some("ended"))
    );
    assert_eq!(
        operator_reads(&app, &op, &a.id, &p2).await.0,
        StatusCode::FORBIDDEN
    );

    // The operator sees their own grants and their states.
    let (_, own) = call(
        &app.client(),
        Method::GET,
        app.operator_url("/api/v1/access-grants"),
        &op,
        None,
    )
    .await;
    let states: Vec<&str> = own["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["state"].as_str().unwrap())
        .collect();
    // Newest request first (the aged ones count as asked earlier).
    assert_eq!(states, ["ended", "refused", "ended", "lapsed"]);
    app.stop().await;
}

#[tokio::test]
async fn break_glass_opens_at_once_tells_the_admin_and_lists_the_records_read() {
    let app = spawn_app().await;
    let a = clinic(&app, "Aクリニック").await;
    let op_account = app.add_operator("ops.glass").await;
    let op = operator_token(&app, &op_account).await;
    let (status, _) = call(
        &app.client(),
        Method::PUT,
        app.operator_url(&format!("/api/v1/clinics/{}/admin-email", a.id)),
        &op,
        Some(json!({ "email": "admin@clinic-a.example" })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let reason = "障害 INC-77 の復旧で山田様の記録を確認";
    let (status, body) = ask(
        &app,
        &op,
        &a.id,
        "break-glass",
        json!({ "reason": reason, "minutes": 241 }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(app.outbox(0).await.is_empty());
    let (status, grant) = ask(
        &app,
        &op,
        &a.id,
        "break-glass",
        json!({ "reason": reason, "patient_id": a.patients[0], "minutes": 240 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{grant}");
    assert_eq!(grant["state"], "active");
    let id = grant["id"].as_str().unwrap();
    assert_eq!(
        operator_reads(&app, &op, &a.id, &a.patients[0]).await.0,
        StatusCode::OK
    );

    // The admin is told at once, and the notice carries neither the reason nor the patient.
    let messages = app.outbox(1).await;
    assert_eq!(messages.len(), 1);
    let notice = &messages[0];
    assert!(
        notice.starts_with("To: admin@clinic-a.example\n"),
        "{notice}"
    );
    assert!(
        notice.contains("ops.glass") && notice.contains("Aクリニック"),
        "{notice}"
    );
    for secret in ["山田", "INC-77", a.patients[0].as_str()] {
        assert!(!notice.contains(secret), "{secret} in the notice: {notice}");
    }

    // The clinic's list: the break-glass access with its reason, and exactly the record read.
    let seen = operator_access(&app, &a).await;
    assert_eq!(seen["grants"][0]["kind"], "break_glass");
    assert_eq!(seen["grants"][0]["reason"], reason);
    assert_eq!(seen["grants"][0]["operator"], "ops.glass");
    let reads: Vec<&Value> = seen["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target_type"] == "patient")
        .collect();
    assert_eq!(reads.len(), 1, "{seen}");
    assert_eq!(reads[0]["target_id"], a.patients[0].as_str());
    assert_eq!(reads[0]["access"], format!("break_glass:{id}"));
    assert_eq!(reads[0]["operator_id"], op_account.id.as_str());
    let acknowledged: Option<i64> =
        sqlx::query_scalar("SELECT seen_at FROM access_grants WHERE id = $1")
            .bind(id)
            .fetch_one(app.store().pool())
            .await
            .unwrap();
    assert!(
        acknowledged.is_some(),
        "opening the list acknowledges the notice"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_emergency_holds_normal_ids_and_its_accounts_reach_only_the_clinic_admin() {
    let app = spawn_app().await;
    let a = clinic(&app, "A").await;
    let staff = app.add_member(&a.id, Role::Staff).await;
    let op = operator_token(&app, &app.add_operator("ops.emergency").await).await;
    let emergency_url = app.operator_url(&format!("/api/v1/clinics/{}/emergency", a.id));
    let start = json!({ "hours": 24, "roles": ["admin", "doctor"] });

    let (status, body) = call(
        &app.client(),
        Method::POST,
        emergency_url.clone(),
        &op,
        Some(start.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "no_admin_contact");
    call(
        &app.client(),
        Method::PUT,
        app.operator_url(&format!("/api/v1/clinics/{}/admin-email", a.id)),
        &op,
        Some(json!({ "email": "admin@a.example" })),
    )
    .await;
    for (bad, field) in [
        (json!({ "hours": 0, "roles": ["admin"] }), "hours"),
        (json!({ "hours": 73, "roles": ["admin"] }), "hours"),
        (json!({ "hours": 1, "roles": [] }), "roles"),
        (json!({ "hours": 1, "roles": ["root"] }), "roles"),
        (json!({ "hours": 1, "roles": vec!["staff"; 6] }), "roles"),
    ] {
        let (status, body) = call(
            &app.client(),
            Method::POST,
            emergency_url.clone(),
            &op,
            Some(bad),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["field"], field);
    }

    let (status, started) = call(
        &app.client(),
        Method::POST,
        emergency_url.clone(),
        &op,
        Some(start.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(started["accounts"].as_array().unwrap().len(), 2);

    // The credentials went to the clinic's admin address, and not into the operator's answer.
    let messages = app.outbox(1).await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].starts_with("To: admin@a.example\n"));
    let credentials: Vec<(String, String)> = messages[0]
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ID: "))
        .map(|l| {
            let mut words = l.split_whitespace();
            let login = words.next().unwrap().to_owned();
            let password = words.nth(3).unwrap().to_owned();
            (login, password)
        })
        .collect();
    assert_eq!(credentials.len(), 2, "{}", messages[0]);
    for (login, password) in &credentials {
        assert!(!started.to_string().contains(login.as_str()));
        assert!(!started.to_string().contains(password.as_str()));
    }

    // Normal IDs are held: open sessions end, log-in is refused.
    let (status, _) = call(
        &a.client,
        Method::GET,
        app.clinic_url("/api/v1/me"),
        &a.admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(
        &a.client,
        Method::POST,
        app.clinic_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": staff.login_id, "password": staff.password })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An emergency account works, as what it is, and the access log marks it.
    let emergency = TestMember {
        id: String::new(),
        clinic_id: a.id.clone(),
        login_id: credentials[0].0.clone(),
        password: credentials[0].1.clone(),
    };
    let token = member_token(&app, &a.client, &emergency).await;
    let (_, me) = call(
        &a.client,
        Method::GET,
        app.clinic_url("/api/v1/me"),
        &token,
        None,
    )
    .await;
    assert_eq!(me["role"], "admin");
    let emergency_id = me["id"].as_str().unwrap().to_owned();
    let (_, log) = call(
        &app.client(),
        Method::GET,
        app.operator_url(&format!("/api/v1/audit?principal={emergency_id}")),
        &op,
        None,
    )
    .await;
    let marked: Vec<&Value> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["entry"])
        .collect();
    assert!(marked.len() >= 2, "{log}");
    assert!(marked.iter().all(|e| e["access"] == "emergency"), "{log}");

    let (status, body) = call(
        &app.client(),
        Method::POST,
        emergency_url.clone(),
        &op,
        Some(start.clone()),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("emergency_in_force"))
    );

    // Ending it: the emergency account stops at once, normal IDs work again.
    let (status, _) = call(
        &app.client(),
        Method::DELETE,
        emergency_url.clone(),
        &op,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &a.client,
        Method::GET,
        app.clinic_url("/api/v1/me"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    member_token(&app, &a.client, &staff).await;
    let (status, _) = call(
        &app.client(),
        Method::DELETE,
        emergency_url.clone(),
        &op,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no emergency in force");

    // Emergency accounts expire by themselves, and the normal IDs come back then too.
    let (status, _) = call(
        &app.client(),
        Method::POST,
        emergency_url.clone(),
        &op,
        Some(start),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let second = app.outbox(2).await.pop().unwrap();
    let line = second
        .lines()
        .find_map(|l| l.trim().strip_prefix("ID: "))
        .unwrap()
        .to_owned();
    let words: Vec<&str> = line.split_whitespace().collect();
    let late = TestMember {
        id: String::new(),
        clinic_id: a.id.clone(),
        login_id: words[0].to_owned(),
        password: words[4].to_owned(),
    };
    let late_token = member_token(&app, &a.client, &late).await;
    for table in ["clinics", "members"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET emergency_until = emergency_until - $1 WHERE emergency_until IS NOT NULL"
        )))
        .bind(25 * HOUR_MS)
        .execute(app.store().pool())
        .await
        .unwrap();
    }
    let (status, _) = call(
        &a.client,
        Method::GET,
        app.clinic_url("/api/v1/me"),
        &late_token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(
        &a.client,
        Method::POST,
        app.clinic_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": late.login_id, "password": late.password })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    member_token(&app, &a.client, &staff).await;
    app.stop().await;
}

#[tokio::test]
async fn the_request_is_asked_approved_and_ended_through_the_pages() {
    let app = spawn_app().await;
    let a = app.add_clinic("ページ診療所").await;
    let operator = app
        .operator_browser(&app.add_operator("ops.pages").await)
        .await;
    let form = operator.get("/access").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("ページ診療所"), "clinics to choose from");
    let csrf = form.csrf();
    let post = |minutes: &'static str, kind: &'static str| {
        let (csrf, a, operator) = (csrf.clone(), a.clone(), &operator);
        async move {
            operator
                .post(
                    "/access",
                    &[
                        ("csrf", &csrf),
                        ("clinic", &a),
                        ("patient_id", ""),
                        ("minutes", minutes),
                        ("reason", "問い合わせ #88 の調査"),
                        ("kind", kind),
                    ],
                )
                .await
        }
    };
    let wrong = post("abc", "request").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("1〜480分"), "{}", wrong.body);
    assert!(
        wrong.body.contains("問い合わせ #88 の調査"),
        "the form keeps the reason"
    );
    let asked = post("30", "request").await;
    assert_eq!(asked.location(), Some("/access?done=access_requested"));
    assert!(operator.get("/access").await.body.contains("承認待ち"));

    // The admin is told on the start page, and decides on the operator-access page.
    let admin = app
        .member_browser(&app.add_member(&a, Role::Admin).await)
        .await;
    let home = admin.get("/home").await;
    assert!(home.body.contains("確認が必要な項目"), "{}", home.body);
    let page = admin.get("/operator-access").await;
    assert!(page.body.contains("問い合わせ #88 の調査") && page.body.contains("ops.pages"));
    let grant = app.store().grants_of_clinic(&a).await.unwrap().remove(0);
    let csrf = page.csrf();
    let approved = admin
        .post(
            &format!("/operator-access/{}/approve", grant.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        approved.location(),
        Some("/operator-access?done=access_approved")
    );
    let again = admin
        .post(
            &format!("/operator-access/{}/approve", grant.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("すでに判断済み"), "{}", again.body);
    assert!(
        admin
            .get("/operator-access")
            .await
            .body
            .contains("アクセス中")
    );
    let ended = admin
        .post(
            &format!("/operator-access/{}/end", grant.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(ended.location(), Some("/operator-access?done=access_ended"));
    assert!(
        !admin.get("/home").await.body.contains("確認が必要な項目"),
        "nothing left to decide"
    );
    let missing = admin
        .post("/operator-access/nope/refuse", &[("csrf", &csrf)])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Break-glass from the page opens at once.
    let opened = post("30", "break_glass").await;
    assert_eq!(opened.location(), Some("/access?done=access_opened"));
    assert!(
        admin
            .get("/operator-access")
            .await
            .body
            .contains("緊急時(ブレークグラス)")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_console_pages_add_a_clinic_suspend_it_run_an_emergency_and_publish() {
    let app = spawn_app().await;
    let console = app
        .operator_browser(&app.add_operator("ops.console").await)
        .await;
    let csrf = console.get("/clinics").await.csrf();
    let empty = console
        .post("/clinics", &[("csrf", &csrf), ("name", " ")])
        .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.body
    );
    let added = console
        .post("/clinics", &[("csrf", &csrf), ("name", "コンソール医院")])
        .await;
    let location = added.location().expect("a redirect").to_owned();
    assert!(location.ends_with("?done=clinic_created"), "{location}");
    let id = location
        .trim_start_matches("/clinics/")
        .trim_end_matches("?done=clinic_created")
        .to_owned();
    let page = console.get(&location).await;
    assert!(
        page.body.contains("コンソール医院") && page.body.contains("クリニックを追加しました。")
    );

    // The administrator's address, then an emergency issued from the page.
    let at = |suffix: &str| format!("/clinics/{id}/{suffix}");
    let no_contact = console
        .post(
            &at("emergency"),
            &[
                ("csrf", &csrf),
                ("hours", "24"),
                ("admins", "1"),
                ("doctors", "0"),
                ("staff", "0"),
            ],
        )
        .await;
    assert_eq!(no_contact.status, StatusCode::CONFLICT);
    assert!(
        no_contact.body.contains("連絡先メールアドレスが未登録"),
        "{}",
        no_contact.body
    );
    let bad_mail = console
        .post(
            &at("admin-email"),
            &[("csrf", &csrf), ("email", "not-an-address")],
        )
        .await;
    assert_eq!(bad_mail.status, StatusCode::UNPROCESSABLE_ENTITY);
    let saved = console
        .post(
            &at("admin-email"),
            &[("csrf", &csrf), ("email", "boss@console.example")],
        )
        .await;
    assert_eq!(
        saved.location(),
        Some(format!("/clinics/{id}?done=contact_saved").as_str())
    );
    let too_long = console
        .post(
            &at("emergency"),
            &[
                ("csrf", &csrf),
                ("hours", "99"),
                ("admins", "1"),
                ("doctors", "0"),
                ("staff", "0"),
            ],
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    let started = console
        .post(
            &at("emergency"),
            &[
                ("csrf", &csrf),
                ("hours", "24"),
                ("admins", "1"),
                ("doctors", "1"),
                ("staff", "0"),
            ],
        )
        .await;
    assert_eq!(
        started.location(),
        Some(format!("/clinics/{id}?done=emergency_started").as_str())
    );
    let page = console.get(&format!("/clinics/{id}")).await;
    assert!(page.body.contains("緊急対応中"), "{}", page.body);
    assert_eq!(
        page.body.matches("緊急用 –").count(),
        2,
        "two emergency accounts listed"
    );
    let mail = app.outbox(1).await.pop().unwrap();
    assert!(mail.starts_with("To: boss@console.example\n"));
    let password = mail
        .lines()
        .find_map(|l| l.trim().strip_prefix("ID: "))
        .and_then(|l| l.split_whitespace().nth(4))
        .unwrap()
        .to_owned();
    assert!(
        !page.body.contains(&password),
        "the operator never sees a password"
    );
    let ended = console.post(&at("emergency/end"), &[("csrf", &csrf)]).await;
    assert_eq!(
        ended.location(),
        Some(format!("/clinics/{id}?done=emergency_ended").as_str())
    );

    // A member logged off everywhere from the clinic's page (SESS-2).
    let member = app.add_member(&id, Role::Staff).await;
    let pc = app.clinic_client(&id).await;
    let token = member_token(&app, &pc, &member).await;
    let off = console
        .post(
            &at(&format!("members/{}/end-sessions", member.id)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        off.location(),
        Some(format!("/clinics/{id}?done=sessions_ended").as_str())
    );
    let (status, _) = call(&pc, Method::GET, app.clinic_url("/api/v1/me"), &token, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let unknown = console
        .post(&at("members/nobody/end-sessions"), &[("csrf", &csrf)])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Suspend the clinic with a message, then resume.
    let blank = console
        .post(
            "/suspensions",
            &[("csrf", &csrf), ("scope", &id), ("message", "")],
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    let suspended = console
        .post(
            "/suspensions",
            &[
                ("csrf", &csrf),
                ("scope", &id),
                ("message", "点検中です。17時に再開します。"),
            ],
        )
        .await;
    assert_eq!(suspended.location(), Some("/clinics?done=suspended"));
    let list = console.get("/clinics").await;
    assert!(list.body.contains("点検中です。17時に再開します。"));
    assert!(
        console
            .get(&format!("/clinics/{id}"))
            .await
            .body
            .contains("停止中: 点検中です")
    );
    let lifted = console
        .post(&format!("/suspensions/{id}/lift"), &[("csrf", &csrf)])
        .await;
    assert_eq!(lifted.location(), Some("/clinics?done=lifted"));
    let again = console
        .post(&format!("/suspensions/{id}/lift"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // Announcements: a change needs 14 days' notice, an urgent security notice does not.
    let today = enshin_server::clock::today_in_japan();
    let publish = |kind: &'static str| {
        let (csrf, today, console) = (csrf.clone(), today.clone(), &console);
        async move {
            console
                .post(
                    "/announcements",
                    &[
                        ("csrf", &csrf),
                        ("kind", kind),
                        ("title", "メンテナンスのお知らせ"),
                        ("text", "本文"),
                        ("effective_date", &today),
                    ],
                )
                .await
        }
    };
    let soon = publish("change").await;
    assert_eq!(soon.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(soon.body.contains("14日以上前"), "{}", soon.body);
    assert!(
        soon.body.contains("メンテナンスのお知らせ"),
        "the form keeps the title"
    );
    let urgent = publish("security").await;
    assert_eq!(
        urgent.location(),
        Some("/announcements?done=announcement_published")
    );
    assert!(
        console
            .get("/announcements")
            .await
            .body
            .contains("メンテナンスのお知らせ")
    );
    app.stop().await;
}
