//! Account addresses: 20 bytes shown as bech32 with prefix `stoa`, as in Cosmos SDK.

use crate::error::{sdk, StoaError};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

pub const BECH32_PREFIX: &str = "stoa";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, StoaError> {
        let arr: [u8; 20] = bytes.try_into().map_err(|_| {
            sdk::INVALID_ADDRESS.with(format!("address must be 20 bytes, got {}", bytes.len()))
        })?;
        Ok(Address(arr))
    }

    /// Parses a bech32 `stoa1...` address by BIP-173: the Bech32 checksum only (a Bech32m
    /// spelling is refused, as Cosmos SDK's decoder does), all lowercase or all uppercase,
    /// never mixed; any other prefix is an error. The input is echoed in errors cut to
    /// [`ECHO_LIMIT`] bytes so a huge string never comes back whole.
    pub fn parse(s: &str) -> Result<Self, StoaError> {
        use bech32::primitives::decode::CheckedHrpstring;
        use bech32::{Bech32, Hrp};
        if let Some(a) = fast::decode(s.as_bytes()) {
            return Ok(a);
        }
        let shown = || echo(s);
        let checked = CheckedHrpstring::new::<Bech32>(s)
            .map_err(|e| sdk::INVALID_ADDRESS.with(format!("{}: {e}", shown())))?;
        // `Hrp`'s equality ignores case; mixed case was refused above.
        if checked.hrp() != Hrp::parse_unchecked(BECH32_PREFIX) {
            return Err(
                sdk::INVALID_ADDRESS.with(format!("{}: prefix must be {BECH32_PREFIX}", shown()))
            );
        }
        let data: Vec<u8> = checked.byte_iter().collect();
        Self::from_slice(&data)
    }
}

/// How many bytes of an offending input an error message repeats.
pub const ECHO_LIMIT: usize = 256;

/// `input` quoted for an error message, cut to [`ECHO_LIMIT`] bytes (at a character
/// boundary) with an ellipsis and the full length when longer: an error must never carry a
/// request back at its own size.
pub fn echo_input(input: &str) -> String {
    if input.len() <= ECHO_LIMIT {
        return format!("{input:?}");
    }
    let mut end = ECHO_LIMIT;
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &input[..end], input.len())
}

fn echo(s: &str) -> String {
    echo_input(s)
}

impl Address {
    /// The bech32 form, as `to_string` gives it (without the formatting machinery).
    pub fn to_bech32(&self) -> String {
        self.with_bech32(str::to_owned)
    }

    /// Hands `f` the bech32 form, encoded on the stack.
    fn with_bech32<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let out = fast::encode(&self.0);
        // Only ASCII from the bech32 charset and the prefix.
        f(std::str::from_utf8(&out).expect("bech32 is ASCII"))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_bech32(|s| f.write_str(s))
    }
}

/// Bech32 (BIP-173) for exactly this prefix and 20 bytes, without allocation: the common case
/// of every address a tx carries. `decode` answers only what it is sure of (lowercase, the
/// `stoa` prefix, 32 data characters and a valid Bech32 checksum), leaving everything else —
/// Bech32m, upper case, errors and their messages — to the bech32 crate.
mod fast {
    use super::Address;

    const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const HRP: &[u8; 4] = b"stoa";
    /// `stoa` + `1` + 32 data characters + 6 checksum characters.
    pub const LEN: usize = 43;
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

    /// `GEN` combined for every value of the 5 bits that leave the checksum at a step.
    const TABLE: [u32; 32] = {
        let mut t = [0u32; 32];
        let mut b = 0;
        while b < 32 {
            let mut i = 0;
            while i < 5 {
                if (b >> i) & 1 == 1 {
                    t[b] ^= GEN[i];
                }
                i += 1;
            }
            b += 1;
        }
        t
    };

    /// One step of BIP-173's `polymod`.
    const fn step(chk: u32, v: u8) -> u32 {
        (((chk & 0x1ff_ffff) << 5) ^ v as u32) ^ TABLE[(chk >> 25) as usize]
    }

    /// The checksum state after the expanded prefix.
    const HRP_STATE: u32 = {
        let mut chk = 1u32;
        let mut i = 0;
        while i < HRP.len() {
            chk = step(chk, HRP[i] >> 5);
            i += 1;
        }
        chk = step(chk, 0);
        let mut i = 0;
        while i < HRP.len() {
            chk = step(chk, HRP[i] & 31);
            i += 1;
        }
        chk
    };

    const REV: [i8; 128] = {
        let mut t = [-1i8; 128];
        let mut i = 0;
        while i < 32 {
            t[CHARSET[i] as usize] = i as i8;
            i += 1;
        }
        t
    };

    pub fn encode(bytes: &[u8; 20]) -> [u8; LEN] {
        let mut out = [0u8; LEN];
        out[..4].copy_from_slice(HRP);
        out[4] = b'1';
        let mut chk = HRP_STATE;
        // 160 bits = 32 groups of 5, taken 5 bytes (8 groups) at a time.
        for (c, chunk) in bytes.chunks_exact(5).enumerate() {
            let mut acc = 0u64;
            for b in chunk {
                acc = (acc << 8) | u64::from(*b);
            }
            for g in 0..8 {
                let v = ((acc >> (35 - 5 * g)) & 31) as u8;
                chk = step(chk, v);
                out[5 + 8 * c + g] = CHARSET[v as usize];
            }
        }
        for _ in 0..6 {
            chk = step(chk, 0);
        }
        chk ^= 1;
        for i in 0..6 {
            out[37 + i] = CHARSET[((chk >> (5 * (5 - i))) & 31) as usize];
        }
        out
    }

