//! A clinic exports its whole data set (DATA-6, 見読性): the admin downloads one ZIP holding the
//! registry, the visits, and per patient the record page, the readings, questionnaires with their
//! photos, notes with every version, the plan with every version and agreement, and a FHIR
//! Bundle; the signed manifest's SHA-256 matches every file and `enshin verify export` says so,
//! and names an altered file; the export names every patient in the access log; only the admin
//! gets it, and only their clinic's. An operator exports on the clinic's written request from the
//! command line, and the clinic's admin sees it among operator accesses.
// covers DATA-6, ROLE-1, ROLE-2, LOG-1, DATA-4

use std::collections::BTreeMap;
use std::io::Read;

use enshin_core::people::Role;
use enshin_testkit::{TestApp, call, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::audit::{audit_store, entries};
use crate::backups::run;
use crate::calls::{Member, OnlineVisit, member, visit_without_plan};

/// Downloads `/api/v1/export` as `who`; the status and the ZIP's files by path.
async fn download(app: &TestApp, who: &Member) -> (StatusCode, BTreeMap<String, Vec<u8>>) {
    let response = who
        .pc
        .get(app.clinic_url("/api/v1/export"))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    if status != StatusCode::OK {
        return (status, BTreeMap::new());
    }
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        files.insert(file.name().unwrap().into_owned(), content);
    }
    (status, files)
}

fn json_of(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Value {
    serde_json::from_slice(
        files
            .get(path)
            .unwrap_or_else(|| panic!("{path} in {:?}", files.keys())),
    )
    .unwrap()
}

/// The patient answers the clinic's questionnaire with a photo; returns the photo's id.
async fn answered_with_photo(app: &TestApp, v: &OnlineVisit) -> String {
    let client = app.client();
    let (_, mine) = call(
        &client,
        Method::GET,
        app.patient_url("/api/v1/questionnaire-requests"),
        &v.patient,
        None,
    )
    .await;
    let rid = mine["questionnaires"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/questionnaire-requests/{rid}");
    let added = client
        .post(app.patient_url(&format!("{path}/photos")))
        .bearer_auth(&v.patient)
        .header("content-type", "image/jpeg")
        .body(crate::questionnaires::jpeg())
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let photo = added.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answers = serde_json::json!({ "version": 1, "answers": {
        "q1": "のどが痛い", "q2": true, "q3": ["せき"], "q4": "62.5", "q5": photo } });
    let (status, _) = call(
        &client,
        Method::POST,
        app.patient_url(&format!("{path}/submit")),
        &v.patient,
        Some(answers),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    photo
}

/// Writes `files` as a ZIP at `path`.
fn rezip(path: &std::path::Path, files: &BTreeMap<String, Vec<u8>>) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, content) in files {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, content).unwrap();
    }
    zip.finish().unwrap();
}

