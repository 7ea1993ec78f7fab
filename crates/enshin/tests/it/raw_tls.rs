//! Hand-built TLS ClientHellos, to offer what no modern TLS library will send (TLS 1.1, CBC
//! suites) and read the server's answer byte by byte.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A ClientHello with the given legacy version and cipher suites, offering ECDHE groups and
/// signature algorithms, so that only the version or the suites can make the server refuse.
pub fn client_hello(version: [u8; 2], suites: &[u16]) -> Vec<u8> {
    let mut extensions = Vec::new();
    // supported_groups: x25519, secp256r1
    extensions.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]);
    // ec_point_formats: uncompressed
    extensions.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    extensions.extend_from_slice(&[
        0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
    ]);
    let mut body = Vec::new();
    body.extend_from_slice(&version);
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for suite in suites {
        body.extend_from_slice(&suite.to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]);
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

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
