//! A throwaway Citus cluster for tests: a coordinator and two workers, each a [`Pg`] cluster
//! with `shared_preload_libraries = 'citus'`, on loopback, joined as Citus's README says. One
//! cluster serves every test of a test binary (starting three servers is the slow part); a
//! watcher process stops them and removes their folders when the binary exits. Without the
//! `citus` extension installed (`bash .ci/deps.sh` builds it from `../shared/citus`) there is
//! no cluster, and the tests that need one say they were skipped and why.

use std::sync::OnceLock;

use super::pg::{PASSWORD, Pg, USER};

/// A running Citus cluster.
pub struct Citus {
    /// The coordinator, where clients connect.
    pub coordinator: Pg,
    /// The workers, which hold the shards.
    pub workers: Vec<Pg>,
}

/// Why there is no Citus cluster here, if there is none.
pub fn missing() -> Option<String> {
    let so = Pg::lib_dir().join("citus.so");
    (!so.is_file()).then(|| {
        format!(
            "the citus extension is not installed ({} is missing; `sudo bash .ci/deps.sh` builds it from ../shared/citus)",
            so.display()
        )
    })
}

/// The cluster of this test binary, started on first use (`None`: Citus is not installed).
pub fn shared() -> Option<&'static Citus> {
    static CLUSTER: OnceLock<Option<Citus>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            if let Some(why) = missing() {
                eprintln!("Citus tests skipped: {why}");
                return None;
            }
            Some(Citus::start())
        })
        .as_ref()
}

impl Citus {
    /// Starts a coordinator and two workers and joins them.
    pub fn start() -> Citus {
        let nodes: Vec<Pg> = std::thread::scope(|s| {
            let started: Vec<_> = (0..3)
                .map(|_| s.spawn(|| Pg::start_with("-c shared_preload_libraries=citus")))
                .collect();
            started.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for n in &nodes {
            n.watch_exit();
            // The nodes connect to each other as the tests' user, with its password.
            n.sql("CREATE EXTENSION citus; CREATE EXTENSION postgis");
            n.sql(&format!(
                "INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo)
                 VALUES (0, '{USER}', 'password={PASSWORD}')"
            ));
        }
        let mut nodes = nodes.into_iter();
        let coordinator = nodes.next().unwrap();
        let workers: Vec<Pg> = nodes.collect();
        coordinator.sql(&format!(
            "SELECT citus_set_coordinator_host('127.0.0.1', {})",
            coordinator.port
        ));
        for w in &workers {
            coordinator.sql(&format!("SELECT citus_add_node('127.0.0.1', {})", w.port));
        }
        assert_eq!(
            coordinator.query_count("SELECT count(*) FROM citus_get_active_worker_nodes()"),
            2
        );
        Citus {
            coordinator,
            workers,
        }
    }
}
