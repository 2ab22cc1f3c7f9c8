//! A PostgreSQL/PostGIS table as a source of incidents, like a file: `load` writes one (schema
//! in README), and `check` and `clusters` ask the server for what they need (aggregates and
//! cluster cells computed by the server, never the whole table pulled).
//!
//! A source is written `postgresql://USER@HOST:PORT/DB?table=NAME` (also `postgres://`).
//! Passwords come from the URL, `PGPASSWORD` or the password file (`PGPASSFILE` or
//! `~/.pgpass`), as libpq does; they are never printed: messages show the URL without it.

pub mod copy;
pub mod evidence;
pub mod fetch;
pub mod load;
pub mod query;
pub mod schema;
pub mod write;

pub mod tls;

use std::time::Duration;

pub use load::{LoadMode, load_into};

/// Whether a command-line argument names a database rather than a file.
pub fn is_db_url(s: &str) -> bool {
    s.starts_with("postgresql://") || s.starts_with("postgres://")
}

/// Why a database could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// A URL that cannot be read.
    #[error("{url}: {message}")]
    Url {
        /// The URL, without password.
        url: String,
        /// Why.
        message: String,
    },
    /// The server cannot be reached.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL, without password.
        url: String,
        /// What the connection said.
        message: String,
    },
    /// TLS could not be set up as the URL asks.
    #[error("cannot connect to {url}: {error}")]
    Tls {
        /// The URL, without password.
        url: String,
        /// Why.
        #[source]
        error: tls::TlsError,
    },
    /// The password (or the user) was refused.
    #[error("{url}: the server refused the user or password ({message})")]
    Auth {
        /// The URL, without password.
        url: String,
        /// The server's words.
        message: String,
    },
    /// A table name that is not a plain identifier.
    #[error("'{0}' is not a table name (letters, digits and _, optionally schema.table)")]
    TableName(String),
    /// No `?table=`.
    #[error("{0}: name the table with ?table=NAME")]
    NoTable(String),
    /// The table is not there.
    #[error("table {table} does not exist in {url}")]
    MissingTable {
        /// The table.
        table: String,
        /// The URL, without password.
        url: String,
    },
    /// The table is not an incident table.
    #[error("table {table} is not an incident table: it lacks {}", .missing.join(", "))]
    WrongColumns {
        /// The table.
        table: String,
        /// Columns it lacks.
        missing: Vec<String>,
    },
    /// The table exists and neither replacing nor appending was asked for.
    #[error("table {0} already exists")]
    Exists(String),
    /// A table's summary (`NAME_cells`) is left from an earlier table of the name, which is
    /// gone: a new table would be answered from it.
    #[error(
        "table {0} is left from an earlier table of this name (its summary); drop it, or load with --replace"
    )]
    StraySummary(String),
    /// The server gave up on a statement (`statement_timeout`).
    #[error("the server cancelled the query: {0}")]
    Timeout(String),
    /// More incidents match than may be fetched one by one.
    #[error(
        "{count} incidents match, more than the {limit} drawn one by one from a table; narrow the filters"
    )]
    TooMany {
        /// Matching incidents.
        count: u64,
        /// The most fetched.
        limit: u64,
    },
    /// Any other server or connection error.
    #[error("{0}")]
    Server(String),
}

/// A parsed database source.
#[derive(Debug, Clone)]
pub struct DbSource {
    config: postgres::Config,
    ssl: tls::SslMode,
    root_cert: Option<std::path::PathBuf>,
    /// The table.
    pub table: schema::TableName,
    /// The URL as the user gave it, without password (for messages, saved views).
    pub display: String,
    /// Whether the table checks that spans are at most a year (found when it is opened).
    spans_checked: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Whether the table keeps evidence (its `NAME_attached` view is there).
    keeps_evidence: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The URL without its password (the `user:password@` part and any `password=` parameter).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth_end, tail) = match rest.find(['/', '?']) {
        Some(i) => (i, &rest[i..]),
        None => (rest.len(), ""),
    };
    let authority = &rest[..auth_end];
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, q)) => {
            let kept: Vec<&str> = q
                .split('&')
                .filter(|p| !p.to_ascii_lowercase().starts_with("password="))
                .collect();
            if kept.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Looks `host:port:db:user` up in a libpq password file (`*` matches anything; `\\` escapes).
fn pgpass_lookup(text: &str, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    fn fields(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => cur.extend(chars.next()),
                ':' => out.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        out.push(cur);
        out
    }
    let port = port.to_string();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f = fields(line);
        if f.len() < 5 {
            continue;
        }
        let ok = |pat: &str, v: &str| pat == "*" || pat == v;
        let host_ok = ok(&f[0], host) || (f[0] == "localhost" && host.starts_with('/'));
        if host_ok && ok(&f[1], &port) && ok(&f[2], db) && ok(&f[3], user) {
            return Some(f[4..].join(":"));
        }
    }
    None
}

impl DbSource {
    /// Parses a source URL with `?table=NAME`.
    pub fn parse(url: &str) -> Result<DbSource, DbError> {
        let display = redact(url);
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut table = None;
        let mut rest = Vec::new();
        for p in query.split('&').filter(|p| !p.is_empty()) {
            match p.split_once('=') {
                Some(("table", t)) => table = Some(t.to_string()),
                _ => rest.push(p),
            }
        }
        let table = table.ok_or_else(|| DbError::NoTable(display.clone()))?;
        let table = schema::TableName::parse(&table)?;
        let url = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        Self::with_table(&url, table, display)
    }

