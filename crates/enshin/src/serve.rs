//! `enshin serve`: run the service until SIGTERM or SIGINT.

use std::io::Write;

use enshin_server::Config;

/// Runs the three listeners and prints the start report.
pub async fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    say!("enshin {} starting", env!("CARGO_PKG_VERSION"));
    let (running, report) = enshin_server::launch(config).await?;
    for created in &report.created {
        say!("created {}: {}", created.what, created.path.display());
    }
    let version = report.migrations.last().map_or(0, |m| m.version);
    say!(
        "database: {} {} (schema version {version})",
        report.backend,
        report.database
    );
    if report.clock.synchronized {
        say!("clock: {}", report.clock.detail);
    } else {
        say!("clock: WARNING {}", report.clock.detail);
        tracing::warn!("{}", report.clock.detail);
    }
    if demo {
        let (path, created) = enshin_server::demo::ensure_demo(config, running.state()).await?;
        let verb = if created { "created" } else { "unchanged" };
        say!(
            "demo accounts ({verb}): {} (log-in IDs and passwords; mode 0600)",
            path.display()
        );
    }
    let addrs = running.addrs();
    say!("listening:");
    say!("  patient  https://{}", addrs.patient);
    say!(
        "  clinic   https://{}  (clinic client certificate required)",
        addrs.clinic
    );
    say!("  operator https://{}", addrs.operator);
    say!("ports written to {}", running.publish_ports()?.display());
    let signal = wait_for_signal().await?;
    say!("{signal} received: stopping (in-flight requests may finish)");
    running.shutdown().await;
    say!("stopped");
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
