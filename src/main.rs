//! The `incident-map` binary: argument parsing only; every command lives in the library.

/// Without a usable `XDG_RUNTIME_DIR` (containers, CI, servers), Mesa's Vulkan device-select
/// layer tries to reach a Wayland display and prints "error: XDG_RUNTIME_DIR is invalid or not
/// set" for every adapter, although nothing is wrong. That layer only reorders GPUs for a
/// desktop session, and there is none, so it is switched off (unless the user set it).
fn quiet_headless_vulkan() {
    let runtime_dir_ok =
        std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_dir());
    if !runtime_dir_ok && std::env::var_os("NODEVICE_SELECT").is_none() {
        // SAFETY: the first thing `main` does, while this is the process's only thread.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") }
    }
}

fn main() {
    quiet_headless_vulkan();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let code = incident_map::cli::run(std::env::args_os(), &mut out, &mut err);
    std::process::exit(code);
}
