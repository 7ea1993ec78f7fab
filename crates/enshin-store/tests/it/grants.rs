//! The store decides who may open a patient record (DATA-4): a member in their own clinic, an
//! operator only under an open grant reaching the patient; deciding a request is a
//! compare-and-set, so two admins deciding at once cannot both win.
// covers DATA-3, DATA-4, ROLE-2

use enshin_core::grant::{Kind, ask};
use enshin_store::Store;
use enshin_store::grants::Decided;
use enshin_store::keyring::{Keyring, create_master_key};
use enshin_store::registry::{PatientFields, Reader, RegistryError};

use crate::test_store;

const NOW: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;

async fn setup(store: &Store, dir: &std::path::Path) -> Keyring {
    let keyring = Keyring::open(
        &dir.join("keys"),
        create_master_key(&dir.join("master.key")).unwrap(),
    )
    .unwrap();
    for clinic in ["c1", "c2"] {
        store.create_clinic(clinic, clinic, 0).await.unwrap();
        keyring.create(clinic).unwrap();
    }
    sqlx::query(
        "INSERT INTO accounts (id, kind, login_id, password_hash, created_at) VALUES \
         ('op1', 'operator', 'ops.one', 'x', 0), ('adm', 'member', 'adm.one', 'x', 0), ('adm2', 'member', 'adm.two', 'x', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    keyring
}

fn fields(name: &str) -> PatientFields {
    PatientFields {
        family_name: name.into(),
        given_name: "花子".into(),
        family_name_kana: "ヤマダ".into(),
        given_name_kana: "ハナコ".into(),
        birth_date: "1948-03-09".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn operators_open_records_only_under_an_open_grant_reaching_them() {
    let (store, dir, _db) = test_store().await;
    let keyring = setup(&store, dir.path()).await;
    store
        .add_clinic_patient(&keyring, "p1", "c1", &fields("山田"), NOW)
        .await
        .unwrap();
    store
        .add_clinic_patient(&keyring, "p2", "c1", &fields("佐藤"), NOW)
        .await
        .unwrap();
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT family_name FROM clinic_patients WHERE id = 'p1'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(
        !String::from_utf8_lossy(&stored).contains("山田"),
        "sealed at rest"
    );

    let member = Reader::Member { clinic_id: "c1" };
    let opened = store
        .open_clinic_patient(&keyring, member, "c1", "p1", NOW)
        .await
        .unwrap();
    assert_eq!(opened.fields.family_name, "山田");
    assert_eq!(opened.grant_id, None);
    let other = Reader::Member { clinic_id: "c2" };
    assert!(matches!(
        store
            .open_clinic_patient(&keyring, other, "c1", "p1", NOW)
            .await,
        Err(RegistryError::NotFound)
    ));
    assert!(
        matches!(
            store
                .open_clinic_patient(&keyring, other, "c2", "p1", NOW)
                .await,
            Err(RegistryError::NotFound)
        ),
        "a patient of c1 is not reached through c2"
    );

    let operator = Reader::Operator { account_id: "op1" };
    let refused = store
        .open_clinic_patient(&keyring, operator, "c1", "p1", NOW)
        .await;
    assert!(
        matches!(refused, Err(RegistryError::NoGrant)),
        "{refused:?}"
    );

    let asked = ask(Kind::Request, "調査", Some("p1"), 60).unwrap();
    let grant = store
        .ask_access("g1", "c1", "op1", &asked, NOW)
        .await
        .unwrap();
    assert_eq!(grant.operator_login, "ops.one");
    assert!(matches!(
        store
            .open_clinic_patient(&keyring, operator, "c1", "p1", NOW)
            .await,
        Err(RegistryError::NoGrant)
    ));
    let decided = store
        .decide_access("g1", "c1", "adm", true, NOW + 10)
        .await
        .unwrap();
    assert!(matches!(decided, Decided::Done(_)), "{decided:?}");
    let opened = store
        .open_clinic_patient(&keyring, operator, "c1", "p1", NOW + 20)
        .await
        .unwrap();
    assert_eq!(
        (
            opened.fields.family_name.as_str(),
            opened.grant_id.as_deref()
        ),
        ("山田", Some("g1"))
    );
    for (clinic, patient, at) in [
        ("c1", "p2", NOW + 20),
        ("c2", "p1", NOW + 20),
        ("c1", "p1", NOW + 10 + HOUR),
        ("c1", "p1", NOW + 5),
    ] {
        let result = store
            .open_clinic_patient(&keyring, operator, clinic, patient, at)
            .await;
        assert!(
            matches!(result, Err(RegistryError::NoGrant)),
            "{clinic} {patient} {at}: {result:?}"
        );
    }
}

#[tokio::test]
async fn two_admins_deciding_at_once_cannot_both_win() {
    let (store, dir, _db) = test_store().await;
    setup(&store, dir.path()).await;
    for round in 0..10 {
        let id = format!("g{round}");
        let asked = ask(Kind::Request, "r", None, 30).unwrap();
        store
            .ask_access(&id, "c1", "op1", &asked, NOW)
            .await
            .unwrap();
        let (approve, refuse) = tokio::join!(
            store.decide_access(&id, "c1", "adm", true, NOW + 1),
            store.decide_access(&id, "c1", "adm2", false, NOW + 1),
        );
        let wins = [approve.unwrap(), refuse.unwrap()]
            .iter()
            .filter(|d| matches!(d, Decided::Done(_)))
            .count();
        assert_eq!(wins, 1, "round {round}");
    }
    let asked = ask(Kind::Request, "r", None, 30).unwrap();
    store
        .ask_access("gx", "c1", "op1", &asked, NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .decide_access("gx", "c2", "adm", true, NOW)
            .await
            .unwrap(),
        Decided::NotFound,
        "another clinic's admin cannot decide"
    );
}
