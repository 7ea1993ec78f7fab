//! A browser stand-in for page tests: it keeps cookies, does not follow redirects, and sends the
//! Fetch metadata (`Sec-Fetch-Site`) a real browser sends with a form it posts.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use enshin_core::pki::IssuedCert;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE};

use crate::client_tls;

/// One answer of the server, read whole.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Answer {
    /// The redirect target, if any.
    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    /// The value of the first hidden `csrf` field of the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("the page has a form token") + marker.len();
        let end = self.body[start..].find('"').expect("closed attribute");
        self.body[start..start + end].to_owned()
    }

    /// The `Set-Cookie` header of cookie `name`, whole (to check its attributes).
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

/// A browser on one site (one listener).
pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    /// A browser trusting `ca_pem` on `base` (`https://localhost:port`), with an optional
    /// client certificate.
    pub fn new(ca_pem: &str, identity: Option<&IssuedCert>, base: &str) -> Self {
        let tls = client_tls(ca_pem, rustls::ALL_VERSIONS, identity);
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("reqwest client");
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    /// The value of cookie `name`, if the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("cookies").get(name).cloned()
    }

    /// Sets or replaces a cookie, as another tab or a stale page might have.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .expect("cookies")
            .insert(name.to_owned(), value.to_owned());
    }

    /// Drops a cookie.
    pub fn forget(&self, name: &str) {
        self.cookies.lock().expect("cookies").remove(name);
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let jar: Vec<String> = self
            .cookies
            .lock()
            .expect("cookies")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let request = if jar.is_empty() {
            request
        } else {
            request.header(COOKIE, jar.join("; "))
        };
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let mut cookies = self.cookies.lock().expect("cookies");
                if value.is_empty() || set.contains("Max-Age=0") {
                    cookies.remove(name);
                } else {
                    cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let body = response.text().await.unwrap_or_default();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    /// Posts a form from this site's own page.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.post_from("same-origin", path, fields).await
    }

    /// Opens `/login` and posts it with its form token and `fields` (login ID, password, code).
    pub async fn log_in(&self, fields: &[(&str, &str)]) -> Answer {
        let csrf = self.get("/login").await.csrf();
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post("/login", &form).await
    }

    /// Posts a form as if from a page of `site` (`same-origin`, `cross-site`, …).
    pub async fn post_from(&self, site: &str, path: &str, fields: &[(&str, &str)]) -> Answer {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("sec-fetch-site", site)
            .form(fields);
        self.send(request).await
    }

    /// Posts a raw body of any type from this site's own page.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("sec-fetch-site", "same-origin")
            .header(CONTENT_TYPE, content_type)
            .body(body);
        self.send(request).await
    }
}
