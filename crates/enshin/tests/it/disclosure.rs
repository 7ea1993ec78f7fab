//! The conformance disclosure (DISC-1): live checks against real deployments, the console's
//! publication and revision history, the public pages, the CLI and its JSON schema, and a
//! snapshot of the demo deployment's document.
// covers DISC-1, FUNC-9, NET-1, NET-2, AVAIL-1, AVAIL-4

use enshin_core::disclosure::{
    AccessLogSeen, Check, Document, Lang, Observations, Status, evaluate, markdown,
};
use enshin_core::people::Role;
use enshin_server::disclosure::{Sources, document, observe};
use enshin_testkit::{TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;

use crate::backups::run;

async fn observed(app: &TestApp) -> Observations {
    observed_with(app, app.addrs()).await
}

/// Observes `app` as if its listeners were at `addrs` (to point a check at another listener).
async fn observed_with(app: &TestApp, addrs: enshin_server::app::Addrs) -> Observations {
    observe(&Sources {
        addrs,
        ..Sources::of(app.state())
    })
    .await
}

/// Gives a clinic what its certificate and public-page checks ask for: a client certificate, a
/// doctor and a telephone number.
async fn equip(app: &TestApp, clinic: &str) {
    app.issue_client_cert(clinic).await;
    app.add_member(clinic, Role::Doctor).await;
    app.store()
        .set_clinic_phone(clinic, "03-1234-5678")
        .await
        .unwrap();
}

fn status(check: Check, obs: &Observations) -> (Status, String) {
    let e = evaluate(check, obs);
    (e.status, e.seen.en)
}

/// Writes `text` as the instance's enshin.toml and reads it into the test configuration.
fn with_file(text: &'static str) -> impl FnOnce(&mut enshin_server::config::Layers) {
    move |layers| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enshin.toml");
        std::fs::write(&path, text).unwrap();
        layers.file(&path).unwrap();
    }
}

const DECLARED: &str = r#"
data_country = "JP"
data_region = "Tokyo, provider X, zone a"

[disclosure]
staff_training = "全従業員に年1回の情報セキュリティ研修を行います。"
contact_hours = "平日 9:00-17:00"

[disclosure.en]
staff_training = "Every employee takes information security training once a year."
"#;

