//! The clinic pages follow the permission matrix exactly like the API: every page route with
//! every kind of clinic principal, and with another clinic's admin (ROLE-2: 404, like a missing id).
// covers ROLE-1, ROLE-2, AUTH-7, SESS-2

use enshin_core::authz::{Action, Actor, Denied, Target, authorize};
use enshin_core::people::Role;
use enshin_testkit::{Browser, TestMember, spawn_app};
use reqwest::StatusCode;

struct Principal {
    name: &'static str,
    member: TestMember,
    actor: Actor,
    browser: Browser,
}

/// What a row acts on: one's own account, one's own clinic, or a member of clinic A.
#[derive(Clone, Copy)]
enum On {
    OwnAccount,
    OwnClinic,
    TargetInA,
}

/// One page route: label, path, form fields (`None`: a GET), its action, on what, the answer
/// when allowed, and the answers expected for the four principals.
type Row = (
    &'static str,
    String,
    Option<Vec<(&'static str, &'static str)>>,
    Action,
    On,
    u16,
    [u16; 4],
);

#[tokio::test]
async fn every_clinic_page_follows_the_matrix_for_every_principal() {
    let app = spawn_app().await;
    let (a, b) = (app.add_clinic("A").await, app.add_clinic("B").await);
    let mut principals = Vec::new();
    for (name, clinic, role) in [
        ("admin of A", &a, Role::Admin),
        ("doctor of A", &a, Role::Doctor),
        ("staff of A", &a, Role::Staff),
        ("admin of B", &b, Role::Admin),
    ] {
        let member = app.add_member(clinic, role).await;
        let browser = app.member_browser(&member).await;
        let actor = Actor::Member {
            account_id: member.id.clone(),
            clinic_id: clinic.clone(),
            role,
        };
        principals.push(Principal {
            name,
            member,
            actor,
            browser,
        });
    }
    let target = app.add_member(&a, Role::Staff).await;
    let on_target = |suffix: &str| format!("/members/{}/{suffix}", target.id);
    // A pending request of an operator to clinic A, for the approve row.
    let operator = app.add_operator("ops.matrix").await;
    let asked = enshin_core::grant::ask(enshin_core::grant::Kind::Request, "r", None, 30).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    app.store()
        .ask_access("g-matrix", &a, &operator.id, &asked, now)
        .await
        .unwrap();
    // A patient of A, for the home-monitoring rows.
    let fields = enshin_store::registry::PatientFields {
        family_name: "山田".into(),
        given_name: "花子".into(),
        family_name_kana: "ヤマダ".into(),
        given_name_kana: "ハナコ".into(),
        birth_date: "1948-03-09".into(),
        ..Default::default()
    };
    app.store()
        .add_clinic_patient(&app.state().keyring, "p-pages", &a, &fields, now)
        .await
        .unwrap();

    // (label, path, form fields or None for GET, action, on what, answer when allowed, expected)
    let rows: Vec<Row> = vec![
        (
            "worklist",
            "/worklist".into(),
            None,
            Action::ReadWorklist,
            On::OwnClinic,
            200,
            [200; 4],
        ),
        (
            "worklist stamp",
            "/worklist/stamp".into(),
            None,
            Action::ReadWorklist,
            On::OwnClinic,
            200,
            [200; 4],
        ),
        (
            "registry import",
            "/patients/import".into(),
            None,
            Action::TransferRegistry,
            On::OwnClinic,
            200,
            [200, 403, 403, 200],
        ),
        (
            "all data export",
            "/export.zip".into(),
            None,
            Action::ExportClinic,
            On::OwnClinic,
            200,
            [200, 403, 403, 200],
        ),
        (
            "booking setup",
            "/schedule".into(),
            None,
            Action::ManageSchedule,
            On::OwnClinic,
            200,
            [200, 403, 403, 200],
        ),
        (
            "add a menu",
            "/schedule/menus".into(),
            Some(vec![
                ("name", "再診"),
                ("mode", "online"),
                ("visit", "repeat"),
                ("minutes", "15"),
                ("fee_yen", "0"),
            ]),
            Action::ManageSchedule,
            On::OwnClinic,
            303,
            [303, 403, 403, 303],
        ),
        (
            "a patient's plan",
            "/patients/p-pages/plan".into(),
            None,
            Action::ReadRecords,
            On::TargetInA,
            200,
            [200, 200, 200, 404],
        ),
        (
            "print a patient's record",
            "/patients/p-pages/record".into(),
            None,
            Action::ReadRecords,
            On::TargetInA,
            200,
            [200, 200, 200, 404],
        ),
        (
            "save a plan draft",
            "/patients/p-pages/plan".into(),
            Some(vec![("schedule", "月1回")]),
            Action::WritePlan,
            On::TargetInA,
            303,
            [403, 303, 403, 403],
        ),
        (
            "start page",
            "/home".into(),
            None,
            Action::ReadSelf,
            On::OwnAccount,
            200,
            [200; 4],
        ),
        (
            "my sessions",
            "/sessions".into(),
            None,
            Action::ListOwnSessions,
            On::OwnAccount,
            200,
            [200; 4],
        ),
        (
            "member list",
            "/members".into(),
            None,
            Action::ListMembers,
            On::OwnClinic,
            200,
            [200, 403, 403, 200],
        ),
        (
            "add member",
            "/members".into(),
            Some(vec![
                ("name", "新人"),
                ("role", "staff"),
                ("password", "Kaede-77-river!"),
            ]),
            Action::AddMember,
            On::OwnClinic,
            303,
            [303, 403, 403, 303],
        ),
        (
            "change role",
            on_target("role"),
            Some(vec![("role", "doctor")]),
            Action::ChangeMemberRole,
            On::TargetInA,
            303,
            [303, 403, 403, 404],
        ),
        (
            "force log-off",
            on_target("end-sessions"),
            Some(vec![]),
            Action::EndMemberSessions,
            On::TargetInA,
            303,
            [303, 403, 403, 404],
        ),
        (
            "a patient's home records",
            "/patients/p-pages/monitoring".into(),
            None,
            Action::ReadReadings,
            On::TargetInA,
            200,
            [200, 200, 200, 404],
        ),
        (
            "a patient's readings as CSV",
            "/patients/p-pages/readings.csv".into(),
            None,
            Action::ReadReadings,
            On::TargetInA,
            200,
            [200, 200, 200, 404],
        ),
        (
            "set a threshold",
            "/patients/p-pages/thresholds".into(),
            Some(vec![("kind", "pulse"), ("above", "120"), ("below", "")]),
            Action::SetThresholds,
            On::TargetInA,
            303,
            [303, 303, 403, 404],
        ),
        (
            "questionnaires",
            "/questionnaires".into(),
            None,
            Action::AskQuestionnaire,
            On::OwnClinic,
            200,
            [200; 4],
        ),
        (
            "build a questionnaire",
            "/questionnaires".into(),
            Some(vec![
                ("staff_title", "問診"),
                ("patient_title", "問診票"),
                ("text", "熱はありますか"),
                ("kind", "yes_no"),
            ]),
            Action::ManageQuestionnaires,
            On::OwnClinic,
            303,
            [303, 303, 403, 303],
        ),
        (
            "a patient's questionnaires",
            "/patients/p-pages/questionnaires".into(),
            None,
            Action::ReadAnswers,
            On::TargetInA,
            200,
            [200, 200, 200, 404],
        ),
        (
            "alerts",
            "/alerts".into(),
            None,
            Action::HandleAlerts,
            On::OwnClinic,
            200,
            [200; 4],
        ),
        (
            "operator access",
            "/operator-access".into(),
            None,
            Action::DecideAccess,
            On::OwnClinic,
            200,
            [200, 403, 403, 200],
        ),
        (
            "approve operator access",
            "/operator-access/g-matrix/approve".into(),
            Some(vec![]),
            Action::DecideAccess,
            On::TargetInA,
            303,
            [303, 403, 403, 404],
        ),
        (
            "set member password",
            on_target("password"),
            Some(vec![("password", "Kaede-77-river!")]),
            Action::SetMemberPassword,
            On::TargetInA,
            303,
            [303, 403, 403, 404],
        ),
        (
            "disable member",
            on_target("disable"),
            Some(vec![]),
            Action::DisableMember,
            On::TargetInA,
            303,
            [303, 403, 403, 404],
        ),
    ];
    for (label, path, fields, action, on, ok, expected) in &rows {
        for (p, want) in principals.iter().zip(expected) {
            let answer = match fields {
                None => p.browser.get(path).await,
                Some(fields) => {
                    let csrf = p.browser.get("/home").await.csrf();
                    let login_id = format!("new-{}", p.member.login_id);
                    let mut all = vec![("csrf", csrf.as_str()), ("login_id", login_id.as_str())];
                    all.extend(fields.iter().copied());
                    p.browser.post(path, &all).await
                }
            };
            assert_eq!(
                answer.status.as_u16(),
                *want,
                "{label} by {}: {}",
                p.name,
                answer.body
            );
            let (account, clinic) = (p.member.id.as_str(), p.member.clinic_id.as_str());
            let target = match on {
                On::OwnAccount => Target::Account(account),
                On::OwnClinic => Target::Clinic(clinic),
                On::TargetInA => Target::Clinic(&a),
            };
            let by_matrix = match authorize(&p.actor, *action, target) {
                Ok(()) => *ok,
                Err(Denied::Forbidden) => 403,
                Err(Denied::NotFound) => 404,
            };
            assert_eq!(
                answer.status.as_u16(),
                by_matrix,
                "{label} by {}: page and matrix disagree",
                p.name
            );
            if answer.status == StatusCode::FORBIDDEN || answer.status == StatusCode::NOT_FOUND {
                assert!(
                    answer.body.contains("class=\"error\""),
                    "{label} by {}",
                    p.name
                );
            }
        }
    }
    let members = app.store().list_members(&a).await.unwrap();
    let target = members.iter().find(|m| m.id == target.id).unwrap();
    assert_eq!((target.role.as_str(), target.disabled), ("doctor", true));
    app.stop().await;
}
