//! `Map<K, V>`: typed entries under `<module>/<name>/<key>`, with gas-metered streaming
//! iteration over ranges and prefixes, both ways, and Cosmos pagination.

use super::codec::{Codec, Prost};
use super::key::{Key, Prefixed};
use super::page::{paginate_raw, PageRequest, PageResponse};
use crate::ctx::Ctx;
use crate::error::{sdk, StoaError};
use crate::state::{Order, State};
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ops::Bound;

/// The types a map or iterator is over, without owning any (so it is `Send`, `Sync`, `Copy`).
type Types<K, V, C> = PhantomData<fn() -> (K, V, C)>;

pub struct Map<K, V, C = Prost<V>> {
    module: &'static str,
    name: &'static str,
    _t: Types<K, V, C>,
}

impl<K: Key, V, C: Codec<V>> Map<K, V, C> {
    pub const fn new(module: &'static str, name: &'static str) -> Self {
        Map {
            module,
            name,
            _t: PhantomData,
        }
    }

    pub fn module(&self) -> &'static str {
        self.module
    }

    /// `<module>/<name>/`: every key of the map starts with it.
    pub fn prefix(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(self.module.len() + self.name.len() + 2 + 32);
        p.extend_from_slice(self.module.as_bytes());
        p.push(b'/');
        p.extend_from_slice(self.name.as_bytes());
        p.push(b'/');
        p
    }

    /// The full store key of an entry.
    pub fn key(&self, k: &K) -> Vec<u8> {
        let mut out = self.prefix();
        k.encode_key(&mut out, true);
        out
    }

    pub fn get(&self, ctx: &mut Ctx<'_>, k: &K) -> Result<Option<V>, StoaError> {
        ctx.get_with(&self.key(k), |raw| raw.map(C::decode).transpose())?
    }

    /// The entry, or `NOT_FOUND` naming the map.
    pub fn load(&self, ctx: &mut Ctx<'_>, k: &K) -> Result<V, StoaError> {
        self.get(ctx, k)?.ok_or_else(|| {
            sdk::NOT_FOUND.with(format!("{}/{}: no such entry", self.module, self.name))
        })
    }

    pub fn has(&self, ctx: &mut Ctx<'_>, k: &K) -> Result<bool, StoaError> {
        ctx.get_with(&self.key(k), |raw| raw.is_some())
    }

    pub fn save(&self, ctx: &mut Ctx<'_>, k: &K, v: &V) -> Result<(), StoaError> {
        ctx.set(self.key(k), C::encode(v))
    }

    pub fn remove(&self, ctx: &mut Ctx<'_>, k: &K) -> Result<(), StoaError> {
        ctx.delete(self.key(k))
    }

    /// Unmetered read from a state without a context (pre-block checks, CLI tools).
    pub fn peek(&self, state: &State, k: &K) -> Result<Option<V>, StoaError> {
        state.get_with(&self.key(k), |raw| raw.map(C::decode).transpose())?
    }

    /// Entries with keys in `(start, end)`, streamed a page at a time in `order`; each entry
    /// costs iteration gas when it is yielded.
    pub fn range<'c, 'a>(
        &self,
        ctx: &'c mut Ctx<'a>,
        start: Bound<&K>,
        end: Bound<&K>,
        order: Order,
    ) -> Iter<'c, 'a, K, V, C> {
        let prefix = self.prefix();
        let bound = |b: Bound<&K>| match b {
            Bound::Included(k) => Bound::Included(self.key(k)),
            Bound::Excluded(k) => Bound::Excluded(self.key(k)),
            Bound::Unbounded => Bound::Unbounded,
        };
        let lo = match bound(start) {
            Bound::Unbounded => Bound::Included(prefix.clone()),
            b => b,
        };
        let hi = match bound(end) {
            Bound::Unbounded => prefix_end(&prefix),
            b => b,
        };
        Iter::new(ctx, prefix.len(), lo, hi, order)
    }

    /// Every entry, in `order`.
    pub fn iter<'c, 'a>(&self, ctx: &'c mut Ctx<'a>, order: Order) -> Iter<'c, 'a, K, V, C> {
        self.range(ctx, Bound::Unbounded, Bound::Unbounded, order)
    }

    /// One page of entries, as Cosmos SDK queries take and return it.
    pub fn paginate(
        &self,
        ctx: &mut Ctx<'_>,
        page: Option<&PageRequest>,
    ) -> Result<(Vec<(K, V)>, PageResponse), StoaError> {
        let prefix = self.prefix();
        paginate_raw(ctx, &prefix, page, |rel, raw| {
            Ok(Some((K::from_key_bytes(rel)?, C::decode(raw)?)))
        })
    }
}

