//! `enshin clinic …` and `enshin member …` beside a running serve, on both backends.
// covers AUTH-3, AUTH-5, AUTH-7, AUTH-8, DATA-3

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::cli::{Served, enshin, loopback};

/// Runs an enshin command against the served instance, with `stdin` piped in.
pub(crate) fn run(served: &Served, args: &[&str], stdin: &str) -> Output {
    let mut cmd = enshin(served.dir.path());
    loopback(&mut cmd, &served.data_dir, served.db_url());
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub(crate) fn ok_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

pub(crate) fn failure(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `enshin clinic add --json`, checked to succeed.
pub(crate) fn add_clinic(served: &Served, name: &str) -> Value {
    ok_json(&run(
        served,
        &["clinic", "add", "--name", name, "--json"],
        "",
    ))
}

fn active_members(served: &Served, clinic_id: &str) -> i64 {
    let list = ok_json(&run(served, &["clinic", "list", "--json"], ""));
    let clinic = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == clinic_id)
        .expect("clinic listed");
    clinic["active_members"].as_i64().unwrap()
}

#[tokio::test]
async fn clinics_and_members_are_managed_beside_a_running_serve() {
    let served = Served::start().await;
    let clinic = add_clinic(&served, " 遠診クリニック ");
    let clinic_id = clinic["id"].as_str().unwrap().to_owned();
    assert_eq!(clinic["name"], "遠診クリニック");
    let key = served
        .data_dir
        .join("keys")
        .join(format!("{clinic_id}.key"));
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600,
        "the clinic got its data key"
    );
    assert_eq!(active_members(&served, &clinic_id), 0);

    let args = [
        "member",
        "add",
        "--clinic",
        &clinic_id,
        "--role",
        "admin",
        "--login-id",
        "Ｔanaka.Admin",
        "--name",
        "田中 花子",
        "--json",
    ];
    let output = run(&served, &args, "Blue-Kettle-42\n");
    let member = ok_json(&output);
    assert_eq!(member["login_id"], "tanaka.admin");
    assert_eq!(member["role"], "admin");
    assert_eq!(member["id"].as_str().unwrap().len(), 36);
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("Blue-Kettle"),
        "the password is never echoed"
    );
    assert_eq!(active_members(&served, &clinic_id), 1);

    let text = run(&served, &["clinic", "list"], "");
    let table = String::from_utf8_lossy(&text.stdout);
    assert!(
        table.contains(&clinic_id) && table.contains("遠診クリニック"),
        "{table}"
    );

    let disabled = run(&served, &["member", "disable", "tanaka.admin"], "");
    assert!(String::from_utf8_lossy(&disabled.stdout).contains("member tanaka.admin disabled"));
    let again = run(&served, &["member", "disable", "TANAKA.admin"], "");
    assert!(String::from_utf8_lossy(&again.stdout).contains("already disabled"));
    assert_eq!(active_members(&served, &clinic_id), 0);
    assert_eq!(
        served.operator_health().await,
        200,
        "serve kept running throughout"
    );
}

#[tokio::test]
async fn member_add_names_what_is_wrong_and_creates_nothing() {
    let served = Served::start().await;
    let clinic = add_clinic(&served, "Clinic");
    let clinic_id = clinic["id"].as_str().unwrap();
    let add = |login: &str, password: &str| {
        run(
            &served,
            &[
                "member",
                "add",
                "--clinic",
                clinic_id,
                "--role",
                "doctor",
                "--login-id",
                login,
                "--name",
                "Dr",
            ],
            password,
        )
    };
    for (password, rule) in [
        ("short1!\n", "too_short"),
        ("no-digits-here\n", "no_digit"),
        ("p@ssw0rd\n", "common"),
        ("x-suzuki-42!\n", "contains_login_id"),
        (&format!("a1!{}\n", "b".repeat(130)), "too_long"),
    ] {
        let err = failure(&add("suzuki", password));
        assert!(
            err.contains(&format!("password rejected ({rule})")),
            "{rule}: {err}"
        );
        assert!(
            !err.contains(password.trim_end()),
            "the password is not repeated: {err}"
        );
    }
    assert!(failure(&add("suzuki", "")).contains("no password on stdin"));
    assert!(
        failure(&add("su zuki", "Blue-Kettle-42\n"))
            .contains("login ID: a login ID may contain only")
    );
    let unknown = run(
        &served,
        &[
            "member",
            "add",
            "--clinic",
            "nope",
            "--role",
            "staff",
            "--login-id",
            "sato",
            "--name",
            "S",
        ],
        "Blue-Kettle-42\n",
    );
    assert!(failure(&unknown).contains("there is no clinic with id nope"));
    let bad_role = run(
        &served,
        &[
            "member",
            "add",
            "--clinic",
            clinic_id,
            "--role",
            "root",
            "--login-id",
            "sato",
            "--name",
            "S",
        ],
        "",
    );
    assert_eq!(bad_role.status.code(), Some(2), "usage error");
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role \"root\""));
    assert_eq!(
        active_members(&served, clinic_id),
        0,
        "nothing half-created"
    );

    assert!(add("suzuki", "Blue-Kettle-42\n").status.success());
    assert!(
        failure(&add("SUZUKI", "Other-Kettle-43\n"))
            .contains("the login ID suzuki is already taken")
    );
    assert!(
        failure(&run(&served, &["member", "disable", "nobody"], ""))
            .contains("no clinic member with login ID nobody")
    );
    assert!(
        failure(&run(&served, &["clinic", "add", "--name", "  "], ""))
            .contains("name: a name has 1 to 200 characters")
    );
}

#[test]
fn clinic_add_before_the_first_start_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = enshin(dir.path());
    loopback(&mut cmd, &dir.path().join("data"), None);
    let output = cmd.args(["clinic", "add", "--name", "X"]).output().unwrap();
    assert!(failure(&output).contains("start `enshin serve` once"));
}