    pub fn decode(s: &[u8]) -> Option<Address> {
        if s.len() != LEN || &s[..4] != HRP || s[4] != b'1' {
            return None;
        }
        let mut chk = HRP_STATE;
        let mut values = [0u8; 38];
        for (v, c) in values.iter_mut().zip(&s[5..]) {
            let d = *REV.get(*c as usize)?;
            if d < 0 {
                return None;
            }
            *v = d as u8;
            chk = step(chk, *v);
        }
        if chk != 1 {
            return None;
        }
        let mut out = [0u8; 20];
        for (c, groups) in values[..32].chunks_exact(8).enumerate() {
            let mut acc = 0u64;
            for g in groups {
                acc = (acc << 5) | u64::from(*g);
            }
            for i in 0..5 {
                out[5 * c + i] = (acc >> (32 - 8 * i)) as u8;
            }
        }
        Some(Address(out))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Address {
    type Err = StoaError;
    fn from_str(s: &str) -> Result<Self, StoaError> {
        Address::parse(s)
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Address::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The address of a module account, as Cosmos SDK derives it: the first 20 bytes of
/// `sha256(name)`. Nobody holds its key; only the module moves its coins.
pub fn module_address(name: &str) -> Address {
    let digest = Sha256::digest(name.as_bytes());
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest[..20]);
    Address(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bech32::{Bech32, Hrp};

    #[test]
    fn bech32_round_trip_and_prefix_check() {
        let a = Address([7u8; 20]);
        let s = a.to_string();
        assert!(s.starts_with("stoa1"));
        assert_eq!(Address::parse(&s).unwrap(), a);
        let cosmos = bech32::encode::<Bech32>(Hrp::parse("cosmos").unwrap(), &[7u8; 20]).unwrap();
        assert!(Address::parse(&cosmos).is_err());
    }

    #[test]
    fn fast_bech32_matches_the_crate() {
        let hrp = Hrp::parse(BECH32_PREFIX).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for n in 0..2000 {
            let mut b = [0u8; 20];
            for x in b.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *x = seed as u8;
            }
            if n == 0 {
                b = [0; 20];
            } else if n == 1 {
                b = [0xff; 20];
            }
            let want = bech32::encode::<Bech32>(hrp, &b).unwrap();
            let a = Address(b);
            assert_eq!(a.to_string(), want);
            assert_eq!(a.to_bech32(), want);
            assert_eq!(fast::decode(want.as_bytes()), Some(a));
            // Bech32m and upper case go the slow way: BIP-173 refuses the first (a Bech32m
            // checksum is not a Bech32 one) and accepts the second.
            let m = bech32::encode::<bech32::Bech32m>(hrp, &b).unwrap();
            assert_eq!(fast::decode(m.as_bytes()), None);
            assert!(Address::parse(&m).is_err());
            assert_eq!(fast::decode(want.to_uppercase().as_bytes()), None);
            assert_eq!(Address::parse(&want.to_uppercase()).unwrap(), a);
            // Any one changed character: the fast path never accepts what the crate rejects.
            let mut bad = want.clone().into_bytes();
            let i = 5 + n % 38;
            bad[i] = if bad[i] == b'q' { b'p' } else { b'q' };
            let bad = String::from_utf8(bad).unwrap();
            assert_eq!(fast::decode(bad.as_bytes()), None);
            match bech32::decode(&bad) {
                Ok((h, data)) => assert!(h != hrp || data != b.to_vec()),
                Err(_) => assert!(Address::parse(&bad).is_err()),
            }
        }
    }

    /// BIP-173's case rule and checksum variant, on the inputs Cosmos SDK's `bech32` refuses.
    #[test]
    fn bip173_one_case_bech32_only() {
        let a = Address([0x5a; 20]);
        let lower = a.to_string();
        let upper = lower.to_uppercase();
        assert_eq!(Address::parse(&upper).unwrap(), a);
        // Mixed case: one letter flipped, in the prefix or in the data.
        let mut mixed = lower.clone().into_bytes();
        mixed[0] = b'S';
        assert!(Address::parse(std::str::from_utf8(&mixed).unwrap()).is_err());
        let mut mixed = upper.clone().into_bytes();
        let i = mixed.iter().rposition(|c| c.is_ascii_uppercase()).unwrap();
        mixed[i] = mixed[i].to_ascii_lowercase();
        assert!(Address::parse(std::str::from_utf8(&mixed).unwrap()).is_err());
        let m = bech32::encode::<bech32::Bech32m>(Hrp::parse("stoa").unwrap(), &a.0).unwrap();
        let err = Address::parse(&m).unwrap_err();
        assert_eq!(err.code, sdk::INVALID_ADDRESS.code);
        assert!(Address::parse(&m.to_uppercase()).is_err());
    }

    #[test]
    fn errors_echo_at_most_a_few_hundred_bytes_of_input() {
        let huge = "stoa1".to_string() + &"q".repeat(3_000_000);
        let err = Address::parse(&huge).unwrap_err();
        assert!(err.log.len() < ECHO_LIMIT + 100, "{} bytes", err.log.len());
        assert!(err.log.contains('…'));
        // Cut at a character boundary, never inside a multi-byte character.
        let wide = "é".repeat(1000);
        let shown = echo_input(&wide);
        assert!(shown.len() < ECHO_LIMIT + 40);
        assert_eq!(echo_input("short"), "\"short\"");
    }

    #[test]
    fn module_address_matches_cosmos_derivation() {
        // Cosmos SDK: authtypes.NewModuleAddress("fee_collector") = sha256("fee_collector")[:20].
        let a = module_address("fee_collector");
        assert_eq!(&a.0[..], &Sha256::digest(b"fee_collector")[..20]);
    }
}
