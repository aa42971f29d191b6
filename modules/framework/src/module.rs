//! The contract every module implements. The app holds modules in a fixed order, routes
//! messages by type URL and queries by gRPC method path, and runs the hooks in that order.

use std::sync::Arc;

use crate::address::Address;
use crate::ctx::{BlockInfo, Ctx};
use crate::error::{sdk, StoaError};
use crate::state::State;
use crate::validators::ValidatorUpdate;
use crate::StoaResult;
use prost::Message as _;

/// The protobuf `Any` that cosmos-sdk-proto and tendermint-proto use, so messages pass through unchanged.
pub use cosmrs::Any;

/// A module account a module needs, and whether the module may mint into or burn from it.
/// The app hands every module's list to the bank at genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModuleAccountSpec {
    pub name: &'static str,
    pub mint: bool,
    pub burn: bool,
}

/// A message its module decoded and checked without state (Cosmos SDK's `ValidateBasic`): the
/// accounts that must sign it, in order, and the decoded message, which the tx keeps until the
/// message runs so that it is decoded once.
#[derive(Clone)]
pub struct CheckedMsg {
    pub signers: Vec<Address>,
    decoded: Arc<dyn std::any::Any + Send + Sync>,
}

impl CheckedMsg {
    pub fn new<T: std::any::Any + Send + Sync>(signers: Vec<Address>, decoded: T) -> Self {
        CheckedMsg {
            signers,
            decoded: Arc::new(decoded),
        }
    }

    /// The decoded message, if its module decoded it as a `T`.
    pub fn decoded<T: std::any::Any>(&self) -> Option<&T> {
        self.decoded.downcast_ref()
    }
}

impl std::fmt::Debug for CheckedMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedMsg")
            .field("signers", &self.signers)
            .finish_non_exhaustive()
    }
}

/// The state before the block's first tx, for checks that run in parallel with the block's
/// signature verification (proofs, vouchers, heartbeats): read-only and unmetered.
pub struct PreState<'a> {
    pub state: &'a State,
    pub block: &'a BlockInfo,
}

/// One message type: its stateless check (Cosmos SDK's `ValidateBasic`, with the signers), an
/// optional check against the pre-block state, and its execution. Registered once by its
/// module; the type URL comes from the message's `prost::Name`.
pub trait MsgHandler: Send + Sync + 'static {
    type Msg: prost::Message + prost::Name + Default;
    /// The message's amino name: the `type` of its `{"type", "value"}` object in
    /// `SIGN_MODE_LEGACY_AMINO_JSON` sign bytes (Ledger, cosmjs's Amino signer). The Cosmos SDK's
    /// for its messages (`cosmos-sdk/MsgSend`), `stoa/<module>/Msg...` for Stoa's; at most 39
    /// characters (a Ledger refuses longer ones) and unique in the chain (the router checks).
    const AMINO_NAME: &'static str;
    /// What the check makes of the message (parsed addresses, coins...), kept until it runs.
    type Checked: Send + Sync + 'static;
    type Response: prost::Message;

    /// Checks the message without state; returns the accounts that must sign it (at least
    /// one, the first is the message's sender) and the checked form.
    fn check(&self, msg: Self::Msg) -> StoaResult<(Vec<Address>, Self::Checked)>;

    /// Whether [`MsgHandler::precheck`] does anything (the block schedules only those that do).
    fn has_precheck(&self) -> bool {
        false
    }

    /// Expensive checks (a proof, a voucher signature) against the state before the block,
    /// run for every message of a block in parallel with the signatures, and in CheckTx. A
    /// failure fails the message as if `execute` had returned it. `execute` still runs against
    /// the current state and must re-check whatever the block's earlier txs can change.
    fn precheck(&self, _pre: &PreState<'_>, _msg: &Self::Checked) -> StoaResult<()> {
        Ok(())
    }

    fn execute(&self, ctx: &mut Ctx<'_>, msg: &Self::Checked) -> StoaResult<Self::Response>;
}

