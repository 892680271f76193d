//! `hogflags-test-server [--definitions FILE] [--port N] [--project-key K] [--secret-key S] [--no-gzip]
//! [--exit-on-stdin-eof]`
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first stdout line, then serves until killed,
//! until `POST /_control/shutdown`, or (with `--exit-on-stdin-eof`) until its stdin closes — so a test
//! suite that dies cannot leave it running.

use std::io::{Read, Write};
use std::process::ExitCode;

use hogflags_test_server::{ServerConfig, TestServer};

const USAGE: &str = "usage: hogflags-test-server [--definitions FILE] [--port N] [--project-key phc_…] \
[--secret-key phs_…] [--no-gzip] [--exit-on-stdin-eof]";

fn main() -> ExitCode {
    let mut config = ServerConfig::default();
    let mut exit_on_eof = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next().ok_or_else(|| format!("{name} needs a value"))
        };
        let result: Result<(), String> = (|| {
            match arg.as_str() {
                "--definitions" => {
                    let path = value("--definitions")?;
                    config.definitions = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
                    serde_json::from_slice::<serde_json::Value>(&config.definitions)
                        .map_err(|e| format!("{path} is not JSON: {e}"))?;
                }
                "--port" => config.port = value("--port")?.parse().map_err(|e| format!("--port: {e}"))?,
                "--project-key" => config.project_api_key = value("--project-key")?,
                "--secret-key" => config.secret_key = value("--secret-key")?,
                "--no-gzip" => config.gzip = false,
                "--exit-on-stdin-eof" => exit_on_eof = true,
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other}")),
            }
            Ok(())
        })();
        if let Err(e) = result {
            eprintln!("hogflags-test-server: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let server = match TestServer::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hogflags-test-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", server.url());
        let _ = out.flush();
    }
    if exit_on_eof {
        std::thread::spawn(|| {
            let mut buf = [0u8; 256];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
    }
    server.run_blocking();
    ExitCode::SUCCESS
}
