//! The TLS accept loop: handshake under a timeout, then HTTP/1.1 or HTTP/2 on hyper with the
//! connection's facts (listener, peer address, client certificate) attached to every request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use enshin_core::pki::{ClientCertFacts, client_cert_facts};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The three listeners of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenerKind {
    /// Patients, devices, public pages.
    Patient,
    /// Clinic members, with client certificates.
    Clinic,
    /// The operator console.
    Operator,
}

impl ListenerKind {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Clinic => "clinic",
            Self::Operator => "operator",
        }
    }
}

/// Facts about the connection a request arrived on.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Which listener accepted it.
    pub listener: ListenerKind,
    /// The peer's address.
    pub peer: SocketAddr,
    /// The verified client certificate, on the clinic listener.
    pub client_cert: Option<ClientCertFacts>,
}

/// Limits of one listener's connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Time for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time for a client to send a request's headers (slow-loris guard).
    pub header_timeout: Duration,
    /// Time in-flight requests get at shutdown.
    pub shutdown_grace: Duration,
}

/// Where a listener reports what happens before a request exists (refused handshakes).
#[derive(Clone)]
pub struct Sinks {
    /// The access log.
    pub audit: crate::audit::AuditLog,
    /// The metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Serves one listener until `shutdown` turns true, then lets in-flight requests finish.
pub async fn serve(
    tcp: TcpListener,
    configs: watch::Receiver<Arc<rustls::ServerConfig>>,
    sinks: Sinks,
    router: Router,
    kind: ListenerKind,
    limits: ConnLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    http.http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(30));
    let http = Arc::new(http);
    loop {
        tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    // The configuration in force now: a CRL reload applies to the next handshake.
                    let acceptor = TlsAcceptor::from(configs.borrow().clone());
                    let (router, http, watcher, sinks) = (router.clone(), http.clone(), graceful.watcher(), sinks.clone());
                    tokio::spawn(async move {
                        let tls = match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await {
                            Ok(Ok(tls)) => tls,
                            Ok(Err(e)) => {
                                tracing::info!(target: "enshin::tls", listener = kind.name(), %peer, error = %e, "TLS handshake refused");
                                sinks.metrics.handshake_refused(kind);
                                sinks.audit.record_detached(enshin_core::audit::entry::Entry {
                                    source: Some(peer.ip().to_string()),
                                    ..crate::audit::event_entry(kind.name(), "tls_handshake_refused")
                                });
                                return;
                            }
                            Err(_) => {
                                tracing::info!(target: "enshin::tls", listener = kind.name(), %peer, "TLS handshake timed out");
                                sinks.metrics.handshake_refused(kind);
                                return;
                            }
                        };
                        let client_cert = tls
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .and_then(|der| client_cert_facts(der).ok());
                        let info = ConnInfo { listener: kind, peer, client_cert };
                        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                            request.extensions_mut().insert(info.clone());
                            router.clone().oneshot(request)
                        });
                        let conn = http.serve_connection_with_upgrades(TokioIo::new(tls), service).into_owned();
                        if let Err(e) = watcher.watch(conn).await {
                            tracing::debug!(listener = kind.name(), %peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                // Typically EMFILE: back off instead of spinning, the listener stays up.
                Err(e) => {
                    tracing::warn!(listener = kind.name(), error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
        }
    }
    drop(tcp);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            listener = kind.name(),
            "shutdown grace period over; closing the remaining connections"
        );
    }
}
