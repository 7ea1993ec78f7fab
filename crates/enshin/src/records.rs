//! `enshin records verify`: checks that no version of a visit note or a consultation plan was
//! edited, removed or inserted behind the service's back (ROLE-3, 真正性). It reads hashes and
//! sealed contents only, so it needs no key and shows no patient data.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use enshin_core::record::verify_chain;
use enshin_server::Config;
use serde_json::json;

/// `enshin records …`
#[derive(Subcommand)]
pub enum RecordsCommand {
    /// Check every note's and plan's versions against their hash links; exit 1 on any problem.
    Verify {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a records command: exit 1 when it ran and found a problem.
pub async fn records(config: &Config, command: RecordsCommand) -> anyhow::Result<ExitCode> {
    let RecordsCommand::Verify { json } = command;
    enshin_server::datadir::ensure_database_dir(config)?;
    let store = enshin_store::Store::connect(&config.effective_database_url()).await?;
    store.migrate().await?;
    let chains = store.record_chains().await;
    store.close().await;
    let chains = chains?;
    let mut problems = Vec::new();
    let mut versions = 0;
    for chain in &chains {
        versions += chain.versions.len();
        for p in verify_chain(
            chain.kind,
            &chain.id,
            chain.current_version,
            &chain.versions,
        ) {
            problems.push((chain.kind, chain.id.clone(), p.to_string()));
        }
    }
    let notes = chains.iter().filter(|c| c.kind == "note").count();
    let plans = chains.len() - notes;
    let mut out = std::io::stdout().lock();
    if json {
        let list: Vec<_> = problems
            .iter()
            .map(|(kind, id, problem)| json!({ "record": kind, "id": id, "problem": problem }))
            .collect();
        let _ = writeln!(
            out,
            "{}",
            json!({ "ok": problems.is_empty(), "notes": notes, "plans": plans, "versions": versions, "problems": list })
        );
    } else {
        for (kind, id, problem) in &problems {
            let _ = writeln!(out, "{kind} {id}: {problem}");
        }
        let verdict = if problems.is_empty() {
            "intact".to_owned()
        } else {
            format!("{} problem(s)", problems.len())
        };
        let _ = writeln!(
            out,
            "{notes} notes, {plans} plans, {versions} versions: {verdict}"
        );
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