    /// A connection URL (without `?table=`) and the table to use in it.
    pub fn with_table(
        url: &str,
        table: schema::TableName,
        display: String,
    ) -> Result<DbSource, DbError> {
        // sslmode and sslrootcert are read here (libpq's meanings, rustls underneath).
        let bad = |message: String| DbError::Url {
            url: display.clone(),
            message,
        };
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut ssl = tls::SslMode::default();
        let mut root_cert = None;
        let mut rest = Vec::new();
        for p in query.split('&').filter(|p| !p.is_empty()) {
            match p.split_once('=') {
                Some(("sslmode", m)) => {
                    ssl = tls::SslMode::parse(m).ok_or_else(|| {
                        bad(format!(
                            "sslmode '{m}' is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        ))
                    })?;
                }
                Some(("sslrootcert", f)) => root_cert = Some(std::path::PathBuf::from(f)),
                _ => rest.push(p),
            }
        }
        let url = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| bad(e.to_string()))?;
        config.ssl_mode(ssl.negotiation());
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_password().is_none() {
            if let Ok(p) = std::env::var("PGPASSWORD") {
                config.password(p);
            } else if let Some(p) = Self::password_file(&config) {
                config.password(p);
            }
        }
        Ok(DbSource {
            config,
            ssl,
            root_cert,
            table,
            display,
            spans_checked: Default::default(),
            keeps_evidence: Default::default(),
        })
    }

    fn password_file(config: &postgres::Config) -> Option<String> {
        let path = std::env::var_os("PGPASSFILE")
            .map(std::path::PathBuf::from)
            .or_else(|| dirs::home_dir().map(|h| h.join(".pgpass")))?;
        let text = std::fs::read_to_string(path).ok()?;
        let host = match config.get_hosts().first()? {
            postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(p) => p.display().to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user()?;
        let db = config.get_dbname().unwrap_or(user);
        pgpass_lookup(&text, &host, port, db, user)
    }

    /// Whether the table checks that spans are at most a year (as `load` makes it).
    pub fn spans_checked(&self) -> bool {
        self.spans_checked
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records what opening the table found.
    pub fn set_spans_checked(&self, on: bool) {
        self.spans_checked
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the table keeps evidence (found when it is opened, and set by the first attach).
    pub fn keeps_evidence(&self) -> bool {
        self.keeps_evidence
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records whether the table keeps evidence.
    pub fn set_keeps_evidence(&self, on: bool) {
        self.keeps_evidence
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Opens a connection.
    pub fn connect(&self) -> Result<postgres::Client, DbError> {
        if self.ssl == tls::SslMode::Disable {
            return self
                .config
                .connect(postgres::NoTls)
                .map_err(|e| self.error(e));
        }
        let root = tls::root_file(self.root_cert.as_deref());
        let config =
            tls::client_config(self.ssl, root.as_deref()).map_err(|error| DbError::Tls {
                url: self.display.clone(),
                error,
            })?;
        self.config
            .connect(tokio_postgres_rustls::MakeRustlsConnect::new(config))
            .map_err(|e| self.error(e))
    }

    /// Asks the server to cancel the query running on a connection (blocks while it connects).
    pub fn cancel(&self, token: &postgres::CancelToken) {
        if self.ssl == tls::SslMode::Disable {
            let _ = token.cancel_query(postgres::NoTls);
            return;
        }
        let root = tls::root_file(self.root_cert.as_deref());
        if let Ok(config) = tls::client_config(self.ssl, root.as_deref()) {
            let _ = token.cancel_query(tokio_postgres_rustls::MakeRustlsConnect::new(config));
        }
    }

    /// A connection error in words, without the password.
    pub fn error(&self, e: postgres::Error) -> DbError {
        use postgres::error::SqlState;
        let message = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| {
                let mut m = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    m = format!("{m}: {s}");
                    src = s.source();
                }
                m
            });
        match e.code() {
            Some(c)
                if *c == SqlState::INVALID_PASSWORD
                    || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
            {
                DbError::Auth {
                    url: self.display.clone(),
                    message,
                }
            }
            Some(c) if *c == SqlState::UNDEFINED_TABLE => DbError::MissingTable {
                table: self.table.to_string(),
                url: self.display.clone(),
            },
            Some(c) if *c == SqlState::QUERY_CANCELED => DbError::Timeout(message),
            // The server is starting, stopping or recovering: it cannot be reached now.
            Some(c) if *c == SqlState::CANNOT_CONNECT_NOW => DbError::Connect {
                url: self.display.clone(),
                message,
            },
            // The server ended the session (stopped, crashed or an administrator's command).
            Some(c) if *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN => {
                DbError::Server(format!("the connection was lost: {message}"))
            }
            Some(_) => DbError::Server(message),
            None if e.is_closed() => DbError::Server(format!("the connection was lost: {message}")),
            None => DbError::Connect {
                url: self.display.clone(),
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            redact(
                "postgresql://ana:s3cret@db.example:5432/news?table=iq&password=x&sslmode=require"
            ),
            "postgresql://ana@db.example:5432/news?table=iq&sslmode=require"
        );
        assert_eq!(redact("postgres://127.0.0.1/db"), "postgres://127.0.0.1/db");
        let e = DbSource::parse("postgresql://ana:s3cret@127.0.0.1:1/news").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(matches!(e, DbError::NoTable(_)));
        assert!(matches!(
            DbSource::parse("postgresql://ana@127.0.0.1/news?table=a;drop").unwrap_err(),
            DbError::TableName(_)
        ));
    }

    #[test]
    fn password_file_like_libpq() {
        let text = "# comment\n127.0.0.1:5432:news:ana:pa\\:ss\n*:*:*:bob:other\n";
        assert_eq!(
            pgpass_lookup(text, "127.0.0.1", 5432, "news", "ana").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            pgpass_lookup(text, "db", 1, "x", "bob").as_deref(),
            Some("other")
        );
        assert_eq!(pgpass_lookup(text, "db", 1, "x", "eve"), None);
    }
}
