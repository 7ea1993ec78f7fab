//! `enshin operator …`: operator accounts with TOTP (AUTH-9). The password is read from stdin;
//! the authenticator secret is shown once, as an `otpauth://` URI and a QR code.

use std::io::Write;

use anyhow::Context;
use clap::Subcommand;
use enshin_core::password::CommonPasswords;
use enshin_server::Config;
use enshin_server::datadir::open_keyring;
use enshin_server::operators::{add_operator, disable_operator};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use serde_json::json;

use crate::admin::{read_password, store};

/// Operator commands.
#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Add an operator; the password is read from stdin (or prompted without echo). Prints the
    /// authenticator secret once as an otpauth:// URI and a QR code.
    Add {
        /// The operator's login ID.
        login_id: String,
        /// The name shown in the console [default: the login ID].
        #[arg(long)]
        name: Option<String>,
        /// Print one JSON object {"id", "login_id", "otpauth_uri"}.
        #[arg(long)]
        json: bool,
    },
    /// Disable an operator at once; their sessions end.
    Disable {
        /// The operator's login ID.
        login_id: String,
    },
}

/// Runs an operator command.
pub async fn operator(config: &Config, command: OperatorCommand) -> anyhow::Result<()> {
    let store = store(config).await?;
    let result = async {
        match command {
            OperatorCommand::Add {
                login_id,
                name,
                json,
            } => {
                let keyring = open_keyring(config)?;
                let password = read_password()?;
                let name = name.unwrap_or_else(|| login_id.clone());
                let created = add_operator(
                    &store,
                    &keyring,
                    &CommonPasswords::bundled(),
                    &login_id,
                    &name,
                    &password,
                )
                .await?;
                if json {
                    say!(
                        "{}",
                        json!({
                            "id": created.id,
                            "login_id": created.login_id.as_str(),
                            "otpauth_uri": *created.otpauth_uri,
                        })
                    );
                } else {
                    let qr = QrCode::new(created.otpauth_uri.as_bytes())
                        .context("making the QR code")?
                        .render::<Dense1x2>()
                        .quiet_zone(true)
                        .build();
                    say!("operator {} added ({})", created.login_id, created.id);
                    say!("scan this with the operator's authenticator app (shown once):\n{qr}");
                    say!("or enter: {}", *created.otpauth_uri);
                }
                Ok(())
            }
            OperatorCommand::Disable { login_id } => {
                if disable_operator(&store, &login_id).await? {
                    say!("operator {login_id} disabled; their sessions ended");
                } else {
                    say!("operator {login_id} was already disabled");
                }
                Ok(())
            }
        }
    }
    .await;
    store.close().await;
    result
}
