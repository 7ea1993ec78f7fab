//! Real receivers on loopback for the service's outgoing messages: a small SMTP server that
//! speaks the protocol (EHLO, MAIL, RCPT, DATA with dot-stuffing, QUIT) and an HTTP endpoint in
//! the shape of an SMS provider's API. Both keep what they received.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One e-mail as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// `MAIL FROM` address.
    pub from: String,
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and body, dot-stuffing removed).
    pub data: String,
}

impl ReceivedMail {
    /// The body as text, decoded from its Content-Transfer-Encoding (base64 or 7bit/8bit).
    pub fn text(&self) -> String {
        use base64::Engine;
        let (headers, body) = self.data.split_once("\n\n").unwrap_or((&self.data, ""));
        if headers
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: base64")
        {
            let compact: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("base64 body");
            String::from_utf8(bytes).expect("utf-8 body")
        } else {
            body.to_owned()
        }
    }
}

/// An SMTP server on 127.0.0.1.
pub struct SmtpSink {
    /// Where it listens (or will listen, see [`SmtpSink::reserve`]).
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
}

impl SmtpSink {
    /// Starts listening on a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener)
    }

    /// A free port with nothing listening yet: a mail server that is down.
    pub async fn reserve() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("address")
    }

    /// Starts listening on `addr` (a port from [`SmtpSink::reserve`]).
    pub async fn start_on(addr: SocketAddr) -> Self {
        Self::serve(
            TcpListener::bind(addr)
                .await
                .expect("bind the reserved port"),
        )
    }

    fn serve(listener: TcpListener) -> Self {
        let addr = listener.local_addr().expect("address");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(stream, store).await;
                });
            }
        });
        Self { addr, mails }
    }

    /// Every mail received so far.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.mails.lock().expect("mails").clone()
    }

    /// The mails once there are at least `n`, waiting up to 20 s.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMail> {
        for _ in 0..400 {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the SMTP sink received fewer than {n} mails in 20 s");
    }
}

/// The address of `MAIL FROM:<a@b> BODY=8BITMIME` or `RCPT TO:<a@b>`.
fn address(arg: &str) -> String {
    arg.split_once(':')
        .and_then(|(_, a)| a.split_whitespace().next())
        .unwrap_or("")
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

async fn session(stream: TcpStream, store: Arc<Mutex<Vec<ReceivedMail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(b"250-sink.test\r\n250 8BITMIME\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            write.write_all(b"250 sink.test\r\n").await?;
        } else if upper.starts_with("MAIL FROM") {
            from = address(&line);
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO") {
            to.push(address(&line));
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            while let Some(l) = lines.next_line().await? {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
                data.push('\n');
            }
            store.lock().expect("mails").push(ReceivedMail {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            break;
        } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
            write.write_all(b"250 OK\r\n").await?;
        } else {
            write.write_all(b"502 not implemented\r\n").await?;
        }
    }
    Ok(())
}

/// One SMS as the provider endpoint received it.
#[derive(Debug, Clone)]
pub struct ReceivedSms {
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: serde_json::Value,
}

/// An HTTP endpoint on 127.0.0.1 in the shape of an SMS provider's API.
pub struct SmsSink {
    /// Its URL.
    pub url: String,
    received: Arc<Mutex<Vec<ReceivedSms>>>,
}

impl SmsSink {
    /// Starts listening on a free port; `POST /v1/messages` answers 202.
    pub async fn start() -> Self {
        use axum::http::HeaderMap;
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let app = axum::Router::new().route(
            "/v1/messages",
            axum::routing::post(
                move |headers: HeaderMap, axum::Json(body): axum::Json<serde_json::Value>| {
                    let store = store.clone();
                    async move {
                        store.lock().expect("sms").push(ReceivedSms {
                            authorization: headers
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned),
                            body,
                        });
                        axum::http::StatusCode::ACCEPTED
                    }
                },
            ),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://{}/v1/messages",
            listener.local_addr().expect("address")
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, received }
    }

    /// The SMS once there are at least `n`, waiting up to 20 s.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedSms> {
        for _ in 0..400 {
            let received = self.received.lock().expect("sms").clone();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the SMS sink received fewer than {n} messages in 20 s");
    }
}
