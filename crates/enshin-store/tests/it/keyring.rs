//! The keyring and A-class column encryption (DATA-3, DATA-5).
// covers DATA-3, DATA-5

use std::os::unix::fs::PermissionsExt;

use enshin_core::crypto::envelope::{CryptoError, FieldContext};
use enshin_store::keyring::{Keyring, KeyringError, create_master_key, load_master_key};

const CTX: FieldContext<'static> = FieldContext {
    clinic_id: "0190f0c4-aaaa-7000-8000-000000000001",
    table: "patients",
    column: "family_name",
    row_id: "p1",
};

fn keyring(dir: &std::path::Path) -> Keyring {
    let master_path = dir.join("master.key");
    let master = if master_path.exists() {
        load_master_key(&master_path).unwrap()
    } else {
        create_master_key(&master_path).unwrap()
    };
    Keyring::open(&dir.join("keys"), master).unwrap()
}

#[test]
fn round_trip_survives_reopening_and_stores_no_plaintext_key() {
    let dir = tempfile::tempdir().unwrap();
    let ring = keyring(dir.path());
    ring.create(CTX.clinic_id).unwrap();
    let sealed = ring.seal(&CTX, "やまだ".as_bytes()).unwrap();
    drop(ring);
    let reopened = keyring(dir.path());
    assert_eq!(
        reopened.open_field(&CTX, &sealed).unwrap(),
        "やまだ".as_bytes()
    );
    let key_file = dir
        .path()
        .join("keys")
        .join(format!("{}.key", CTX.clinic_id));
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn another_master_key_cannot_read() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ring_a = keyring(a.path());
    ring_a.create(CTX.clinic_id).unwrap();
    let sealed = ring_a.seal(&CTX, b"secret").unwrap();
    // The same wrapped key file under another master key (a stolen keyring without the master key).
    std::fs::create_dir_all(b.path().join("keys")).unwrap();
    let name = format!("{}.key", CTX.clinic_id);
    std::fs::copy(
        a.path().join("keys").join(&name),
        b.path().join("keys").join(&name),
    )
    .unwrap();
    let ring_b = keyring(b.path());
    assert!(matches!(
        ring_b.open_field(&CTX, &sealed),
        Err(KeyringError::Crypto(CryptoError::Unauthentic))
    ));
}

#[test]
fn wrong_place_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let ring = keyring(dir.path());
    ring.create(CTX.clinic_id).unwrap();
    let sealed = ring.seal(&CTX, b"secret").unwrap();
    let moved = FieldContext {
        row_id: "p2",
        ..CTX
    };
    assert!(matches!(
        ring.open_field(&moved, &sealed),
        Err(KeyringError::Crypto(CryptoError::Unauthentic))
    ));
}

#[test]
fn destroyed_key_makes_ciphertext_unreadable_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let ring = keyring(dir.path());
    ring.create(CTX.clinic_id).unwrap();
    let sealed = ring.seal(&CTX, b"secret").unwrap();
    ring.destroy(CTX.clinic_id).unwrap();
    assert!(
        matches!(ring.open_field(&CTX, &sealed), Err(KeyringError::Destroyed(id)) if id == CTX.clinic_id)
    );
    assert!(
        matches!(ring.create(CTX.clinic_id), Err(KeyringError::Destroyed(_))),
        "a destroyed clinic id gets no new key"
    );
    ring.destroy(CTX.clinic_id).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("keys"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        [std::ffi::OsString::from(format!(
            "{}.destroyed",
            CTX.clinic_id
        ))]
    );
}

#[test]
fn missing_duplicate_and_hostile_clinic_ids() {
    let dir = tempfile::tempdir().unwrap();
    let ring = keyring(dir.path());
    assert!(matches!(
        ring.data_key("never"),
        Err(KeyringError::NoKey(_))
    ));
    ring.create("c1").unwrap();
    assert!(matches!(ring.create("c1"), Err(KeyringError::Exists(_))));
    for hostile in ["", "../master", "a/b", "x.key", &"a".repeat(65), "c1\0"] {
        assert!(
            matches!(ring.create(hostile), Err(KeyringError::InvalidClinicId)),
            "{hostile:?}"
        );
        assert!(
            matches!(ring.data_key(hostile), Err(KeyringError::InvalidClinicId)),
            "{hostile:?}"
        );
    }
}

#[test]
fn master_key_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    create_master_key(&path).unwrap();
    assert!(
        matches!(create_master_key(&path), Err(KeyringError::Io { .. })),
        "never overwrite a master key"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = load_master_key(&path).unwrap_err();
    assert!(err.to_string().contains("chmod 600"), "{err}");
}
