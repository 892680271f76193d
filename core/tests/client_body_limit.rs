//! A definitions response larger than the document limit (e.g. a compressed "bomb") is refused while it is
//! being read, before it is all in memory, and the poll counts as a transient fault.
#![cfg(feature = "client")]

mod client_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use client_support::*;
use hogflags::client::{Client, ClientError, PollError, TransportError};

#[test]
fn an_oversized_body_is_refused_while_streaming() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = conn.read(&mut request);
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n");
        let chunk = vec![b' '; 1 << 20];
        let mut sent = 0usize;
        // Up to 200 MiB, one MiB at a time; the client hangs up long before.
        while sent < 200 << 20 {
            let head = format!("{:x}\r\n", chunk.len());
            if conn.write_all(head.as_bytes()).and_then(|_| conn.write_all(&chunk)).and_then(|_| conn.write_all(b"\r\n")).is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let client = Client::new(manual(config(&url).definitions_timeout(Duration::from_secs(20)))).unwrap();
    let start = Instant::now();
    let t = client.tick().unwrap();
    match t.error {
        Some(ClientError::Poll(PollError::Transport(TransportError::Body(msg)))) => {
            assert!(msg.contains("over the limit"), "{msg}")
        }
        other => panic!("expected a body-too-large error, got {other:?}"),
    }
    assert!(client.snapshot().is_empty(), "nothing was loaded");
    drop(client);
    let sent = server.join().unwrap();
    assert!(sent < 150 << 20, "the client stopped reading early ({sent} bytes sent)");
    assert!(start.elapsed() < Duration::from_secs(20));
}
