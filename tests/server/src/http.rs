//! The HTTP side: accept loop, routing, fault application and the control API.
//!
//! hyper is used directly (not a framework) because several faults need control below the usual
//! abstractions: a `Content-Length` that the body does not honour, and a connection closed without any
//! response (a service error makes hyper close the connection without writing one).

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::state::{Fault, FaultKind, FaultTarget, Shared};

/// The error a service or body returns to make hyper close the connection.
#[derive(Debug)]
pub(crate) struct Closed(&'static str);

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl StdError for Closed {}

type BoxError = Closed;

/// A response body: whole, or deliberately cut short.
pub(crate) enum Body {
    Full(Option<Bytes>),
    /// Sends `data`, waits a moment (so the bytes reach the client), then fails, which makes hyper close
    /// the connection before the promised `Content-Length` is reached.
    Truncated { data: Option<Bytes>, sleep: Option<Pin<Box<tokio::time::Sleep>>> },
}

impl Body {
    fn full(b: impl Into<Bytes>) -> Body {
        Body::Full(Some(b.into()))
    }
    fn empty() -> Body {
        Body::Full(None)
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Truncated { data, sleep } => {
                if let Some(d) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                if let Some(s) = sleep {
                    if s.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *sleep = None;
                    return Poll::Ready(Some(Err(Closed("body truncated by fault injection"))));
                }
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Truncated { .. } => SizeHint::default(),
        }
    }
}

/// Accepts connections until shutdown; each connection is served on its own task and dropped at shutdown.
pub(crate) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|s| *s) => break,
        };
        let (stream, _) = match accepted {
            Ok(s) => s,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let mut conn_shutdown = shared.shutdown.subscribe();
        tokio::spawn(async move {
            let svc_shared = shared.clone();
            let service = hyper::service::service_fn(move |req| {
                let shared = svc_shared.clone();
                async move { handle(shared, req).await }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                _ = conn_shutdown.wait_for(|s| *s) => {}
            }
        });
    }
}