#[tokio::test]
async fn each_live_check_holds_or_fails_with_the_deployment() {
    let app = spawn_app().await;
    let clinic = app.add_clinic("Disclosure Clinic").await;
    let obs = observed(&app).await;

    // Real handshakes: TLS 1.2 and 1.3 only, strong suites, a certificate asked for and a
    // client without one refused at the clinic listener only.
    let (tls, seen) = status(Check::Tls, &obs);
    assert_eq!(tls, Status::Holds, "{seen}");
    assert!(
        seen.contains("TLSv1.3, TLSv1.2") && !seen.contains("TLSv1.1"),
        "{seen}"
    );
    assert!(seen.contains("TLS13_AES_256_GCM_SHA384"), "{seen}");
    assert_eq!(status(Check::ClientCertificates, &obs).0, Status::Holds);
    let patient = obs
        .listeners
        .iter()
        .find(|p| p.listener == "patient")
        .unwrap();
    let patient_seen = patient.outcome.as_ref().unwrap();
    assert!(!patient_seen.client_cert_requested && !patient_seen.anonymous_refused);

    // A clinic listener that does not require client certificates (the patient listener put in
    // its place) is a non-conformance.
    let mut open = app.addrs();
    open.clinic = app.addrs().patient;
    let (clinic_check, seen) = status(Check::ClientCertificates, &observed_with(&app, open).await);
    assert_eq!(clinic_check, Status::Fails, "{seen}");
    assert!(
        seen.contains("not requested") && seen.contains("accepted"),
        "{seen}"
    );
    // A listener that is not there at all.
    let mut gone = app.addrs();
    gone.operator = "127.0.0.1:1".parse().unwrap();
    let (tls, seen) = status(Check::Tls, &observed_with(&app, gone).await);
    assert_eq!(tls, Status::Fails);
    assert!(
        seen.contains("operator (127.0.0.1:1): not reachable"),
        "{seen}"
    );

    for check in [
        Check::PasswordPolicy,
        Check::Sessions,
        Check::OperatorListener,
        Check::Encryption,
        Check::Records,
        Check::IncidentMode,
        Check::Announcements,
        Check::DisclosureRevisions,
    ] {
        let (s, seen) = status(check, &obs);
        assert_eq!(s, Status::Holds, "{check:?}: {seen}");
    }
    let (password, seen) = status(Check::PasswordPolicy, &obs);
    assert_eq!(password, Status::Holds);
    assert!(seen.contains("argon2id m=19456 KiB t=2 p=1"), "{seen}");

    // Not declared where the data is: a non-conformance.
    let (location, seen) = status(Check::DataLocation, &obs);
    assert_eq!(location, Status::Fails);
    assert!(seen.contains("data_country is not configured"));

    // No operator yet, then one with TOTP.
    assert_eq!(status(Check::OperatorTotp, &obs).0, Status::Fails);
    // A clinic without a certificate, contact number or doctor.
    let (certs, seen) = status(Check::Certificates, &obs);
    assert_eq!(certs, Status::Fails);
    assert!(
        seen.contains(&format!("without a valid certificate: {clinic}")),
        "{seen}"
    );
    let (pages, seen) = status(Check::ClinicPages, &obs);
    assert_eq!(pages, Status::Fails);
    assert!(
        seen.contains(&format!("without a contact number: {clinic}")),
        "{seen}"
    );

    let operator = app.add_operator("ops.disclose").await;
    equip(&app, &clinic).await;
    let now = enshin_server::clock::now_ms();
    app.store()
        .suspend("service", "maintenance", &operator.id, now)
        .await
        .unwrap();
    let obs = observed(&app).await;
    for check in [Check::OperatorTotp, Check::Certificates, Check::ClinicPages] {
        let (s, seen) = status(check, &obs);
        assert_eq!(s, Status::Holds, "{check:?}: {seen}");
    }
    let (incident, seen) = status(Check::IncidentMode, &obs);
    assert_eq!(incident, Status::Fails);
    assert!(seen.contains("suspended: service"), "{seen}");
    app.store().lift_suspension("service").await.unwrap();

    // Backups: taken and drilled by enshin on SQLite; beyond its sight on PostgreSQL.
    let (backups, seen) = status(Check::Backups, &obs);
    if app.config().database_url.is_some() {
        assert_eq!(backups, Status::Unknown, "{seen}");
    } else {
        assert_eq!(backups, Status::Fails, "{seen}");
        assert!(seen.contains("newest backup none"), "{seen}");
        assert!(run(&app, &["backup", "now"]).status.success());
        let drill = run(&app, &["backup", "drill"]);
        assert!(
            drill.status.success(),
            "{}",
            String::from_utf8_lossy(&drill.stderr)
        );
        let (backups, seen) = status(Check::Backups, &observed(&app).await);
        assert_eq!(backups, Status::Holds, "{seen}");
        assert!(seen.contains("0 min ago"), "{seen}");
    }

    // A clinic's data key that can no longer be unwrapped.
    std::fs::remove_file(app.config().keyring_dir.join(format!("{clinic}.key"))).unwrap();
    let (keys, seen) = status(Check::Encryption, &observed(&app).await);
    assert_eq!(keys, Status::Fails, "{seen}");
    assert!(seen.contains(&format!("unreadable: {clinic}")), "{seen}");
    app.stop().await;
}

#[tokio::test]
async fn a_declared_location_and_operator_texts_reach_the_document() {
    let app = spawn_app_with(with_file(DECLARED)).await;
    let obs = observed(&app).await;
    let (location, seen) = status(Check::DataLocation, &obs);
    assert_eq!(location, Status::Holds);
    assert_eq!(seen, "Japan (Tokyo, provider X, zone a)");
    let doc = document(app.config(), &obs);
    let ja = markdown(&doc, Lang::Ja);
    let en = markdown(&doc, Lang::En);
    assert!(ja.contains("全従業員に年1回の情報セキュリティ研修を行います。"));
    assert!(en.contains("Every employee takes information security training once a year."));
    assert!(
        en.contains("平日 9:00-17:00"),
        "the Japanese text stands in for English"
    );
    app.stop().await;
}

#[test]
fn an_unknown_or_malformed_disclosure_key_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("[disclosure]\nvibes = \"x\"\n", "disclosure.vibes"),
        (
            "[disclosure]\nstaff_training = 3\n",
            "disclosure.staff_training",
        ),
        (
            "[disclosure.en]\nstaff_training = \"a\\u0007b\"\n",
            "disclosure.en.staff_training",
        ),
        ("disclosure = \"x\"\n", "disclosure"),
        ("data_country = \"Japan\"\n", "data_country"),
    ] {
        let path = dir.path().join("enshin.toml");
        std::fs::write(&path, text).unwrap();
        let mut layers = enshin_server::config::Layers::default();
        let err = layers
            .file(&path)
            .and_then(|()| layers.resolve().map(|_| ()))
            .unwrap_err();
        assert_eq!(err.key, key, "{text}: {err}");
    }
}