/// A [`MsgHandler`] with its types erased, as the router holds it.
pub trait ErasedMsgHandler: Send + Sync {
    /// [`MsgHandler::AMINO_NAME`].
    fn amino_name(&self) -> &'static str;
    fn check(&self, msg: &Any) -> StoaResult<CheckedMsg>;
    fn has_precheck(&self) -> bool;
    fn precheck(&self, pre: &PreState<'_>, checked: &CheckedMsg) -> StoaResult<()>;
    /// The encoded response.
    fn execute(&self, ctx: &mut Ctx<'_>, checked: &CheckedMsg) -> StoaResult<Vec<u8>>;
}

impl<H: MsgHandler> ErasedMsgHandler for H {
    fn amino_name(&self) -> &'static str {
        H::AMINO_NAME
    }

    fn check(&self, msg: &Any) -> StoaResult<CheckedMsg> {
        let decoded = H::Msg::decode(msg.value.as_slice())
            .map_err(|e| sdk::TX_DECODE.with(format!("{}: {e}", <H::Msg as prost::Name>::NAME)))?;
        let (signers, checked) = MsgHandler::check(self, decoded)?;
        if signers.is_empty() {
            return Err(
                sdk::INVALID_REQUEST.with(format!("message {} has no signer", msg.type_url))
            );
        }
        Ok(CheckedMsg::new(signers, checked))
    }

    fn has_precheck(&self) -> bool {
        MsgHandler::has_precheck(self)
    }

    fn precheck(&self, pre: &PreState<'_>, checked: &CheckedMsg) -> StoaResult<()> {
        MsgHandler::precheck(self, pre, downcast::<H>(checked)?)
    }

    fn execute(&self, ctx: &mut Ctx<'_>, checked: &CheckedMsg) -> StoaResult<Vec<u8>> {
        Ok(MsgHandler::execute(self, ctx, downcast::<H>(checked)?)?.encode_to_vec())
    }
}

fn downcast<H: MsgHandler>(checked: &CheckedMsg) -> StoaResult<&H::Checked> {
    checked.decoded::<H::Checked>().ok_or_else(|| {
        sdk::LOGIC.with(format!(
            "{} was checked by another handler",
            <H::Msg as prost::Name>::NAME
        ))
    })
}

/// A query method with its types erased: request bytes in, response bytes out.
pub type QueryFn = dyn Fn(&mut Ctx<'_>, &[u8]) -> StoaResult<Vec<u8>> + Send + Sync;

/// What a module registers: its message handlers and query methods. The router refuses a
/// type URL or query path registered twice, at start-up.
pub struct Registrar {
    module: &'static str,
    pub(crate) msgs: Vec<(String, Arc<dyn ErasedMsgHandler>)>,
    pub(crate) queries: Vec<(String, Arc<QueryFn>)>,
}

impl Registrar {
    pub fn new(module: &'static str) -> Self {
        Registrar {
            module,
            msgs: Vec::new(),
            queries: Vec::new(),
        }
    }

    pub fn module(&self) -> &'static str {
        self.module
    }

    /// Registers the handler of one message type, under `H::Msg`'s type URL.
    pub fn msg<H: MsgHandler>(&mut self, handler: H) -> &mut Self {
        self.msgs
            .push((<H::Msg as prost::Name>::type_url(), Arc::new(handler)));
        self
    }

    /// Registers a query method at its gRPC path (`/pkg.Service/Method`).
    pub fn query<Req, Resp>(
        &mut self,
        path: &'static str,
        f: impl Fn(&mut Ctx<'_>, Req) -> StoaResult<Resp> + Send + Sync + 'static,
    ) -> &mut Self
    where
        Req: prost::Message + Default,
        Resp: prost::Message,
    {
        let run = move |ctx: &mut Ctx<'_>, raw: &[u8]| -> StoaResult<Vec<u8>> {
            let req = Req::decode(raw)
                .map_err(|e| sdk::TX_DECODE.with(format!("query request {path}: {e}")))?;
            Ok(f(ctx, req)?.encode_to_vec())
        };
        self.queries.push((path.to_string(), Arc::new(run)));
        self
    }

    /// The registered type URLs and query paths.
    pub fn into_parts(self) -> (MsgRoutes, QueryRoutes) {
        (self.msgs, self.queries)
    }
}

/// Registered message handlers by type URL.
pub type MsgRoutes = Vec<(String, Arc<dyn ErasedMsgHandler>)>;
/// Registered query methods by path.
pub type QueryRoutes = Vec<(String, Arc<QueryFn>)>;

pub trait Module: Send + Sync {
    /// The module's name: its key prefix (`<name>/`), genesis section and store query name.
    fn name(&self) -> &'static str;

    /// Module accounts this module owns (escrow, reward pools, ...).
    fn module_accounts(&self) -> Vec<ModuleAccountSpec> {
        Vec::new()
    }

    /// The genesis section a new chain starts with (params and initial state, JSON).
    fn default_genesis(&self) -> serde_json::Value;

    /// Validates the genesis section without state, so `stoad` can check a file before a start.
    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), StoaError>;

    fn init_genesis(&self, ctx: &mut Ctx<'_>, genesis: &serde_json::Value)
        -> Result<(), StoaError>;

    fn export_genesis(&self, ctx: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError>;

    /// Registers the module's message handlers and query methods.
    fn register(&self, r: &mut Registrar);

    fn begin_block(&self, _ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        Ok(())
    }

    fn end_block(&self, _ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        Ok(())
    }

    /// Changes to CometBFT's validator set from this block (power 0 removes a validator), run
    /// after every module's `end_block`; none by default. CometBFT applies them from height
    /// H+2. Only a module that owns the validator set (staking) returns any; a key updated by
    /// two modules in one block halts the chain.
    fn validator_updates(&self, _ctx: &mut Ctx<'_>) -> Result<Vec<ValidatorUpdate>, StoaError> {
        Ok(Vec::new())
    }

    /// Checks the module's invariants (e.g. supply equals the sum of balances); an error names
    /// the broken one.
    fn invariants(&self, _ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        Ok(())
    }
}
