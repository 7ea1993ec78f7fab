//! Whether the key that signed a document of the service (a deletion certificate, an export's
//! manifest) is one of this service's access-log writers.

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
