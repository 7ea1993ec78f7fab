//! W-records: what a clinical record costs a doctor and an auditor. Through the API, on a real
//! server: saving a note's draft, finalising it (seal, hash link, access-log entry made durable)
//! and amending it, one visit after another; then `verify` over every chain (what
//! `enshin records verify` does), in versions per second; then the clinic's whole export (DATA-6)
//! into a spool file.

use std::time::Instant;

use enshin_core::appointment::State;
use enshin_core::people::Role;
use enshin_core::record::verify_chain;
use enshin_store::appointments::NewAppointment;
use enshin_testkit::{call, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::stats;

/// Runs W-records over `visits` in-person visits (three versions each).
pub async fn records(visits: u64) {
    let app = spawn_app().await;
    let clinic = app.add_clinic("bench").await;
    let doctor = app.add_member(&clinic, Role::Doctor).await;
    let pc = app.clinic_client(&clinic).await;
    let (_, session) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": doctor.login_id, "password": doctor.password })),
    )
    .await;
    let token = session["token"].as_str().expect("token").to_owned();
    let menu = enshin_core::schedule::Menu::new(
        "対面再診",
        enshin_core::schedule::Mode::InPerson,
        enshin_core::schedule::Visit::Repeat,
        15,
        0,
    )
    .expect("menu");
    let store = app.store();
    store
        .add_menu("m-bench", &clinic, &menu, 0)
        .await
        .expect("menu");
    let fields = enshin_store::registry::PatientFields {
        family_name: "負荷".into(),
        given_name: "試験".into(),
        family_name_kana: "フカ".into(),
        given_name_kana: "シケン".into(),
        birth_date: "1970-01-01".into(),
        ..Default::default()
    };
    store
        .add_clinic_patient(&app.state().keyring, "p-bench", &clinic, &fields, 0)
        .await
        .expect("patient");
    let day = 86_400_000;
    let now = jiff::Timestamp::now().as_millisecond();
    let mut ids = Vec::new();
    for i in 0..visits as i64 {
        let id = format!("visit-{i}");
        let starts_at = now - day + i * 900_000;
        store
            .book_appointment(
                &NewAppointment {
                    id: &id,
                    clinic_id: &clinic,
                    clinic_patient_id: "p-bench",
                    doctor_id: &doctor.id,
                    menu_id: "m-bench",
                    starts_at,
                    ends_at: starts_at + 900_000,
                    state: State::Completed,
                    booked_by: &doctor.id,
                },
                now,
            )
            .await
            .expect("visit");
        ids.push(id);
    }
    let soap = json!({
        "subjective": "朝の頭痛が続く。".repeat(20),
        "objective": "BP 152/94、脈 72。".repeat(20),
        "assessment": "高血圧症",
        "plan": "アムロジピン 5mg を継続。2週間後に再診。".repeat(10),
    });
    let (mut drafts, mut finals, mut amends) = (Vec::new(), Vec::new(), Vec::new());
    for id in &ids {
        let path = format!("/api/v1/appointments/{id}/note");
        for (method, rest, body, into) in [
            (Method::PUT, "", Some(json!({ "soap": soap })), &mut drafts),
            (Method::POST, "/finalise", None, &mut finals),
            (
                Method::POST,
                "/amend",
                Some(json!({ "soap": soap, "reason": "用量の記載誤り" })),
                &mut amends,
            ),
        ] {
            let t = Instant::now();
            let (status, answer) = call(
                &pc,
                method,
                app.clinic_url(&format!("{path}{rest}")),
                &token,
                body,
            )
            .await;
            into.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
    }
    println!(
        "W-records on {}: {visits} visits, one after another (each answer waits for its access-log entry)",
        store.backend().name()
    );
    println!("| step | p50 ms | p90 ms | p99 ms |");
    println!("|---|---|---|---|");
    for (label, sample) in [
        ("save draft (PUT …/note)", drafts),
        ("finalise (version 1)", finals),
        ("amend (version 2)", amends),
    ] {
        let s = stats(sample);
        println!("| {label} | {:.2} | {:.2} | {:.2} |", s.p50, s.p90, s.p99);
    }
    let t = Instant::now();
    let chains = store.record_chains().await.expect("chains");
    let mut versions = 0;
    for chain in &chains {
        versions += chain.versions.len();
        assert!(
            verify_chain(
                chain.kind,
                &chain.id,
                chain.current_version,
                &chain.versions
            )
            .is_empty()
        );
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "records verify: {versions} versions in {} chains, {:.0} ms ({:.0} versions/s)",
        chains.len(),
        secs * 1000.0,
        versions as f64 / secs
    );
    let t = Instant::now();
    let spool = tempfile::tempfile().expect("spool");
    let state = app.state();
    let source = enshin_server::export::Source {
        store: &state.store,
        keyring: &state.keyring,
    };
    let requested = enshin_core::export::Requested {
        by: "clinic_admin".into(),
        principal: "bench".into(),
        reference: None,
    };
    let files = enshin_server::export::write_export(
        &source,
        &clinic,
        requested,
        state.audit.signer(),
        &spool,
        &mut |_| {},
    )
    .await
    .expect("export")
    .files;
    let zipped = spool.metadata().expect("size").len();
    println!(
        "export: {} files, {} bytes of content, {zipped} bytes zipped, {:.0} ms",
        files.len(),
        files.iter().map(|f| f.bytes).sum::<u64>(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    app.stop().await;
}