fn signed_document(signed: &Value) -> Document {
    serde_json::from_str(signed["document"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn the_console_publishes_signed_revisions_that_clinics_and_patients_see() {
    let app = spawn_app_with(with_file(DECLARED)).await;
    let clinic = app.add_clinic("公開医院").await;
    let operator = app.add_operator("ops.publish").await;
    let console = app.operator_browser(&operator).await;

    let live = console.get("/disclosure").await;
    assert_eq!(live.status, StatusCode::OK);
    for shown in [
        "サービス仕様適合開示書",
        "(3) 技術的安全管理対策",
        "TLSv1.3",
        "証明書の要求 あり、証明書なしの接続 拒否",
        "全従業員に年1回の情報セキュリティ研修",
        "まだ公開した版はありません。",
    ] {
        assert!(live.body.contains(shown), "{shown}");
    }
    // The clinic has no certificate: that statement shows as a non-conformance, not a claim.
    assert!(live.body.contains("class=\"statement fails\""));
    let csrf = live.csrf();

    // Nothing public yet.
    let public = app.patient_browser();
    let none = public.get("/disclosure").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(none.body.contains("まだ公開されていません"));

    let published = console
        .post("/disclosure/publish", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    assert_eq!(
        published.location(),
        Some("/disclosure/revisions/1?done=disclosure_published")
    );
    let first = console.get("/disclosure/revisions/1?lang=en").await;
    assert!(first.body.contains("Revision: 1"), "{}", first.body);
    assert!(first.body.contains("verified"));

    // A second revision after the clinic got its certificate, doctor and telephone.
    equip(&app, &clinic).await;
    console
        .post("/disclosure/publish", &[("csrf", csrf.as_str())])
        .await;
    let history = console.get("/disclosure").await.body;
    let (two, one) = (
        history.find("/disclosure/revisions/2\"").unwrap(),
        history.find("/disclosure/revisions/1\"").unwrap(),
    );
    assert!(two < one, "newest first");

    // Clinics and patients read the current revision; its signed JSON verifies, an edit does not.
    let current = public.get("/disclosure?lang=en").await;
    assert_eq!(current.status, StatusCode::OK);
    assert!(current.body.contains("Revision: 2"));
    let signed: Value = serde_json::from_str(&public.get("/disclosure.json").await.body).unwrap();
    assert_eq!(signed["revision"], 2);
    assert_eq!(signed_document(&signed).revision, Some(2));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("disclosure.json");
    std::fs::write(&file, signed.to_string()).unwrap();
    let verified = run(&app, &["verify", "disclosure", file.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{said}");
    assert!(said.contains("valid: revision 2"), "{said}");
    // Turn the verdict around, as someone hiding a non-conformance would.
    let text = signed["document"].as_str().unwrap();
    let flipped = if text.contains("\"conformant\": false") {
        text.replacen("\"conformant\": false", "\"conformant\": true", 1)
    } else {
        text.replacen("\"conformant\": true", "\"conformant\": false", 1)
    };
    assert_ne!(flipped, text);
    let mut edited = signed.clone();
    edited["document"] = Value::String(flipped);
    std::fs::write(&file, edited.to_string()).unwrap();
    let refused = run(&app, &["verify", "disclosure", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("NOT VALID"));
    std::fs::write(&file, "{\"format\": 1}").unwrap();
    assert!(
        !run(&app, &["verify", "disclosure", file.to_str().unwrap()])
            .status
            .success()
    );

    // The console's revision pages refuse what is not a revision.
    for bad in [
        "0",
        "3",
        "-1",
        "1e3",
        "%3Cscript%3E",
        "99999999999999999999",
    ] {
        let answer = console.get(&format!("/disclosure/revisions/{bad}")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{bad}");
        assert!(!answer.body.contains("<script>"));
    }
    let json = console.get("/disclosure/revisions/1/signed.json").await;
    assert_eq!(json.status, StatusCode::OK);
    // A publication without the form token is refused and publishes nothing.
    let forged = console
        .post("/disclosure/publish", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store().disclosures().await.unwrap().len(), 2);

    // Only operators generate and publish: the other listeners have no such page.
    let admin = app.add_member(&clinic, Role::Admin).await;
    let member = app.member_browser(&admin).await;
    assert_eq!(
        member.get("/disclosure/revisions/1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        public
            .post("/disclosure/publish", &[("csrf", "x")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.store().disclosures().await.unwrap().len(), 2);

    // The clinic's public page: guideline, contact point, doctors, security, the disclosure.
    let about = public
        .get(&format!("/clinics/{clinic}/about?lang=ja"))
        .await;
    assert_eq!(about.status, StatusCode::OK);
    for shown in [
        "公開医院",
        "オンライン診療の適切な実施に関する指針",
        "03-1234-5678",
        "href=\"/disclosure\"",
        "暗号化(TLS)",
        "JP, Tokyo, provider X, zone a",
    ] {
        assert!(about.body.contains(shown), "{shown}");
    }
    let unknown = public.get("/clinics/no-such-clinic/about").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let long = format!("/clinics/{}/about", "x".repeat(300));
    assert_eq!(public.get(&long).await.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

// The command line probes the in-process server while the test waits for it: two threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_prints_every_entry_in_both_languages_and_its_json_fits_the_schema() {
    let app = spawn_app().await;
    let schema: Value =
        serde_json::from_str(include_str!("../../../../docs/disclosure.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    // The command line finds the running instance's listeners through its ports.json.
    let addrs = app.addrs();
    let ports = serde_json::json!({
        "patient": { "address": addrs.patient },
        "clinic": { "address": addrs.clinic },
        "operator": { "address": addrs.operator },
    });
    std::fs::write(app.data_dir().join("ports.json"), ports.to_string()).unwrap();
    let out = run(&app, &["disclose", "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("{}", String::from_utf8_lossy(&out.stderr));
    });
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // A non-conformance (no data location, no operator) makes the command exit 1.
    assert_eq!(out.status.code(), Some(1));
    let catalogue = enshin_core::disclosure::catalogue();
    assert_eq!(
        json["nodes"].as_array().unwrap().len(),
        catalogue.nodes.len()
    );
    let tls = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "tls")
        .unwrap();
    assert_eq!(tls["status"], "holds", "{tls}");

    // The schema is not a formality: a document that breaks it is refused.
    let mut broken = json.clone();
    broken["nodes"][5]["statement"]["standing"] = Value::String("probably".into());
    assert!(!validator.is_valid(&broken));

    for (lang, format) in [("ja", "md"), ("en", "md"), ("ja", "html"), ("en", "html")] {
        let out = run(&app, &["disclose", "--format", format, "--lang", lang]);
        let text = String::from_utf8(out.stdout).unwrap();
        for node in &catalogue.nodes {
            let title = if lang == "ja" { &node.ja } else { &node.en };
            let title = if format == "html" {
                title.replace('&', "&amp;").replace('\'', "&#39;")
            } else {
                title.clone()
            };
            assert!(
                text.contains(&title),
                "{lang} {format} lacks {}: {title}",
                node.id
            );
        }
        if format == "html" {
            assert!(
                text.starts_with("<!doctype html>") && text.contains(&format!("lang=\"{lang}\""))
            );
        }
    }
    let bad = run(&app, &["disclose", "--format", "pdf"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("pdf"));

    // --publish keeps a revision, records it in the access log, and prints it.
    let out = run(&app, &["disclose", "--publish", "--format", "json"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("published revision 1"));
    let published: Document = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(published.revision, Some(1));
    let stored = app.store().disclosure(1).await.unwrap().unwrap();
    assert!(stored.published_by.starts_with("cli:"));
    assert!(enshin_server::disclosure::verified(&stored));
    app.stop().await;
}

#[tokio::test]
async fn the_demo_deployment_discloses_as_recorded() {
    let app = spawn_app().await;
    enshin_server::demo::ensure_demo(app.config(), app.state())
        .await
        .unwrap();
    let mut obs = observed(&app).await;
    // What differs between runs and machines, pinned: the time, the host's clock discipline,
    // the access log's growth, the ports and the demo clinic's id.
    obs.at_ms = 1_795_000_000_000;
    obs.clock_synchronized = true;
    obs.access_log = obs.access_log.map(|log| AccessLogSeen {
        entries: 100,
        last_checkpoint_ms: Some(1_795_000_000_000 - 2_000),
        unsigned_tail: 0,
        ..log
    });
    let ports = [
        app.addrs().patient.port(),
        app.addrs().clinic.port(),
        app.addrs().operator.port(),
    ];
    let clinic = app.store().list_clinics().await.unwrap().remove(0).id;
    let backend = if app.config().database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let doc = document(app.config(), &obs);
    for lang in [Lang::Ja, Lang::En] {
        let mut text = markdown(&doc, lang).replace(&clinic, "DEMO-CLINIC");
        for (port, name) in ports.iter().zip(["PATIENT", "CLINIC", "OPERATOR"]) {
            text = text.replace(&format!(":{port})"), &format!(":{name})"));
            text = text.replace(&format!(":{port}:"), &format!(":{name}:"));
            text = text.replace(&format!(":{port} "), &format!(":{name} "));
        }
        let name = format!(
            "demo_{backend}_{}",
            if lang == Lang::Ja { "ja" } else { "en" }
        );
        insta::assert_snapshot!(name, text);
    }
    app.stop().await;
}
