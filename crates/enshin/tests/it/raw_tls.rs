//! Hand-built TLS ClientHellos, to offer what no modern TLS library will send (TLS 1.1, CBC
//! suites) and read the server's answer byte by byte.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub use enshin_server::tls_probe::client_hello;

/// Sends `bytes` and returns what the server answers until it closes, or goes quiet for a second
/// after answering (a server that continues a handshake waits for us); at most 4 KiB.
pub async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while answer.len() < 4096 {
        let wait = if answer.is_empty() {
            Duration::from_secs(10)
        } else {
            Duration::from_secs(1)
        };
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) if !answer.is_empty() => break,
            Err(_) => panic!("the server neither answered nor closed within 10 s"),
        }
    }
    answer
}

/// The description byte of a fatal alert record, if `answer` starts with one.
pub fn fatal_alert(answer: &[u8]) -> Option<u8> {
    match answer {
        [0x15, 0x03, _, 0x00, 0x02, 0x02, description, ..] => Some(*description),
        _ => None,
    }
}

/// TLS alert numbers (RFC 8446 §6).
pub const HANDSHAKE_FAILURE: u8 = 40;
/// TLS alert numbers (RFC 8446 §6).
pub const PROTOCOL_VERSION: u8 = 70;
