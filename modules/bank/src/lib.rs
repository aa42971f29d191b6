//! The bank: accounts (number, sequence, public key — Cosmos SDK's `x/auth`), balances in any
//! registered denom, total supply per denom, module accounts that alone may mint and burn, and
//! Cosmos SDK compatible `MsgSend` and queries.

pub mod account;
pub mod error;
pub mod events;
pub mod genesis;
mod handler;
pub mod keeper;
mod msgs;
pub mod params;
mod query;
mod state;

pub use account::{Account, PubKey};
pub use keeper::{AuthKeeper, BankKeeper, BankMint, BankSend, BankView};
pub use params::{BankParams, DenomInfo};

use stoa_framework::{Ctx, Module, ModuleAccountSpec, Registrar, StoaError};

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
        BankKeeper.register_module_accounts(ctx, &self.module_accounts())?;
        genesis::init(ctx, &g)
    }

    fn export_genesis(&self, ctx: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        genesis::export(ctx)?.to_json()
    }

    fn register(&self, r: &mut Registrar) {
        r.msg(handler::SendHandler);
        query::register(r);
    }

    fn invariants(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        keeper::supply_invariant(ctx)
    }
}
