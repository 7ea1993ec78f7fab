//! `enshin clinic …` and `enshin member …`: operator commands that work on the embedded default
//! and on PostgreSQL, also while `serve` runs. Secrets are read from stdin, never from argv.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use clap::{Args, Subcommand};
use enshin_core::password::CommonPasswords;
use enshin_core::people::Role;
use enshin_server::Config;
use enshin_server::datadir::{ensure_database_dir, open_keyring};
use enshin_server::people::{MemberRequest, add_clinic, add_member, disable_member};
use enshin_store::Store;
use serde_json::json;

/// Clinic commands.
#[derive(Subcommand)]
pub enum ClinicCommand {
    /// Add a clinic; creates its data key in the keyring.
    Add {
        /// The clinic's name.
        #[arg(long)]
        name: String,
        /// Print one JSON object {"id", "name"}.
        #[arg(long)]
        json: bool,
    },
    /// List clinics with their number of active members (no personal data).
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// A clinic leaves (DATA-5): `--on DATE` gives notice; `--delete`, on or after that date,
    /// deletes its data, destroys its key everywhere and writes a signed certificate.
    Terminate(crate::exit::TerminateArgs),
    /// Export a clinic's whole data set (ZIP, signed manifest) on the clinic's written request
    /// (DATA-6); recorded in the access log, which the clinic's admin sees.
    Export(crate::export::ExportArgs),
}

/// Member commands.
#[derive(Subcommand)]
pub enum MemberCommand {
    /// Add a clinic member; the initial password is read from stdin (or prompted without echo).
    Add(MemberAdd),
    /// Disable a member's account at once (AUTH-7).
    Disable {
        /// The member's login ID.
        login_id: String,
    },
}

/// Arguments of `member add`.
#[derive(Args)]
pub struct MemberAdd {
    /// The clinic's id.
    #[arg(long)]
    clinic: String,
    /// admin, doctor or staff.
    #[arg(long)]
    role: Role,
    /// The login ID (4-64 of a-z, 0-9, . _ - @; stored in lower case).
    #[arg(long)]
    login_id: String,
    /// The name colleagues and patients see.
    #[arg(long)]
    name: String,
    /// Print one JSON object {"id", "login_id", "clinic_id", "role"}.
    #[arg(long)]
    json: bool,
}

/// Opens the database (creating the SQLite directory if needed) and applies migrations.
pub async fn store(config: &Config) -> anyhow::Result<Store> {
    ensure_database_dir(config)?;
    let store = Store::connect(&config.effective_database_url()).await?;
    store.migrate().await?;
    Ok(store)
}

/// Reads a password: prompted without echo on a terminal, else the first line of stdin.
pub fn read_password() -> anyhow::Result<zeroize::Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        return Ok(zeroize::Zeroizing::new(rpassword::prompt_password(
            "initial password: ",
        )?));
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    anyhow::ensure!(
        !password.is_empty(),
        "no password on stdin (pipe it in, e.g. from a password manager)"
    );
    Ok(zeroize::Zeroizing::new(password.to_owned()))
}

/// Runs a clinic command.
pub async fn clinic(config: &Config, command: ClinicCommand) -> anyhow::Result<()> {
    let store = store(config).await?;
    match command {
        ClinicCommand::Add { name, json } => {
            let keyring = open_keyring(config)?;
            let clinic = add_clinic(&store, &keyring, &name).await?;
            if json {
                say!("{}", json!({ "id": clinic.id, "name": clinic.name }));
            } else {
                say!("clinic {} added: {}", clinic.id, clinic.name);
            }
        }
        ClinicCommand::List { json } => {
            let clinics = store.list_clinics().await?;
            let terminates: std::collections::HashMap<String, String> = store
                .terminations()
                .await?
                .into_iter()
                .map(|t| (t.clinic_id, t.effective_on))
                .collect();
            if json {
                let list: Vec<_> = clinics
                    .iter()
                    .map(|c| json!({ "id": c.id, "name": c.name, "created_at_ms": c.created_at, "active_members": c.active_members, "terminates_on": terminates.get(&c.id) }))
                    .collect();
                say!("{}", serde_json::Value::Array(list));
            } else {
                say!("{:<36}  {:>7}  {:<10}  NAME", "ID", "MEMBERS", "TERMINATES");
                for c in &clinics {
                    let on = terminates.get(&c.id).map_or("-", String::as_str);
                    say!(
                        "{:<36}  {:>7}  {:<10}  {}",
                        c.id,
                        c.active_members,
                        on,
                        c.name
                    );
                }
            }
        }
        ClinicCommand::Terminate(args) => crate::exit::terminate(config, &store, args).await?,
        ClinicCommand::Export(args) => crate::export::export(config, &store, args).await?,
    }
    store.close().await;
    Ok(())
}

/// Runs a member command.
pub async fn member(config: &Config, command: MemberCommand) -> anyhow::Result<()> {
    let store = store(config).await?;
    match command {
        MemberCommand::Add(add) => {
            let password = read_password()?;
            let request = MemberRequest {
                clinic_id: &add.clinic,
                role: add.role,
                login_id: &add.login_id,
                name: &add.name,
                password: &password,
            };
            let created = add_member(&store, &CommonPasswords::bundled(), &request).await?;
            if add.json {
                say!(
                    "{}",
                    json!({ "id": created.id, "login_id": created.login_id.as_str(), "clinic_id": add.clinic, "role": add.role.as_str() })
                );
            } else {
                say!(
                    "member {} ({}) added to clinic {}",
                    created.login_id,
                    add.role,
                    add.clinic
                );
            }
        }
        MemberCommand::Disable { login_id } => {
            if disable_member(&store, &login_id).await? {
                say!("member {login_id} disabled");
            } else {
                say!("member {login_id} was already disabled");
            }
        }
    }
    store.close().await;
    Ok(())
}
