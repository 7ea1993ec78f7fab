//! Backups of the embedded default (issue 11, first part): `enshin backup now` while the service
//! runs writes the database and the access log compressed and encrypted, with a manifest, and the
//! keyring apart from them; `list` shows it; `verify` reads every chunk and finds a damaged file,
//! an altered manifest and a missing keyring backup.
// covers AVAIL-1, AVAIL-2, DATA-3, DATA-5

use std::path::Path;
use std::process::Output;

use enshin_testkit::{TestApp, spawn_app};
use serde_json::Value;

use crate::cli::enshin;

fn run(app: &TestApp, args: &[&str]) -> Output {
    let mut cmd = enshin(&app.data_dir());
    cmd.env("ENSHIN_DATA_DIR", app.data_dir());
    if let Some(url) = &app.config().database_url {
        cmd.env("ENSHIN_DATABASE_URL", url);
    }
    cmd.args(args).output().unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const CANARY: &str = "バックアップカナリア";

#[tokio::test]
async fn a_backup_is_encrypted_kept_apart_from_its_keys_and_damage_is_found() {
    let app = spawn_app().await;
    if app.config().database_url.is_some() {
        // PostgreSQL is backed up by pgBackRest; enshin refuses and says so.
        let out = run(&app, &["backup", "now"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pgBackRest"));
        return;
    }
    let clinic = app.add_clinic("A").await;
    let fields = enshin_store::registry::PatientFields {
        family_name: CANARY.into(),
        given_name: "花子".into(),
        family_name_kana: "ヤマダ".into(),
        given_name_kana: "ハナコ".into(),
        birth_date: "1948-03-09".into(),
        ..Default::default()
    };
    app.store()
        .add_clinic_patient(&app.state().keyring, "p-backup", &clinic, &fields, 0)
        .await
        .unwrap();

    let made = run(&app, &["backup", "now", "--json"]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let made = json_of(&made);
    let id = made["id"].as_str().unwrap().to_owned();
    let dir = app.data_dir().join("backups").join(&id);
    let keyring = app.data_dir().join("keyring-backups").join(&id);
    assert_eq!(
        names(&dir),
        [
            "audit.db.gz.enc",
            "enshin.db.gz.enc",
            "manifest.json",
            "manifest.mac"
        ],
        "the data backup holds no key"
    );
    assert!(
        names(&keyring).iter().any(|n| n.starts_with(&clinic)),
        "the clinic's wrapped key is in the keyring backup: {:?}",
        names(&keyring)
    );
    for file in ["enshin.db.gz.enc", "audit.db.gz.enc"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{file} is private to the service's user");
        let bytes = std::fs::read(dir.join(file)).unwrap();
        for plain in [CANARY.as_bytes(), b"SQLite format 3", b"CREATE TABLE"] {
            assert!(
                !bytes.windows(plain.len()).any(|w| w == plain),
                "{file} is not encrypted"
            );
        }
    }

    let listed = json_of(&run(&app, &["backup", "list", "--json"]));
    assert_eq!(listed["backups"][0]["id"], id.as_str());
    assert_eq!(listed["backups"][0]["keyring"], true);
    let verified = run(&app, &["backup", "verify", &id]);
    assert!(verified.status.success());
    assert!(String::from_utf8_lossy(&verified.stdout).contains("intact"));

    // One flipped byte in the middle of the database copy.
    let path = dir.join("enshin.db.gz.enc");
    let original = std::fs::read(&path).unwrap();
    let mut damaged = original.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    std::fs::write(&path, &damaged).unwrap();
    let verified = run(&app, &["backup", "verify", "--json"]);
    assert_eq!(verified.status.code(), Some(1));
    let report = json_of(&verified);
    assert_eq!(report["ok"], false);
    assert!(
        report["backups"][0]["problems"][0]
            .as_str()
            .unwrap()
            .contains("enshin.db.gz.enc"),
        "{report}"
    );
    std::fs::write(&path, &original).unwrap();

    // A manifest edited to match damaged bytes: its HMAC no longer matches.
    let manifest = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("\"sha256\": \"", "\"sha256\": \"0", 1),
    )
    .unwrap();
    let verified = run(&app, &["backup", "verify", "--json"]);
    assert_eq!(verified.status.code(), Some(1));
    assert!(json_of(&verified).to_string().contains("manifest altered"));
    std::fs::write(&manifest, text).unwrap();

    // A second backup whose keyring copy went missing is reported as such.
    let second = json_of(&run(&app, &["backup", "now", "--json"]));
    let second_id = second["id"].as_str().unwrap().to_owned();
    assert_ne!(second_id, id);
    std::fs::remove_dir_all(app.data_dir().join("keyring-backups").join(&second_id)).unwrap();
    let verified = run(&app, &["backup", "verify", "--json"]);
    assert_eq!(verified.status.code(), Some(1));
    let report = json_of(&verified);
    assert_eq!(report["backups"][0]["ok"], true);
    assert!(
        report["backups"][1]["problems"][0]
            .as_str()
            .unwrap()
            .contains("keyring backup missing")
    );

    let unknown = run(&app, &["backup", "verify", "20990101T000000.000Z"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no backup named"));
}
