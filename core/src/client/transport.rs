//! HTTP with reqwest (rustls, gzip; no OpenSSL): the two requests the client makes, and nothing else.
//!
//! Errors are turned into [`TransportError`] text from `reqwest::Error::without_url`, so the `token` in
//! the definitions URL never reaches a log or an error message.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER};

use super::config::Config;
use super::error::{RemoteError, TransportError};
use super::poller::{FetchResult, HttpResponse};

/// Builds the HTTP client of one Client (one per process: rebuilt after a fork).
pub(crate) fn build_http(config: &Config) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .gzip(true)
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.definitions_timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(4);
    if !config.use_system_proxy {
        b = b.no_proxy();
    }
    b.build().map_err(|e| describe(&e.without_url()))
}

/// The text of an error and its causes, without any URL.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

pub(crate) fn classify(e: reqwest::Error) -> TransportError {
    let timeout = e.is_timeout();
    let connect = e.is_connect();
    let body = e.is_body() || e.is_decode();
    let text = describe(&e.without_url());
    if timeout {
        TransportError::Timeout
    } else if connect {
        TransportError::Connect(text)
    } else if body {
        TransportError::Body(text)
    } else {
        TransportError::Other(text)
    }
}

fn encode_query(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `GET {host}/flags/definitions?token=…&send_cohorts` with `Authorization: Bearer` (D28).
pub(crate) async fn fetch_definitions(http: &reqwest::Client, config: &Config, if_none_match: Option<&str>) -> FetchResult {
    let Some(secret) = &config.secret_key else {
        return FetchResult::Failed(TransportError::Other("no secret key configured".into()));
    };
    let url = format!(
        "{}/flags/definitions?token={}&send_cohorts",
        config.host,
        encode_query(config.project_api_key.expose())
    );
    let mut req = http.get(url).timeout(config.definitions_timeout);
    match HeaderValue::from_str(&format!("Bearer {}", secret.expose())) {
        Ok(mut v) => {
            v.set_sensitive(true);
            req = req.header(AUTHORIZATION, v);
        }
        Err(_) => return FetchResult::Failed(TransportError::Other("the secret key is not a valid header value".into())),
    }
    if let Some(tag) = if_none_match {
        if let Ok(v) = HeaderValue::from_str(tag) {
            req = req.header(IF_NONE_MATCH, v);
        }
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return FetchResult::Failed(classify(e)),
    };
    let status = resp.status().as_u16();
    let header = |name| resp.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
    let etag = header(ETAG);
    let retry_after = header(RETRY_AFTER);
    let body = match read_limited(resp).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return FetchResult::Failed(TransportError::Body(too_large())),
        Err(BodyError::Read(e)) => {
            // A status without a body still means something (e.g. a 401 whose body broke off).
            let err = classify(e);
            return if status == 200 { FetchResult::Failed(err) } else {
                FetchResult::Response(HttpResponse { status, etag, retry_after, body: Vec::new() })
            };
        }
    };
    FetchResult::Response(HttpResponse { status, etag, retry_after, body })
}

/// One `POST {host}/flags/?v=4` (typed values and rule attribution; a server without v4 answers v2,
/// which is read as well); returns the status and body.
async fn post_flags_once(http: &reqwest::Client, config: &Config, body: &[u8]) -> Result<(u16, Vec<u8>), RemoteError> {
    let url = format!("{}/flags/?v=4", config.host);
    send_remote(http.post(url).timeout(config.remote_timeout).header(CONTENT_TYPE, "application/json").body(body.to_vec()))
        .await
}

/// Sends a request of the remote side (`/flags`, remote config) and reads its body, at most
/// `MAX_BODY_BYTES`; every failure as a [`RemoteError`].
async fn send_remote(req: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), RemoteError> {
    let resp = req.send().await.map_err(|e| RemoteError::from_transport(classify(e)))?;
    let status = resp.status().as_u16();
    let bytes = read_limited(resp).await.map_err(|e| match e {
        BodyError::TooLarge => RemoteError::from_transport(TransportError::Body(too_large())),
        BodyError::Read(e) => RemoteError::from_transport(classify(e)),
    })?;
    Ok((status, bytes))
}

/// `GET {host}/api/projects/@current/feature_flags/{key}/remote_config?token=…` with the secret as
/// `Authorization: Bearer`: the (decrypted) payload of a remote-config flag, or `None` for a 404. PostHog
/// returns the stored payload JSON-encoded once more; a string that parses as JSON is read as that JSON
/// (as posthog-node does), any other string stays a string.
pub(crate) async fn get_remote_config(
    http: &reqwest::Client,
    config: &Config,
    key: &str,
) -> Result<Option<serde_json::Value>, RemoteError> {
    let Some(secret) = &config.secret_key else {
        return Err(RemoteError::Disabled);
    };
    let url = format!(
        "{}/api/projects/@current/feature_flags/{}/remote_config?token={}",
        config.host,
        encode_query(key),
        encode_query(config.project_api_key.expose())
    );
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", secret.expose()))
        .map_err(|_| RemoteError::Connection("the secret key is not a valid header value".into()))?;
    auth.set_sensitive(true);
    let (status, body) = send_remote(http.get(url).timeout(config.remote_timeout).header(AUTHORIZATION, auth)).await?;
    match status {
        200 => {}
        404 => return Ok(None),
        402 => return Err(RemoteError::QuotaLimited),
        s => return Err(RemoteError::Status { status: s }),
    }
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| RemoteError::Malformed(e.to_string()))?;
    Ok(Some(match value {
        serde_json::Value::String(text) => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        other => other,
    }))
}

/// Largest response body read (after decompression): the engine's document limit. Reading stops there,
/// so a compressed "bomb" cannot make the host allocate more than this.
const MAX_BODY_BYTES: usize = crate::Limits::DEFAULT_MAX_DOCUMENT_BYTES;

enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

fn too_large() -> String {
    format!("response body is over the limit of {MAX_BODY_BYTES} bytes")
}

/// Reads a (decompressed) body chunk by chunk, refusing it as soon as it passes `MAX_BODY_BYTES`.
async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `POST /flags/?v=4` with PostHog's retry rule: one retry, after 300 ms, on transport errors, timeouts,
/// 502 and 504. Returns the body of a 200.
pub(crate) async fn post_flags(http: &reqwest::Client, config: &Config, body: &[u8]) -> Result<Vec<u8>, RemoteError> {
    let mut attempt = 0;
    loop {
        let err = match post_flags_once(http, config, body).await {
            Ok((200, b)) => return Ok(b),
            Ok((status, _)) => RemoteError::Status { status },
            Err(e) => e,
        };
        if attempt >= 1 || !err.retryable() {
            return Err(err);
        }
        attempt += 1;
        log::debug!(target: "hogflags", "/flags failed ({err}); retrying once");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
