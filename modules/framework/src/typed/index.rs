//! `IndexedMap<K, V>`: a map with secondary indexes that every save and remove keeps
//! consistent. A `MultiIndex` lists the primary keys sharing an index value (a provider's
//! deals, a subnet's neurons); a `UniqueIndex` maps an index value to the one primary key
//! holding it (a device's worker key) and refuses a second holder.

use super::codec::{Codec, Prost};
use super::key::Key;
use super::map::{prefix_end, Map};
use super::page::{paginate_raw, PageRequest, PageResponse};
use crate::ctx::Ctx;
use crate::error::{sdk, StoaError};
use crate::state::Order;
use std::marker::PhantomData;
use std::ops::Bound;

/// What an `IndexedMap` calls on every write of an entry.
pub trait Index<K, V>: Sync {
    /// Called with the entry's old value (if any) and new value (`None` = removed).
    fn update(
        &self,
        ctx: &mut Ctx<'_>,
        pk: &K,
        old: Option<&V>,
        new: Option<&V>,
    ) -> Result<(), StoaError>;
}

/// `<module>/<name>/<index key>`, the index key encoded as the last part or not.
fn index_key<IK: Key>(module: &str, name: &str, ik: &IK, last: bool) -> Vec<u8> {
    let mut k = Vec::with_capacity(module.len() + name.len() + 40);
    k.extend_from_slice(module.as_bytes());
    k.push(b'/');
    k.extend_from_slice(name.as_bytes());
    k.push(b'/');
    ik.encode_key(&mut k, last);
    k
}

/// Index entries `<module>/<name>/<index key, length-prefixed><primary key>` -> a marker.
pub struct MultiIndex<IK, K, V> {
    module: &'static str,
    name: &'static str,
    extract: fn(&V) -> IK,
    _t: PhantomData<fn() -> K>,
}

impl<IK: Key + PartialEq, K: Key, V> MultiIndex<IK, K, V> {
    pub const fn new(module: &'static str, name: &'static str, extract: fn(&V) -> IK) -> Self {
        MultiIndex {
            module,
            name,
            extract,
            _t: PhantomData,
        }
    }

    fn prefix(&self, ik: &IK) -> Vec<u8> {
        index_key(self.module, self.name, ik, false)
    }

    fn entry(&self, ik: &IK, pk: &K) -> Vec<u8> {
        let mut k = self.prefix(ik);
        pk.encode_key(&mut k, true);
        k
    }

    /// The primary keys filed under `ik`, in `order`, each charged as an iteration step.
    pub fn keys(
        &self,
        ctx: &mut Ctx<'_>,
        ik: &IK,
        order: Order,
        limit: usize,
    ) -> Result<Vec<K>, StoaError> {
        let p = self.prefix(ik);
        let hi = prefix_end(&p);
        let hi = match &hi {
            Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
            _ => Bound::Unbounded,
        };
        let pairs = ctx.range_page(Bound::Included(&p), hi, order, limit)?;
        pairs
            .iter()
            .map(|(k, _)| K::from_key_bytes(&k[p.len()..]))
            .collect()
    }
}

impl<IK: Key + PartialEq, K: Key, V> Index<K, V> for MultiIndex<IK, K, V> {
    fn update(
        &self,
        ctx: &mut Ctx<'_>,
        pk: &K,
        old: Option<&V>,
        new: Option<&V>,
    ) -> Result<(), StoaError> {
        let old = old.map(self.extract);
        let new = new.map(self.extract);
        if old == new {
            return Ok(());
        }
        if let Some(ik) = old {
            ctx.delete(self.entry(&ik, pk))?;
        }
        if let Some(ik) = new {
            ctx.set(self.entry(&ik, pk), vec![1])?;
        }
        Ok(())
    }
}

/// Index entries `<module>/<name>/<index key>` -> the primary key holding it.
pub struct UniqueIndex<IK, K, V> {
    module: &'static str,
    name: &'static str,
    extract: fn(&V) -> IK,
    _t: PhantomData<fn() -> K>,
}

