//! W-backup: what a backup and a restore of the embedded default cost, for the recovery time
//! (RTO) an operator can promise: a registry of `patients` sealed records (each ~0.5 KiB of
//! ciphertext), then `backup now`, `backup verify` and `backup drill` timed end to end.

use std::time::Instant;

use enshin_server::backup::{backup_now, drill, verify};
use enshin_testkit::spawn_app;

/// Runs W-backup with a registry of `patients` records.
pub async fn backups(patients: u64) {
    let app = spawn_app().await;
    if app.config().database_url.is_some() {
        println!("W-backup measures the embedded default; PostgreSQL is backed up by pgBackRest");
        return;
    }
    let clinic = app.add_clinic("bench").await;
    let store = app.store();
    let keyring = &app.state().keyring;
    for i in 0..patients {
        let fields = enshin_store::registry::PatientFields {
            family_name: "負荷".into(),
            given_name: format!("試験{i}"),
            family_name_kana: "フカ".into(),
            given_name_kana: "シケン".into(),
            birth_date: "1970-01-01".into(),
            contact: format!("090-0000-{:04}", i % 10_000),
            ..Default::default()
        };
        store
            .add_clinic_patient(keyring, &format!("p-{i}"), &clinic, &fields, 0)
            .await
            .expect("patient");
    }
    let config = app.config().clone();
    let db_bytes = std::fs::metadata(app.data_dir().join("enshin.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    let t = Instant::now();
    let made = backup_now(&config).await.expect("backup");
    let backup_ms = t.elapsed().as_secs_f64() * 1000.0;
    let stored: u64 = made.files.iter().map(|f| f.bytes).sum();
    let t = Instant::now();
    let checked = verify(&config, Some(&made.id)).await.expect("verify");
    let verify_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(checked.iter().all(|(_, p)| p.is_empty()), "{checked:?}");
    let t = Instant::now();
    let report = drill(&config).await.expect("drill");
    let drill_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(report.clinics[0].patients, patients as i64);
    println!(
        "W-backup on sqlite: {patients} registry records, database {:.1} MiB, backup {:.1} MiB",
        db_bytes as f64 / 1_048_576.0,
        stored as f64 / 1_048_576.0
    );
    println!("| step | ms |");
    println!("|---|---|");
    println!("| backup now (snapshot, gzip, seal, keyring copy) | {backup_ms:.0} |");
    println!("| backup verify (hash, open every chunk, gunzip) | {verify_ms:.0} |");
    println!(
        "| backup drill (verify, restore to scratch, migrate, integrity, access log, counts) | {drill_ms:.0} (restore part, the RTO: {} ms) |",
        report.restore_ms
    );
    app.stop().await;
}
