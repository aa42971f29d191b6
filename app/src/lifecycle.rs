//! THE block lifecycle, written out in one place: record the block, begin-block hooks of every
//! module in order, decode every tx and verify all their signatures in parallel (except those
//! CheckTx already verified; the verification starts before the first tx and runs alongside),
//! then each tx in order (ante, then its messages in a branch that is dropped on failure),
//! end-block hooks, the modules' validator set updates, invariants when configured, and finally
//! the store computes the app hash.

use rayon::prelude::*;
use stoa_bank::{AuthKeeper, BankKeeper};
use stoa_framework::block_record::{block_hash_retention, record_block};
use stoa_framework::validators::check_updates;
use stoa_framework::{
    sdk, BlockInfo, Ctx, Event, ExecMode, State, StoaError, StoaResult, Store, ValidatorUpdate,
};

use crate::modules::Router;
use crate::preverify::{
    precheck_block, signature_pool, signature_work, verdict_table, verify_in_chunks,
    PrecheckResults,
};
use crate::tx::events::with_mode;
use crate::tx::params::load_params;
use crate::tx::sigcache::SigCache;
use crate::tx::{decode_tx, run_tx, DecodedTx, SigVerdict, TxEnv, TxOutcome};

/// What a block needs besides its txs and the state it runs on.
pub struct BlockEnv<'a> {
    pub router: &'a Router,
    pub chain_id: &'a str,
    pub check_invariants: bool,
    /// Signatures CheckTx already found valid (none in a replay or a test).
    pub sig_cache: Option<&'a SigCache>,
}

/// The header fields CometBFT gives FinalizeBlock.
#[derive(Clone, Debug, Default)]
pub struct BlockHeader {
    pub height: u64,
    pub time_seconds: i64,
    pub time_nanos: u32,
    pub hash: Vec<u8>,
    pub proposer: Vec<u8>,
}

pub struct BlockResult {
    /// One per tx of the block, in block order.
    pub tx_results: Vec<TxOutcome>,
    /// Begin- and end-block events (each with its `mode`).
    pub events: Vec<Event>,
    /// The root of the state after this block (prepared in the store, not yet committed).
    pub app_hash: [u8; 32],
    /// The hashes of the block's decodable txs (the only ones CheckTx can have cached).
    pub tx_hashes: Vec<[u8; 32]>,
    /// Validator set changes from the modules' `validator_updates` hooks, in module order.
    pub validator_updates: Vec<ValidatorUpdate>,
}

/// Executes one block on `state` (the committed store plus, for the first block, the genesis
/// writes) and prepares its writes in `store`. An `Err` means the node must halt: a hook or an
/// invariant broke, or the store failed; bad txs never cause one.
pub fn execute_block(
    env: &BlockEnv<'_>,
    store: &Store,
    mut state: State,
    header: &BlockHeader,
    txs: &[Vec<u8>],
) -> StoaResult<BlockResult> {
    let block = BlockInfo {
        chain_id: env.chain_id.to_string(),
        height: header.height,
        time_seconds: header.time_seconds,
        time_nanos: header.time_nanos,
        hash: header.hash.clone(),
        proposer: header.proposer.clone(),
    };
    let mut events = Vec::new();

    // 1. Begin block: the framework's record (hash and time), then every module in order.
    {
        let mut ctx = Ctx::unmetered(&mut state, block.clone(), ExecMode::Finalize);
        let retention = block_hash_retention(&mut ctx)?;
        record_block(&mut ctx, retention)?;
        register_new_module_accounts(env.router, &mut ctx)?;
        for m in env.router.modules() {
            ctx.in_module(m.name(), |ctx| m.begin_block(ctx))
                .map_err(|e| halt(m.name(), "begin_block", e))?;
        }
        events.extend(with_mode(ctx.take_events(), "BeginBlock"));
    }

    // 2. Decode every tx (in parallel), then verify every signature of the block in parallel
    //    on the signature pool, started before the first tx executes.
    let params = load_params(&state)?;
    let decoded: Vec<StoaResult<DecodedTx>> = txs
        .par_iter()
        .map(|raw| decode_tx(raw, env.router))
        .collect();
    let work = signature_work(&state, env.chain_id, &decoded, env.sig_cache);
    let tx_env = TxEnv {
        router: env.router,
        params: &params,
        chain_id: env.chain_id,
        node_min_gas_prices: &[],
    };

    // 3-5. The txs, end block and the app hash run speculatively alongside the verification,
    //    as if every signature verified ahead were valid, instead of each tx waiting for its
    //    verdict. Once all verdicts are in: if they are all valid (a proposer can only include
    //    a bad signature on purpose), the speculative run is the block's outcome; otherwise the
    //    block runs again from this point with the real verdicts. Both runs see the same inputs
    //    whenever the verdicts agree, so the outcome never depends on timing.
    let assumed = Ahead {
        sigs: verdict_table(
            &decoded,
            work.iter().map(|w| (w.tx, w.signer, w.verdict(true))),
        ),
        prechecks: vec![Vec::new(); decoded.len()],
    };
    let start = state.clone();
    let (speculative, real) = std::thread::scope(|scope| {
        let (work, decoded_ref, start_ref, block_ref) = (&work, &decoded, &start, &block);
        let verify = move || {
            let sigs = verify_in_chunks(work, decoded_ref);
            let prechecks = precheck_block(env.router, start_ref, block_ref, decoded_ref);
            (sigs, prechecks)
        };
        let verifier = scope.spawn(move || match signature_pool() {
            Some(pool) => pool.install(verify),
            None => verify(),
        });
        let speculative = run_txs_and_end_block(
            env, &tx_env, store, state, &block, header, &decoded, &assumed,
        );
        // A verifier that panicked left no verdicts: none differs from the assumed ones, so
        // the block reruns with the ante verifying every signature itself. Its pre-block
        // checks then run again with each tx.
        let real = match verifier.join() {
            Ok((sigs, prechecks)) => Ahead {
                sigs: verdict_table(&decoded, sigs.into_iter()),
                prechecks,
            },
            Err(_) => Ahead {
                sigs: verdict_table(&decoded, std::iter::empty()),
                prechecks: precheck_block(env.router, &start, &block, &decoded),
            },
        };
        (speculative, real)
    });
    let (tx_results, end_events, validator_updates, app_hash) = if real == assumed {
        speculative?
    } else {
        run_txs_and_end_block(env, &tx_env, store, start, &block, header, &decoded, &real)?
    };
    events.extend(end_events);
    let tx_hashes = decoded
        .iter()
        .filter_map(|t| t.as_ref().ok().map(|t| t.hash))
        .collect();
    // Freeing the decoded txs and their sign bytes is thousands of frees FinalizeBlock need not
    // wait for. (Not the states: they hold the store, which must not outlive the app.)
    rayon::spawn(move || drop((decoded, work)));
    Ok(BlockResult {
        tx_results,
        events,
        app_hash,
        tx_hashes,
        validator_updates,
    })
}

