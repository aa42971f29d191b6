//! `StoaApp`: the state machine behind the ABCI connections. Consensus calls (InitChain,
//! Prepare/Process/FinalizeBlock, Commit) share one lock; CheckTx has its own mempool state;
//! queries read the committed store directly and wait for neither.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use stoa_bank::{AuthKeeper, BankKeeper};
use stoa_framework::block_record::{clock_in, record_genesis_time, FrameworkParams};
use stoa_framework::fixed::Dec;
use stoa_framework::state::WriteSet;
use stoa_framework::validators;
use stoa_framework::{
    sdk, BlockInfo, Ctx, ExecMode, State, StoaError, StoaResult, Store, ValidatorUpdate,
};

use crate::lifecycle::{self, BlockEnv, BlockHeader, BlockResult};
use crate::modules::Router;
use crate::tx::params::{self, load_chain_id, load_params, TxParams};
use crate::tx::sigcache::{SigCache, Verified};
use crate::tx::{decode_tx, run_tx, TxEnv, TxOutcome};

/// The genesis `app_state` sections the app itself reads (every other one is a module's):
/// `tx` (tx params), `fw` (framework params), `validators` (the first validator set, which
/// the state does not keep: CometBFT owns the set until a staking module takes it over).
pub const APP_SECTIONS: &[&str] = &["tx", "fw", "validators"];

/// What InitChain answers: the genesis app hash and the validators of the genesis
/// `validators` section (empty when CometBFT's genesis.json names them).
#[derive(Clone, Debug)]
pub struct GenesisOutcome {
    pub app_hash: [u8; 32],
    pub validators: Vec<ValidatorUpdate>,
}

/// Node-local settings (from app.toml), none of which affect consensus.
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// CheckTx only: the node's minimum gas prices.
    pub min_gas_prices: Vec<(String, Dec)>,
    /// Run every module's invariants after every block.
    pub check_invariants: bool,
}

/// Handle to the app; clones share everything (tendermint-abci clones it per connection).
#[derive(Clone)]
pub struct StoaApp {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) router: Router,
    pub(crate) opts: AppOptions,
    /// Signatures CheckTx verified, which the block then need not verify again.
    sig_cache: SigCache,
    consensus: Mutex<Consensus>,
    mempool: Mutex<Mempool>,
    /// Prometheus metrics, when the node serves them (set once at start).
    metrics: OnceLock<Arc<crate::metrics::Metrics>>,
}

#[derive(Default)]
struct Consensus {
    chain_id: String,
    /// InitChain's writes, kept until the first block commits them.
    genesis: Option<(u64, WriteSet)>,
    /// The height finalized (and prepared in the store) but not yet committed.
    finalized: Option<u64>,
    /// Hashes of the finalized block's txs (dropped from the signature cache at Commit).
    finalized_txs: Vec<[u8; 32]>,
}

struct Mempool {
    state: State,
    chain_id: String,
    params: Option<TxParams>,
    /// The height a tx checked now would be included in at the earliest.
    next_height: u64,
    /// The last block's time (or the genesis time), which CheckTx runs at.
    time: (i64, u32),
}

/// A lock that a panicking thread left poisoned still guards consistent data here (every
/// update is a whole-value replacement), so take it over instead of panicking too.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A state over the committed store with `writes` on top.
fn state_with(store: &Store, writes: Option<&WriteSet>) -> State {
    let mut state = State::new(store.clone());
    if let Some(writes) = writes {
        for (k, v) in writes {
            match v {
                Some(v) => state.set(k.clone(), v.clone()),
                None => state.delete(k.clone()),
            }
        }
    }
    state
}

impl StoaApp {
    pub fn new(store: Store, opts: AppOptions) -> Self {
        Self::with_router(store, Router::standard(), opts)
    }

