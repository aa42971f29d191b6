//! The bank: accounts (number, sequence, public key — Cosmos SDK's `x/auth`), balances in any
//! registered denom, total supply per denom, module accounts that alone may mint and burn, and
//! Cosmos SDK compatible `MsgSend` and queries.

pub mod error;
pub mod events;
pub mod genesis;
pub mod handler;
pub mod keeper;
pub mod msgs;
pub mod params;
pub mod query;
pub mod state;
pub mod state_key;

pub use keeper::BankKeeper;
pub use params::{BankParams, DenomInfo};
pub use state::Account;
pub use stoa_framework::crypto::PubKey;

use stoa_framework::{Any, CheckedMsg, Ctx, Module, ModuleAccountSpec, StoaError};

pub const MODULE_NAME: &str = "bank";
/// Collects tx fees.
pub const FEE_COLLECTOR: &str = "fee_collector";
/// Holds the genesis allocation that no account has been given yet.
pub const RESERVE: &str = "reserve";

#[derive(Default)]
pub struct BankModule;

impl BankModule {
    pub fn new() -> Self {
        BankModule
    }
}

impl Module for BankModule {
    fn name(&self) -> &'static str {
        MODULE_NAME
    }

    fn module_accounts(&self) -> Vec<ModuleAccountSpec> {
        vec![
            ModuleAccountSpec {
                name: FEE_COLLECTOR,
                mint: false,
                burn: false,
            },
            ModuleAccountSpec {
                name: RESERVE,
                mint: false,
                burn: false,
            },
        ]
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis::default_genesis_json()
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), StoaError> {
        genesis::BankGenesis::from_json(genesis)?.validate()
    }

    fn init_genesis(
        &self,
        ctx: &mut Ctx<'_>,
        genesis: &serde_json::Value,
    ) -> Result<(), StoaError> {
        let g = genesis::BankGenesis::from_json(genesis)?;
        g.validate()?;
        BankKeeper::register_module_accounts(ctx, &self.module_accounts())?;
        genesis::init(ctx, &g)
    }

    fn export_genesis(&self, ctx: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        genesis::export(ctx)?.to_json()
    }

    fn msg_type_urls(&self) -> &'static [&'static str] {
        &[msgs::MSG_SEND]
    }

    fn check_msg(&self, msg: &Any) -> Result<CheckedMsg, StoaError> {
        msgs::check(msg)
    }

    fn handle(
        &self,
        ctx: &mut Ctx<'_>,
        msg: &Any,
        checked: &CheckedMsg,
    ) -> Result<Vec<u8>, StoaError> {
        handler::handle(ctx, msg, checked)
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx<'_>, path: &str, request: &[u8]) -> Result<Vec<u8>, StoaError> {
        query::query(ctx, path, request)
    }

    fn invariants(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        keeper::supply_invariant(ctx)
    }
}
