//! Fr32 padding as Filecoin does it: every 127 bytes (1016 bits) become 128 bytes, as four
//! 254-bit little-endian chunks each followed by two zero bits, so every 32-byte node of padded
//! data is below 2^254 and is a BLS12-381 scalar.

/// Unpadded bytes per padded block.
pub const UNPADDED_BLOCK: usize = 127;
/// Padded bytes per block.
pub const PADDED_BLOCK: usize = 128;

/// Byte made of bits `start..start+8` of `bytes` (little-endian bit order).
#[inline]
fn byte_at_bit(bytes: &[u8], start: usize) -> u8 {
    let index = start / 8;
    let shift = start % 8;
    let low = bytes.get(index).copied().unwrap_or(0) as u16;
    let high = bytes.get(index + 1).copied().unwrap_or(0) as u16;
    (((high << 8) | low) >> shift) as u8
}

/// Pads one block: `unpadded` holds up to 127 bytes (missing bytes are zero).
pub fn pad_block(unpadded: &[u8], padded: &mut [u8; PADDED_BLOCK]) {
    for quarter in 0..4 {
        let start_bit = quarter * 254;
        let out = &mut padded[quarter * 32..quarter * 32 + 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = byte_at_bit(unpadded, start_bit + i * 8);
        }
        out[31] &= 0x3f;
    }
}

/// Unpads one block: the inverse of `pad_block` (the two pad bits of each node are ignored).
pub fn unpad_block(padded: &[u8; PADDED_BLOCK], unpadded: &mut [u8; UNPADDED_BLOCK]) {
    unpadded.fill(0);
    for quarter in 0..4 {
        // The quarter's 254 bits land at bit 254 * quarter of the output: OR each byte in at
        // that bit offset, splitting it across two output bytes when unaligned.
        let node = &padded[quarter * 32..quarter * 32 + 32];
        for (i, &byte) in node.iter().enumerate() {
            let value = if i == 31 { byte & 0x3f } else { byte } as u16;
            let out_bit = quarter * 254 + i * 8;
            let shifted = value << (out_bit % 8);
            if let Some(out) = unpadded.get_mut(out_bit / 8) {
                *out |= shifted as u8;
            }
            if let Some(out) = unpadded.get_mut(out_bit / 8 + 1) {
                *out |= (shifted >> 8) as u8;
            }
        }
    }
}

/// Fr32-pads `unpadded` (a partial last block is zero-filled) into the start of `padded`,
/// which must hold at least `unpadded.len().div_ceil(127)` blocks of 128 bytes; the rest of
/// `padded` is left as is.
pub fn pad_into(unpadded: &[u8], padded: &mut [u8]) {
    debug_assert!(padded.len() >= unpadded.len().div_ceil(UNPADDED_BLOCK) * PADDED_BLOCK);
    for (chunk, out) in unpadded
        .chunks(UNPADDED_BLOCK)
        .zip(padded.chunks_exact_mut(PADDED_BLOCK))
    {
        let out: &mut [u8; PADDED_BLOCK] = out.try_into().expect("chunks_exact_mut");
        pad_block(chunk, out);
    }
}

/// Fr32-pads `unpadded` (zero-filled to a whole number of blocks).
pub fn pad(unpadded: &[u8]) -> Vec<u8> {
    let blocks = unpadded.len().div_ceil(UNPADDED_BLOCK);
    let mut out = vec![0u8; blocks * PADDED_BLOCK];
    pad_into(unpadded, &mut out);
    out
}

/// Removes Fr32 padding; `padded.len()` should be a multiple of 128 (a partial tail is
/// zero-filled).
pub fn unpad(padded: &[u8]) -> Vec<u8> {
    let blocks = padded.len().div_ceil(PADDED_BLOCK);
    let mut out = vec![0u8; blocks * UNPADDED_BLOCK];
    for (block, chunk) in padded.chunks(PADDED_BLOCK).enumerate() {
        let mut full = [0u8; PADDED_BLOCK];
        full[..chunk.len()].copy_from_slice(chunk);
        let mut unpadded = [0u8; UNPADDED_BLOCK];
        unpad_block(&full, &mut unpadded);
        out[block * UNPADDED_BLOCK..(block + 1) * UNPADDED_BLOCK].copy_from_slice(&unpadded);
    }
    out
}
