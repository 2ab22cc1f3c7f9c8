//! A throwaway PostgreSQL + PostGIS cluster for tests: `initdb` and `pg_ctl` in a temporary
//! directory, on a free loopback port and a private socket directory, password authentication.
//! When the tests run as root it runs as the `postgres` user (PostgreSQL refuses root). It is
//! stopped when dropped.

use std::path::PathBuf;
use std::process::Command;

/// The superuser the tests connect as, and its password.
pub const USER: &str = "incident";
/// Its password.
pub const PASSWORD: &str = "s3cret-pw";

/// A running cluster.
pub struct Pg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    run_as: Option<&'static str>,
}

fn server_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.retain(|p| p.join("initdb").is_file());
    versions.sort();
    versions.pop().expect(
        "PostgreSQL server binaries not found under /usr/lib/postgresql: run `sudo bash .ci/deps.sh`",
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Pg {
    /// Starts a new cluster with PostGIS available.
    pub fn start() -> Pg {
        Pg::start_with("")
    }

    /// The server's libraries folder (extensions' shared objects).
    pub fn lib_dir() -> PathBuf {
        server_bin().with_file_name("lib")
    }

    /// Starts a new cluster with PostGIS available and these extra server options
    /// (`-c name=value …`).
    pub fn start_with(options: &str) -> Pg {
        let bin = server_bin();
        let dir = tempfile::tempdir().expect("temp dir");
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let run_as = is_root.then_some("postgres");
        let pg = Pg {
            dir,
            bin,
            port: free_port(),
            run_as,
        };
        std::fs::create_dir(pg.sock()).unwrap();
        std::fs::write(pg.dir.path().join("pw"), PASSWORD).unwrap();
        if let Some(u) = run_as {
            let ok = Command::new("chown")
                .args(["-R", &format!("{u}:{u}")])
                .arg(pg.dir.path())
                .status()
                .expect("chown");
            assert!(ok.success(), "chown to {u}");
        }
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                USER,
                "--auth=scram-sha-256",
                "--pwfile",
                pg.dir.path().join("pw").to_str().unwrap(),
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        );
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off {options}",
            pg.port,
            pg.sock().display()
        );
        pg.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                pg.dir.path().join("log").to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn sock(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// A server tool, run as the cluster's user.
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        match self.run_as {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self.command(tool).args(args).output().expect(tool);
        assert!(
            out.status.success(),
            "{tool} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    /// A URL for `user` with `password` (none: no password in the URL).
    pub fn url_as(&self, user: &str, password: Option<&str>) -> String {
        match password {
            Some(p) => format!("postgresql://{user}:{p}@127.0.0.1:{}/postgres", self.port),
            None => format!("postgresql://{user}@127.0.0.1:{}/postgres", self.port),
        }
    }

    /// The superuser's URL, with its password.
    pub fn url(&self) -> String {
        self.url_as(USER, Some(PASSWORD))
    }

    /// A source URL for a table.
    pub fn table_url(&self, table: &str) -> String {
        format!("{}?table={table}", self.url())
    }

    /// The single number an SQL query returns, as the superuser.
    pub fn query_count(&self, sql: &str) -> i64 {
        let mut c = postgres::Client::connect(&self.url(), postgres::NoTls).expect("connect");
        c.query_one(sql, &[]).expect(sql).get(0)
    }

    /// Runs SQL as the superuser.
    pub fn sql(&self, sql: &str) {
        let mut c = postgres::Client::connect(&self.url(), postgres::NoTls).expect("connect");
        c.batch_execute(sql).expect(sql);
    }

    /// Turns TLS on with a certificate for 127.0.0.1 and localhost signed by a new test CA,
    /// and refuses connections without TLS. Returns the CA certificate's file.
    pub fn require_tls(&self) -> PathBuf {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "incident-map test CA");
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let ca_file = self.dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        self.tls_with(&cert.pem(), &key.serialize_pem());
        ca_file
    }

    /// Turns TLS on with a self-signed X.509 version 1 certificate (as Citus makes), made by
    /// `openssl x509 -req -signkey`, and refuses connections without TLS. Returns the
    /// certificate's file.
    pub fn require_tls_v1(&self) -> PathBuf {
        let dir = self.dir.path();
        let (key, csr, crt) = (dir.join("v1.key"), dir.join("v1.csr"), dir.join("v1.crt"));
        let openssl = |args: &[&str]| {
            let o = Command::new("openssl")
                .args(args)
                .output()
                .expect("openssl");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).into_owned()
        };
        let path = |p: &PathBuf| p.to_str().unwrap().to_string();
        openssl(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=incident-map v1",
            "-keyout",
            &path(&key),
            "-out",
            &path(&csr),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-days",
            "30",
            "-in",
            &path(&csr),
            "-signkey",
            &path(&key),
            "-out",
            &path(&crt),
        ]);
        let text = openssl(&["x509", "-noout", "-text", "-in", &path(&crt)]);
        assert!(text.contains("Version: 1 (0x0)"), "not version 1:\n{text}");
        self.tls_with(
            &std::fs::read_to_string(&crt).unwrap(),
            &std::fs::read_to_string(&key).unwrap(),
        );
        crt
    }

    /// Turns TLS on with this certificate and key and refuses connections without TLS.
    fn tls_with(&self, cert: &str, key: &str) {
        let data = self.data();
        std::fs::write(data.join("server.crt"), cert).unwrap();
        std::fs::write(data.join("server.key"), key).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                data.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
        if let Some(u) = self.run_as {
            for f in ["server.crt", "server.key"] {
                let ok = Command::new("chown")
                    .arg(format!("{u}:{u}"))
                    .arg(data.join(f))
                    .status()
                    .unwrap();
                assert!(ok.success());
            }
        }
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .unwrap();
        self.sql("ALTER SYSTEM SET ssl = on");
        self.sql("SELECT pg_reload_conf()");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }

    /// The server log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Stops the server now (to test a server that is down).
    pub fn stop(&self) {
        let data = self.data();
        let _ = self.try_run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    fn try_run(&self, tool: &str, args: &[&str]) -> bool {
        self.command(tool)
            .args(args)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }
}

impl Pg {
    /// Has a watcher process stop the server and remove its folder once this test process
    /// has exited (for a cluster shared by a whole test binary, which is never dropped).
    pub fn watch_exit(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = format!(
            "{}{} -D '{}' -m immediate -w stop",
            self.run_as
                .map(|u| format!("runuser -u {u} -- "))
                .unwrap_or_default(),
            pg_ctl.display(),
            self.data().display()
        );
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{}'",
            std::process::id(),
            self.dir.path().display()
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        self.stop();
    }
}
