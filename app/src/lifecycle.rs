//! THE block lifecycle, written out in one place: record the block, begin-block hooks of every
//! module in order, decode every tx and verify all their signatures in parallel (except those
//! CheckTx already verified; the verification starts before the first tx and runs alongside),
//! then each tx in order (ante, then its messages in a branch that is dropped on failure),
//! end-block hooks, invariants when configured, and finally the store computes the app hash.

use rayon::prelude::*;
use stoa_bank::{Account, PubKey};
use stoa_framework::block_record::{record_block, DEFAULT_BLOCK_HASH_RETENTION};
use stoa_framework::{
    sdk, Address, BlockInfo, Ctx, Event, ExecMode, State, StoaError, StoaResult, Store,
};

use crate::modules::Router;
use crate::tx::events::with_mode;
use crate::tx::params::load_params;
use crate::tx::sigcache::SigCache;
use crate::tx::signature::{verify_all, SigJob};
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
        record_block(&mut ctx, DEFAULT_BLOCK_HASH_RETENTION)?;
        for m in env.router.modules() {
            m.begin_block(&mut ctx)
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
    let assumed = verdict_table(
        &decoded,
        work.iter().map(|w| (w.tx, w.signer, w.verdict(true))),
    );
    let start = state.clone();
    let (speculative, real) = std::thread::scope(|scope| {
        let (work, decoded_ref) = (&work, &decoded);
        let verifier = scope.spawn(move || match signature_pool() {
            Some(pool) => pool.install(|| verify_in_chunks(work, decoded_ref)),
            None => verify_in_chunks(work, decoded_ref),
        });
        let speculative = run_txs_and_end_block(
            env, &tx_env, store, state, &block, header, &decoded, &assumed,
        );
        // A verifier that panicked left no verdicts: none differs from the assumed ones, so
        // the block reruns with the ante verifying every signature itself.
        let verdicts = verifier.join().unwrap_or_default();
        (speculative, verdict_table(&decoded, verdicts.into_iter()))
    });
    let (tx_results, end_events, app_hash) = if real == assumed {
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
    })
}

/// Steps 3 to 5 of a block: every tx in order (ante, then its messages in a branch dropped on
/// failure) with the given signature verdicts, end block (every module in order, then the
/// invariants if configured), and the new app hash (the store stages the block's writes as
/// the next version). Returns the tx outcomes, the end-block events and the app hash.
#[allow(clippy::too_many_arguments)]
fn run_txs_and_end_block(
    env: &BlockEnv<'_>,
    tx_env: &TxEnv<'_>,
    store: &Store,
    mut state: State,
    block: &BlockInfo,
    header: &BlockHeader,
    decoded: &[StoaResult<DecodedTx>],
    verdicts: &[Vec<Option<SigVerdict>>],
) -> StoaResult<(Vec<TxOutcome>, Vec<Event>, [u8; 32])> {
    let mut tx_results = Vec::with_capacity(decoded.len());
    for (i, tx) in decoded.iter().enumerate() {
        let outcome = match tx {
            Ok(tx) => run_tx(
                tx_env,
                &mut state,
                block,
                ExecMode::Finalize,
                tx,
                verdicts.get(i).map(Vec::as_slice).unwrap_or_default(),
            ),
            Err(e) => TxOutcome::failed(e, 0, 0, Vec::new()),
        };
        tx_results.push(outcome);
    }

    let events = {
        let mut ctx = Ctx::unmetered(&mut state, block.clone(), ExecMode::Finalize);
        for m in env.router.modules() {
            m.end_block(&mut ctx)
                .map_err(|e| halt(m.name(), "end_block", e))?;
        }
        let events = with_mode(ctx.take_events(), "EndBlock");
        if env.check_invariants {
            check_invariants(env.router, &mut ctx)?;
        }
        events
    };

    let writes = state.take_writes();
    let app_hash = store
        .prepare_owned(header.height, writes)
        .map_err(|e| sdk::IO.with(format!("preparing version {}: {e}", header.height)))?;
    Ok((tx_results, events, app_hash))
}

