//! The little of H.264's bitstream the video export touches: NAL units out of OpenH264's Annex B
//! output, and frame cropping written into the sequence parameter set. OpenH264 (since its
//! 2026 parameter checks) encodes only sides that are multiples of 16, so a frame is encoded
//! with its last row and column repeated up to the next multiple and the SPS then tells
//! decoders to crop them off, which is how every 1920×1080 H.264 video shows 1080 of its 1088
//! coded rows.

/// Why the sequence parameter set could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpsError {
    /// It ended before its fields did.
    #[error("the sequence parameter set is cut short")]
    Short,
    /// A profile with fields this reader does not know (high profiles).
    #[error("profile {0} is not read here (only Baseline, Main, Extended)")]
    Profile(u8),
}

/// A NAL unit without the Annex B start code before it.
pub fn strip_start_code(nal: &[u8]) -> &[u8] {
    let zeros = nal.iter().take_while(|&&b| b == 0).count();
    if zeros >= 2 && nal.get(zeros) == Some(&1) {
        &nal[zeros + 1..]
    } else {
        nal
    }
}

/// `sps` (a NAL unit, header byte first, no start code) with `right` and `bottom` more pixels
/// cropped off the decoded picture (even numbers: 4:2:0 crops in steps of two).
pub fn crop_sps(sps: &[u8], right: u32, bottom: u32) -> Result<Vec<u8>, SpsError> {
    let (&header, body) = sps.split_first().ok_or(SpsError::Short)?;
    let rbsp = unescape(body);
    let mut r = Reader { data: &rbsp, at: 0 };
    let mut w = Writer::default();
    let profile = r.bits(8)? as u8;
    if !matches!(profile, 66 | 77 | 88) {
        return Err(SpsError::Profile(profile));
    }
    w.bits(u32::from(profile), 8);
    w.bits(r.bits(16)?, 16); // constraint flags, level
    w.ue(r.ue()?); // seq_parameter_set_id
    w.ue(r.ue()?); // log2_max_frame_num_minus4
    let poc_type = r.ue()?;
    w.ue(poc_type);
    if poc_type == 0 {
        w.ue(r.ue()?); // log2_max_pic_order_cnt_lsb_minus4
    } else if poc_type == 1 {
        w.bits(r.bits(1)?, 1);
        w.ue(r.ue()?); // offsets are signed, but the code numbers copy as they are
        w.ue(r.ue()?);
        let n = r.ue()?;
        w.ue(n);
        for _ in 0..n {
            w.ue(r.ue()?);
        }
    }
    w.ue(r.ue()?); // max_num_ref_frames
    w.bits(r.bits(1)?, 1); // gaps_in_frame_num_value_allowed_flag
    w.ue(r.ue()?); // pic_width_in_mbs_minus1
    w.ue(r.ue()?); // pic_height_in_map_units_minus1
    let frame_mbs_only = r.bits(1)?;
    w.bits(frame_mbs_only, 1);
    if frame_mbs_only == 0 {
        w.bits(r.bits(1)?, 1); // mb_adaptive_frame_field_flag
    }
    w.bits(r.bits(1)?, 1); // direct_8x8_inference_flag
    // Crop units: two pixels across; two rows down for frames, four for fields.
    let unit_y = if frame_mbs_only == 1 { 2 } else { 4 };
    let mut crop = [0; 4];
    if r.bits(1)? == 1 {
        for c in &mut crop {
            *c = r.ue()?;
        }
    }
    crop[1] += right / 2;
    crop[3] += bottom / unit_y;
    w.bits(1, 1);
    for c in crop {
        w.ue(c);
    }
    // The rest (VUI) as it is, up to the stop bit, which is written again after it.
    let stop = rbsp_stop_bit(&rbsp).ok_or(SpsError::Short)?;
    while r.at < stop {
        w.bits(r.bits(1)?, 1);
    }
    w.bits(1, 1);
    let mut out = vec![header];
    out.extend(escape(&w.finish()));
    Ok(out)
}

/// The RBSP of a NAL unit's payload: emulation prevention bytes (the 3 in 00 00 03) removed.
fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut zeros = 0;
    for &x in b {
        if zeros >= 2 && x == 3 {
            zeros = 0;
            continue;
        }
        zeros = if x == 0 { zeros + 1 } else { 0 };
        out.push(x);
    }
    out
}

/// The payload of an RBSP: a 3 put in wherever two zero bytes come before a byte up to 3.
fn escape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + 4);
    let mut zeros = 0;
    for &x in b {
        if zeros >= 2 && x <= 3 {
            out.push(3);
            zeros = 0;
        }
        zeros = if x == 0 { zeros + 1 } else { 0 };
        out.push(x);
    }
    out
}

