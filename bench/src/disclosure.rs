//! W-disclose: what generating the conformance disclosure costs on the demo deployment: the TLS
//! probe of the three listeners, the observation as a whole (the access log's verification
//! grows with the log; `verify` measures that alone), and rendering.

use std::time::Instant;

use enshin_core::disclosure::{Lang, markdown};
use enshin_server::disclosure::{Sources, document, observe};
use enshin_server::tls_probe::{Target, probe};
use enshin_testkit::spawn_app;

use crate::{print_table, stats};

/// Runs W-disclose `rounds` times.
pub async fn disclose(rounds: u64) {
    let app = spawn_app().await;
    enshin_server::demo::ensure_demo(app.config(), app.state())
        .await
        .expect("demo");
    let sources = Sources::of(app.state());
    let (mut probes, mut observations, mut renders) = (Vec::new(), Vec::new(), Vec::new());
    let mut handshakes = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let seen = probe(&Target {
            listener: "clinic",
            addr: app.addrs().clinic,
            server_name: "localhost",
            ca_pem: app.ca_pem(),
        })
        .await;
        probes.push(t.elapsed().as_secs_f64() * 1000.0);
        handshakes = seen.outcome.map(|s| s.suites.len()).unwrap_or(0);
        let t = Instant::now();
        let obs = observe(&sources).await;
        observations.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let doc = document(app.config(), &obs);
        let ja = markdown(&doc, Lang::Ja);
        let json = serde_json::to_string(&doc).expect("json");
        renders.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(ja.len() > 10_000 && json.len() > 10_000);
    }
    let backend = if app.config().database_url.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };
    print_table(
        &format!(
            "W-disclose on {backend}, demo deployment, {rounds} rounds, ms ({handshakes} suites accepted by the clinic listener)"
        ),
        &[
            ("probe one listener (11 handshakes)", stats(probes)),
            (
                "observe everything (3 probes, log verify, stores, keys)",
                stats(observations),
            ),
            ("assemble, Markdown and JSON", stats(renders)),
        ],
    );
    app.stop().await;
}
