//! The context a message, query or block hook runs in: the layered state (metered for gas), the
//! block's height, time and chain id, agreed randomness from recent block hashes, and the
//! events emitted so far.

use crate::error::{sdk, StoaError};
use crate::events::Event;
use crate::gas::{GasConfig, GasMeter};
use crate::state::{CachedValue, Order, Pairs, State};
use crate::state_key;
use sha2::{Digest, Sha256};
use std::any::Any;
use std::borrow::Cow;
use std::ops::Bound;
use std::sync::Arc;

/// Why the code runs: CheckTx runs against the mempool state, Simulate against a throwaway
/// copy, Finalize is the real thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecMode {
    Check,
    ReCheck,
    Simulate,
    Finalize,
    Query,
}

/// What CometBFT told us about the block being executed. Time is the header's BFT time, never
/// the wall clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockInfo {
    pub chain_id: String,
    pub height: u64,
    /// Seconds since the Unix epoch.
    pub time_seconds: i64,
    pub time_nanos: u32,
    /// This block's hash (empty in CheckTx and queries).
    pub hash: Vec<u8>,
    pub proposer: Vec<u8>,
}

pub struct Ctx<'a> {
    state: &'a mut State,
    block: Cow<'a, BlockInfo>,
    mode: ExecMode,
    gas: GasMeter,
    gas_config: GasConfig,
    events: Vec<Event>,
    /// The module whose code runs now: writes must stay under `<module>/`. `None` is the app
    /// and the framework, which may write anywhere.
    scope: Option<&'static str>,
}

impl<'a> Ctx<'a> {
    pub fn new(state: &'a mut State, block: BlockInfo, mode: ExecMode, gas: GasMeter) -> Self {
        Self::with_block(state, Cow::Owned(block), mode, gas)
    }

    /// As [`Ctx::new`] over a block the caller keeps (one per tx, without copying it).
    pub fn with_block(
        state: &'a mut State,
        block: Cow<'a, BlockInfo>,
        mode: ExecMode,
        gas: GasMeter,
    ) -> Self {
        Ctx {
            state,
            block,
            mode,
            gas,
            gas_config: GasConfig::default(),
            events: Vec::new(),
            scope: None,
        }
    }

    /// A context with no gas limit, for block hooks, genesis and queries.
    pub fn unmetered(state: &'a mut State, block: BlockInfo, mode: ExecMode) -> Self {
        Self::new(state, block, mode, GasMeter::infinite())
    }

    pub fn with_gas_config(mut self, config: GasConfig) -> Self {
        self.gas_config = config;
        self
    }

    pub fn block(&self) -> &BlockInfo {
        &self.block
    }

    pub fn height(&self) -> u64 {
        self.block.height
    }

    pub fn block_time(&self) -> i64 {
        self.block.time_seconds
    }

    pub fn chain_id(&self) -> &str {
        &self.block.chain_id
    }

    pub fn mode(&self) -> ExecMode {
        self.mode
    }

    pub fn gas(&self) -> &GasMeter {
        &self.gas
    }

    pub fn gas_config(&self) -> &GasConfig {
        &self.gas_config
    }

    pub fn consume_gas(&mut self, amount: u64, descriptor: &str) -> Result<(), StoaError> {
        self.gas.consume(amount, descriptor)
    }

    // ---- metered state access -------------------------------------------------------------

    /// The gas of reading a value `len` bytes long (flat `ReadFlat`, then `ReadPerByte`), for a
    /// value already at hand that counts as read again.
    pub fn charge_read(&mut self, len: u64) -> Result<(), StoaError> {
        self.charge_read_flat()?;
        self.charge_read_bytes(len)
    }

    /// The flat half of [`Ctx::charge_read`], charged before the store is touched.
    fn charge_read_flat(&mut self) -> Result<(), StoaError> {
        self.gas.consume(self.gas_config.read_cost_flat, "ReadFlat")
    }

    /// The per-byte half of [`Ctx::charge_read`], once the value's length is known.
    fn charge_read_bytes(&mut self, len: u64) -> Result<(), StoaError> {
        self.gas.consume(
            self.gas_config.read_cost_per_byte.saturating_mul(len),
            "ReadPerByte",
        )
    }

    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StoaError> {
        self.charge_read_flat()?;
        let v = self.state.get(key)?;
        let len = v.as_ref().map_or(0, |v| v.len()) as u64;
        self.charge_read_bytes(len)?;
        Ok(v)
    }

