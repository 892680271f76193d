//! The binary as other languages' test suites use it: start it, read the first stdout line, talk HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// One HTTP/1.1 request with `Connection: close`; returns (status, headers, body).
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[test]
fn binary_prints_its_address_serves_and_stops_on_request() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/basic.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hogflags-test-server"))
        .args(["--definitions", fixture, "--exit-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on http://").expect("first line announces the address").to_owned();
    assert!(url.starts_with("127.0.0.1:"), "{url}");

    let defs_path = "/flags/definitions?token=phc_test_project_key&send_cohorts";
    let auth = ("Authorization", "Bearer phs_test_secret_key");
    let (status, _, _) = http(&url, "GET", defs_path, &[], "");
    assert_eq!(status, 401, "no Bearer secret");
    let (status, _, _) = http(&url, "GET", "/flags/definitions?token=phc_wrong", &[auth], "");
    assert_eq!(status, 401, "wrong token query");
    let (status, head, body) = http(&url, "GET", defs_path, &[auth], "");
    assert_eq!(status, 200);
    assert!(body.contains("\"beta\""));
    let etag = head.lines().find_map(|l| l.strip_prefix("etag: ")).unwrap().trim().to_owned();
    assert!(etag.starts_with("w/\""), "{etag}");
    let real_etag = etag.replacen("w/", "W/", 1);
    let (status, _, body) = http(&url, "GET", defs_path, &[auth, ("If-None-Match", &real_etag)], "");
    assert_eq!((status, body.as_str()), (304, ""));

    let (status, _, body) = http(&url, "POST", "/flags/?v=2", &[], r#"{"token":"phc_test_project_key","distinct_id":"u","person_properties":{"plan":"pro"}}"#);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["flags"]["beta"]["enabled"], true);
    assert_eq!(v["flags"]["beta"]["metadata"]["payload"], "{\"color\":\"blue\"}");
    assert!(v["flags"].get("off").is_none(), "inactive flags are omitted");
    let (status, _, body) = http(&url, "POST", "/flags/?v=2", &[], r#"{"token":"phc_test_project_key","distinct_id":"u"}"#);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["flags"]["beta"]["failed"], true, "undecidable without server data");
    assert_eq!(v["errorsWhileComputingFlags"], true);
    let (status, _, _) = http(&url, "POST", "/flags/?v=2", &[], r#"{"token":"nope","distinct_id":"u"}"#);
    assert_eq!(status, 401);

    let (status, _, _) = http(&url, "POST", "/_control/faults", &[], r#"[{"target":"definitions","kind":"status","status":503,"count":2}]"#);
    assert_eq!(status, 200);
    assert_eq!(http(&url, "GET", defs_path, &[auth], "").0, 503);
    assert_eq!(http(&url, "GET", defs_path, &[auth], "").0, 503);
    assert_eq!(http(&url, "GET", defs_path, &[auth], "").0, 200);
    http(&url, "POST", "/_control/faults", &[], r#"{"kind":"drop"}"#);
    assert_eq!(http(&url, "GET", defs_path, &[auth], "").0, 0, "connection closed without a response");
    let (_, _, stats) = http(&url, "GET", "/_control/stats", &[], "");
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["faults_injected"], 3);
    assert_eq!(stats["definitions_304"], 1);
    let (status, _, _) = http(&url, "POST", "/_control/definitions", &[], r#"{"flags":[]}"#);
    assert_eq!(status, 200);
    let (_, _, body) = http(&url, "GET", defs_path, &[auth], "");
    assert_eq!(body, r#"{"flags":[]}"#);
    assert_eq!(http(&url, "POST", "/_control/faults", &[], "nonsense").0, 400);

    assert_eq!(http(&url, "POST", "/_control/shutdown", &[], "").0, 200);
    let status = child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn binary_exits_when_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hogflags-test-server"))
        .arg("--exit-on-stdin-eof")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"));
    drop(child.stdin.take());
    let t = std::time::Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success());
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "still running after stdin closed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_arguments_exit_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_hogflags-test-server")).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
