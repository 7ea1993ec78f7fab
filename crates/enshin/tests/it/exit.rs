//! A clinic leaves (DATA-5): a termination notice with its date, deletion refused before that
//! date, then every row of the clinic deleted with its data key destroyed in the keyring and in
//! every keyring backup. The clinic's ids then answer like ids that never existed, another clinic
//! is untouched, the access log and the records still verify, and the signed certificate
//! verifies while an altered one does not. The shred drill puts canaries in the clinic's A-class
//! fields, backs up, deletes, restores the pre-deletion backup into a scratch directory, and finds
//! no canary in any file and the restored rows unreadable: "key destroyed".
// covers DATA-5, DATA-3, LOG-2, ROLE-2

use enshin_core::exit::japan_today;
use enshin_testkit::{TestApp, call, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backups::run;
use crate::calls::{OnlineVisit, visit_without_plan};
use crate::records::{agreed_plan, agreed_plan_with, doctor, full_plan};

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &std::process::Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A finalised note with its identity check, on top of an agreed plan.
pub(crate) async fn records_of(app: &TestApp, v: &OnlineVisit) {
    agreed_plan(app, v).await;
    finalised_note(
        app,
        v,
        json!({ "subjective": "動悸", "objective": "HR 96", "assessment": "経過観察", "plan": "2週間後に再診" }),
        "聴診が必要",
    )
    .await;
}

/// A questionnaire asked, a pulse threshold set, and a reading over it (an alert).
pub(crate) async fn questionnaire_and_alert(app: &TestApp, v: &OnlineVisit) {
    let definition = json!({ "definition": crate::questionnaires::definition() });
    let (status, q) = doctor(
        app,
        v,
        Method::POST,
        "/api/v1/questionnaires",
        Some(definition),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    let asked = app.clinic_url(&format!("/api/v1/patients/{}/questionnaires", v.record));
    let body = json!({ "questionnaire_id": q["id"] });
    let (status, _) = call(&v.staff_pc, Method::POST, asked, &v.staff, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    let thresholds = format!("/api/v1/patients/{}/thresholds", v.record);
    let limit = json!({ "kind": "pulse", "above": "100" });
    let (status, _) = doctor(app, v, Method::PUT, &thresholds, Some(limit)).await;
    assert_eq!(status, StatusCode::OK);
    let reading = json!({ "values": { "pulse": "120" } });
    let readings = app.patient_url("/api/v1/readings");
    let (status, _) = call(
        &app.client(),
        Method::POST,
        readings,
        &v.patient,
        Some(reading),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// The visit's note with `soap`, finalised after an identity check as switched to in person.
async fn finalised_note(app: &TestApp, v: &OnlineVisit, soap: Value, reason: &str) {
    let note = format!("/api/v1/appointments/{}/note", v.appointment);
    let identity = format!("/api/v1/appointments/{}/identity-check", v.appointment);
    let (status, _) = doctor(
        app,
        v,
        Method::POST,
        &identity,
        Some(json!({ "method": "photo_id" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let outcome = json!({ "kind": "switched_to_in_person", "reason": reason });
    let (status, body) = doctor(
        app,
        v,
        Method::PUT,
        &note,
        Some(json!({ "soap": soap, "outcome": outcome })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = doctor(app, v, Method::POST, &format!("{note}/finalise"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The clinic's termination date as `clinic list --json` shows it.
fn terminates_on(app: &TestApp, id: &str) -> Value {
    let listed: Value =
        serde_json::from_str(&ok(&run(app, &["clinic", "list", "--json"]))).unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()["terminates_on"]
        .clone()
}

/// `clinic terminate ID --delete --out DIR`; returns what it printed and the certificate.
fn delete(app: &TestApp, id: &str, dir: &std::path::Path) -> (String, Value) {
    let printed = ok(&run(
        app,
        &[
            "clinic",
            "terminate",
            id,
            "--delete",
            "--out",
            dir.to_str().unwrap(),
        ],
    ));
    let path = dir.join(format!("deletion-certificate-{id}.json"));
    let certificate = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    (printed, certificate)
}

async fn count(app: &TestApp, sql: &str, id: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(app.store().pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_terminated_clinic_is_deleted_on_its_date_with_its_keys_and_a_signed_certificate() {
    let app = spawn_app().await;
    let sqlite = app.config().database_url.is_none();
    let leaving = visit_without_plan(&app, "leaving").await;
    records_of(&app, &leaving).await;
    questionnaire_and_alert(&app, &leaving).await;
    let staying = visit_without_plan(&app, "staying").await;
    records_of(&app, &staying).await;
    let id = leaving.clinic_id.clone();
    if sqlite {
        ok(&run(&app, &["backup", "now"]));
    }

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = japan_today(now);
    let later = today.checked_add(jiff::Span::new().days(3)).unwrap();

    // Step 1, the notice: a past date or an unknown clinic is refused.
    let past = refused(&run(
        &app,
        &["clinic", "terminate", &id, "--on", "2020-01-01"],
    ));
    assert!(past.contains("has passed"), "{past}");
    let unknown = refused(&run(
        &app,
        &[
            "clinic",
            "terminate",
            "no-such-clinic",
            "--on",
            &later.to_string(),
        ],
    ));
    assert!(unknown.contains("no clinic"), "{unknown}");
    let refused_delete = refused(&run(&app, &["clinic", "terminate", &id, "--delete"]));
    assert!(
        refused_delete.contains("no termination notice"),
        "{refused_delete}"
    );
    let noticed = ok(&run(
        &app,
        &["clinic", "terminate", &id, "--on", &later.to_string()],
    ));
    assert!(noticed.contains(&later.to_string()), "{noticed}");
    assert_eq!(terminates_on(&app, &id), later.to_string());
    // Withdrawn on the clinic's word, then given again.
    let withdrawn = ok(&run(&app, &["clinic", "terminate", &id, "--withdraw"]));
    assert!(withdrawn.contains("withdrawn"), "{withdrawn}");
    assert!(terminates_on(&app, &id).is_null());
    ok(&run(
        &app,
        &["clinic", "terminate", &id, "--on", &later.to_string()],
    ));

    // The operator console lists the notice.
    let console = app
        .operator_browser(&app.add_operator("ops.exit").await)
        .await;
    let listed = console.get("/clinics").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.body.contains("利用終了") && listed.body.contains(&later.to_string()));
    assert!(listed.body.contains("予定"), "{}", listed.body);

    // Before the date nothing is deleted and the clinic works (it can still export).
    let too_early = refused(&run(&app, &["clinic", "terminate", &id, "--delete"]));
    assert!(
        too_early.contains(&format!("termination date is {later}")),
        "{too_early}"
    );
    let note = format!("/api/v1/appointments/{}/note", leaving.appointment);
    let (status, _) = doctor(&app, &leaving, Method::GET, &note, None).await;
    assert_eq!(status, StatusCode::OK);

    // Step 2 on the date (the notice moved to today).
    ok(&run(
        &app,
        &["clinic", "terminate", &id, "--on", &today.to_string()],
    ));
    let out = tempfile::tempdir().unwrap();
    let (deleted, certificate) = delete(&app, &id, out.path());
    assert!(deleted.contains("deleted"), "{deleted}");
    let cert_path = out.path().join(format!("deletion-certificate-{id}.json"));
    let body = &certificate["body"];
    assert_eq!(body["clinic_id"], id.as_str());
    assert_eq!(body["effective_on"], today.to_string());
    for kind in [
        "clinic_patients",
        "appointments",
        "visit_notes",
        "visit_note_versions",
        "identity_checks",
        "care_plan_versions",
        "plan_agreements",
        "accounts",
        "clinics",
        "questionnaires",
        "questionnaire_requests",
        "thresholds",
        "alerts",
    ] {
        assert!(
            body["deleted"][kind].as_u64().unwrap_or(0) >= 1,
            "{kind} counted: {body}"
        );
    }
    let html = std::fs::read_to_string(out.path().join(format!("deletion-certificate-{id}.html")))
        .unwrap();
    assert!(html.contains("データ削除証明書") && html.contains("Certificate of data deletion"));
    assert!(html.contains("診療録") && html.contains("visit notes"));

    // The clinic's rows are gone on both backends; the other clinic's are not.
    for table in [
        "clinics WHERE id",
        "clinic_patients WHERE clinic_id",
        "appointments WHERE clinic_id",
        "visit_notes WHERE clinic_id",
        "care_plans WHERE clinic_id",
        "members WHERE clinic_id",
        "client_certificates WHERE clinic_id",
        "identity_checks WHERE clinic_id",
    ] {
        assert_eq!(
            count(&app, &format!("SELECT COUNT(*) FROM {table} = $1"), &id).await,
            0,
            "{table}"
        );
        assert!(
            count(
                &app,
                &format!("SELECT COUNT(*) FROM {table} = $1"),
                &staying.clinic_id
            )
            .await
                >= 1,
            "{table} of the other clinic"
        );
    }
    // The patient's own home readings are the patient's and stay.
    assert!(count(&app, "SELECT COUNT(*) FROM readings WHERE id <> $1", "").await >= 1);
    let listed = console.get("/clinics").await;
    assert!(listed.body.contains("削除済み"), "{}", listed.body);
    // Its certificates stay on the CRL.
    assert!(
        count(
            &app,
            "SELECT COUNT(*) FROM retired_certificates WHERE serial <> $1",
            ""
        )
        .await
            >= 2
    );

    // Its ids answer like ids that never existed; its members' sessions are gone.
    let (status, _) = doctor(&app, &leaving, Method::GET, &note, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (missing_status, missing) = doctor(
        &app,
        &staying,
        Method::GET,
        "/api/v1/appointments/00000000-0000-0000-0000-000000000000/note",
        None,
    )
    .await;
    let (status, answer) = doctor(&app, &staying, Method::GET, &note, None).await;
    assert_eq!((status, answer), (missing_status, missing));
    let (status, plans) = call(
        &app.client(),
        Method::GET,
        app.patient_url("/api/v1/plans"),
        &leaving.patient,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plans["plans"].as_array().map(Vec::len), Some(0), "{plans}");
    let listed = ok(&run(&app, &["clinic", "list", "--json"]));
    assert!(!listed.contains(&id));
    // The other clinic goes on.
    let other_note = format!("/api/v1/appointments/{}/note", staying.appointment);
    let (status, _) = doctor(&app, &staying, Method::GET, &other_note, None).await;
    assert_eq!(status, StatusCode::OK);

    // The key is destroyed in the keyring and in the keyring backup, which still verifies.
    let keys = app.config().keyring_dir.clone();
    assert!(!keys.join(format!("{id}.key")).exists());
    assert!(keys.join(format!("{id}.destroyed")).exists());
    assert!(keys.join(format!("{}.key", staying.clinic_id)).exists());
    if sqlite {
        let copies = body["keyring_copies_destroyed"].as_array().unwrap();
        assert_eq!(copies.len(), 1, "{body}");
        let copy = app
            .config()
            .keyring_backup_dir
            .join(copies[0].as_str().unwrap());
        assert!(!copy.join(format!("{id}.key")).exists());
        assert!(copy.join(format!("{id}.destroyed")).exists());
        assert!(copy.join(format!("{}.key", staying.clinic_id)).exists());
        assert_eq!(body["backups_with_ciphertext"].as_array().unwrap().len(), 1);
        assert!(body["ciphertext_expires_by"].as_i64().unwrap() > now);
        ok(&run(&app, &["backup", "verify"]));
    } else {
        assert_eq!(body["database"], "postgres");
    }

    // The access log (kept whole) and the remaining records verify.
    ok(&run(&app, &["audit", "verify"]));
    ok(&run(&app, &["records", "verify"]));

    // The certificate verifies; altered, it does not; asking again gives the same one.
    let valid = ok(&run(
        &app,
        &[
            "verify",
            "deletion-certificate",
            cert_path.to_str().unwrap(),
        ],
    ));
    assert!(
        valid.contains("valid: signed by access-log writer"),
        "{valid}"
    );
    let mut altered = certificate.clone();
    altered["body"]["deleted"]["visit_notes"] = json!(0);
    let altered_path = out.path().join("altered.json");
    std::fs::write(&altered_path, altered.to_string()).unwrap();
    let bad = refused(&run(
        &app,
        &[
            "verify",
            "deletion-certificate",
            altered_path.to_str().unwrap(),
        ],
    ));
    assert!(bad.contains("NOT VALID"), "{bad}");
    std::fs::write(&altered_path, "{\"not\": \"a certificate\"}").unwrap();
    refused(&run(
        &app,
        &[
            "verify",
            "deletion-certificate",
            altered_path.to_str().unwrap(),
        ],
    ));
    let again_dir = tempfile::tempdir().unwrap();
    let (_, again) = delete(&app, &id, again_dir.path());
    assert_eq!(again, certificate);
    // A deleted clinic takes no new notice.
    refused(&run(
        &app,
        &["clinic", "terminate", &id, "--on", &later.to_string()],
    ));
}

const CANARY: &str = "削除確認カナリア";

/// Every file under `dir` that holds the canary, as plain UTF-8.
fn files_with_canary(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_with_canary(&path));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes())
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[tokio::test]
async fn the_console_gives_notice_and_deletes_on_the_date_after_a_typed_confirmation() {
    let app = spawn_app().await;
    let leaving = visit_without_plan(&app, "console-leaving").await;
    records_of(&app, &leaving).await;
    let id = leaving.clinic_id.clone();
    let console = app
        .operator_browser(&app.add_operator("ops.leave").await)
        .await;
    let page = format!("/clinics/{id}");
    let shown = console.get(&page).await;
    assert!(shown.body.contains("利用終了(解約)"), "{}", shown.body);
    let csrf = shown.csrf();
    let deletion_form = format!("action=\"/clinics/{id}/deletion\"");
    assert!(
        !shown.body.contains(&deletion_form),
        "no deletion without a notice"
    );
    let notice = |date: &'static str| {
        let (console, csrf, id) = (&console, csrf.clone(), id.clone());
        async move {
            console
                .post(
                    &format!("/clinics/{id}/termination"),
                    &[("csrf", csrf.as_str()), ("date", date)],
                )
                .await
        }
    };
    let delete = |confirm: String| {
        let (console, csrf, id) = (&console, csrf.clone(), id.clone());
        async move {
            console
                .post(
                    &format!("/clinics/{id}/deletion"),
                    &[("csrf", csrf.as_str()), ("confirm", confirm.as_str())],
                )
                .await
        }
    };

    // Refused with a clear message: no notice yet, a past date, not a date.
    let early = delete(id.clone()).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(
        early.body.contains("利用終了日が記録されていません"),
        "{}",
        early.body
    );
    for (date, says) in [("2020-01-01", "今日以降"), ("<script>", "年-月-日")] {
        let bad = notice(date).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{date}");
        assert!(bad.body.contains(says), "{date}: {}", bad.body);
        assert!(!bad.body.contains("<script>"), "escaped");
    }

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = japan_today(now);
    let later = today
        .checked_add(jiff::Span::new().days(5))
        .unwrap()
        .to_string();
    let later: &'static str = Box::leak(later.into_boxed_str());
    let noticed = notice(later).await;
    assert_eq!(
        noticed.location(),
        Some(format!("{page}?done=termination_noticed").as_str())
    );
    let shown = console.get(&page).await;
    assert!(shown.body.contains(later) && shown.body.contains("削除は利用終了日以降"));
    assert!(
        !shown.body.contains(&deletion_form),
        "no deletion before the date"
    );
    let early = delete(id.clone()).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.body.contains("利用終了日より前"), "{}", early.body);

    // The clinic asks to stay: the notice is withdrawn, and only once.
    let withdraw = format!("/clinics/{id}/termination/withdraw");
    let withdrawn = console.post(&withdraw, &[("csrf", csrf.as_str())]).await;
    assert_eq!(
        withdrawn.location(),
        Some(format!("{page}?done=termination_withdrawn").as_str())
    );
    let shown = console.get(&page).await;
    assert!(!shown.body.contains(later) && !shown.body.contains(&withdraw));
    assert!(!console.get("/clinics").await.body.contains(later));
    let again = console.post(&withdraw, &[("csrf", csrf.as_str())]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("利用終了日が記録されていません"));
    notice(later).await;

    // On the date: the form appears; a mistyped id deletes nothing.
    let today: &'static str = Box::leak(today.to_string().into_boxed_str());
    notice(today).await;
    let shown = console.get(&page).await;
    assert!(shown.body.contains(&deletion_form), "{}", shown.body);
    let slip = delete(format!("{id}x")).await;
    assert_eq!(slip.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(slip.body.contains("クリニックIDを正確に"), "{}", slip.body);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM clinics WHERE id = $1", &id).await,
        1
    );

    let done = delete(format!(" {id} ")).await;
    let certificate_page = format!("/clinics/{id}/deletion-certificate");
    assert_eq!(done.location(), Some(certificate_page.as_str()));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM clinics WHERE id = $1", &id).await,
        0
    );
    let printed = console.get(&certificate_page).await;
    assert_eq!(printed.status, StatusCode::OK);
    assert!(printed.body.contains("データ削除証明書"));
    let policy = printed.headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("style-src 'sha256-") && !policy.contains("unsafe"),
        "{policy}"
    );
    let json = console.get(&format!("{certificate_page}.json")).await;
    assert_eq!(json.status, StatusCode::OK);
    let file = app.data_dir().join("console-certificate.json");
    std::fs::write(&file, &json.body).unwrap();
    let verified = ok(&run(
        &app,
        &["verify", "deletion-certificate", file.to_str().unwrap()],
    ));
    assert!(
        verified.contains("valid: signed by access-log writer"),
        "{verified}"
    );

    // Once deleted, nothing is withdrawn.
    let late = refused(&run(&app, &["clinic", "terminate", &id, "--withdraw"]));
    assert!(late.contains("no termination notice"), "{late}");

    // The clinic is gone from the console; the list keeps the certificate's link.
    assert_eq!(console.get(&page).await.status, StatusCode::NOT_FOUND);
    let listed = console.get("/clinics").await;
    assert!(
        listed
            .body
            .contains(&format!("href=\"{certificate_page}\""))
    );
    let store = crate::audit::audit_store(&app).await;
    let recorded = crate::audit::entries(&store)
        .await
        .into_iter()
        .map(|s| s.entry)
        .any(|e| {
            e.action == "POST /clinics/{id}/deletion"
                && e.status == 303
                && e.principal_kind.as_deref() == Some("operator")
        });
    assert!(recorded, "the deletion is in the access log");
    app.stop().await;
}

#[tokio::test]
async fn the_shred_drill_finds_no_canary_and_a_restored_backup_reads_as_key_destroyed() {
    let app = spawn_app().await;
    let sqlite = app.config().database_url.is_none();
    let v = visit_without_plan(&app, "shredded").await;
    let id = v.clinic_id.clone();
    // Canaries in the registry, every plan item, every SOAP part and the outcome's reason.
    let fields = enshin_store::registry::PatientFields {
        family_name: format!("{CANARY}姓"),
        given_name: format!("{CANARY}名"),
        family_name_kana: "カナリア".into(),
        given_name_kana: "カナリア".into(),
        birth_date: "1950-01-01".into(),
        sex: "female".into(),
        card_number: "C-0001".into(),
        contact: format!("{CANARY}@mail.test"),
    };
    app.store()
        .add_clinic_patient(&app.state().keyring, "p-canary", &id, &fields, 0)
        .await
        .unwrap();
    let mut plan = full_plan();
    for value in plan.as_object_mut().unwrap().values_mut() {
        *value = json!(format!("{CANARY} {}", value.as_str().unwrap()));
    }
    agreed_plan_with(&app, &v, plan).await;
    let soap =
        json!({ "subjective": CANARY, "objective": CANARY, "assessment": CANARY, "plan": CANARY });
    finalised_note(&app, &v, soap, CANARY).await;
    let sealed_before: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT family_name FROM clinic_patients WHERE clinic_id = $1")
            .bind(&id)
            .fetch_all(app.store().pool())
            .await
            .unwrap();
    let backup = if sqlite {
        let made = ok(&run(&app, &["backup", "now", "--json"]));
        let made: Value = serde_json::from_str(&made).unwrap();
        Some(made["id"].as_str().unwrap().to_owned())
    } else {
        None
    };

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = japan_today(now).to_string();
    ok(&run(&app, &["clinic", "terminate", &id, "--on", &today]));
    let out = app.data_dir().join("deletion-certificates");
    delete(&app, &id, &out);

    // No file of the service holds a canary in plaintext: databases and their WAL, the access
    // log and its checkpoint file, backups, keyring backups, outbox, certificates.
    let control = tempfile::tempdir().unwrap();
    std::fs::write(control.path().join("control"), format!("x{CANARY}x")).unwrap();
    assert_eq!(
        files_with_canary(control.path()).len(),
        1,
        "the scan finds a canary"
    );
    let found = files_with_canary(&app.data_dir());
    assert!(found.is_empty(), "canary in plaintext: {found:?}");

    // What was sealed before cannot be opened now.
    assert!(!sealed_before.is_empty());
    let opened = app.state().keyring.open_field(
        &enshin_core::crypto::envelope::FieldContext {
            clinic_id: &id,
            table: "clinic_patients",
            column: "family_name",
            row_id: "p-canary",
        },
        &sealed_before[0],
    );
    assert!(
        matches!(
            opened,
            Err(enshin_store::keyring::KeyringError::Destroyed(_))
        ),
        "{opened:?}"
    );

    let Some(backup) = backup else {
        return;
    };
    // The pre-deletion backup, restored into a scratch directory, holds the rows, unreadable.
    let scratch = tempfile::tempdir().unwrap();
    let data = app.data_dir();
    let restored = crate::cli::enshin(scratch.path())
        .env("ENSHIN_DATA_DIR", scratch.path().join("data"))
        .env("ENSHIN_MASTER_KEY_FILE", data.join("master.key"))
        .env("ENSHIN_BACKUP_DIR", data.join("backups"))
        .env("ENSHIN_KEYRING_BACKUP_DIR", data.join("keyring-backups"))
        .args(["restore", &backup])
        .output()
        .unwrap();
    ok(&restored);
    let found = files_with_canary(scratch.path());
    assert!(found.is_empty(), "canary in the restored copy: {found:?}");
    let store = enshin_store::Store::connect(&format!(
        "sqlite://{}",
        scratch.path().join("data/enshin.db").display()
    ))
    .await
    .unwrap();
    let master = enshin_store::keyring::load_master_key(&data.join("master.key")).unwrap();
    let keyring =
        enshin_store::keyring::Keyring::open(&scratch.path().join("data/keys"), master).unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clinic_patients WHERE clinic_id = $1")
        .bind(&id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(rows >= 2, "the restored copy holds the clinic's rows");
    let read = store
        .list_clinic_patients(
            &keyring,
            enshin_store::registry::Reader::Member { clinic_id: &id },
            &id,
            now,
        )
        .await;
    let error = read.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("destroyed"), "reading gives: {error:?}");
}
