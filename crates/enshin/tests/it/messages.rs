//! Outgoing messages through the queue: a real SMTP exchange on loopback, a mail server that is
//! down at first and up later, and the SMS provider's HTTP API. Nothing is lost, the body is
//! wiped once delivered, and the logs name no recipient.
// covers AUTH-6, DATA-2

use std::os::unix::fs::PermissionsExt;

use enshin_testkit::{SmsSink, SmtpSink, TestApp, spawn_app_with};

async fn wiped_and_sent(app: &TestApp) -> Vec<(Option<i64>, String)> {
    sqlx::query_as::<_, (Option<i64>, String)>(
        "SELECT sent_at, body FROM outgoing_messages ORDER BY created_at",
    )
    .fetch_all(app.store().pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn mail_goes_through_a_real_smtp_exchange() {
    let sink = SmtpSink::start().await;
    let url = format!("smtp://{}", sink.addr);
    let app = spawn_app_with(|layers| {
        layers.flag("smtp_url", url);
        layers.flag("mail_from", "遠診 <no-reply@enshin.test>".into());
    })
    .await;
    app.state()
        .messages
        .email(
            "admin@clinic.test",
            "【enshin】お知らせ",
            "ログインしてご確認ください。\n",
        )
        .await
        .unwrap();
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].from, "no-reply@enshin.test");
    assert_eq!(mails[0].to, ["admin@clinic.test"]);
    assert!(
        mails[0].data.contains("To: admin@clinic.test"),
        "{}",
        mails[0].data
    );
    assert!(
        mails[0].text().contains("ログインしてご確認ください。"),
        "{}",
        mails[0].data
    );
    for _ in 0..100 {
        if wiped_and_sent(&app).await[0].0.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let rows = wiped_and_sent(&app).await;
    assert!(rows[0].0.is_some(), "recorded as sent");
    assert_eq!(rows[0].1, "", "the body is wiped once delivered");
    assert!(
        !app.data_dir()
            .join("outbox")
            .read_dir()
            .unwrap()
            .any(|_| true),
        "with a relay configured nothing goes to the outbox"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_mail_server_that_is_down_at_first_still_gets_the_mail_later() {
    let addr = SmtpSink::reserve().await;
    let url = format!("smtp://{addr}");
    let app = spawn_app_with(|layers| layers.flag("smtp_url", url)).await;
    app.state()
        .messages
        .email("staff@clinic.test", "subject", "body\n")
        .await
        .unwrap();
    // The first attempt fails (nothing listens) and is recorded with its error.
    let mut failed = None;
    for _ in 0..200 {
        let states = app.store().message_states(10).await.unwrap();
        if states[0].attempts >= 1 {
            failed = Some(states[0].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let failed = failed.expect("a failed first attempt");
    assert_eq!(failed.sent_at, None);
    assert!(failed.last_error.is_some());
    // The server comes up; the retry (5 s after the first failure) delivers.
    let sink = SmtpSink::start_on(addr).await;
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].to, ["staff@clinic.test"]);
    assert_eq!(mails.len(), 1, "delivered once");
    app.stop().await;
}

#[tokio::test]
async fn sms_go_to_the_providers_http_api_with_the_bearer_token() {
    let sink = SmsSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("sms.token");
    std::fs::write(&token, "tok-123\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (url, token_path) = (sink.url.clone(), token.display().to_string());
    let app = spawn_app_with(|layers| {
        layers.flag("sms_url", url);
        layers.flag("sms_token_file", token_path);
        layers.flag("sms_from", "ENSHIN".into());
    })
    .await;
    app.state()
        .messages
        .sms("+819012345678", "確認コード 123456")
        .await
        .unwrap();
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].authorization.as_deref(), Some("Bearer tok-123"));
    assert_eq!(received[0].body["to"], "+819012345678");
    assert_eq!(received[0].body["from"], "ENSHIN");
    assert_eq!(received[0].body["text"], "確認コード 123456");
    app.stop().await;
}

#[tokio::test]
async fn without_a_relay_messages_are_files_in_the_outbox() {
    let app = spawn_app_with(|_| {}).await;
    let messages = &app.state().messages;
    messages.email("a@b.test", "件名", "本文\n").await.unwrap();
    messages
        .sms("+819012345678", "コード 654321")
        .await
        .unwrap();
    let outbox = app.data_dir().join("outbox");
    let mut files = Vec::new();
    for _ in 0..200 {
        files = std::fs::read_dir(&outbox)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        if files.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    files.sort();
    assert_eq!(files.len(), 2);
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("To: a@b.test\nSubject: 件名\n"))
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("SMS-To: +819012345678\n") && t.ends_with("コード 654321"))
    );
    for f in &files {
        assert_eq!(
            std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    app.stop().await;
}
