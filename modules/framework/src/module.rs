//! The contract every module implements. The app holds modules in a fixed order, routes
//! messages by type URL and queries by gRPC method path, and runs the hooks in that order.

use std::sync::Arc;

use crate::address::Address;
use crate::ctx::Ctx;
use crate::error::StoaError;

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

    /// Type URLs of the messages this module handles, e.g. `/cosmos.bank.v1beta1.MsgSend`.
    fn msg_type_urls(&self) -> &'static [&'static str];

    /// Decodes and checks a message without state (Cosmos SDK's `ValidateBasic`): its signers
    /// (at least one), and the decoded message for [`Module::handle`].
    fn check_msg(&self, msg: &Any) -> Result<CheckedMsg, StoaError>;

    /// Executes a message, given what [`Module::check_msg`] returned for it; returns the
    /// encoded `Msg...Response`.
    fn handle(
        &self,
        ctx: &mut Ctx<'_>,
        msg: &Any,
        checked: &CheckedMsg,
    ) -> Result<Vec<u8>, StoaError>;

    /// gRPC method paths this module answers, e.g. `/cosmos.bank.v1beta1.Query/Balance`.
    fn query_paths(&self) -> &'static [&'static str];

    /// Answers a query with the encoded response message.
    fn query(&self, ctx: &mut Ctx<'_>, path: &str, request: &[u8]) -> Result<Vec<u8>, StoaError>;

    fn begin_block(&self, _ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        Ok(())
    }

    fn end_block(&self, _ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        Ok(())
    }

    /// Checks the module's invariants (e.g. supply equals the sum of balances); an error names
    /// the broken one.
    fn invariants(&self, _ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        Ok(())
    }
}
