//! A clinic exports its whole data set (DATA-6, 見読性): the admin downloads one ZIP holding the
//! registry, the visits, and per patient the readings, questionnaires, notes with every version
//! and the plan with every version and agreement; the manifest's SHA-256 matches every file; the
//! export names every patient in the access log; only the admin gets it, and only their clinic's.
// covers DATA-6, ROLE-1, ROLE-2, LOG-1

use std::collections::BTreeMap;
use std::io::Read;

use enshin_core::people::Role;
use enshin_testkit::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;

use crate::audit::{audit_store, entries};
use crate::calls::{Member, member, visit_without_plan};

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

#[tokio::test]
async fn the_admin_exports_everything_with_a_manifest_that_matches() {
    let app = spawn_app().await;
    let v = visit_without_plan(&app, "exported").await;
    crate::exit::records_of(&app, &v).await;
    crate::exit::questionnaire_and_alert(&app, &v).await;
    let other = visit_without_plan(&app, "elsewhere").await;
    let admin = member(&app, &v.clinic_id, Role::Admin).await;

    let (status, files) = download(&app, &admin).await;
    assert_eq!(status, StatusCode::OK);

    // The manifest lists every other file with its SHA-256.
    let manifest = json_of(&files, "manifest.json");
    assert_eq!(manifest["clinic_id"], v.clinic_id.as_str());
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len(), files.len() - 1, "{:?}", files.keys());
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
    assert_eq!(versions.len(), 1, "{notes}");
    assert_eq!(versions[0]["identity"]["method"], "photo_id");
    let plan = json_of(&files, &format!("{dir}/plan.json"));
    assert_eq!(plan["versions"].as_array().unwrap().len(), 1, "{plan}");
    assert_eq!(plan["agreements"].as_array().unwrap().len(), 1, "{plan}");
    let answers = json_of(&files, &format!("{dir}/questionnaires.json"));
    assert_eq!(answers["questionnaires"].as_array().unwrap().len(), 1);
    let readings = String::from_utf8(files[&format!("{dir}/readings.csv")].clone()).unwrap();
    assert!(readings.contains("120"), "{readings}");
    let index = String::from_utf8(files["index.html"].clone()).unwrap();
    assert!(index.contains("データ一式") && index.contains(&format!("patients/{}/", v.record)));
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