/// `enshin verify export FILE`: whether it passed, and what it printed.
fn verify(app: &TestApp, path: &std::path::Path) -> (bool, String) {
    let out = run(app, &["verify", "export", path.to_str().unwrap()]);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

#[tokio::test]
async fn the_admin_exports_everything_with_a_manifest_that_matches() {
    let app = spawn_app().await;
    let v = visit_without_plan(&app, "exported").await;
    crate::exit::records_of(&app, &v).await;
    crate::exit::questionnaire_and_alert(&app, &v).await;
    let photo = answered_with_photo(&app, &v).await;
    let amended = serde_json::json!({
        "soap": { "subjective": "動悸", "objective": "HR 96", "assessment": "経過観察", "plan": "1週間後に再診" },
        "outcome": { "kind": "switched_to_in_person", "reason": "聴診が必要" },
        "reason": "再診日の記載誤り",
    });
    let (status, _) = crate::records::doctor(
        &app,
        &v,
        Method::POST,
        &format!("/api/v1/appointments/{}/note/amend", v.appointment),
        Some(amended),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let other = visit_without_plan(&app, "elsewhere").await;
    let admin = member(&app, &v.clinic_id, Role::Admin).await;

    let (status, files) = download(&app, &admin).await;
    assert_eq!(status, StatusCode::OK);

    // The manifest lists every file but itself and its signature, with its SHA-256.
    let manifest = json_of(&files, "manifest.json");
    assert_eq!(manifest["clinic_id"], v.clinic_id.as_str());
    assert_eq!(manifest["requested"]["by"], "clinic_admin");
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len(), files.len() - 2, "{:?}", files.keys());
    assert!(files.contains_key("manifest.sig"));
    for f in listed {
        let path = f["path"].as_str().unwrap();
        let content = &files[path];
        let sha = enshin_core::encoding::to_hex(
            ring::digest::digest(&ring::digest::SHA256, content).as_ref(),
        );
        assert_eq!(f["sha256"], sha.as_str(), "{path}");
        assert_eq!(f["bytes"], content.len());
    }

    // Every part of the patient's record is there.
    let registry = String::from_utf8(files["registry.csv"].clone()).unwrap();
    assert!(
        registry.contains("1958-03-03") || registry.lines().count() >= 2,
        "{registry}"
    );
    let visits = String::from_utf8(files["appointments.csv"].clone()).unwrap();
    assert!(visits.contains(&v.appointment), "{visits}");
    assert!(
        !visits.contains(&other.appointment),
        "another clinic's visit"
    );
    let dir = format!("patients/{}", v.record);
    let notes = json_of(&files, &format!("{dir}/notes.json"));
    let versions = notes["notes"][0]["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "every version: {notes}");
    assert_eq!(versions[0]["identity"]["method"], "photo_id");
    assert_eq!(versions[1]["reason"], "再診日の記載誤り", "{notes}");
    let plan = json_of(&files, &format!("{dir}/plan.json"));
    assert_eq!(plan["versions"].as_array().unwrap().len(), 1, "{plan}");
    assert_eq!(plan["agreements"].as_array().unwrap().len(), 1, "{plan}");
    let answers = json_of(&files, &format!("{dir}/questionnaires.json"));
    assert_eq!(answers["questionnaires"].as_array().unwrap().len(), 1);
    let asked = &answers["questionnaires"][0];
    assert_eq!(asked["answers"][0]["answer"], "のどが痛い", "{answers}");
    let photo_path = format!("{dir}/{}", asked["photos"][&photo].as_str().unwrap());
    assert_eq!(files[&photo_path], crate::questionnaires::jpeg());
    let readings = String::from_utf8(files[&format!("{dir}/readings.csv")].clone()).unwrap();
    assert!(readings.contains("120"), "{readings}");
    let index = String::from_utf8(files["index.html"].clone()).unwrap();
    assert!(
        index.contains("データ一式")
            && index.contains(&format!("patients/{}/record.html", v.record))
    );

    // The record page reads without the service: plan, note, answers with the photo, readings.
    let record = String::from_utf8(files[&format!("{dir}/record.html")].clone()).unwrap();
    for part in [
        "山田 花子",
        "動悸",
        "2週間後に再診",
        "1週間後に再診",
        "再診日の記載誤り",
        "聴診が必要",
        "のどが痛い",
        "120",
        "脈拍",
        "../../style.css",
    ] {
        assert!(record.contains(part), "{part} in {record}");
    }
    let relative_photo = photo_path.trim_start_matches(&format!("{dir}/"));
    assert!(
        record.contains(&format!("src=\"{relative_photo}\"")),
        "{record}"
    );
    assert!(!record.contains("/api/"), "no link back to the service");
    assert!(files.contains_key("style.css"));

    // The FHIR Bundle: the patient with kanji and kana names, the reading coded in LOINC.
    let bundle = json_of(&files, &format!("{dir}/fhir.json"));
    assert_eq!(bundle["resourceType"], "Bundle");
    let resources: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect();
    assert_eq!(resources[0]["resourceType"], "Patient");
    assert_eq!(resources[0]["id"], v.record.as_str());
    assert_eq!(resources[0]["name"][0]["family"], "山田");
    let pulse = resources
        .iter()
        .find(|r| r["code"]["coding"][0]["code"] == "8867-4")
        .expect("the pulse reading as an Observation");
    assert_eq!(pulse["valueQuantity"]["value"], 120.0);
    assert_eq!(
        pulse["subject"]["reference"],
        format!("Patient/{}", v.record)
    );

    // `enshin verify export` checks the signature and every file, and names an altered one.
    let scratch = tempfile::tempdir().unwrap();
    let whole = scratch.path().join("whole.zip");
    rezip(&whole, &files);
    let (passed, printed) = verify(&app, &whole);
    assert!(passed, "{printed}");
    assert!(
        printed.contains("valid:") && printed.contains("of this service"),
        "{printed}"
    );
    let mut altered = files.clone();
    altered.insert("registry.csv".into(), b"id\n".to_vec());
    altered.remove(&photo_path);
    altered.insert("extra.txt".into(), b"x".to_vec());
    let bad = scratch.path().join("altered.zip");
    rezip(&bad, &altered);
    let (passed, printed) = verify(&app, &bad);
    assert!(!passed);
    for named in [
        "registry.csv differs",
        &format!("{photo_path} is listed in the manifest but missing"),
        "extra.txt is not listed",
    ] {
        assert!(printed.contains(named), "{named} in {printed}");
    }
    let mut resigned = files.clone();
    let edited = String::from_utf8(files["manifest.json"].clone())
        .unwrap()
        .replace(&v.clinic_id, "someone-else");
    resigned.insert("manifest.json".into(), edited.into_bytes());
    rezip(&bad, &resigned);
    let (passed, printed) = verify(&app, &bad);
    assert!(
        !passed && printed.contains("signature does not match"),
        "{printed}"
    );
    std::fs::write(&bad, b"not a zip").unwrap();
    let (passed, printed) = verify(&app, &bad);
    assert!(
        !passed && printed.contains("not an enshin export"),
        "{printed}"
    );
    assert!(index.contains("山田 花子"), "the index names the patient");
    assert!(
        !files.keys().any(|k| k.contains(&other.record)),
        "another clinic's patient"
    );

    // The export is a read of every patient it holds.
    let store = audit_store(&app).await;
    let export = entries(&store)
        .await
        .into_iter()
        .map(|s| s.entry)
        .find(|e| e.action.ends_with("/api/v1/export") && e.status == 200)
        .expect("the export is in the access log");
    assert!(export.subjects.contains(&v.record), "{export:?}");

    // The registry page offers it to the admin.
    let browser = app.member_browser(&admin.login).await;
    let registry_page = browser.get("/patients").await;
    assert!(
        registry_page.body.contains("href=\"/export.zip\""),
        "{}",
        registry_page.body
    );
    let zip = browser.get("/export.zip").await;
    assert_eq!(zip.status, StatusCode::OK);

    // Only the admin; a doctor and staff are refused.
    let doctor = &v.doctor;
    let (status, _) = download(&app, doctor).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_operator_exports_on_a_written_request_and_the_clinic_sees_it() {
    let app = spawn_app().await;
    let v = visit_without_plan(&app, "requested").await;
    crate::exit::records_of(&app, &v).await;
    let admin = member(&app, &v.clinic_id, Role::Admin).await;
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("export.zip");
    let export = |reference: &str, clinic: &str| {
        run(
            &app,
            &[
                "clinic",
                "export",
                clinic,
                "--request",
                reference,
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };

    // A reference that could hold a name, and an unknown clinic, are refused; nothing is written.
    for (reference, clinic, says) in [
        (
            "山田花子さんの件",
            v.clinic_id.as_str(),
            "request reference must be",
        ),
        ("", v.clinic_id.as_str(), "request reference must be"),
        ("REQ-1", "no-such-clinic", "no clinic no-such-clinic"),
    ] {
        let refused = export(reference, clinic);
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains(says), "{said}");
        assert!(
            std::fs::read_dir(scratch.path()).unwrap().next().is_none(),
            "no file left"
        );
    }

    let done = export("REQ-2026/17", &v.clinic_id);
    let said = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        said.contains("written request REQ-2026/17") && said.contains("1 patient(s)"),
        "{said}"
    );
    let (passed, printed) = verify(&app, &out);
    assert!(passed && printed.contains("of this service"), "{printed}");
    let zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    assert!(
        zip.file_names()
            .any(|n| n.is_ok_and(|n| n == format!("patients/{}/record.html", v.record)))
    );
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&out).unwrap().permissions())
            & 0o777,
        0o600
    );
    // It never overwrites.
    let again = export("REQ-2026/17", &v.clinic_id);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    // The access log holds the export, its request and every patient it holds.
    let store = audit_store(&app).await;
    let entry = entries(&store)
        .await
        .into_iter()
        .map(|s| s.entry)
        .find(|e| e.action == "clinic_exported")
        .expect("the operator's export is in the access log");
    assert_eq!(entry.clinic_id.as_deref(), Some(v.clinic_id.as_str()));
    assert_eq!(entry.access.as_deref(), Some("written_request:REQ-2026/17"));
    assert!(entry.subjects.contains(&v.record), "{entry:?}");

    // The clinic's admin sees it among the operators' accesses.
    let (_, seen) = call(
        &admin.pc,
        Method::GET,
        app.clinic_url("/api/v1/operator-access"),
        &admin.token,
        None,
    )
    .await;
    assert!(
        seen["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "clinic_exported"
                && e["access"] == "written_request:REQ-2026/17"),
        "{seen}"
    );
}