/// What the block verified ahead, per tx: signature verdicts by signer and pre-block check
/// results by message.
#[derive(PartialEq)]
struct Ahead {
    sigs: Vec<Vec<Option<SigVerdict>>>,
    prechecks: Vec<PrecheckResults>,
}

/// Steps 3 to 5 of a block: every tx in order (ante, then its messages in a branch dropped on
/// failure) with the given signature verdicts, end block (every module in order, then the
/// invariants if configured), the modules' validator updates, and the new app hash (the store
/// stages the block's writes as the next version). Returns the tx outcomes, the end-block
/// events, the validator updates and the app hash.
#[allow(clippy::too_many_arguments)]
fn run_txs_and_end_block(
    env: &BlockEnv<'_>,
    tx_env: &TxEnv<'_>,
    store: &Store,
    mut state: State,
    block: &BlockInfo,
    header: &BlockHeader,
    decoded: &[StoaResult<DecodedTx>],
    ahead: &Ahead,
) -> StoaResult<EndOfBlock> {
    let mut tx_results = Vec::with_capacity(decoded.len());
    for (i, tx) in decoded.iter().enumerate() {
        let outcome = match tx {
            Ok(tx) => run_tx(
                tx_env,
                &mut state,
                block,
                ExecMode::Finalize,
                tx,
                ahead.sigs.get(i).map(Vec::as_slice).unwrap_or_default(),
                Some(
                    ahead
                        .prechecks
                        .get(i)
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                ),
            ),
            Err(e) => TxOutcome::failed(e, 0, 0, Vec::new()),
        };
        tx_results.push(outcome);
    }

    let (events, updates) = {
        let mut ctx = Ctx::unmetered(&mut state, block.clone(), ExecMode::Finalize);
        for m in env.router.modules() {
            ctx.in_module(m.name(), |ctx| m.end_block(ctx))
                .map_err(|e| halt(m.name(), "end_block", e))?;
        }
        // After every end_block, so a staking module sees the block's slashing and rewards.
        let mut updates = Vec::new();
        for m in env.router.modules() {
            updates.extend(
                ctx.in_module(m.name(), |ctx| m.validator_updates(ctx))
                    .map_err(|e| halt(m.name(), "validator_updates", e))?,
            );
        }
        check_updates(&updates).map_err(|e| halt("app", "validator_updates", e))?;
        let events = with_mode(ctx.take_events(), "EndBlock");
        if env.check_invariants {
            check_invariants(env.router, &mut ctx)?;
        }
        (events, updates)
    };

    let writes = state.take_writes();
    let app_hash = store
        .prepare_owned(header.height, writes)
        .map_err(|e| sdk::IO.with(format!("preparing version {}: {e}", header.height)))?;
    Ok((tx_results, events, updates, app_hash))
}

/// What [`run_txs_and_end_block`] returns: tx outcomes, end-block events, validator updates
/// and the app hash.
type EndOfBlock = (Vec<TxOutcome>, Vec<Event>, Vec<ValidatorUpdate>, [u8; 32]);

/// Registers the module accounts of modules added after genesis, the first time the chain
/// runs them (an upgrade that adds a module needs no migration for its accounts).
fn register_new_module_accounts(router: &Router, ctx: &mut Ctx<'_>) -> StoaResult<()> {
    for spec in router.module_accounts() {
        if !BankKeeper.has_module_account(ctx, spec.name)? {
            BankKeeper.register_module_accounts(ctx, &[spec])?;
        }
    }
    Ok(())
}

/// Every module's invariants; the first broken one is the error.
pub fn check_invariants(router: &Router, ctx: &mut Ctx<'_>) -> StoaResult<()> {
    for m in router.modules() {
        ctx.in_module(m.name(), |ctx| m.invariants(ctx))
            .map_err(|e| halt(m.name(), "invariant", e))?;
    }
    Ok(())
}

fn halt(module: &str, what: &str, e: StoaError) -> StoaError {
    StoaError {
        log: format!("module {module}: {what} failed: {}", e.log),
        ..e
    }
}
