//! Clinics and members in the store, on both backends.
// covers AUTH-7, AUTH-8

use enshin_core::people::{LoginId, Role};
use enshin_store::people::{NewMember, PeopleError};

use crate::test_store;

fn member<'a>(account_id: &'a str, clinic_id: &'a str, login_id: &'a LoginId) -> NewMember<'a> {
    NewMember {
        account_id,
        clinic_id,
        login_id,
        role: Role::Doctor,
        display_name: "田中 医師",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    }
}

#[tokio::test]
async fn clinics_list_with_their_active_members() {
    let (store, _dir, _db) = test_store().await;
    store
        .create_clinic("c1", "第一クリニック", 1)
        .await
        .unwrap();
    store.create_clinic("c2", "Second", 2).await.unwrap();
    let (a, b) = (
        LoginId::parse("tanaka").unwrap(),
        LoginId::parse("suzuki").unwrap(),
    );
    store
        .create_member(&member("m1", "c1", &a), 3)
        .await
        .unwrap();
    store
        .create_member(&member("m2", "c1", &b), 4)
        .await
        .unwrap();
    assert!(store.disable_member(&b, 5).await.unwrap());
    let clinics = store.list_clinics().await.unwrap();
    let summary: Vec<(&str, &str, i64)> = clinics
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.active_members))
        .collect();
    assert_eq!(summary, [("c1", "第一クリニック", 1), ("c2", "Second", 0)]);
}

#[tokio::test]
async fn a_login_id_is_never_given_twice_not_even_after_disabling() {
    let (store, _dir, _db) = test_store().await;
    store.create_clinic("c1", "One", 1).await.unwrap();
    store.create_clinic("c2", "Two", 1).await.unwrap();
    let id = LoginId::parse("tanaka").unwrap();
    store
        .create_member(&member("m1", "c1", &id), 2)
        .await
        .unwrap();
    let again = store.create_member(&member("m2", "c2", &id), 3).await;
    assert!(
        matches!(again, Err(PeopleError::LoginIdTaken(ref t)) if t == "tanaka"),
        "{again:?}"
    );
    assert!(store.disable_member(&id, 4).await.unwrap());
    assert!(
        !store.disable_member(&id, 5).await.unwrap(),
        "second disable changes nothing"
    );
    let after = store.create_member(&member("m3", "c1", &id), 6).await;
    assert!(
        matches!(after, Err(PeopleError::LoginIdTaken(_))),
        "{after:?}"
    );
    // The failed attempts left nothing behind.
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(accounts, 1);
}

#[tokio::test]
async fn unknown_clinics_and_members_are_named() {
    let (store, _dir, _db) = test_store().await;
    let id = LoginId::parse("tanaka").unwrap();
    let err = store
        .create_member(&member("m1", "nope", &id), 1)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "there is no clinic with id nope");
    let err = store.disable_member(&id, 1).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "there is no clinic member with login ID tanaka"
    );
}
