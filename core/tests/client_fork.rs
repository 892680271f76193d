//! Fork safety: a forked child keeps the parent's flags, notices the new process id on first use, and
//! starts its own driver and HTTP pool; the parent is untouched. (Its own test binary, one test.)
#![cfg(all(feature = "client", unix))]

mod client_support;

use std::time::Duration;

use client_support::*;
use hogflags::client::{driver_threads, Client};
use hogflags::EvaluationContext;

#[test]
fn forked_child_restarts_its_driver_lazily() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = Client::new(config(&server.url()).poll_interval(Duration::from_secs(60))).unwrap();
    client.wait_until_ready(Duration::from_secs(5)).unwrap();
    server.set_definitions(&defs(2, &[("a", false)]));
    let before = server.stats().definitions_requests;

    // SAFETY: the child only uses this client and std, then leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // The definitions of the parent are there at once.
            let first = client.get_flag("a", &EvaluationContext::new("u")).map(|d| d.value.is_enabled());
            if first != Ok(true) {
                return 10;
            }
            // That first use restarted the worker in this process: a new driver thread here…
            if driver_threads() != 1 {
                return 11;
            }
            // …which polls and sees generation 2 (the parent's server thread answers).
            if client.reload().is_err() {
                return 12;
            }
            match client.get_flag("a", &EvaluationContext::new("u")).map(|d| d.value.is_enabled()) {
                Ok(false) => {}
                _ => return 13,
            }
            client.shutdown();
            if driver_threads() != 0 {
                return 14;
            }
            0
        }))
        .unwrap_or(99);
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status), "child crashed: status {status}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "child check failed (see the codes in the test)");
    assert!(server.stats().definitions_requests > before, "the child fetched through its own driver");

    // The parent's client still works and still polls through its own driver.
    assert!(client.get_flag("a", &EvaluationContext::new("u")).unwrap().value.is_enabled(), "parent not yet reloaded");
    client.reload().unwrap();
    assert!(!client.get_flag("a", &EvaluationContext::new("u")).unwrap().value.is_enabled());
    client.shutdown();
    assert_eq!(driver_threads(), 0);
}