/// Where the RBSP's stop bit is, in bits from the start: its last bit that is 1.
fn rbsp_stop_bit(rbsp: &[u8]) -> Option<usize> {
    let k = rbsp.iter().rposition(|&b| b != 0)?;
    Some(k * 8 + 7 - rbsp[k].trailing_zeros() as usize)
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn bits(&mut self, n: u32) -> Result<u32, SpsError> {
        let mut v = 0;
        for _ in 0..n {
            let byte = self.data.get(self.at / 8).ok_or(SpsError::Short)?;
            v = (v << 1) | u32::from((byte >> (7 - self.at % 8)) & 1);
            self.at += 1;
        }
        Ok(v)
    }

    /// An unsigned Exp-Golomb code.
    fn ue(&mut self) -> Result<u32, SpsError> {
        let mut zeros = 0;
        while self.bits(1)? == 0 {
            zeros += 1;
            if zeros > 31 {
                return Err(SpsError::Short);
            }
        }
        Ok((1u32 << zeros) - 1 + self.bits(zeros)?)
    }
}

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    used: u32,
}

impl Writer {
    fn bits(&mut self, v: u32, n: u32) {
        for k in (0..n).rev() {
            if self.used.is_multiple_of(8) {
                self.out.push(0);
            }
            if (v >> k) & 1 == 1
                && let Some(last) = self.out.last_mut()
            {
                *last |= 0x80 >> (self.used % 8);
            }
            self.used += 1;
        }
    }

    fn ue(&mut self, v: u32) {
        let code = u64::from(v) + 1;
        let len = 64 - code.leading_zeros();
        self.bits(0, len - 1);
        for k in (0..len).rev() {
            self.bits(((code >> k) & 1) as u32, 1);
        }
    }

    /// The bytes, the last one filled with zeros.
    fn finish(self) -> Vec<u8> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_round_trips_and_escapes_are_kept() {
        let mut w = Writer::default();
        for v in [0, 1, 2, 7, 255, 65_535] {
            w.ue(v);
        }
        w.bits(1, 1);
        let bytes = w.finish();
        let mut r = Reader {
            data: &bytes,
            at: 0,
        };
        for v in [0, 1, 2, 7, 255, 65_535] {
            assert_eq!(r.ue().unwrap(), v);
        }
        assert_eq!(rbsp_stop_bit(&bytes), Some(r.at));
        let raw = [0, 0, 1, 0, 0, 0, 5, 0, 0, 3];
        assert_eq!(escape(&raw), [0, 0, 3, 1, 0, 0, 3, 0, 5, 0, 0, 3, 3]);
        assert_eq!(unescape(&escape(&raw)), raw);
        assert_eq!(strip_start_code(&[0, 0, 0, 1, 0x67, 1]), &[0x67, 1]);
        assert_eq!(strip_start_code(&[0, 0, 1, 0x68]), &[0x68]);
    }

    #[test]
    fn cropping_is_added_and_the_rest_kept() {
        // Baseline, level 3.1, id 0, frame_num 4 bits, POC type 2, 1 ref, 40×23 MBs, frame
        // MBs only, direct 8×8, no cropping, no VUI.
        let mut w = Writer::default();
        w.bits(66, 8);
        w.bits(0xC0, 8);
        w.bits(31, 8);
        for v in [0, 0, 2, 1] {
            w.ue(v);
        }
        w.bits(0, 1);
        w.ue(39);
        w.ue(22);
        w.bits(0b110, 3);
        w.bits(0, 1); // no VUI
        w.bits(1, 1);
        let mut sps = vec![0x67];
        sps.extend(escape(&w.finish()));
        let cropped = crop_sps(&sps, 0, 8).unwrap();
        let rbsp = unescape(&cropped[1..]);
        let mut r = Reader { data: &rbsp, at: 0 };
        r.bits(24).unwrap();
        for _ in 0..4 {
            r.ue().unwrap();
        }
        r.bits(1).unwrap();
        assert_eq!((r.ue().unwrap(), r.ue().unwrap()), (39, 22));
        assert_eq!(r.bits(2).unwrap(), 0b11, "frame MBs only, direct 8×8");
        assert_eq!(r.bits(1).unwrap(), 1, "cropping now on");
        let crop: Vec<u32> = (0..4).map(|_| r.ue().unwrap()).collect();
        assert_eq!(crop, [0, 0, 0, 4]);
        assert_eq!(r.bits(1).unwrap(), 0, "still no VUI");
        assert_eq!(rbsp_stop_bit(&rbsp), Some(r.at));
        assert_eq!(crop_sps(&[0x67, 100], 0, 2), Err(SpsError::Profile(100)));
    }
}
