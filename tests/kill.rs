//! Nothing the user had is lost: a process killed (SIGKILL) in the middle of writing its output
//! leaves the previous file intact, because every write goes to a temporary file that is put in
//! place only when complete; and nothing is left behind, because on Linux that file has no name
//! until then.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Whether process `pid` has a file open in `dir` that has no name there (the write being
/// made: `/proc` shows it as `dir/#inode (deleted)`) and already holds data.
fn writing_unnamed(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|to| {
            to.parent() == Some(dir)
                && to.to_string_lossy().ends_with(" (deleted)")
                && std::fs::metadata(fd.path()).is_ok_and(|m| m.len() > 0)
        })
    })
}

/// The names in `dir`.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn sigkill_mid_write_keeps_the_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    incident_map::synth::write_acled_csv(150_000, 5, &mut f).unwrap();
    drop(f);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("filtered.geojson");
    std::fs::write(&out, "previous contents").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .args([
            "filter",
            csv.to_str().unwrap(),
            "--format",
            "geojson",
            "--out",
            out.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    // Wait until the file being written has data, then kill the process.
    let end = Instant::now() + Duration::from_secs(120);
    let mut killed_mid_write = false;
    while Instant::now() < end {
        if writing_unnamed(child.id(), &out_dir) {
            child.kill().unwrap(); // SIGKILL on Unix
            killed_mid_write = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.wait();
    assert!(
        killed_mid_write,
        "the process finished before it could be killed mid-write"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous contents");
    assert_eq!(names(&out_dir), ["filtered.geojson"], "nothing left behind");
    // The input is untouched too.
    let mut again = Vec::new();
    incident_map::synth::write_acled_csv(150_000, 5, &mut again).unwrap();
    assert_eq!(std::fs::read(&csv).unwrap(), again);
}

#[test]
fn sigkill_mid_save_keeps_the_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    incident_map::synth::write_acled_csv(150_000, 5, &mut f).unwrap();
    drop(f);
    let before = std::fs::read(&csv).unwrap();
    let edit = |place: &str| {
        Command::new(env!("CARGO_BIN_EXE_incident-map"))
            .args(["edit", csv.to_str().unwrap(), "--line", "140000"])
            .args(["--set", &format!("location={place}")])
            .spawn()
            .unwrap()
    };
    let mut child = edit("killed");
    // Kill it once the spliced copy is being written (unnamed) beside the file.
    let end = Instant::now() + Duration::from_secs(120);
    let mut killed_mid_write = false;
    while Instant::now() < end {
        if writing_unnamed(child.id(), dir.path()) {
            child.kill().unwrap();
            killed_mid_write = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.wait();
    assert!(
        killed_mid_write,
        "the save finished before it could be killed"
    );
    assert_eq!(
        std::fs::read(&csv).unwrap(),
        before,
        "the previous file, whole"
    );
    assert_eq!(names(dir.path()), ["big.csv"], "nothing left behind");
    // The next save works, and changes only that row.
    assert!(edit("saved").wait().unwrap().success());
    let after = std::fs::read_to_string(&csv).unwrap();
    let old = String::from_utf8(before).unwrap();
    let changed: Vec<usize> = old
        .lines()
        .zip(after.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(changed, [140_000]);
    assert_eq!(old.lines().count(), after.lines().count());
    assert!(after.lines().nth(139_999).unwrap().contains(",saved,"));
}
