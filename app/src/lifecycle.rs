//! THE block lifecycle, written out in one place: record the block, begin-block hooks of every
//! module in order, decode every tx and verify all their signatures in parallel, then each tx in
//! order (ante, then its messages in a branch that is dropped on failure), end-block hooks,
//! invariants when configured, and finally the store computes the new app hash.

use rayon::prelude::*;
use stoa_bank::{BankKeeper, PubKey};
use stoa_framework::block_record::{record_block, DEFAULT_BLOCK_HASH_RETENTION};
use stoa_framework::{sdk, BlockInfo, Ctx, Event, ExecMode, State, StoaError, StoaResult, Store};

use crate::modules::Router;
use crate::tx::events::with_mode;
use crate::tx::params::load_params;
use crate::tx::signature::{verify_all, SigJob};
use crate::tx::{decode_tx, run_tx, DecodedTx, SigVerdict, TxEnv, TxOutcome};

/// What a block needs besides its txs and the state it runs on.
pub struct BlockEnv<'a> {
    pub router: &'a Router,
    pub chain_id: &'a str,
    pub check_invariants: bool,
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

    // 2. Decode every tx and verify every signature, all in parallel, before any executes.
    let params = load_params(&state)?;
    let decoded: Vec<StoaResult<DecodedTx>> = txs
        .par_iter()
        .map(|raw| decode_tx(raw, env.router))
        .collect();
    let verdicts = verify_block_signatures(&mut state, &block, env.chain_id, &decoded)?;

    // 3. Every tx in order.
    let tx_env = TxEnv {
        router: env.router,
        params: &params,
        chain_id: env.chain_id,
        node_min_gas_prices: &[],
    };
    let mut tx_results = Vec::with_capacity(txs.len());
    for (tx, verdicts) in decoded.iter().zip(&verdicts) {
        let outcome = match tx {
            Ok(tx) => run_tx(
                &tx_env,
                &mut state,
                &block,
                ExecMode::Finalize,
                tx,
                verdicts,
            ),
            Err(e) => TxOutcome::failed(e, 0, 0, Vec::new()),
        };
        tx_results.push(outcome);
    }

    // 4. End block: every module in order, then the invariants if configured.
    {
        let mut ctx = Ctx::unmetered(&mut state, block.clone(), ExecMode::Finalize);
        for m in env.router.modules() {
            m.end_block(&mut ctx)
                .map_err(|e| halt(m.name(), "end_block", e))?;
        }
        events.extend(with_mode(ctx.take_events(), "EndBlock"));
        if env.check_invariants {
            check_invariants(env.router, &mut ctx)?;
        }
    }

    // 5. The new app hash: the store stages the block's writes as the next version.
    let writes = state.take_writes();
    let app_hash = store
        .prepare(header.height, &writes)
        .map_err(|e| sdk::IO.with(format!("preparing version {}: {e}", header.height)))?;
    Ok(BlockResult {
        tx_results,
        events,
        app_hash,
    })
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

/// Verdicts for every signer of every decodable tx, against the accounts as they stand before
/// the block's first tx. The ante uses a verdict only if the account number and key it was
/// computed for still hold when the tx runs (an account created earlier in the same block
/// gets checked again then).
fn verify_block_signatures(
    state: &mut State,
    block: &BlockInfo,
    chain_id: &str,
    decoded: &[StoaResult<DecodedTx>],
) -> StoaResult<Vec<Vec<Option<SigVerdict>>>> {
    // (tx index, signer index, key, account number, sign bytes)
    let mut work: Vec<(usize, usize, PubKey, u64, Vec<u8>)> = Vec::new();
    {
        let mut ctx = Ctx::unmetered(state, block.clone(), ExecMode::Finalize);
        for (t, tx) in decoded.iter().enumerate() {
            let Ok(tx) = tx else { continue };
            for (s, signer) in tx.signers.iter().enumerate() {
                let Some(account) = BankKeeper::account(&mut ctx, &signer.address)? else {
                    continue;
                };
                let Some(key) = account.pub_key.or(signer.pub_key) else {
                    continue;
                };
                work.push((t, s, key, account.account_number, Vec::new()));
            }
        }
    }
    // Sign bytes are built in parallel too: they copy the body and auth info of every tx.
    work.par_iter_mut()
        .for_each(|(t, _, _, account_number, bytes)| {
            if let Ok(tx) = &decoded[*t] {
                *bytes = tx.sign_bytes(chain_id, *account_number);
            }
        });
    let jobs: Vec<SigJob<'_>> = work
        .iter()
        .map(|(t, s, key, _, bytes)| {
            let sig = decoded[*t]
                .as_ref()
                .map(|tx| tx.signers[*s].signature.as_slice())
                .unwrap_or_default();
            SigJob {
                pub_key: key,
                msg: bytes,
                sig,
            }
        })
        .collect();
    let oks = verify_all(&jobs);

    let mut out: Vec<Vec<Option<SigVerdict>>> = decoded
        .iter()
        .map(|tx| vec![None; tx.as_ref().map(|t| t.signers.len()).unwrap_or(0)])
        .collect();
    for ((t, s, key, account_number, _), ok) in work.into_iter().zip(oks) {
        out[t][s] = Some(SigVerdict {
            pub_key: key,
            account_number,
            ok,
        });
    }
    Ok(out)
}
