//! What a block verifies ahead of executing its txs, in parallel on a pool of its own: every
//! signature (except those CheckTx already verified) and every message's check against the
//! pre-block state (`MsgHandler::precheck`: proofs, vouchers, heartbeats). The lifecycle runs
//! the txs speculatively alongside, as if all of it passed, and compares afterwards.

use rayon::prelude::*;
use stoa_bank::{Account, AuthKeeper, BankKeeper};
use stoa_framework::crypto::{verify_batch, SigJob};
use stoa_framework::{Address, BlockInfo, PreState, State, StoaError, StoaResult};

use crate::modules::Router;
use crate::tx::sigcache::SigCache;
use crate::tx::{DecodedTx, SigVerdict};
use stoa_framework::crypto::PubKey;

/// The pre-block check results of one tx, one per message; empty when every message passed
/// (or none has a pre-block check), which is also what the speculative run assumes.
pub type PrecheckResults = Vec<StoaResult<()>>;

/// Runs the pre-block checks of a tx's messages; an empty list when all pass.
pub fn precheck_tx(router: &Router, pre: &PreState<'_>, tx: &DecodedTx) -> PrecheckResults {
    let mut out: PrecheckResults = Vec::new();
    for (i, (msg, checked)) in tx.msgs.iter().zip(&tx.checked).enumerate() {
        let Ok(route) = router.for_msg(&msg.type_url) else {
            continue;
        };
        if !route.handler.has_precheck() {
            continue;
        }
        if let Err(e) = route.handler.precheck(pre, checked) {
            out.resize(tx.msgs.len(), Ok(()));
            out[i] = Err(e);
        }
    }
    out
}

/// The pre-block checks of every decodable tx of a block, in parallel.
pub fn precheck_block(
    router: &Router,
    state: &State,
    block: &BlockInfo,
    decoded: &[StoaResult<DecodedTx>],
) -> Vec<PrecheckResults> {
    if !decoded.iter().flatten().any(|tx| has_prechecks(router, tx)) {
        return vec![Vec::new(); decoded.len()];
    }
    let pre = PreState { state, block };
    decoded
        .par_iter()
        .map(|tx| match tx {
            Ok(tx) => precheck_tx(router, &pre, tx),
            Err(_) => Vec::new(),
        })
        .collect()
}

fn has_prechecks(router: &Router, tx: &DecodedTx) -> bool {
    tx.msgs.iter().any(|m| {
        router
            .for_msg(&m.type_url)
            .is_ok_and(|r| r.handler.has_precheck())
    })
}

/// The first failed pre-block check of a tx's message `i`, if any.
pub fn precheck_error(results: &[StoaResult<()>], i: usize) -> Option<StoaError> {
    results.get(i).and_then(|r| r.as_ref().err().cloned())
}

/// How many txs' signatures are verified at a time. Chunks are cut by position in the block,
/// so ed25519 batches are the same on every machine.
pub const VERIFY_CHUNK_TXS: usize = 256;

/// One signature to verify: tx and signer index, the key and account number the sign bytes
/// were built for. `known_good` when CheckTx found it valid for the same key and number (no
/// sign bytes are built then).
pub(crate) struct SigWork {
    pub(crate) tx: usize,
    pub(crate) signer: usize,
    key: PubKey,
    account_number: u64,
    sign_bytes: Vec<u8>,
    known_good: bool,
}

impl SigWork {
    pub(crate) fn verdict(&self, ok: bool) -> SigVerdict {
        SigVerdict {
            pub_key: self.key.clone(),
            account_number: self.account_number,
            ok,
        }
    }
}

/// The account as it stands in `state`, read without gas or a `Ctx` so that many threads can
/// look up at once. Only a hint for verifying ahead: the ante reads the account again and
/// uses a verdict only if key and number still match.
fn peek_account(state: &State, addr: &Address) -> Option<Account> {
    BankKeeper.peek_account(state, addr)
}

/// The signatures to verify for every signer of every decodable tx, against the accounts as
/// they stand before the block's first tx (an account created earlier in the same block has
/// no entry; the ante verifies it when the tx runs). Built in parallel, in block order.
pub(crate) fn signature_work(
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
                let key = account.pub_key.or_else(|| signer.pub_key.clone())?;
                let known_good = cached
                    .as_ref()
                    .and_then(|c| c.get(s))
                    .is_some_and(|(k, n)| *k == key && *n == account.account_number);
                // A mode that cannot be verified gets no verdict: the ante refuses it.
                let sign_bytes = if known_good {
                    Vec::new()
                } else {
                    tx.signer_sign_bytes(s, chain_id, account.account_number)?
                };
                Some(SigWork {
                    tx: t,
                    signer: s,
                    key,
                    account_number: account.account_number,
                    sign_bytes,
                    known_good,
                })
            })
        })
        .collect();
    // Already in block order: rayon's collect keeps the order of its input.
    work
}

pub(crate) fn verify_in_chunks(
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
        let mut oks = verify_batch(&jobs).into_iter();
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
pub(crate) fn verdict_table(
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
pub(crate) fn signature_pool() -> Option<&'static rayon::ThreadPool> {
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