/// Every module's invariants; the first broken one is the error.
pub fn check_invariants(router: &Router, ctx: &mut Ctx<'_>) -> StoaResult<()> {
    for m in router.modules() {
        m.invariants(ctx)
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

/// How many txs' signatures are verified at a time. Chunks are cut by position in the block,
/// so ed25519 batches are the same on every machine.
pub const VERIFY_CHUNK_TXS: usize = 256;

/// One signature to verify: tx and signer index, the key and account number the sign bytes
/// were built for. `known_good` when CheckTx found it valid for the same key and number (no
/// sign bytes are built then).
struct SigWork {
    tx: usize,
    signer: usize,
    key: PubKey,
    account_number: u64,
    sign_bytes: Vec<u8>,
    known_good: bool,
}

impl SigWork {
    fn verdict(&self, ok: bool) -> SigVerdict {
        SigVerdict {
            pub_key: self.key,
            account_number: self.account_number,
            ok,
        }
    }
}

/// The account as it stands in `state`, read without gas or a `Ctx` so that many threads can
/// look up at once. Only a hint for verifying ahead: the ante reads the account again and
/// uses a verdict only if key and number still match.
fn peek_account(state: &State, addr: &Address) -> Option<Account> {
    let raw = state.get(&stoa_bank::state_key::account(addr)).ok()??;
    Account::decode(&raw).ok()
}

/// The signatures to verify for every signer of every decodable tx, against the accounts as
/// they stand before the block's first tx (an account created earlier in the same block has
/// no entry; the ante verifies it when the tx runs). Built in parallel, in block order.
fn signature_work(
    state: &State,
    chain_id: &str,
    decoded: &[StoaResult<DecodedTx>],
    cache: Option<&SigCache>,
) -> Vec<SigWork> {
    let hashes: Vec<Option<[u8; 32]>> = decoded
        .iter()
        .map(|t| t.as_ref().ok().map(|t| t.hash))
        .collect();
    let cached = cache
        .map(|c| c.get_all(&hashes))
        .unwrap_or_else(|| vec![None; decoded.len()]);
    let work: Vec<SigWork> = decoded
        .par_iter()
        .zip(cached)
        .enumerate()
        .flat_map_iter(|(t, (tx, cached))| {
            let signers = tx
                .as_ref()
                .map(|tx| tx.signers.as_slice())
                .unwrap_or_default();
            signers.iter().enumerate().filter_map(move |(s, signer)| {
                let tx = tx.as_ref().ok()?;
                let account = peek_account(state, &signer.address)?;
                let key = account.pub_key.or(signer.pub_key)?;
                let known_good =
                    cached.as_ref().and_then(|c| c.get(s)) == Some(&(key, account.account_number));
                Some(SigWork {
                    tx: t,
                    signer: s,
                    key,
                    account_number: account.account_number,
                    sign_bytes: if known_good {
                        Vec::new()
                    } else {
                        tx.sign_bytes(chain_id, account.account_number)
                    },
                    known_good,
                })
            })
        })
        .collect();
    // Already in block order: rayon's collect keeps the order of its input.
    work
}

fn verify_in_chunks(
    work: &[SigWork],
    decoded: &[StoaResult<DecodedTx>],
) -> Vec<(usize, usize, SigVerdict)> {
    let mut out = Vec::with_capacity(work.len());
    let (mut item, mut tx_start) = (0, 0);
    while tx_start < decoded.len() {
        let tx_end = (tx_start + VERIFY_CHUNK_TXS).min(decoded.len());
        let item_end = item + work[item..].partition_point(|w| w.tx < tx_end);
        let chunk = &work[item..item_end];
        let jobs: Vec<SigJob<'_>> = chunk
            .iter()
            .filter(|w| !w.known_good)
            .map(|w| {
                let sig = decoded[w.tx]
                    .as_ref()
                    .map(|tx| tx.signers[w.signer].signature.as_slice())
                    .unwrap_or_default();
                SigJob {
                    pub_key: &w.key,
                    msg: &w.sign_bytes,
                    sig,
                }
            })
            .collect();
        let mut oks = verify_all(&jobs).into_iter();
        out.extend(chunk.iter().map(|w| {
            let ok = w.known_good || oks.next().unwrap_or(false);
            (w.tx, w.signer, w.verdict(ok))
        }));
        item = item_end;
        tx_start = tx_end;
    }
    out
}

/// Verdicts by tx and signer: `None` where none was given (the ante then verifies the
/// signature itself). The speculative run's table has `ok` for every signature verified ahead.
fn verdict_table(
    decoded: &[StoaResult<DecodedTx>],
    verdicts: impl Iterator<Item = (usize, usize, SigVerdict)>,
) -> Vec<Vec<Option<SigVerdict>>> {
    let mut out: Vec<Vec<Option<SigVerdict>>> = decoded
        .iter()
        .map(|tx| vec![None; tx.as_ref().map(|t| t.signers.len()).unwrap_or(0)])
        .collect();
    for (t, s, v) in verdicts {
        if let Some(slot) = out.get_mut(t).and_then(|signers| signers.get_mut(s)) {
            *slot = Some(v);
        }
    }
    out
}

/// A thread pool of its own for verifying a block's signatures, so that the work running
/// alongside (the store's parallel hashing in `prepare`) is not queued behind it on the global
/// pool; the OS shares the cores between both. `None` if it cannot be built (then the global
/// pool verifies).
fn signature_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(rayon::current_num_threads())
            .thread_name(|i| format!("stoa-sig-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}
