//! W-signal: how long a signalling message takes from one instance's room to another's and back
//! through the bus: PostgreSQL `LISTEN`/`NOTIFY` between two instances (two pools, two listening
//! connections) when `ENSHIN_TEST_DATABASE_URL` is set, the in-process channel on SQLite. Three
//! sizes: an ICE candidate, a session description, and one too large for a notification (parked
//! in `call_signals`).

use std::time::Instant;

use enshin_store::Store;
use enshin_store::bus::Bus;
use enshin_testkit::TestDatabase;

use crate::stats;

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Round trips of `rounds` messages of each size; prints a table.
pub async fn signal(rounds: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDatabase::create().await;
    let url = match &db {
        Some(db) => db.url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
    };
    let first = Store::connect(&url).await.expect("database");
    first.migrate().await.expect("migrations");
    let here = Bus::start(first.clone(), &url).await.expect("bus");
    let there = match first.backend() {
        enshin_store::Backend::Postgres => {
            let second = Store::connect(&url).await.expect("database");
            Bus::start(second, &url).await.expect("bus")
        }
        enshin_store::Backend::Sqlite => here.clone(),
    };
    println!(
        "W-signal: round trips through the bus on {} ({rounds} per row)",
        first.backend().name()
    );
    println!("| message | p50 ms | p90 ms | p99 ms |");
    println!("|---|---|---|---|");
    for (label, size) in [
        ("ICE candidate, 200 B", 200),
        ("offer, 6 KiB", 6_000),
        ("parked, 12 KiB", 12_000),
    ] {
        // The other instance answers every ping with a pong of the same size.
        let echo_bus = there.clone();
        let mut echo_rx = echo_bus.subscribe();
        let echo = tokio::spawn(async move {
            let mut n = 0u64;
            while let Ok(message) = echo_rx.recv().await {
                if let Some(rest) = message.strip_prefix("ping:") {
                    n += 1;
                    let pong = format!("pong:{rest}");
                    let id = format!("pong-{size}-{n}");
                    echo_bus
                        .publish(&id, &pong, now_ms())
                        .await
                        .expect("publish");
                }
            }
        });
        let mut rx = here.subscribe();
        let pad = "x".repeat(size);
        let mut ms = Vec::with_capacity(rounds as usize);
        for i in 0..rounds {
            let ping = format!("ping:{i}:{pad}");
            let want = format!("pong:{i}:");
            let start = Instant::now();
            here.publish(&format!("ping-{size}-{i}"), &ping, now_ms())
                .await
                .expect("publish");
            loop {
                let message = rx.recv().await.expect("bus");
                if message.starts_with(&want) {
                    break;
                }
            }
            ms.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        echo.abort();
        let s = stats(ms);
        println!("| {label} | {:.2} | {:.2} | {:.2} |", s.p50, s.p90, s.p99);
    }
    first.close().await;
}
