//! Ordered key encodings for typed maps: big-endian integers (signed ones with the sign bit
//! flipped), fixed-size addresses, variable-length parts prefixed with their length unless they
//! come last, and tuples of those. Byte order equals value order within one length.

use crate::address::Address;
use crate::error::{sdk, StoaError};

/// A value usable as (part of) a map key.
pub trait Key: Sized {
    /// Appends the encoding. `last` is true when nothing follows this part in the key: a
    /// variable-length part then goes without its length prefix (so keys written before typed
    /// maps existed, `<address><denom>`, keep their bytes).
    fn encode_key(&self, out: &mut Vec<u8>, last: bool);

    /// Decodes a part from the front of `bytes`, returning it and the rest.
    fn decode_key(bytes: &[u8], last: bool) -> Result<(Self, &[u8]), StoaError>;

    fn to_key_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_key(&mut out, true);
        out
    }

    fn from_key_bytes(bytes: &[u8]) -> Result<Self, StoaError> {
        let (k, rest) = Self::decode_key(bytes, true)?;
        if !rest.is_empty() {
            return Err(bad_key("trailing bytes"));
        }
        Ok(k)
    }
}

fn bad_key(why: &str) -> StoaError {
    sdk::LOGIC.with(format!("malformed state key: {why}"))
}

fn split<const N: usize>(bytes: &[u8]) -> Result<([u8; N], &[u8]), StoaError> {
    if bytes.len() < N {
        return Err(bad_key("too short"));
    }
    let (head, rest) = bytes.split_at(N);
    let mut a = [0u8; N];
    a.copy_from_slice(head);
    Ok((a, rest))
}

macro_rules! unsigned_key {
    ($($t:ty),*) => {$(
        impl Key for $t {
            fn encode_key(&self, out: &mut Vec<u8>, _last: bool) {
                out.extend_from_slice(&self.to_be_bytes());
            }
            fn decode_key(bytes: &[u8], _last: bool) -> Result<(Self, &[u8]), StoaError> {
                let (a, rest) = split::<{ std::mem::size_of::<$t>() }>(bytes)?;
                Ok((<$t>::from_be_bytes(a), rest))
            }
        }
    )*};
}
unsigned_key!(u8, u16, u32, u64, u128);

impl Key for i64 {
    fn encode_key(&self, out: &mut Vec<u8>, _last: bool) {
        out.extend_from_slice(&((*self as u64) ^ (1 << 63)).to_be_bytes());
    }
    fn decode_key(bytes: &[u8], _last: bool) -> Result<(Self, &[u8]), StoaError> {
        let (a, rest) = split::<8>(bytes)?;
        Ok(((u64::from_be_bytes(a) ^ (1 << 63)) as i64, rest))
    }
}

impl Key for Address {
    fn encode_key(&self, out: &mut Vec<u8>, _last: bool) {
        out.extend_from_slice(self.as_bytes());
    }
    fn decode_key(bytes: &[u8], _last: bool) -> Result<(Self, &[u8]), StoaError> {
        let (a, rest) = split::<20>(bytes)?;
        Ok((Address(a), rest))
    }
}

/// Variable-length parts carry a 2-byte big-endian length when something follows them.
fn encode_var(part: &[u8], out: &mut Vec<u8>, last: bool) {
    if !last {
        let len = u16::try_from(part.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&part[..len as usize]);
    } else {
        out.extend_from_slice(part);
    }
}

fn decode_var(bytes: &[u8], last: bool) -> Result<(&[u8], &[u8]), StoaError> {
    if last {
        return Ok((bytes, &[]));
    }
    let (len, rest) = split::<2>(bytes)?;
    let len = u16::from_be_bytes(len) as usize;
    if rest.len() < len {
        return Err(bad_key("length prefix past the end"));
    }
    Ok(rest.split_at(len))
}

impl Key for Vec<u8> {
    fn encode_key(&self, out: &mut Vec<u8>, last: bool) {
        encode_var(self, out, last);
    }
    fn decode_key(bytes: &[u8], last: bool) -> Result<(Self, &[u8]), StoaError> {
        let (part, rest) = decode_var(bytes, last)?;
        Ok((part.to_vec(), rest))
    }
}

impl Key for String {
    fn encode_key(&self, out: &mut Vec<u8>, last: bool) {
        encode_var(self.as_bytes(), out, last);
    }
    fn decode_key(bytes: &[u8], last: bool) -> Result<(Self, &[u8]), StoaError> {
        let (part, rest) = decode_var(bytes, last)?;
        let s = String::from_utf8(part.to_vec()).map_err(|_| bad_key("string is not UTF-8"))?;
        Ok((s, rest))
    }
}

impl<A: Key, B: Key> Key for (A, B) {
    fn encode_key(&self, out: &mut Vec<u8>, last: bool) {
        self.0.encode_key(out, false);
        self.1.encode_key(out, last);
    }
    fn decode_key(bytes: &[u8], last: bool) -> Result<(Self, &[u8]), StoaError> {
        let (a, rest) = A::decode_key(bytes, false)?;
        let (b, rest) = B::decode_key(rest, last)?;
        Ok(((a, b), rest))
    }
}

impl<A: Key, B: Key, C: Key> Key for (A, B, C) {
    fn encode_key(&self, out: &mut Vec<u8>, last: bool) {
        self.0.encode_key(out, false);
        self.1.encode_key(out, false);
        self.2.encode_key(out, last);
    }
    fn decode_key(bytes: &[u8], last: bool) -> Result<(Self, &[u8]), StoaError> {
        let (a, rest) = A::decode_key(bytes, false)?;
        let (b, rest) = B::decode_key(rest, false)?;
        let (c, rest) = C::decode_key(rest, last)?;
        Ok(((a, b, c), rest))
    }
}

/// A key whose first part can be used alone as a prefix (all entries of one owner, say).
pub trait Prefixed: Key {
    type Prefix: Key;
}

impl<A: Key, B: Key> Prefixed for (A, B) {
    type Prefix = A;
}

impl<A: Key, B: Key, C: Key> Prefixed for (A, B, C) {
    type Prefix = A;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc<K: Key>(k: &K) -> Vec<u8> {
        k.to_key_bytes()
    }

    proptest! {
        #[test]
        fn integer_and_tuple_keys_sort_as_their_values(a: i64, b: i64, x: u64, y: u64, s in "[a-z]{0,5}", t in "[a-z]{0,5}") {
            prop_assert_eq!(a.cmp(&b), enc(&a).cmp(&enc(&b)));
            prop_assert_eq!(x.cmp(&y), enc(&x).cmp(&enc(&y)));
            // Within one first part, the second part orders the keys.
            prop_assert_eq!((x, a).cmp(&(x, b)), enc(&(x, a)).cmp(&enc(&(x, b))));
            let (k1, k2) = ((s.clone(), x), (t.clone(), y));
            prop_assert_eq!(<(String, u64)>::from_key_bytes(&enc(&k1)).unwrap(), k1.clone());
            if s.len() == t.len() {
                prop_assert_eq!(k1.cmp(&k2), enc(&k1).cmp(&enc(&k2)));
            }
        }
    }

    #[test]
    fn a_last_variable_part_has_no_length_prefix() {
        let addr = Address([7; 20]);
        let k = (addr, "ustor".to_string()).to_key_bytes();
        assert_eq!(k, [&[7u8; 20][..], b"ustor"].concat());
        let k = ("ab".to_string(), 1u8).to_key_bytes();
        assert_eq!(k, vec![0, 2, b'a', b'b', 1]);
        assert!(<(String, u8)>::from_key_bytes(&[0, 9, b'a']).is_err());
    }
}
