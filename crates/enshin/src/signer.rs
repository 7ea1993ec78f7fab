//! Whether the key that signed a document of the service (a deletion certificate, an export's
//! manifest) is one of this service's access-log writers.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use enshin_server::config::Config;
use enshin_store::audit::AuditStore;

/// What the access log says of a signer.
pub enum Standing {
    /// A registered writer with this very key.
    Writer,
    /// Unknown, or registered with another key.
    Stranger,
    /// The database could not be reached.
    Unchecked,
}

/// Looks `signer` with base64 `public_key` up among the access log's writers.
pub async fn standing(config: &Config, signer: &str, public_key: &str) -> Standing {
    let registered = match AuditStore::connect(&config.audit_database_url()).await {
        Ok(audit) => audit.writer_key(signer).await.ok(),
        Err(_) => None,
    };
    match registered {
        Some(Some(key)) if STANDARD.encode(&key) == public_key => Standing::Writer,
        Some(_) => Standing::Stranger,
        None => Standing::Unchecked,
    }
}

/// Prints the verdict on a document whose signature holds, `what` describing it; exit 1 when
/// its key is not one of this service's writers.
pub fn conclude(standing: Standing, signer: &str, what: &str) -> std::process::ExitCode {
    match standing {
        Standing::Writer => {
            say!("valid: {what}; signed by access-log writer {signer} of this service");
            std::process::ExitCode::SUCCESS
        }
        Standing::Stranger => {
            say!(
                "NOT VALID: the signature holds, but key {signer} is not a writer of this service's access log"
            );
            std::process::ExitCode::FAILURE
        }
        Standing::Unchecked => {
            say!(
                "signature valid; {what}; the signer {signer} was not checked against the access log (database not reachable)"
            );
            std::process::ExitCode::SUCCESS
        }
    }
}