    pub fn with_router(store: Store, router: Router, opts: AppOptions) -> Self {
        let committed = State::new(store.clone());
        let chain_id = load_chain_id(&committed).ok().flatten().unwrap_or_default();
        let params = load_params(&committed).ok();
        let next_height = store.last_commit().map_or(1, |c| c.version + 1);
        let time = clock_in(&committed).unwrap_or_default();
        let mempool = Mempool {
            state: committed,
            chain_id: chain_id.clone(),
            params,
            next_height,
            time,
        };
        StoaApp {
            shared: Arc::new(Shared {
                store,
                router,
                opts,
                sig_cache: SigCache::default(),
                consensus: Mutex::new(Consensus {
                    chain_id,
                    ..Default::default()
                }),
                mempool: Mutex::new(mempool),
                metrics: OnceLock::new(),
            }),
        }
    }

    /// Records this node's metrics from now on (a second call is ignored).
    pub fn set_metrics(&self, metrics: Arc<crate::metrics::Metrics>) {
        let _ = self.shared.metrics.set(metrics);
    }

    pub fn metrics(&self) -> Option<&crate::metrics::Metrics> {
        self.shared.metrics.get().map(Arc::as_ref)
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    pub fn router(&self) -> &Router {
        &self.shared.router
    }

    /// Last committed height and app hash (height 0 and an empty hash before the first block).
    pub fn last_commit(&self) -> (u64, Vec<u8>) {
        match self.shared.store.last_commit() {
            Some(c) => (c.version, c.root.to_vec()),
            None => (0, Vec::new()),
        }
    }

    /// InitChain: validates and applies every module's genesis section in module order (plus
    /// the app's "tx" section), keeps the writes pending for the first block, and returns the
    /// genesis app hash.
    pub fn apply_genesis(
        &self,
        chain_id: &str,
        initial_height: u64,
        app_state: &serde_json::Value,
    ) -> StoaResult<[u8; 32]> {
        self.apply_genesis_at(chain_id, initial_height, (0, 0), app_state)
    }

    /// As [`StoaApp::apply_genesis`], recording the genesis time (InitChain's, seconds and
    /// nanos), which the clock reads until the first block.
    pub fn apply_genesis_at(
        &self,
        chain_id: &str,
        initial_height: u64,
        genesis_time: (i64, u32),
        app_state: &serde_json::Value,
    ) -> StoaResult<[u8; 32]> {
        self.init_genesis(chain_id, initial_height, genesis_time, app_state)
            .map(|g| g.app_hash)
    }

    /// As [`StoaApp::apply_genesis_at`], also returning the genesis validators (app_state's
    /// `validators` section), which InitChain hands CometBFT.
    pub fn init_genesis(
        &self,
        chain_id: &str,
        initial_height: u64,
        genesis_time: (i64, u32),
        app_state: &serde_json::Value,
    ) -> StoaResult<GenesisOutcome> {
        let sh = &self.shared;
        if let Some(c) = sh.store.last_commit() {
            return Err(sdk::INVALID_REQUEST.with(format!(
                "InitChain on a chain already at height {}",
                c.version
            )));
        }
        let initial_height = initial_height.max(1);
        let obj = app_state
            .as_object()
            .ok_or_else(|| sdk::JSON_UNMARSHAL.with("app_state must be a JSON object"))?;
        for key in obj.keys() {
            if !APP_SECTIONS.contains(&key.as_str()) && sh.router.by_name(key).is_none() {
                return Err(sdk::INVALID_REQUEST.with(format!(
                    "app_state has a section {key:?} that no module owns"
                )));
            }
        }
        let tx_genesis =
            params::parse_genesis(obj.get("tx").unwrap_or(&params::default_genesis()))?;
        let validators = match obj.get("validators") {
            Some(v) => validators::parse_genesis(v)?
                .into_iter()
                .map(|v| v.update)
                .collect(),
            None => Vec::new(),
        };

        let mut state = State::new(sh.store.clone());
        let fw_params: Option<FrameworkParams> = obj
            .get("fw")
            .map(|v| {
                serde_json::from_value(v.clone())
                    .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("app_state.fw: {e}")))
            })
            .transpose()?;
        let block = BlockInfo {
            chain_id: chain_id.to_string(),
            height: initial_height,
            time_seconds: genesis_time.0,
            time_nanos: genesis_time.1,
            ..Default::default()
        };
        {
            let mut ctx = Ctx::unmetered(&mut state, block, ExecMode::Finalize);
            params::store_params(ctx.state_mut(), &tx_genesis.params)?;
            if genesis_time != (0, 0) {
                record_genesis_time(&mut ctx, genesis_time.0, genesis_time.1)?;
            }
            if let Some(p) = &fw_params {
                stoa_framework::params::store(&mut ctx, p)?;
            }
            ctx.state_mut()
                .set(params::CHAIN_ID_KEY.to_vec(), chain_id.as_bytes().to_vec());
            BankKeeper.register_module_accounts(&mut ctx, &sh.router.module_accounts())?;
            for m in sh.router.modules() {
                let section = obj
                    .get(m.name())
                    .cloned()
                    .unwrap_or_else(|| m.default_genesis());
                m.validate_genesis(&section)
                    .map_err(|e| genesis_err(m.name(), e))?;
                ctx.in_module(m.name(), |ctx| m.init_genesis(ctx, &section))
                    .map_err(|e| genesis_err(m.name(), e))?;
            }
            crate::lifecycle::check_invariants(&sh.router, &mut ctx)?;
        }
        let writes = state.take_writes();
        let app_hash = sh
            .store
            .prepare(initial_height, &writes)
            .map_err(|e| sdk::IO.with(format!("preparing genesis state: {e}")))?;