    /// [`Ctx::get`] (same gas) handing `f` the value in place instead of a copy.
    pub fn get_with<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> R,
    ) -> Result<R, StoaError> {
        self.charge_read_flat()?;
        let (len, out) = self
            .state
            .get_with(key, |v| (v.map_or(0, |v| v.len()) as u64, f(v)))?;
        self.charge_read_bytes(len)?;
        Ok(out)
    }

    pub fn set(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StoaError> {
        self.check_scope(&key)?;
        self.gas
            .consume(self.gas_config.write_cost_flat, "WriteFlat")?;
        let len = (key.len() + value.len()) as u64;
        self.gas.consume(
            self.gas_config.write_cost_per_byte.saturating_mul(len),
            "WritePerByte",
        )?;
        self.state.set(key, value);
        Ok(())
    }

    pub fn delete(&mut self, key: Vec<u8>) -> Result<(), StoaError> {
        self.check_scope(&key)?;
        self.gas.consume(self.gas_config.delete_cost, "Delete")?;
        self.state.delete(key);
        Ok(())
    }

    // ---- module scope ---------------------------------------------------------------------

    /// Runs `f` as module `module`: writes outside `<module>/` are refused until it returns.
    /// The router enters a module's scope for its handlers, hooks and queries; a keeper enters
    /// its own module's scope for the work it does for other modules. A guard against a module
    /// writing another's keys by mistake (crates are trusted code, so not a sandbox).
    pub fn in_module<T>(
        &mut self,
        module: &'static str,
        f: impl FnOnce(&mut Ctx<'_>) -> Result<T, StoaError>,
    ) -> Result<T, StoaError> {
        let outer = self.scope.replace(module);
        let out = f(self);
        self.scope = outer;
        out
    }

    /// The module whose code runs now (`None`: the app or the framework).
    pub fn scope(&self) -> Option<&'static str> {
        self.scope
    }

    fn check_scope(&self, key: &[u8]) -> Result<(), StoaError> {
        match self.scope {
            Some(m)
                if !(key.len() > m.len()
                    && key.starts_with(m.as_bytes())
                    && key[m.len()] == b'/') =>
            {
                Err(sdk::UNAUTHORIZED.with(format!(
                    "module {m} cannot write key {:?} outside its prefix {m}/",
                    String::from_utf8_lossy(&key[..key.len().min(64)])
                )))
            }
            _ => Ok(()),
        }
    }

    /// One page of live pairs inside the bounds, in `order`, at most `limit`, each charged
    /// iteration gas (flat per item plus its bytes).
    pub fn range_page(
        &mut self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Pairs, StoaError> {
        let pairs = self.state.range(start, end, order, limit)?;
        for (k, v) in &pairs {
            self.charge_iter_item((k.len() + v.len()) as u64)?;
        }
        Ok(pairs)
    }

    /// A page read without gas, for typed iterators that charge each entry as they yield it.
    pub(crate) fn range_unmetered(
        &mut self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Pairs, StoaError> {
        self.state.range(start, end, order, limit)
    }

    /// The gas of one iteration step over an entry of `len` key and value bytes.
    pub fn charge_iter_item(&mut self, len: u64) -> Result<(), StoaError> {
        self.consume_pair_gas(len)
    }

    /// Every live pair under `prefix`, ascending by key; each pair costs iteration gas.
    pub fn iter_prefix(&mut self, prefix: &[u8]) -> Result<Pairs, StoaError> {
        let pairs = self.state.iter_prefix(prefix)?;
        for (k, v) in &pairs {
            self.consume_pair_gas((k.len() + v.len()) as u64)?;
        }
        Ok(pairs)
    }

    /// [`Ctx::get`] and `decode`, with the decoded value kept in the state until the key is
    /// written (for params and the like, read by every tx): a repeated read costs the same gas
    /// as the first but is not decoded again.
    pub fn get_cached<T: Any + Send + Sync>(
        &mut self,
        key: &[u8],
        decode: impl FnOnce(Option<&[u8]>) -> Result<T, StoaError>,
    ) -> Result<Arc<T>, StoaError> {
        self.charge_read_flat()?;
        if let Some(hit) = self.state.cached(key, false) {
            if let Ok(value) = Arc::clone(&hit.value).downcast::<T>() {
                let len = hit.read_lens.first().copied().unwrap_or(0);
                self.charge_read_bytes(len)?;
                return Ok(value);
            }
        }
        let v = self.state.get(key)?;
        let len = v.as_ref().map_or(0, |v| v.len()) as u64;
        self.charge_read_bytes(len)?;
        let value = Arc::new(decode(v.as_deref())?);
        self.state.cache(
            key,
            false,
            CachedValue {
                read_lens: Arc::new([len]),
                value: value.clone(),
            },
        );
        Ok(value)
    }

    /// [`Ctx::iter_prefix`] and `decode`, with the decoded value kept in the state until a key
    /// under `prefix` is written; a repeated listing costs the same gas as the first.
    pub fn iter_prefix_cached<T: Any + Send + Sync>(
        &mut self,
        prefix: &[u8],
        decode: impl FnOnce(Pairs) -> Result<T, StoaError>,
    ) -> Result<Arc<T>, StoaError> {
        if let Some(hit) = self.state.cached(prefix, true) {
            if let Ok(value) = Arc::clone(&hit.value).downcast::<T>() {
                let lens = Arc::clone(&hit.read_lens);
                for len in lens.iter() {
                    self.consume_pair_gas(*len)?;
                }
                return Ok(value);
            }
        }
        let pairs = self.state.iter_prefix(prefix)?;
        let lens: Arc<[u64]> = pairs
            .iter()
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .collect();
        for len in lens.iter() {
            self.consume_pair_gas(*len)?;
        }
        let value = Arc::new(decode(pairs)?);
        self.state.cache(
            prefix,
            true,
            CachedValue {
                read_lens: lens,
                value: value.clone(),
            },
        );
        Ok(value)
    }

    fn consume_pair_gas(&mut self, len: u64) -> Result<(), StoaError> {
        self.gas
            .consume(self.gas_config.iter_next_cost_flat, "IterNextFlat")?;
        self.gas.consume(
            self.gas_config.read_cost_per_byte.saturating_mul(len),
            "ValuePerByte",
        )
    }

    /// Runs `f` in a branch of the state: its writes and events stay only if it returns `Ok`.
    pub fn branch<T>(
        &mut self,
        f: impl FnOnce(&mut Ctx<'_>) -> Result<T, StoaError>,
    ) -> Result<T, StoaError> {
        self.state.branch();
        let events_before = self.events.len();
        let out = f(self);
        match &out {
            Ok(_) => self.state.commit_branch(),
            Err(_) => {
                self.state.discard_branch();
                self.events.truncate(events_before);
            }
        }
        out
    }

    // ---- events ---------------------------------------------------------------------------

    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Room for `n` more events without reallocating.
    pub fn reserve_events(&mut self, n: usize) {
        self.events.reserve(n);
    }

    /// The events emitted so far, to amend (e.g. tag with the message index).
    pub fn events_mut(&mut self) -> &mut [Event] {
        &mut self.events
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    // ---- agreed clock and randomness ------------------------------------------------------

    /// The hash of a recent block (the framework keeps a window of them), unmetered: it is what
    /// every schedule and challenge reads.
    pub fn block_hash_at(&mut self, height: u64) -> Result<Option<[u8; 32]>, StoaError> {
        let raw = self.state.get(&state_key::block_hash(height))?;
        Ok(raw.and_then(|v| v.try_into().ok()))
    }

    /// Randomness every node agrees on: `sha256(domain || height || block_hash(height))`.
    /// `None` when that block's hash is not (or no longer) known.
    pub fn randomness(
        &mut self,
        domain: &[u8],
        height: u64,
    ) -> Result<Option<[u8; 32]>, StoaError> {
        let Some(hash) = self.block_hash_at(height)? else {
            return Ok(None);
        };
        Ok(Some(derive_randomness(domain, height, &hash)))
    }

    /// Randomness drawn at a time: that of the first block at or after the first minute
    /// boundary at or after `time` (the same value [`Ctx::randomness`] gives for that block's
    /// height). Answers the same for a month (the anchors' retention), so a proof made long
    /// after can be checked against the seed drawn when its work began. `None` while that
    /// block is in the future or after its anchor expired.
    pub fn randomness_at(
        &mut self,
        domain: &[u8],
        time: i64,
    ) -> Result<Option<[u8; 32]>, StoaError> {
        let Some((height, hash)) = crate::block_record::randomness_anchor(self, time)? else {
            return Ok(None);
        };
        Ok(Some(derive_randomness(domain, height, &hash)))
    }

    /// The state read-only, unmetered (pre-block checks in CheckTx).
    pub fn state(&self) -> &State {
        self.state
    }

    /// Unmetered state access for the framework and block hooks (infinite gas anyway).
    pub fn state_mut(&mut self) -> &mut State {
        self.state
    }

    /// Fails when the tx or hook must not go on; a helper for checked arithmetic.
    pub fn checked<T>(v: Option<T>, what: &str) -> Result<T, StoaError> {
        v.ok_or_else(|| sdk::OVERFLOW.with(what.to_string()))
    }
}

fn derive_randomness(domain: &[u8], height: u64, hash: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((domain.len() as u64).to_be_bytes());
    h.update(domain);
    h.update(height.to_be_bytes());
    h.update(hash);
    h.finalize().into()
}
