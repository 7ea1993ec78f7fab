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

pub(crate) fn run(app: &TestApp, args: &[&str]) -> Output {
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

async fn healthz(app: &TestApp) -> Value {
    app.client()
        .get(app.patient_url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
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

    // /healthz and the metrics show the newest backup; a failed attempt shows until a success.
    let health = healthz(&app).await;
    assert_eq!(health["backup"]["last"], second_id.as_str());
    assert_eq!(health["backup"]["failing"], false);
    let mut failing = enshin(&app.data_dir());
    failing
        .env("ENSHIN_DATA_DIR", app.data_dir())
        .env("ENSHIN_KEYRING_BACKUP_DIR", "/dev/null/keyring-backups")
        .args(["backup", "now"]);
    assert!(!failing.output().unwrap().status.success());
    let metrics = app
        .client()
        .get(app.operator_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("enshin_backup_failing 1"), "{metrics}");
    assert!(metrics.contains("enshin_backup_age_seconds "));
    assert!(run(&app, &["backup", "now"]).status.success());
    let health = healthz(&app).await;
    assert_eq!(health["backup"]["failing"], false);

    let unknown = run(&app, &["backup", "verify", "20990101T000000.000Z"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no backup named"));
}

async fn add_patient(app: &TestApp, clinic: &str, id: &str) {
    let fields = enshin_store::registry::PatientFields {
        family_name: "復元".into(),
        given_name: id.into(),
        family_name_kana: "フクゲン".into(),
        given_name_kana: "テスト".into(),
        birth_date: "1950-01-01".into(),
        ..Default::default()
    };
    app.store()
        .add_clinic_patient(&app.state().keyring, id, clinic, &fields, 0)
        .await
        .unwrap();
}

/// The registry record `id` as the restored data directory has it, opened with its keyring.
async fn record_in(app: &TestApp, clinic: &str, id: &str) -> Option<String> {
    let url = format!("sqlite://{}", app.data_dir().join("enshin.db").display());
    let store = enshin_store::Store::connect(&url).await.unwrap();
    let master = enshin_store::keyring::load_master_key(&app.config().master_key_file).unwrap();
    let keyring = enshin_store::keyring::Keyring::open(&app.config().keyring_dir, master).unwrap();
    let found = store
        .open_clinic_patient(
            &keyring,
            enshin_store::registry::Reader::Member { clinic_id: clinic },
            clinic,
            id,
            0,
        )
        .await
        .ok()
        .map(|r| r.fields.given_name);
    store.close().await;
    found
}

#[tokio::test]
async fn a_damaged_database_is_restored_from_the_nearest_backup_and_both_logs_verify() {
    let mut app = spawn_app().await;
    if app.config().database_url.is_some() {
        let out = run(&app, &["restore", "--latest"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("pgBackRest"));
        return;
    }
    let clinic = app.add_clinic("A").await;
    add_patient(&app, &clinic, "before").await;
    let first = json_of(&run(&app, &["backup", "now", "--json"]));
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = jiff::Timestamp::now().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    add_patient(&app, &clinic, "after").await;
    let second = json_of(&run(&app, &["backup", "now", "--json"]));

    // Not while the service runs on this directory.
    let refused = run(&app, &["restore", "--latest"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("serve"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // The disk loses half of the database file.
    app.stop_server().await;
    let db = app.data_dir().join("enshin.db");
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    // The nearest backup before a time: the first one.
    let restored = run(&app, &["restore", "--before", &between, "--json"]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let restored = json_of(&restored);
    assert_eq!(restored["id"], first["id"]);
    assert_eq!(restored["access_log"], false);
    let replaced = std::path::PathBuf::from(restored["replaced_dir"].as_str().unwrap());
    assert_eq!(
        std::fs::metadata(replaced.join("enshin.db")).unwrap().len(),
        len / 2,
        "the damaged file is kept aside, not deleted"
    );
    assert_eq!(
        record_in(&app, &clinic, "before").await.as_deref(),
        Some("before")
    );
    assert_eq!(record_in(&app, &clinic, "after").await, None);
    let audit = run(&app, &["audit", "verify", "--json"]);
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
    let records = run(&app, &["records", "verify"]);
    assert!(records.status.success());

    // The latest one brings the later record back.
    let latest = json_of(&run(&app, &["restore", "--latest", "--json"]));
    assert_eq!(latest["id"], second["id"]);
    assert_eq!(
        record_in(&app, &clinic, "after").await.as_deref(),
        Some("after")
    );
    let audit = run(&app, &["audit", "verify"]);
    assert!(audit.status.success());
}

#[tokio::test]
async fn the_keyring_comes_back_but_a_destroyed_key_stays_destroyed() {
    let mut app = spawn_app().await;
    if app.config().database_url.is_some() {
        return; // SQLite only: PostgreSQL is restored with pgBackRest.
    }
    let kept = app.add_clinic("A").await;
    let gone = app.add_clinic("B").await;
    add_patient(&app, &kept, "kept").await;
    add_patient(&app, &gone, "gone").await;
    let made = json_of(&run(&app, &["backup", "now", "--json"]));
    let id = made["id"].as_str().unwrap().to_owned();
    // Clinic B leaves: its key is destroyed. Clinic A's key file is lost with a disk.
    app.state().keyring.destroy(&gone).unwrap();
    let keys = app.config().keyring_dir.clone();
    std::fs::remove_file(keys.join(format!("{kept}.key"))).unwrap();
    app.stop_server().await;

    let restored = run(&app, &["restore", &id, "--json"]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let restored = json_of(&restored);
    assert_eq!(restored["keys_restored"], serde_json::json!([kept.clone()]));
    assert_eq!(
        restored["keys_kept_destroyed"],
        serde_json::json!([gone.clone()])
    );
    assert!(keys.join(format!("{kept}.key")).exists());
    assert!(!keys.join(format!("{gone}.key")).exists());
    assert_eq!(
        record_in(&app, &kept, "kept").await.as_deref(),
        Some("kept")
    );
    assert_eq!(
        record_in(&app, &gone, "gone").await,
        None,
        "B stays unreadable"
    );

    // A later backup holds B's tombstone: after losing the whole keyring, a restore brings back
    // A's key and B's tombstone, never B's key.
    let later = json_of(&run(&app, &["backup", "now", "--json"]));
    std::fs::remove_dir_all(&keys).unwrap();
    let again = run(&app, &["restore", later["id"].as_str().unwrap(), "--json"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(keys.join(format!("{kept}.key")).exists());
    assert!(keys.join(format!("{gone}.destroyed")).exists());
    assert!(!keys.join(format!("{gone}.key")).exists());

    // Without its keyring backup, a restore refuses and says what is missing.
    std::fs::remove_dir_all(app.data_dir().join("keyring-backups").join(&id)).unwrap();
    let refused = run(&app, &["restore", &id]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("keyring backup"));
}

#[tokio::test]
async fn a_backup_taken_under_write_load_restores_consistently_in_the_drill() {
    let app = spawn_app().await;
    if app.config().database_url.is_some() {
        return; // SQLite only: PostgreSQL is backed up with pgBackRest.
    }
    let clinic = app.add_clinic("A").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (store, keyring, clinic, stop) = (
            app.store().clone(),
            app.state().keyring.clone(),
            clinic.clone(),
            stop.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let fields = enshin_store::registry::PatientFields {
                    family_name: "負荷".into(),
                    given_name: format!("{w}-{n}"),
                    family_name_kana: "フカ".into(),
                    given_name_kana: "テスト".into(),
                    birth_date: "1950-01-01".into(),
                    ..Default::default()
                };
                store
                    .add_clinic_patient(&keyring, &format!("load-{w}-{n}"), &clinic, &fields, 0)
                    .await
                    .unwrap();
                n += 1;
            }
            n
        }));
    }
    // Requests keep the access log busy too.
    let client = app.client();
    let busy = {
        let url = app.patient_url("/api/v1/me");
        let stop = stop.clone();
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = client.get(&url).send().await;
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let made = {
        let mut cmd = enshin(&app.data_dir());
        cmd.env("ENSHIN_DATA_DIR", app.data_dir())
            .args(["backup", "now", "--json"]);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    busy.await.unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(written > 0);

    let drill = run(&app, &["backup", "drill", "--json"]);
    assert!(
        drill.status.success(),
        "{}",
        String::from_utf8_lossy(&drill.stdout)
    );
    let report = json_of(&drill);
    assert_eq!(report["ok"], true);
    assert_eq!(report["integrity"], "ok");
    assert_eq!(report["access_log_ok"], true);
    assert!(report["access_log_entries"].as_u64().unwrap() > 0);
    assert!(report["rto_ms"].as_i64().unwrap() >= 0 && report["rpo_ms"].as_i64().unwrap() >= 0);
    let patients = report["clinics"][0]["patients"].as_i64().unwrap();
    assert!(
        patients > 0 && patients <= written as i64,
        "{patients} of {written} written"
    );
}

#[tokio::test]
async fn serve_backs_up_on_its_schedule_and_keeps_the_newest() {
    let mut app = enshin_testkit::spawn_app_with(|layers| {
        layers.flag("backup_interval_secs", "1".into());
        layers.flag("backup_keep", "2".into());
    })
    .await;
    let backups = app.data_dir().join("backups");
    let keyrings = app.data_dir().join("keyring-backups");
    if app.config().database_url.is_some() {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert!(!backups.exists(), "PostgreSQL is backed up by pgBackRest");
        return;
    }
    let listed = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut settled = false;
    for _ in 0..300 {
        let now = listed(&backups);
        seen.extend(now.iter().cloned());
        if seen.len() >= 4 && now.len() == 2 && listed(&keyrings).len() == 2 {
            settled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        settled,
        "seen {seen:?}, now {:?} / {:?}",
        listed(&backups),
        listed(&keyrings)
    );
    // Stopped, so that no scheduled backup or pruning runs beside the check.
    app.stop_server().await;
    let verified = run(&app, &["backup", "verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}
