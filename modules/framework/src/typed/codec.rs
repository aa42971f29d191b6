//! How typed state encodes its values: protobuf (the default), big-endian integers, JSON.

use crate::error::{sdk, StoaError};
use std::marker::PhantomData;

/// Encodes and decodes values of type `V` for the store.
pub trait Codec<V> {
    fn encode(value: &V) -> Vec<u8>;
    fn decode(raw: &[u8]) -> Result<V, StoaError>;
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoaError {
    sdk::LOGIC.with(format!("stored {what} does not decode: {e}"))
}

/// Protobuf via prost: the default for module state (Cosmos SDK stores protobuf too).
pub struct Prost<V>(PhantomData<V>);

impl<V: prost::Message + Default> Codec<V> for Prost<V> {
    fn encode(value: &V) -> Vec<u8> {
        value.encode_to_vec()
    }
    fn decode(raw: &[u8]) -> Result<V, StoaError> {
        V::decode(raw).map_err(|e| corrupt(std::any::type_name::<V>(), e))
    }
}

/// Unsigned integers as fixed-width big-endian bytes (amounts, counters). Zero is stored as
/// its bytes, not as a delete; a map that wants "zero = absent" removes the entry.
pub struct BigEndian<V>(PhantomData<V>);

macro_rules! big_endian {
    ($($t:ty),*) => {$(
        impl Codec<$t> for BigEndian<$t> {
            fn encode(value: &$t) -> Vec<u8> {
                value.to_be_bytes().to_vec()
            }
            fn decode(raw: &[u8]) -> Result<$t, StoaError> {
                let bytes = raw
                    .try_into()
                    .map_err(|_| corrupt(stringify!($t), format!("{} bytes", raw.len())))?;
                Ok(<$t>::from_be_bytes(bytes))
            }
        }
    )*};
}
big_endian!(u32, u64, u128, i64);

/// serde JSON (params, which genesis files show as JSON too).
pub struct Json<V>(PhantomData<V>);

impl<V: serde::Serialize + serde::de::DeserializeOwned> Codec<V> for Json<V> {
    fn encode(value: &V) -> Vec<u8> {
        // Serializing plain data structs to a Vec cannot fail.
        serde_json::to_vec(value).unwrap_or_default()
    }
    fn decode(raw: &[u8]) -> Result<V, StoaError> {
        serde_json::from_slice(raw).map_err(|e| corrupt(std::any::type_name::<V>(), e))
    }
}

/// The bytes as they are (index markers, hashes).
pub struct Raw;

impl Codec<Vec<u8>> for Raw {
    fn encode(value: &Vec<u8>) -> Vec<u8> {
        value.clone()
    }
    fn decode(raw: &[u8]) -> Result<Vec<u8>, StoaError> {
        Ok(raw.to_vec())
    }
}