        let mut mempool = lock(&sh.mempool);
        mempool.state = state_with(&sh.store, Some(&writes));
        mempool.chain_id = chain_id.to_string();
        mempool.params = Some(tx_genesis.params);
        mempool.next_height = initial_height;
        mempool.time = genesis_time;
        drop(mempool);

        let mut c = lock(&sh.consensus);
        c.chain_id = chain_id.to_string();
        c.genesis = Some((initial_height, writes));
        c.finalized = None;
        Ok(GenesisOutcome {
            app_hash,
            validators,
        })
    }

    /// The tx params in force for the next block (genesis writes included before block one).
    pub fn consensus_params(&self) -> StoaResult<TxParams> {
        let c = lock(&self.shared.consensus);
        let state = state_with(&self.shared.store, c.genesis.as_ref().map(|(_, w)| w));
        load_params(&state)
    }

    /// FinalizeBlock: runs the block and prepares (does not commit) its state.
    pub fn execute_block(&self, header: &BlockHeader, txs: &[Vec<u8>]) -> StoaResult<BlockResult> {
        let sh = &self.shared;
        let mut c = lock(&sh.consensus);
        let state = state_with(&sh.store, c.genesis.as_ref().map(|(_, w)| w));
        let env = BlockEnv {
            router: &sh.router,
            chain_id: &c.chain_id,
            check_invariants: sh.opts.check_invariants,
            sig_cache: Some(&sh.sig_cache),
        };
        let result = lifecycle::execute_block(&env, &sh.store, state, header, txs)?;
        c.finalized = Some(header.height);
        c.finalized_txs = result.tx_hashes.clone();
        Ok(result)
    }

    /// Commit: persists the prepared block, then resets the mempool state on top of it.
    pub fn commit_block(&self) -> StoaResult<u64> {
        let sh = &self.shared;
        let mut c = lock(&sh.consensus);
        if c.finalized.is_none() {
            return Err(sdk::INVALID_REQUEST.with("Commit without a finalized block"));
        }
        let info = sh
            .store
            .commit()
            .map_err(|e| sdk::IO.with(format!("committing: {e}")))?;
        c.genesis = None;
        c.finalized = None;
        sh.sig_cache
            .remove_all(&std::mem::take(&mut c.finalized_txs));
        let chain_id = c.chain_id.clone();
        // The mempool lock is taken while the consensus lock is held (always in this order), so
        // no CheckTx sees the new store with the old mempool state.
        let mut m = lock(&sh.mempool);
        m.state = State::new(sh.store.clone());
        m.params = load_params(&m.state).ok();
        m.chain_id = chain_id;
        m.next_height = info.version + 1;
        m.time = clock_in(&m.state).unwrap_or_default();
        Ok(info.version)
    }

    /// CheckTx (new or recheck): the ante against the mempool state, which keeps the effects
    /// (fee, sequence) of every accepted tx until the next Commit.
    pub fn check_tx_bytes(&self, raw: &[u8], recheck: bool) -> TxOutcome {
        let sh = &self.shared;
        let mut guard = lock(&sh.mempool);
        let m = &mut *guard;
        let Some(params) = m.params.clone() else {
            return TxOutcome::failed(
                &sdk::INVALID_REQUEST.with("the chain has not started (no genesis yet)"),
                0,
                0,
                vec![],
            );
        };
        let tx = match decode_tx(raw, &sh.router) {
            Ok(tx) => tx,
            Err(e) => return TxOutcome::failed(&e, 0, 0, vec![]),
        };
        let env = TxEnv {
            router: &sh.router,
            params: &params,
            chain_id: &m.chain_id,
            node_min_gas_prices: &sh.opts.min_gas_prices,
        };
        let block = BlockInfo {
            chain_id: m.chain_id.clone(),
            height: m.next_height,
            time_seconds: m.time.0,
            time_nanos: m.time.1,
            ..Default::default()
        };
        let mode = if recheck {
            ExecMode::ReCheck
        } else {
            ExecMode::Check
        };
        let outcome = run_tx(&env, &mut m.state, &block, mode, &tx, &[], None);
        if outcome.is_ok() && !recheck {
            // The ante verified every signature with the key and account number the accounts
            // hold now (a first tx stored its key): remember them for the block.
            let mut ctx = Ctx::unmetered(&mut m.state, block, ExecMode::Check);
            let verified: Option<Verified> = tx
                .signers
                .iter()
                .map(|s| {
                    let acc = BankKeeper.account(&mut ctx, &s.address).ok()??;
                    Some((acc.pub_key?, acc.account_number))
                })
                .collect();
            if let Some(verified) = verified {
                sh.sig_cache.insert(tx.hash, verified);
            }
        }
        outcome
    }

    /// This node's minimum gas prices (app.toml; CheckTx only).
    pub fn min_gas_prices(&self) -> &[(String, Dec)] {
        &self.shared.opts.min_gas_prices
    }

    /// How many txs' signatures CheckTx has verified for the coming blocks.
    pub fn sig_cache_len(&self) -> usize {
        self.shared.sig_cache.len()
    }

    /// Simulate: runs the tx (messages included) on a throwaway state over the latest committed
    /// state, without signature checks and without a gas limit.
    pub fn simulate(&self, raw: &[u8]) -> StoaResult<TxOutcome> {
        crate::query::simulate(&self.shared.store, &self.shared.router, raw)
    }

    /// Gas limits of the txs, for proposal checks; `None` for an undecodable tx.
    pub fn gas_limits<T: AsRef<[u8]> + Sync>(&self, txs: &[T]) -> Vec<Option<u64>> {
        use rayon::prelude::*;
        // Decoding builds each tx's sign bytes and hash: on the pool, as FinalizeBlock does.
        txs.par_iter()
            .map(|raw| {
                decode_tx(raw.as_ref(), &self.shared.router)
                    .ok()
                    .map(|t| t.gas_limit)
            })
            .collect()
    }
}

fn genesis_err(module: &str, e: StoaError) -> StoaError {
    StoaError {
        log: format!("genesis of module {module}: {}", e.log),
        ..e
    }
}
