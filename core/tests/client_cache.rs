//! The on-disk cache of definitions: a restarted process starts with flags at once (even offline), the
//! cached ETag makes the first fetch a 304, a damaged file is ignored, and writes are atomic.
#![cfg(feature = "client")]

mod client_support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use client_support::*;
use hogflags::client::{read_cache, write_cache, CacheEntry, Client, DefinitionsUpdate};
use hogflags::{EvaluationContext, FlagSnapshot};

fn value(client: &Client, key: &str) -> Option<bool> {
    client.get_flag(key, &EvaluationContext::new("u")).ok().map(|d| d.value.is_enabled())
}

#[test]
fn restart_offline_starts_with_cached_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/definitions.cache");
    let server = start_server(defs(1, &[("a", true)]));
    let first = Client::new(config(&server.url()).cache_path(&path)).unwrap();
    first.wait_until_ready(Duration::from_secs(5)).unwrap();
    first.shutdown();
    assert!(path.exists(), "written (parent directories created)");
    let entry = read_cache(&path, "definitions").unwrap();
    assert_eq!(entry.etag.as_deref(), Some(server.etag().as_str()));
    assert!(FlagSnapshot::from_json(&entry.body).is_ok());

    let updates: Arc<std::sync::Mutex<Vec<DefinitionsUpdate>>> = Arc::default();
    let u2 = updates.clone();
    let offline = Client::new(
        config(&refused_url()).cache_path(&path).on_definitions_updated(move |u| u2.lock().unwrap().push(u.clone())),
    )
    .unwrap();
    offline.wait_until_ready(Duration::ZERO).expect("ready at once from the cache");
    assert_eq!(value(&offline, "a"), Some(true));
    assert!(updates.lock().unwrap()[0].from_cache);
    // The network stays down: the cached flags are kept through the failures.
    std::thread::sleep(Duration::from_millis(300));
    assert!(offline.status().consecutive_failures >= 1);
    assert_eq!(value(&offline, "a"), Some(true));
}

#[test]
fn cached_etag_makes_the_first_fetch_a_304() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("defs.cache");
    let server = start_server(defs(1, &[("a", true)]));
    Client::new(config(&server.url()).cache_path(&path)).unwrap().wait_until_ready(Duration::from_secs(5)).unwrap();
    server.reset_stats();
    let again = Client::new(config(&server.url()).cache_path(&path).poll_interval(Duration::from_secs(60))).unwrap();
    assert!(wait_for(Duration::from_secs(3), || again.status().fetches >= 1));
    let s = server.stats();
    assert_eq!((s.definitions_200, s.definitions_304), (0, 1), "{s:?}");
    assert_eq!(s.last_if_none_match.as_deref(), Some(server.etag().as_str()));
}

#[test]
fn damaged_cache_files_are_ignored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(defs(1, &[("a", true)]));
    let good = {
        let p = dir.path().join("good.cache");
        Client::new(config(&server.url()).cache_path(&p)).unwrap().wait_until_ready(Duration::from_secs(5)).unwrap();
        std::fs::read(&p).unwrap()
    };
    let nl = good.iter().position(|&b| b == b'\n').unwrap();
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"not a cache at all".to_vec()),
        ("empty", Vec::new()),
        ("truncated", good[..good.len() - 10].to_vec()),
        ("header only", good[..nl + 1].to_vec()),
        ("bad body", {
            let mut v = good[..nl + 1].to_vec();
            let body = vec![b'x'; good.len() - nl - 1];
            v.extend(body);
            v
        }),
    ];
    for (name, bytes) in damaged {
        let p = dir.path().join(format!("{}.cache", name.replace(' ', "_")));
        std::fs::write(&p, &bytes).unwrap();
        let c = Client::new(config(&refused_url()).cache_path(&p)).unwrap();
        assert!(!c.status().ready, "{name}: a damaged cache must not load");
        c.shutdown();
        let c = Client::new(config(&server.url()).cache_path(&p)).unwrap();
        c.wait_until_ready(Duration::from_secs(5)).unwrap();
        assert_eq!(value(&c, "a"), Some(true));
        assert!(read_cache(&p, "definitions").is_ok(), "{name}: replaced by a good file");
    }
    // A remote-mode cache is not a definitions cache.
    let p = dir.path().join("remote.cache");
    let entry = CacheEntry { kind: "remote_flags".into(), etag: None, saved_at_ms: 0, distinct_id: Some("u".into()), body: b"{}".to_vec() };
    write_cache(&p, &entry).unwrap();
    assert!(read_cache(&p, "definitions").is_err());
}

#[test]
fn writes_are_atomic_under_concurrent_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("atomic.cache");
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (path, stop, reads) = (path.clone(), stop.clone(), reads.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match read_cache(&path, "definitions") {
                    Ok(e) => {
                        let n = e.body.len();
                        assert!(e.body.iter().all(|&b| b == e.body[0]), "a torn body of {n} bytes");
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(hogflags::client::CacheError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => panic!("a reader saw a half-written file: {e}"),
                }
            }
        })
    };
    for i in 0..300u32 {
        let byte = b'a' + (i % 26) as u8;
        let body = vec![byte; 10_000 + (i as usize * 97) % 50_000];
        let entry = CacheEntry { kind: "definitions".into(), etag: Some(format!("e{i}")), saved_at_ms: i as i64, distinct_id: None, body };
        write_cache(&path, &entry).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    assert!(reads.load(Ordering::Relaxed) > 10);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[test]
fn cache_follows_definition_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("follow.cache");
    let server = start_server(defs(1, &[("a", true)]));
    let c = Client::new(config(&server.url()).cache_path(&path).poll_interval(Duration::from_secs(60))).unwrap();
    c.wait_until_ready(Duration::from_secs(5)).unwrap();
    server.set_definitions(&defs(2, &[("a", false)]));
    c.reload().unwrap();
    let snap = FlagSnapshot::from_json(&read_cache(&path, "definitions").unwrap().body).unwrap();
    let d = snap.evaluate("a", &EvaluationContext::new("u"));
    assert_eq!(d.value().map(|v| v.is_enabled()), Some(false));
    // A failed poll does not touch the cache.
    let before = std::fs::read(&path).unwrap();
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Malformed));
    assert!(c.reload().is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
