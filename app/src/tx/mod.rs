//! The tx pipeline: decode, ante, then the messages in a branch of the state that is dropped if
//! any message fails (the ante's fee and sequence bump stay), with Cosmos-style events.

pub mod amino;
pub mod ante;
pub mod decode;
pub mod events;
pub mod params;
pub mod sigcache;

use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use prost::Message;
use std::borrow::Cow;
use stoa_bank::PubKey;
use stoa_framework::fixed::Dec;
use stoa_framework::{
    Address, Any, BlockInfo, Ctx, Event, ExecMode, GasMeter, PreState, State, StoaError, StoaResult,
};

use crate::modules::Router;
use crate::preverify::{precheck_error, precheck_tx};
pub use decode::{decode_tx, DecodedTx};
pub use params::TxParams;

/// The bank's module account that collects fees.
pub use stoa_bank::FEE_COLLECTOR;

/// What the ante should assume about a signature verified ahead of execution: valid for this
/// key and account number (the inputs of the sign bytes besides the tx itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigVerdict {
    pub pub_key: PubKey,
    pub account_number: u64,
    pub ok: bool,
}

/// What a tx runs with besides the state.
pub struct TxEnv<'a> {
    pub router: &'a Router,
    pub params: &'a TxParams,
    pub chain_id: &'a str,
    /// The node's own minimum gas prices (CheckTx only; empty elsewhere).
    pub node_min_gas_prices: &'a [(String, Dec)],
}

/// The result of one tx, as FinalizeBlock and CheckTx report it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxOutcome {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<Event>,
    /// Encoded `TxMsgData` with the messages' responses.
    pub data: Vec<u8>,
    pub msg_responses: Vec<Any>,
}

impl TxOutcome {
    pub fn failed(err: &StoaError, gas_wanted: u64, gas_used: u64, events: Vec<Event>) -> Self {
        TxOutcome {
            code: err.code,
            codespace: err.codespace.to_string(),
            log: err.log.clone(),
            gas_wanted,
            gas_used,
            events,
            data: Vec::new(),
            msg_responses: Vec::new(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.code == 0
    }
}

/// Runs one decoded tx on `state`. CheckTx and ReCheck stop after the ante and the messages'
/// pre-block checks; Finalize and Simulate run the messages. `prechecks` are the pre-block
/// check results the block computed ahead (`None`: run them here, against `state`). The state keeps the ante's writes only if the ante
/// passed, and the messages' writes only if every message passed.
pub fn run_tx(
    env: &TxEnv<'_>,
    state: &mut State,
    block: &BlockInfo,
    mode: ExecMode,
    tx: &DecodedTx,
    verdicts: &[Option<SigVerdict>],
    prechecks: Option<&[StoaResult<()>]>,
) -> TxOutcome {
    let meter = if mode == ExecMode::Simulate {
        GasMeter::infinite()
    } else {
        GasMeter::new(tx.gas_limit)
    };
    state.branch();
    let mut ctx =
        Ctx::with_block(state, Cow::Borrowed(block), mode, meter).with_gas_config(env.params.gas);

    if let Err(e) = ante::run_ante(&mut ctx, env, tx, verdicts) {
        let used = ctx.gas().consumed();
        drop(ctx);
        state.discard_branch();
        return TxOutcome::failed(&e, tx.gas_limit, used, Vec::new());
    }
    let ran_here;
    let prechecks = match prechecks {
        Some(p) => p,
        None => {
            let pre = PreState {
                state: ctx.state(),
                block,
            };
            ran_here = precheck_tx(env.router, &pre, tx);
            &ran_here
        }
    };
    if matches!(mode, ExecMode::Check | ExecMode::ReCheck) {
        if let Some((i, e)) = prechecks
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
        {
            let used = ctx.gas().consumed();
            drop(ctx);
            state.discard_branch();
            let e = StoaError {
                log: format!("message index: {i}: {}", e.log),
                ..e.clone()
            };
            return TxOutcome::failed(&e, tx.gas_limit, used, Vec::new());
        }
        let used = ctx.gas().consumed();
        let events = ctx.take_events();
        drop(ctx);
        state.commit_branch();
        return TxOutcome {
            gas_wanted: tx.gas_limit,
            gas_used: used,
            events,
            ..Default::default()
        };
    }

    let result = ctx.branch(|ctx| run_msgs(env, ctx, tx, prechecks));
    let used = ctx.gas().consumed();
    let events = ctx.take_events();
    drop(ctx);
    state.commit_branch();
    match result {
        Ok(msg_responses) => {
            let data = TxMsgData {
                #[allow(deprecated)]
                data: Vec::new(),
                msg_responses: msg_responses
                    .iter()
                    .map(|a| tendermint_proto::google::protobuf::Any {
                        type_url: a.type_url.clone(),
                        value: a.value.clone(),
                    })
                    .collect(),
            }
            .encode_to_vec();
            TxOutcome {
                code: 0,
                codespace: String::new(),
                log: String::new(),
                gas_wanted: tx.gas_limit,
                gas_used: used,
                events,
                data,
                msg_responses,
            }
        }
        Err(e) => TxOutcome::failed(&e, tx.gas_limit, used, events),
    }
}

fn run_msgs(
    env: &TxEnv<'_>,
    ctx: &mut Ctx<'_>,
    tx: &DecodedTx,
    prechecks: &[StoaResult<()>],
) -> Result<Vec<Any>, StoaError> {
    let mut responses = Vec::with_capacity(tx.msgs.len());
    for (i, (msg, checked)) in tx.msgs.iter().zip(&tx.checked).enumerate() {
        // `decode_tx` refuses messages without a signer.
        let sender = checked.signers.first().copied().unwrap_or(Address([0; 20]));
        let route = env.router.for_msg(&msg.type_url)?;
        let first_event = ctx.events().len();
        ctx.emit(
            Event::new("message")
                .attr("action", &msg.type_url)
                .attr("sender", sender)
                .attr("module", route.module),
        );
        let outcome = match precheck_error(prechecks, i) {
            Some(e) => Err(e),
            None => route.execute(ctx, checked),
        };
        let value = outcome.map_err(|e| StoaError {
            log: format!("failed to execute message; message index: {i}: {}", e.log),
            ..e
        })?;
        events::tag_msg_index(ctx, first_event, i);
        responses.push(Any {
            type_url: format!("{}Response", msg.type_url),
            value,
        });
    }
    Ok(responses)
}