async fn handle(shared: Arc<Shared>, req: Request<hyper::body::Incoming>) -> Result<Response<Body>, BoxError> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let result = if path.starts_with("/_control/") {
        shared.record(|s| s.control_requests += 1);
        Ok(control(&shared, req, &path).await)
    } else {
        match (method, path.as_str()) {
            (Method::GET, "/flags/definitions" | "/flags/definitions/")
            | (Method::GET, "/api/feature_flag/local_evaluation" | "/api/feature_flag/local_evaluation/") => {
                shared.record(|s| s.definitions_requests += 1);
                with_faults(&shared, FaultTarget::Definitions, req, definitions).await
            }
            (Method::POST, "/flags" | "/flags/" | "/decide" | "/decide/") => {
                shared.record(|s| s.flags_requests += 1);
                with_faults(&shared, FaultTarget::Flags, req, flags).await
            }
            (Method::GET, p) if p.starts_with("/api/projects/@current/feature_flags/") && p.ends_with("/remote_config") => {
                shared.record(|s| s.remote_config_requests += 1);
                Ok(remote_config_response(&shared, &req, p))
            }
            _ => Ok(json(StatusCode::NOT_FOUND, r#"{"type":"invalid_request","code":"not_found","detail":"Not found."}"#)),
        }
    };
    let status = match &result {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    };
    shared.record(|s| *s.by_status.entry(status).or_default() += 1);
    result
}

type Handler = fn(Arc<Shared>, Request<hyper::body::Incoming>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

fn definitions(shared: Arc<Shared>, req: Request<hyper::body::Incoming>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
    Box::pin(async move { definitions_response(&shared, &req) })
}

fn flags(shared: Arc<Shared>, req: Request<hyper::body::Incoming>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
    Box::pin(async move {
        let version = query_param(req.uri().query(), "v").and_then(|v| v.parse::<u32>().ok()).unwrap_or(1);
        let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let body = match req.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return json(StatusCode::BAD_REQUEST, r#"{"type":"validation_error","code":"invalid_body"}"#),
        };
        let (status, value) = crate::flags::respond(&shared, version, &user_agent, &body);
        if status == StatusCode::OK {
            shared.record(|s| s.flags_200 += 1);
        }
        json(status, value.to_string())
    })
}

/// Applies the next matching fault, if any, then (unless the fault replaced it) the normal handler.
async fn with_faults(
    shared: &Arc<Shared>,
    target: FaultTarget,
    req: Request<hyper::body::Incoming>,
    handler: Handler,
) -> Result<Response<Body>, BoxError> {
    let Some(fault) = shared.take_fault(target) else {
        return Ok(handler(shared.clone(), req).await);
    };
    match fault {
        FaultKind::Status { status, retry_after, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = body.unwrap_or_else(|| default_error_body(status));
            let mut resp = json(status, body);
            if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                resp.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(resp)
        }
        FaultKind::Delay { delay_ms } => {
            let mut shutdown = shared.shutdown.subscribe();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(delay_ms)) => {}
                _ = shutdown.wait_for(|s| *s) => return Err(Closed("server stopping")),
            }
            Ok(handler(shared.clone(), req).await)
        }
        FaultKind::Hang { hang_ms } => {
            let mut shutdown = shared.shutdown.subscribe();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(hang_ms.unwrap_or(60_000))) => {}
                _ = shutdown.wait_for(|s| *s) => {}
            }
            Err(Closed("hang fault: connection closed without a response"))
        }
        FaultKind::Malformed => {
            Ok(json(StatusCode::OK, r#"{"flags": [{"key": "broken", "filters": {"groups": [ this is not json"#))
        }
        FaultKind::Truncated => {
            let full = match target {
                FaultTarget::Flags => Bytes::from_static(br#"{"flags":{"some-flag":{"key":"some-flag","enabled":true,"variant":null}},"errorsWhileComputingFlags":false}"#),
                _ => shared.definitions().body.clone(),
            };
            let half = full.slice(..full.len() / 2);
            let mut resp = Response::new(Body::Truncated {
                data: Some(half),
                sleep: Some(Box::pin(tokio::time::sleep(Duration::from_millis(20)))),
            });
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
            Ok(resp)
        }
        FaultKind::Drop => Err(Closed("drop fault: connection closed without a response")),
    }
}

fn default_error_body(status: StatusCode) -> String {
    match status.as_u16() {
        401 => r#"{"type":"authentication_error","code":"not_authenticated","detail":"Invalid or missing key."}"#.into(),
        402 => r#"{"type":"quota_limited","code":"quota_limited","detail":"Feature flags quota exceeded."}"#.into(),
        403 => r#"{"type":"authentication_error","code":"permission_denied","detail":"Key lacks the feature_flag:read scope."}"#.into(),
        429 => r#"{"type":"validation_error","code":"rate_limit_exceeded","detail":"Rate limit exceeded."}"#.into(),
        _ => format!(r#"{{"type":"server_error","code":"error","detail":"Injected status {}."}}"#, status.as_u16()),
    }
}

/// `GET /api/projects/@current/feature_flags/{key}/remote_config?token=…` (Bearer secret, as for the
/// definitions): the flag's `"true"` payload, JSON-encoded a second time as PostHog stores and returns it
/// (decrypted); 404 for a flag without one.
fn remote_config_response(shared: &Shared, req: &Request<hyper::body::Incoming>, path: &str) -> Response<Body> {
    let auth_ok = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        == Some(format!("Bearer {}", shared.secret_key).as_str());
    let token_ok = query_param(req.uri().query(), "token").is_some_and(|t| t == shared.project_api_key);
    if !auth_ok || !token_ok {
        return json(StatusCode::UNAUTHORIZED, r#"{"type":"authentication_error","code":"not_authenticated","detail":"Invalid or missing secret key."}"#);
    }
    let key = &path["/api/projects/@current/feature_flags/".len()..path.len() - "/remote_config".len()];
    let defs = shared.definitions();
    let payload = serde_json::from_slice::<serde_json::Value>(&defs.body).ok().and_then(|doc| {
        doc["flags"].as_array()?.iter().find(|f| f["key"] == key).map(|f| f["filters"]["payloads"]["true"].clone())
    });
    match payload {
        Some(serde_json::Value::Null) | None => json(StatusCode::NOT_FOUND, r#"{"type":"invalid_request","code":"not_found","detail":"Not found."}"#),
        Some(serde_json::Value::String(text)) => json(StatusCode::OK, serde_json::Value::String(text).to_string()),
        Some(other) => json(StatusCode::OK, serde_json::Value::String(other.to_string()).to_string()),
    }
}

fn definitions_response(shared: &Shared, req: &Request<hyper::body::Incoming>) -> Response<Body> {
    let expected_auth = format!("Bearer {}", shared.secret_key);
    let auth_ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected_auth);
    let token_ok = query_param(req.uri().query(), "token").is_some_and(|t| t == shared.project_api_key);
    if !auth_ok || !token_ok {
        shared.record(|s| s.definitions_unauthorized += 1);
        let detail = if !auth_ok { "Invalid or missing secret key." } else { "Invalid or missing project token." };
        return json(
            StatusCode::UNAUTHORIZED,
            format!(r#"{{"type":"authentication_error","code":"not_authenticated","detail":"{detail}"}}"#),
        );
    }
    let defs = shared.definitions();
    let inm = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    shared.record(|s| s.last_if_none_match = inm.clone());
    let etag_value = HeaderValue::from_str(&defs.etag).expect("etag is ASCII");
    if let Some(inm) = inm {
        if inm.split(',').any(|t| strip_etag(t) == strip_etag(&defs.etag)) {
            shared.record(|s| s.definitions_304 += 1);
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::NOT_MODIFIED;
            resp.headers_mut().insert(header::ETAG, etag_value);
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, must-revalidate"));
            return resp;
        }
    }
    let accepts_gzip = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let gzip = accepts_gzip && shared.gzip_enabled();
    let mut resp = Response::new(Body::full(if gzip { defs.gzipped.clone() } else { defs.body.clone() }));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::ETAG, etag_value);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, must-revalidate"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    shared.record(|s| {
        s.definitions_200 += 1;
        if gzip {
            s.gzip_responses += 1;
        }
    });
    resp
}

/// An ETag compared the way PostHog does: without `W/` and quotes.
fn strip_etag(tag: &str) -> &str {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.trim_matches('"')
}

async fn control(shared: &Arc<Shared>, req: Request<hyper::body::Incoming>, path: &str) -> Response<Body> {
    let method = req.method().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return json(StatusCode::BAD_REQUEST, r#"{"error":"unreadable body"}"#),
    };
    let ok = || json(StatusCode::OK, r#"{"ok":true}"#);
    let bad = |e: String| json(StatusCode::BAD_REQUEST, serde_json::json!({ "error": e }).to_string());
    match (method, path) {
        (Method::GET, "/_control/stats") => json(StatusCode::OK, serde_json::to_string(&shared.stats()).unwrap_or_default()),
        (Method::POST, "/_control/fault" | "/_control/faults") => {
            let faults: Result<Vec<Fault>, _> = serde_json::from_slice::<Vec<Fault>>(&body)
                .or_else(|_| serde_json::from_slice::<Fault>(&body).map(|f| vec![f]));
            match faults {
                Ok(faults) => {
                    let n = faults.len();
                    faults.into_iter().for_each(|f| shared.inject(f));
                    json(StatusCode::OK, format!(r#"{{"queued":{n}}}"#))
                }
                Err(e) => bad(format!("not a fault: {e}")),
            }
        }
        (Method::POST, "/_control/clear_faults") => {
            shared.clear_faults();
            ok()
        }
        (Method::POST, "/_control/definitions") => {
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(&body) {
                return bad(format!("definitions are not JSON: {e}"));
            }
            let etag = shared.set_definitions(&body);
            json(StatusCode::OK, serde_json::json!({ "etag": etag }).to_string())
        }
        (Method::GET, "/_control/definitions") => json(StatusCode::OK, shared.definitions().body.clone()),
        (Method::POST, "/_control/persons") => {
            #[derive(serde::Deserialize)]
            struct Person {
                distinct_id: String,
                properties: serde_json::Map<String, serde_json::Value>,
            }
            match serde_json::from_slice::<Person>(&body) {
                Ok(p) => {
                    shared.set_person_properties(&p.distinct_id, p.properties);
                    ok()
                }
                Err(e) => bad(format!("expected {{distinct_id, properties}}: {e}")),
            }
        }
        (Method::POST, "/_control/quota_limited" | "/_control/gzip") => {
            #[derive(serde::Deserialize)]
            struct Toggle {
                enabled: bool,
            }
            match serde_json::from_slice::<Toggle>(&body) {
                Ok(t) if path.ends_with("gzip") => {
                    shared.set_gzip(t.enabled);
                    ok()
                }
                Ok(t) => {
                    shared.set_quota_limited(t.enabled);
                    ok()
                }
                Err(e) => bad(format!("expected {{\"enabled\": bool}}: {e}")),
            }
        }
        (Method::POST, "/_control/reset") => {
            shared.clear_faults();
            shared.set_quota_limited(false);
            shared.reset_stats();
            ok()
        }
        (Method::POST, "/_control/shutdown") => {
            let s = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                s.shutdown();
            });
            ok()
        }
        _ => json(StatusCode::NOT_FOUND, r#"{"error":"unknown control endpoint"}"#),
    }
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut resp = Response::new(Body::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// The first value of `name` in a query string, percent-decoded (`+` is a space).
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).is_some() && hex(bytes[i + 2]).is_some() => {
                out.push(hex(bytes[i + 1]).unwrap_or(0) * 16 + hex(bytes[i + 2]).unwrap_or(0));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
