//! A time-stamping authority (RFC 3161) on loopback for tests, built with Debian's `openssl ts`:
//! a key and a self-signed certificate for time stamping, and a tiny HTTP server on 127.0.0.1
//! that answers each `application/timestamp-query` POST with `openssl ts -reply`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running TSA.
pub struct Tsa {
    /// Where to POST requests.
    pub url: String,
    /// Its certificate (PEM).
    pub cert: PathBuf,
    _dir: tempfile::TempDir,
}

const CONFIG: &str = "[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
";

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl (Debian's openssl package)");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

impl Tsa {
    /// A new TSA with a key of its own, serving on a free loopback port.
    pub fn start() -> Tsa {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        openssl(
            &d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "tsa.key",
                "-out",
                "tsa.crt",
                "-days",
                "30",
                "-subj",
                "/CN=incident-map test TSA",
                "-addext",
                "extendedKeyUsage=critical,timeStamping",
            ],
        );
        std::fs::write(d.join("ts.cnf"), CONFIG).unwrap();
        std::fs::write(d.join("serial"), "01\n").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/tsr", listener.local_addr().unwrap());
        let served = d.clone();
        std::thread::spawn(move || {
            for (n, conn) in listener.incoming().enumerate() {
                let Ok(mut c) = conn else { continue };
                let _ = answer(&mut c, &served, n);
            }
        });
        Tsa {
            url,
            cert: d.join("tsa.crt"),
            _dir: dir,
        }
    }
}

/// Reads one HTTP request and answers it with the TSA's reply.
fn answer(c: &mut std::net::TcpStream, dir: &Path, n: usize) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if c.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    c.read_exact(&mut body)?;
    let (q, r) = (format!("q{n}.tsq"), format!("r{n}.tsr"));
    std::fs::write(dir.join(&q), &body)?;
    openssl(
        dir,
        &[
            "ts",
            "-reply",
            "-config",
            "ts.cnf",
            "-queryfile",
            &q,
            "-inkey",
            "tsa.key",
            "-signer",
            "tsa.crt",
            "-out",
            &r,
        ],
    );
    let reply = std::fs::read(dir.join(&r))?;
    write!(
        c,
        "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    )?;
    c.write_all(&reply)?;
    c.flush()
}