impl<K: Prefixed, V, C: Codec<V>> Map<K, V, C> {
    fn sub_prefix(&self, p: &K::Prefix) -> Vec<u8> {
        let mut out = self.prefix();
        p.encode_key(&mut out, false);
        out
    }

    /// The entries whose key starts with `p` (e.g. all balances of one address), in `order`.
    pub fn prefix_iter<'c, 'a>(
        &self,
        ctx: &'c mut Ctx<'a>,
        p: &K::Prefix,
        order: Order,
    ) -> Iter<'c, 'a, K, V, C> {
        let sub = self.sub_prefix(p);
        let hi = prefix_end(&sub);
        Iter::new(ctx, self.prefix().len(), Bound::Included(sub), hi, order)
    }

    /// One page of the entries whose key starts with `p`; page keys are relative to `p`.
    pub fn paginate_prefix(
        &self,
        ctx: &mut Ctx<'_>,
        p: &K::Prefix,
        page: Option<&PageRequest>,
    ) -> Result<(Vec<(K, V)>, PageResponse), StoaError> {
        let sub = self.sub_prefix(p);
        let strip = sub.len() - self.prefix().len();
        let whole = self.prefix().len();
        paginate_raw(ctx, &sub, page, |rel, raw| {
            let full = [&sub[whole..whole + strip], rel].concat();
            Ok(Some((K::from_key_bytes(&full)?, C::decode(raw)?)))
        })
    }
}

/// The first key after every key that starts with `prefix` (`Unbounded` if there is none).
pub fn prefix_end(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
}

/// A streaming, metered iterator over a map's range: it reads the state a page at a time
/// (pages grow from 4 to 256 entries, so a caller taking one entry reads few) and charges an
/// entry's gas as it yields it.
pub struct Iter<'c, 'a, K, V, C> {
    ctx: &'c mut Ctx<'a>,
    strip: usize,
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    order: Order,
    buf: VecDeque<(Vec<u8>, Vec<u8>)>,
    page: usize,
    done: bool,
    _t: Types<K, V, C>,
}

impl<'c, 'a, K: Key, V, C: Codec<V>> Iter<'c, 'a, K, V, C> {
    fn new(
        ctx: &'c mut Ctx<'a>,
        strip: usize,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        order: Order,
    ) -> Self {
        Iter {
            ctx,
            strip,
            lo,
            hi,
            order,
            buf: VecDeque::new(),
            page: 4,
            done: false,
            _t: PhantomData,
        }
    }

    fn fill(&mut self) -> Result<(), StoaError> {
        let pairs = self.ctx.range_unmetered(
            self.lo.as_ref().map(Vec::as_slice),
            self.hi.as_ref().map(Vec::as_slice),
            self.order,
            self.page,
        )?;
        if pairs.len() < self.page {
            self.done = true;
        }
        if let Some((last, _)) = pairs.last() {
            match self.order {
                Order::Ascending => self.lo = Bound::Excluded(last.clone()),
                Order::Descending => self.hi = Bound::Excluded(last.clone()),
            }
        }
        self.buf.extend(pairs);
        self.page = (self.page * 4).min(256);
        Ok(())
    }

    fn next_entry(&mut self) -> Result<Option<(K, V)>, StoaError> {
        if self.buf.is_empty() && !self.done {
            self.fill()?;
        }
        let Some((k, v)) = self.buf.pop_front() else {
            return Ok(None);
        };
        self.ctx.charge_iter_item((k.len() + v.len()) as u64)?;
        let key = K::from_key_bytes(k.get(self.strip..).unwrap_or_default())?;
        Ok(Some((key, C::decode(&v)?)))
    }
}

impl<K: Key, V, C: Codec<V>> Iterator for Iter<'_, '_, K, V, C> {
    type Item = Result<(K, V), StoaError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => {
                // An error (out of gas, a corrupt entry) ends the iteration.
                self.buf.clear();
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
