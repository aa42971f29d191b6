//! `Item<T>`: one typed value at `<module>/<name>`.

use super::codec::{Codec, Prost};
use crate::ctx::Ctx;
use crate::error::{sdk, StoaError};
use crate::state::State;
use std::marker::PhantomData;
use std::sync::Arc;

pub struct Item<T, C = Prost<T>> {
    module: &'static str,
    name: &'static str,
    _t: PhantomData<fn() -> (T, C)>,
}

impl<T, C: Codec<T>> Item<T, C> {
    pub const fn new(module: &'static str, name: &'static str) -> Self {
        Item {
            module,
            name,
            _t: PhantomData,
        }
    }

    /// The full store key (`/store/<module>/key` queries take it).
    pub fn key(&self) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.module.len() + 1 + self.name.len());
        k.extend_from_slice(self.module.as_bytes());
        k.push(b'/');
        k.extend_from_slice(self.name.as_bytes());
        k
    }

    pub fn get(&self, ctx: &mut Ctx<'_>) -> Result<Option<T>, StoaError> {
        ctx.get_with(&self.key(), |raw| raw.map(C::decode).transpose())?
    }

    /// The value, or an error naming the item when it was never set.
    pub fn load(&self, ctx: &mut Ctx<'_>) -> Result<T, StoaError> {
        self.get(ctx)?
            .ok_or_else(|| sdk::NOT_FOUND.with(format!("{}/{} is not set", self.module, self.name)))
    }

    pub fn save(&self, ctx: &mut Ctx<'_>, value: &T) -> Result<(), StoaError> {
        ctx.set(self.key(), C::encode(value))
    }

    pub fn remove(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        ctx.delete(self.key())
    }

    /// Unmetered read from a state without a context (pre-block checks, CLI tools).
    pub fn peek(&self, state: &State) -> Result<Option<T>, StoaError> {
        state.get_with(&self.key(), |raw| raw.map(C::decode).transpose())?
    }
}

impl<T: Default, C: Codec<T>> Item<T, C> {
    pub fn load_or_default(&self, ctx: &mut Ctx<'_>) -> Result<T, StoaError> {
        Ok(self.get(ctx)?.unwrap_or_default())
    }
}

impl<T: Default + Send + Sync + 'static, C: Codec<T>> Item<T, C> {
    /// As [`Item::load_or_default`] (same gas), decoded once until the item is written: for
    /// values every tx reads (params).
    pub fn load_cached(&self, ctx: &mut Ctx<'_>) -> Result<Arc<T>, StoaError> {
        ctx.get_cached(&self.key(), |raw| match raw {
            Some(raw) => C::decode(raw),
            None => Ok(T::default()),
        })
    }
}
