//! Typed state over the metered context: `Item`, `Map` and `IndexedMap` with ordered keys,
//! values in one codec each (protobuf by default), always under the owning module's prefix;
//! streaming, gas-metered iteration; Cosmos pagination.

pub mod codec;
pub mod index;
pub mod item;
pub mod key;
pub mod map;
pub mod page;

pub use codec::{BigEndian, Codec, Json, Prost, Raw};
pub use index::{Index, IndexedMap, MultiIndex, UniqueIndex};
pub use item::Item;
pub use key::{Key, Prefixed};
pub use map::{prefix_end, Iter, Map};
pub use page::{paginate_raw, PageRequest, PageResponse, DEFAULT_LIMIT};
