//! The `incident-map` binary: argument parsing only; every command lives in the library.

fn main() {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let code = incident_map::cli::run(std::env::args_os(), &mut out, &mut err);
    std::process::exit(code);
}
