//! Media types from a file's first bytes, never from its name: a photo renamed `.txt` is still
//! an image, a program renamed `.jpg` is still a program. The `infer` crate knows the magic
//! numbers of images, video, audio, archives, documents and executables; text is told apart
//! from other bytes here.

/// The media type of content starting with `head` (its first few KiB).
pub fn media_type(head: &[u8]) -> &'static str {
    if head.is_empty() {
        return "application/x-empty";
    }
    if let Some(t) = infer::get(head) {
        return t.mime_type();
    }
    if is_text(head) {
        let t = String::from_utf8_lossy(head);
        let start = t.trim_start_matches('\u{feff}').trim_start();
        if start.starts_with('{') || start.starts_with('[') {
            return "application/json";
        }
        return "text/plain";
    }
    "application/octet-stream"
}

/// Whether bytes read as UTF-8 text (a character cut at the end of the sample allowed), with no
/// control characters but tab, line ends and form feed.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            // Cut inside a character at the end of the sample.
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && !valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

/// Whether the media type is an image the details panel can show as a thumbnail.
pub fn is_image(media_type: &str) -> bool {
    matches!(media_type, "image/png" | "image/jpeg" | "image/gif")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_the_bytes_not_the_name() {
        assert_eq!(media_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(media_type(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), "image/jpeg");
        assert_eq!(media_type(b"%PDF-1.7\n"), "application/pdf");
        let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
        elf.resize(64, 0);
        elf[16] = 2;
        assert_eq!(media_type(&elf), "application/x-executable");
        assert_eq!(media_type(b"\0\0\0\x20ftypisom\0\0\x02\0"), "video/mp4");
        assert_eq!(
            media_type("Statement of the Security Media Cell, عين الأسد\n".as_bytes()),
            "text/plain"
        );
        assert_eq!(media_type(b" {\"a\": 1}"), "application/json");
        assert_eq!(
            media_type(b"\x01\x02\x03binary"),
            "application/octet-stream"
        );
        assert_eq!(media_type(b""), "application/x-empty");
        // A character cut by the sample's end is still text.
        let mut cut = "ab عين".as_bytes().to_vec();
        cut.pop();
        assert_eq!(media_type(&cut), "text/plain");
    }
}
