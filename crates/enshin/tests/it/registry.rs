//! The clinic's patient registry (FUNC-1): sex, card number and contact, search by kana, name or
//! card number within the clinic, CSV import (a preview with a per-row report; all rows or none)
//! and export; every record a list shows is a read in the access log.
// covers FUNC-1, ROLE-2, DATA-1, DATA-3, LOG-1

use enshin_core::people::Role;
use enshin_testkit::{TestApp, call, spawn_app};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::audit::{audit_store, entries};
use crate::booking::member;

const HEAD: &str =
    "family_name,given_name,family_name_kana,given_name_kana,birth_date,sex,card_number,contact\n";

async fn add(app: &TestApp, pc: &Client, token: &str, body: Value) -> (StatusCode, Value) {
    call(
        pc,
        Method::POST,
        app.clinic_url("/api/v1/patients"),
        token,
        Some(body),
    )
    .await
}

async fn search(app: &TestApp, pc: &Client, token: &str, q: &str) -> Vec<String> {
    let (status, found) = call(
        pc,
        Method::GET,
        app.clinic_url(&format!("/api/v1/patients?q={}", urlencode(q))),
        token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    found["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn import(
    app: &TestApp,
    pc: &Client,
    token: &str,
    csv: &str,
    commit: bool,
) -> (StatusCode, Value) {
    let response = pc
        .post(app.clinic_url(&format!("/api/v1/patients/import?commit={commit}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn count(app: &TestApp, pc: &Client, token: &str) -> usize {
    search(app, pc, token, "").await.len()
}

#[tokio::test]
async fn the_registry_keeps_sex_card_and_contact_sealed_and_finds_patients_only_in_its_clinic() {
    let app = spawn_app().await;
    let a = app.add_clinic("A").await;
    let (_, pc, staff) = member(&app, &a, Role::Staff).await;
    let (status, yamada) = add(
        &app,
        &pc,
        &staff,
        json!({ "family_name": "山田", "given_name": "花子", "family_name_kana": "やまだ",
            "given_name_kana": "はなこ", "birth_date": "1948-03-09", "sex": "女",
            "card_number": "００１２３", "contact": "03-1234-5678" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{yamada}");
    let yamada = yamada["id"].as_str().unwrap().to_owned();
    let (_, sato) = add(
        &app,
        &pc,
        &staff,
        json!({ "family_name": "佐藤", "given_name": "一郎", "family_name_kana": "サトウ",
            "given_name_kana": "イチロウ", "birth_date": "1950-01-02" }),
    )
    .await;
    let sato = sato["id"].as_str().unwrap().to_owned();
    let (_, record) = call(
        &pc,
        Method::GET,
        app.clinic_url(&format!("/api/v1/patients/{yamada}")),
        &staff,
        None,
    )
    .await;
    assert_eq!(
        (
            record["sex"].as_str(),
            record["card_number"].as_str(),
            record["contact"].as_str()
        ),
        (Some("female"), Some("00123"), Some("0312345678"))
    );
    // The card number is not in the database in clear, nor its digits as text.
    let stored: Option<String> =
        sqlx::query_scalar::<_, String>("SELECT card_index FROM clinic_patients WHERE id = $1")
            .bind(&yamada)
            .fetch_optional(app.store().pool())
            .await
            .unwrap();
    let stored = stored.unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains("00123"));

    // A second patient with the same card number is refused; a mistake names its field.
    let (status, taken) = add(
        &app,
        &pc,
        &staff,
        json!({ "family_name": "田中", "given_name": "一", "family_name_kana": "タナカ",
            "given_name_kana": "ハジメ", "birth_date": "1960-01-01", "card_number": "00123" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(taken["error"]["field"], "card_number");
    for (field, value) in [
        ("sex", "x"),
        ("card_number", "12 34"),
        ("contact", "call me"),
    ] {
        let mut body = json!({ "family_name": "田中", "given_name": "一", "family_name_kana": "タナカ",
            "given_name_kana": "ハジメ", "birth_date": "1960-01-01" });
        body[field] = json!(value);
        let (status, wrong) = add(&app, &pc, &staff, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong["error"]["field"], field);
    }

    // Searches: kana in either script or in part, the name, the card number as typed.
    assert_eq!(
        search(&app, &pc, &staff, "やまだ").await,
        vec![yamada.clone()]
    );
    assert_eq!(
        search(&app, &pc, &staff, "ハナ").await,
        vec![yamada.clone()]
    );
    assert_eq!(search(&app, &pc, &staff, "佐藤").await, vec![sato.clone()]);
    assert_eq!(
        search(&app, &pc, &staff, "００１２３").await,
        vec![yamada.clone()]
    );
    assert!(search(&app, &pc, &staff, "99999").await.is_empty());
    assert_eq!(search(&app, &pc, &staff, "").await.len(), 2);

    // Another clinic finds nobody, by any of it.
    let b = app.add_clinic("B").await;
    let (_, b_pc, b_staff) = member(&app, &b, Role::Staff).await;
    for q in ["やまだ", "00123", "山田", ""] {
        assert!(search(&app, &b_pc, &b_staff, q).await.is_empty(), "{q}");
    }

    // The access log names exactly the records each answer showed.
    let store = audit_store(&app).await;
    let reads: Vec<Vec<String>> = entries(&store)
        .await
        .into_iter()
        .filter(|s| s.entry.action == "GET /api/v1/patients")
        .map(|s| s.entry.subjects)
        .collect();
    assert!(reads.contains(&vec![yamada.clone()]));
    assert!(reads.contains(&vec![sato.clone()]));
    assert!(reads.iter().any(|r| r.len() == 2));
    assert!(
        reads.iter().filter(|r| r.is_empty()).count() >= 5,
        "B's and the empty searches read nobody"
    );
    // "Who looked at this patient?" finds the list reads as well as the record reads.
    let filter = enshin_store::audit::AuditFilter {
        from: 0,
        to: i64::MAX,
        clinic_id: None,
        principal_id: None,
        target_id: Some(sato.clone()),
        outcome: None,
    };
    let found = store.search(&filter, None, 100).await.unwrap();
    let actions: Vec<String> = found
        .iter()
        .map(|(_, body)| {
            enshin_core::audit::entry::Sealed::from_bytes(body.as_bytes())
                .unwrap()
                .entry
                .action
        })
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "GET /api/v1/patients")
            .count(),
        2,
        "the search for 佐藤 and the whole list: {actions:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_csv_import_previews_reports_bad_rows_and_imports_all_or_nothing() {
    let app = spawn_app().await;
    let a = app.add_clinic("A").await;
    let (_, pc, admin) = member(&app, &a, Role::Admin).await;
    let (_, staff_pc, staff) = member(&app, &a, Role::Staff).await;
    let bad = format!(
        "{HEAD}山田,花子,ヤマダ,ハナコ,1948-03-09,女,A1,\n\
         鈴木,次郎,suzuki,ジロウ,1955-05-05,男,A2,\n\
         高橋,三郎,タカハシ,サブロウ,1955-02-30,,A3,\n\
         伊藤,四郎,イトウ,シロウ,1960-01-01,,A1,\n"
    );
    let (status, preview) = import(&app, &pc, &admin, &bad, false).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["rows"], 1);
    let lines: Vec<(u64, &str)> = preview["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [
            (3, "family_name_kana"),
            (4, "birth_date"),
            (5, "card_number")
        ]
    );
    assert!(
        !preview.to_string().contains("suzuki"),
        "no typed value in the report"
    );
    assert_eq!(
        count(&app, &pc, &admin).await,
        0,
        "a preview stores nothing"
    );
    let (status, refused) = import(&app, &pc, &admin, &bad, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"]["code"], "import_refused");
    assert_eq!(refused["errors"].as_array().unwrap().len(), 3);
    assert_eq!(
        count(&app, &pc, &admin).await,
        0,
        "nothing was half-imported"
    );

    let good = format!(
        "{HEAD}山田,花子,ヤマダ,ハナコ,1948-03-09,女,A1,03-1234-5678\n\
         \"佐藤, 二世\",一郎,サトウ,イチロウ,1950-01-02,,,\n"
    );
    let (status, done) = import(&app, &pc, &admin, &good, true).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["imported"], 2);
    assert_eq!(count(&app, &pc, &admin).await, 2);
    // Again: the card number is now taken, and the other row is not imported either.
    let (status, again) = import(&app, &pc, &admin, &good, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again["errors"][0]["code"], "card_number_taken");
    assert_eq!(count(&app, &pc, &admin).await, 2);

    // Bad files and the wrong people.
    for (csv, want) in [
        ("a,b\n1,2\n", StatusCode::UNPROCESSABLE_ENTITY),
        ("", StatusCode::UNPROCESSABLE_ENTITY),
        ("\u{0}\u{1}<script>", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, answer) = import(&app, &pc, &admin, csv, false).await;
        assert_eq!(status, want, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_csv");
    }
    let (status, _) = import(&app, &pc, &admin, &"x".repeat(5 * 1024 * 1024), false).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = import(&app, &staff_pc, &staff, &good, false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The export: the rows as written, with a guard on formula characters, each one a read.
    let response = pc
        .get(app.clinic_url("/api/v1/patients/export"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("patients.csv")
    );
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}姓,名,"), "{csv}");
    assert!(csv.contains("山田,花子,ヤマダ,ハナコ,1948-03-09,female,A1,0312345678"));
    assert!(csv.contains("\"佐藤, 二世\""));
    let store = audit_store(&app).await;
    let export = entries(&store)
        .await
        .into_iter()
        .find(|s| s.entry.action == "GET /api/v1/patients/export")
        .unwrap();
    assert_eq!(export.entry.subjects.len(), 2);
    let (status, _) = call(
        &staff_pc,
        Method::GET,
        app.clinic_url("/api/v1/patients/export"),
        &staff,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}

/// A multipart body with the form token and one file.
fn multipart(csrf: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "enshin-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_import_pages_check_a_shift_jis_file_then_import_it() {
    let app = spawn_app().await;
    let a = app.add_clinic("A").await;
    let admin = app
        .member_browser(&app.add_member(&a, Role::Admin).await)
        .await;
    let form = admin.get("/patients/import").await;
    assert_eq!(form.status, StatusCode::OK);
    let head_ja = "姓,名,姓(カナ),名(カナ),生年月日,性別,診察券番号,連絡先\r\n";
    let bad = format!(
        "{head_ja}山田,花子,ヤマダ,ハナコ,1948-03-09,女,A1,\r\n鈴木,次郎,suzuki,ジロウ,1955-05-05,男,A2,\r\n"
    );
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&bad);
    let (content_type, body) = multipart(&form.csrf(), &sjis);
    let checked = admin
        .post_raw("/patients/import", &content_type, body)
        .await;
    assert_eq!(
        checked.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        checked.body
    );
    assert!(
        checked
            .body
            .contains("ひらがなかカタカナで入力してください"),
        "{}",
        checked.body
    );
    assert!(
        !checked.body.contains("/patients/import/commit"),
        "no import with a mistake"
    );

    let good = format!("{head_ja}山田,花子,ヤマダ,ハナコ,1948-03-09,女,A1,\r\n");
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&good);
    let (content_type, body) = multipart(&form.csrf(), &sjis);
    let checked = admin
        .post_raw("/patients/import", &content_type, body)
        .await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    assert!(checked.body.contains("山田 花子"));
    let done = admin
        .post(
            "/patients/import/commit",
            &[("csrf", &checked.csrf()), ("csv", &good)],
        )
        .await;
    assert_eq!(done.location(), Some("/patients?done=imported"));
    let list = admin.get("/patients?q=やまだ").await;
    assert!(
        list.body.contains("山田 花子") && list.body.contains("A1"),
        "{}",
        list.body
    );
    let export = admin.get("/patients/export.csv").await;
    assert!(export.body.contains("山田,花子"));

    // Without the form token, or from staff: refused.
    let (content_type, body) = multipart("forged", good.as_bytes());
    let forged = admin
        .post_raw("/patients/import", &content_type, body)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let staff = app
        .member_browser(&app.add_member(&a, Role::Staff).await)
        .await;
    assert_eq!(
        staff.get("/patients/import").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        staff.get("/patients/export.csv").await.status,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}