impl<IK: Key + PartialEq, K: Key + PartialEq, V> UniqueIndex<IK, K, V> {
    pub const fn new(module: &'static str, name: &'static str, extract: fn(&V) -> IK) -> Self {
        UniqueIndex {
            module,
            name,
            extract,
            _t: PhantomData,
        }
    }

    fn entry(&self, ik: &IK) -> Vec<u8> {
        index_key(self.module, self.name, ik, true)
    }

    /// The primary key holding `ik`, if any.
    pub fn get(&self, ctx: &mut Ctx<'_>, ik: &IK) -> Result<Option<K>, StoaError> {
        ctx.get_with(&self.entry(ik), |raw| {
            raw.map(K::from_key_bytes).transpose()
        })?
    }
}

impl<IK: Key + PartialEq, K: Key + PartialEq, V> Index<K, V> for UniqueIndex<IK, K, V> {
    fn update(
        &self,
        ctx: &mut Ctx<'_>,
        pk: &K,
        old: Option<&V>,
        new: Option<&V>,
    ) -> Result<(), StoaError> {
        let old = old.map(self.extract);
        let new = new.map(self.extract);
        if old == new {
            return Ok(());
        }
        if let Some(ik) = new.as_ref() {
            if let Some(holder) = self.get(ctx, ik)? {
                if &holder != pk {
                    return Err(sdk::CONFLICT.with(format!(
                        "{}/{}: the value is already held by another entry",
                        self.module, self.name
                    )));
                }
            }
        }
        if let Some(ik) = old {
            ctx.delete(self.entry(&ik))?;
        }
        if let Some(ik) = new {
            ctx.set(self.entry(&ik), pk.to_key_bytes())?;
        }
        Ok(())
    }
}

/// A map whose indexes follow every write.
pub struct IndexedMap<K: 'static, V: 'static, C: 'static = Prost<V>> {
    map: Map<K, V, C>,
    indexes: &'static [&'static dyn Index<K, V>],
}

impl<K: Key, V, C: Codec<V>> IndexedMap<K, V, C> {
    pub const fn new(
        module: &'static str,
        name: &'static str,
        indexes: &'static [&'static dyn Index<K, V>],
    ) -> Self {
        IndexedMap {
            map: Map::new(module, name),
            indexes,
        }
    }

    /// The plain map, for reads, iteration and pagination (writes go through `save`/`remove`).
    pub fn map(&self) -> &Map<K, V, C> {
        &self.map
    }

    pub fn get(&self, ctx: &mut Ctx<'_>, k: &K) -> Result<Option<V>, StoaError> {
        self.map.get(ctx, k)
    }

    pub fn load(&self, ctx: &mut Ctx<'_>, k: &K) -> Result<V, StoaError> {
        self.map.load(ctx, k)
    }

    pub fn save(&self, ctx: &mut Ctx<'_>, k: &K, v: &V) -> Result<(), StoaError> {
        let old = self.map.get(ctx, k)?;
        for idx in self.indexes {
            idx.update(ctx, k, old.as_ref(), Some(v))?;
        }
        self.map.save(ctx, k, v)
    }

    /// Removes the entry and its index entries; removing an absent entry does nothing.
    pub fn remove(&self, ctx: &mut Ctx<'_>, k: &K) -> Result<(), StoaError> {
        let Some(old) = self.map.get(ctx, k)? else {
            return Ok(());
        };
        for idx in self.indexes {
            idx.update(ctx, k, Some(&old), None)?;
        }
        self.map.remove(ctx, k)
    }

    /// One page of the entries a multi-index files under `ik`, with their values.
    pub fn paginate_by<IK: Key + PartialEq>(
        &self,
        ctx: &mut Ctx<'_>,
        index: &MultiIndex<IK, K, V>,
        ik: &IK,
        page: Option<&PageRequest>,
    ) -> Result<(Vec<(K, V)>, PageResponse), StoaError> {
        let p = index.prefix(ik);
        let (keys, resp) = paginate_raw(ctx, &p, page, |rel, _| Ok(Some(K::from_key_bytes(rel)?)))?;
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let v = self.map.load(ctx, &k)?;
            out.push((k, v));
        }
        Ok((out, resp))
    }
}
