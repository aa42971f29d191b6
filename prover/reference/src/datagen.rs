//! Deterministic test data, reproducible without this crate.
//!
//! With a seed `s` (u64), the stream is the concatenation of 32-byte blocks
//! `block(i) = SHA-256(s.to_le_bytes() || i.to_le_bytes())` for i = 0, 1, 2, …
//! (16 bytes hashed per block: seed then counter, both little-endian u64), truncated to the
//! requested length. Without a seed the stream is all zero bytes.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// `Read` over the first `len` bytes of the generator's stream.
pub struct DataGen {
    seed: Option<u64>,
    pos: u64,
    len: u64,
    block: [u8; 32],
    block_index: u64,
}

impl DataGen {
    pub fn new(seed: Option<u64>, len: u64) -> Self {
        DataGen {
            seed,
            pos: 0,
            len,
            block: [0; 32],
            block_index: u64::MAX,
        }
    }
}

pub fn block(seed: u64, index: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(index.to_le_bytes());
    h.finalize().into()
}

impl Read for DataGen {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.len - self.pos;
        let n = (buf.len() as u64).min(remaining) as usize;
        match self.seed {
            None => buf[..n].fill(0),
            Some(seed) => {
                let mut off = 0;
                while off < n {
                    let idx = self.pos / 32;
                    if idx != self.block_index {
                        self.block = block(seed, idx);
                        self.block_index = idx;
                    }
                    let in_block = (self.pos % 32) as usize;
                    let take = (32 - in_block).min(n - off);
                    buf[off..off + take].copy_from_slice(&self.block[in_block..in_block + take]);
                    off += take;
                    self.pos += take as u64;
                }
                return Ok(n);
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_matches_blocks_regardless_of_read_sizes() {
        let mut a = Vec::new();
        DataGen::new(Some(7), 1000).read_to_end(&mut a).unwrap();
        let mut b = Vec::new();
        for i in 0..32 {
            b.extend_from_slice(&block(7, i));
        }
        b.truncate(1000);
        assert_eq!(a, b);

        let mut c = vec![0u8; 1000];
        let mut g = DataGen::new(Some(7), 1000);
        let mut off = 0;
        for step in [1usize, 3, 31, 33, 64, 5].iter().cycle() {
            if off == 1000 {
                break;
            }
            let end = (off + step).min(1000);
            let n = g.read(&mut c[off..end]).unwrap();
            off += n;
        }
        assert_eq!(a, c);
    }
}
