//! Two `enshin serve` processes on one PostgreSQL (issue 11): a session made on one works on the
//! other; killing one with SIGKILL under load loses no write it acknowledged, and the patient
//! carries on on the other; both append to the access log as separate writers.
// covers AVAIL-1, AVAIL-2, LOG-4, LOG-7

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use enshin_store::audit::AuditStore;
use reqwest::StatusCode;
use serde_json::json;

use crate::cli::Served;

#[tokio::test]
async fn two_instances_share_sessions_and_a_kill_9_loses_no_acknowledged_write() {
    let mut first = Served::start().await;
    let Some(url) = first._db.as_ref().map(|db| db.url.clone()) else {
        // The embedded SQLite default is one instance by design (its data directory is locked).
        return;
    };
    let second = Served::beside(&first).await;
    let client = first.client();
    let token = first.patient_token("two.instances").await;
    for served in [&first, &second] {
        let mine = client
            .get(served.url("patient", "/api/v1/readings"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(mine.status(), StatusCode::OK, "the session works on either");
    }

    // Eight workers post readings, alternating between the instances; then the first is killed.
    let urls = [
        first.url("patient", "/api/v1/readings"),
        second.url("patient", "/api/v1/readings"),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..8 {
        let (client, urls, token, stop) =
            (client.clone(), urls.clone(), token.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("w{w}-{n}");
                let sent = client
                    .post(&urls[n % 2])
                    .bearer_auth(&token)
                    .json(&json!({ "values": { "weight": "61.5" }, "client_id": id }))
                    .send()
                    .await;
                if matches!(&sent, Ok(r) if r.status() == StatusCode::CREATED) {
                    acknowledged.push(id);
                }
                n += 1;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    first.signal(libc::SIGKILL);
    first.wait().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = HashSet::new();
    for worker in workers {
        acknowledged.extend(worker.await.unwrap());
    }
    assert!(
        acknowledged.len() > 20,
        "the load got answers: {}",
        acknowledged.len()
    );

    // The patient carries on on the second instance with the same session.
    let after = client
        .post(&urls[1])
        .bearer_auth(&token)
        .json(&json!({ "values": { "weight": "61.4" }, "client_id": "after-the-kill" }))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::CREATED);

    let store = enshin_store::Store::connect(&url).await.unwrap();
    let stored: HashSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT client_id FROM readings WHERE client_id IS NOT NULL",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    // A form's client id is kept per value: `<id>/<kind>`.
    .filter_map(|c| c.strip_suffix("/weight").map(str::to_owned))
    .collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged readings lost: {lost:?}",
        lost.len()
    );
    assert!(stored.contains("after-the-kill"));

    let audit = AuditStore::connect(&url).await.unwrap();
    assert!(
        audit.writers().await.unwrap().len() >= 2,
        "each instance appends as its own writer"
    );
}
