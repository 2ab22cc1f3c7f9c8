//! Writes a deterministic ACLED-like CSV: `cargo run --release --example synth -- ROWS OUT.csv [SEED]`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(rows), Some(out)) = (args.get(1).and_then(|r| r.parse::<u64>().ok()), args.get(2))
    else {
        eprintln!("usage: synth ROWS OUT.csv [SEED]");
        std::process::exit(2);
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let res = incident_map::atomic::write_atomic(std::path::Path::new(out), |w| {
        incident_map::synth::write_acled_csv(rows, seed, w)?;
        w.flush()
    });
    if let Err(e) = res {
        eprintln!("error: cannot write {out}: {e}");
        std::process::exit(1);
    }
}
