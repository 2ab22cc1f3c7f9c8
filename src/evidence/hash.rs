//! Hashing while streaming: bytes are read in 1 MiB blocks, hashed and written on, so a 2 GB
//! video is kept with flat memory, progress (bytes, on the [`Control`]) and Cancel.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

use super::{EvidenceError, Stored};
use crate::progress::Control;

/// Bytes read at a time.
const BLOCK: usize = 1 << 20;
/// Bytes kept from the start for sniffing.
pub const HEAD: usize = 8 << 10;

/// Copies `from` into `to` while hashing it; `what` names them in errors (read, write). The
/// writing runs on a thread of its own, a few blocks behind the reading and hashing, so a copy
/// takes about as long as the slower of the two (at most four blocks in flight: memory stays
/// flat).
pub fn copy_hashing(
    from: &mut dyn Read,
    to: &mut (dyn Write + Send),
    what: (&str, &str),
    ctl: &Control,
) -> Result<Stored, EvidenceError> {
    let write_error = |e| EvidenceError::io(std::path::Path::new(what.1), e);
    std::thread::scope(|sc| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(3);
        let (back, spare) = std::sync::mpsc::channel::<Vec<u8>>();
        let writer = sc.spawn(move || -> std::io::Result<()> {
            for block in rx {
                to.write_all(&block)?;
                let _ = back.send(block);
            }
            Ok(())
        });
        let read = read_hashing(
            from,
            what.0,
            ctl,
            |block| {
                // A writer that stopped has its error to give.
                tx.send(block).is_ok()
            },
            &spare,
        );
        drop(tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the writing thread failed")));
        match (read, written) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(write_error(e)),
            (Ok(s), Ok(())) => Ok(s),
        }
    })
}

/// Reads `from` to its end in blocks, hashing each and handing it to `give` (false: stop),
/// taking emptied blocks back from `spare`.
fn read_hashing(
    from: &mut dyn Read,
    what: &str,
    ctl: &Control,
    mut give: impl FnMut(Vec<u8>) -> bool,
    spare: &std::sync::mpsc::Receiver<Vec<u8>>,
) -> Result<Stored, EvidenceError> {
    let mut h = Sha256::new();
    let mut head = Vec::new();
    let mut size = 0u64;
    loop {
        if ctl.cancelled() {
            return Err(EvidenceError::Cancelled);
        }
        let mut buf = spare.try_recv().unwrap_or_default();
        buf.resize(BLOCK, 0);
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(EvidenceError::io(std::path::Path::new(what), e)),
        };
        buf.truncate(n);
        h.update(&buf);
        if head.len() < HEAD {
            head.extend_from_slice(&buf[..n.min(HEAD - head.len())]);
        }
        size += n as u64;
        ctl.advance(n as u64);
        if !give(buf) {
            break;
        }
    }
    Ok(Stored {
        sha256: super::custody::hex(&h.finalize()),
        size,
        head,
    })
}

/// Hashes `from` to its end (checking a stored copy).
pub fn hash(
    from: &mut dyn Read,
    what: &str,
    ctl: &Control,
) -> Result<(String, u64), EvidenceError> {
    let s = copy_hashing(from, &mut std::io::sink(), (what, what), ctl)?;
    Ok((s.sha256, s.size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_and_the_head() {
        let ctl = Control::default();
        let (h, n) = hash(&mut &b"abc"[..], "x", &ctl).unwrap();
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(n, 3);
        let big = vec![7u8; 3 * BLOCK + 5];
        let mut out = Vec::new();
        let s = copy_hashing(&mut &big[..], &mut out, ("a", "b"), &ctl).unwrap();
        assert_eq!(out, big);
        assert_eq!(s.head.len(), HEAD);
        assert_eq!(s.sha256, super::super::custody::sha256_hex(&big));
        // Progress counts every byte read: 3 for "abc", then the big one.
        assert_eq!(
            ctl.done.load(std::sync::atomic::Ordering::Relaxed),
            3 + big.len() as u64
        );
    }

    #[test]
    fn cancel_stops_it() {
        let ctl = Control::default();
        ctl.cancel();
        assert!(matches!(
            hash(&mut &b"abc"[..], "x", &ctl),
            Err(EvidenceError::Cancelled)
        ));
    }
}
