//! Real `nucleus-witness` processes on loopback, each with its own SQLite file.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;

/// How long a witness may take to answer `/healthz` after it is spawned.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The witness binary: `$NUCLEUS_WITNESS_BIN`, else `nucleus-witness` next to `sibling` (a
/// binary of the calling crate, e.g. `env!("CARGO_BIN_EXE_nucleus")`), built with
/// `cargo build -p nucleus-witness` when it is missing there.
pub fn witness_binary(sibling: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os("NUCLEUS_WITNESS_BIN") {
        return PathBuf::from(path);
    }
    let path = sibling.with_file_name("nucleus-witness");
    if !path.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "-p", "nucleus-witness", "--bin", "nucleus-witness"])
            .status()
            .expect("running cargo build -p nucleus-witness");
        assert!(status.success(), "building nucleus-witness failed");
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

/// A running witness; killed when dropped.
#[derive(Debug)]
pub struct WitnessProcess {
    child: Child,
    /// Its base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its cosigning public key, lowercase hex.
    pub key_hex: String,
}

impl WitnessProcess {
    /// Starts `bin` as witness `name` with the Ed25519 `seed`, trusting the log of
    /// `origin_line` (`origin|key_name|pubkey_hex`), its state in the SQLite file `db`; waits
    /// until `/healthz` answers 200.
    pub fn start(
        bin: &Path,
        name: &str,
        seed: [u8; 32],
        origin_line: &str,
        db: &Path,
    ) -> WitnessProcess {
        let key_hex = hex::encode(SigningKey::from_bytes(&seed).verifying_key().as_bytes());
        let port = free_port();
        let child = Command::new(bin)
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--witness-name")
            .arg(name)
            .arg("--origin")
            .arg(origin_line)
            .arg("--db-url")
            .arg(format!("sqlite://{}", db.display()))
            .env("NUCLEUS_WITNESS_SEED_HEX", hex::encode(seed))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nucleus-witness");
        let deadline = Instant::now() + START_TIMEOUT;
        while !healthy(port) {
            assert!(
                Instant::now() < deadline,
                "witness {name} did not become healthy within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        WitnessProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
            key_hex,
        }
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("binding a loopback port")
        .local_addr()
        .expect("local address")
        .port()
}

/// `GET /healthz` over plain HTTP/1.0, so the kit needs no HTTP client.
fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}
