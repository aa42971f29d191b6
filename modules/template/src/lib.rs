//! The template module, a bulletin board: anyone posts a note for a while, paying a deposit that
//! the module holds in escrow and returns when the note expires (end block) or its author
//! deletes it. It is the worked example of docs/DEVELOPING.md and uses every piece a market
//! needs: typed state with an index, one handler per message (one with a pre-block check),
//! queries with pagination, params, typed events, a due queue, a keeper trait and an
//! invariant.

pub mod error;
mod events;
pub mod genesis;
mod handler;
mod keeper;
pub mod params;
mod query;
mod state;

pub use keeper::TemplateBank;
pub use params::TemplateParams;

use stoa_framework::{Ctx, Module, ModuleAccountSpec, Registrar, StoaError};

pub const MODULE_NAME: &str = "template";
/// The module account holding the notes' deposits.
pub const ESCROW: &str = "template";

/// The module, over the bank it pays through (any keeper with the small trait it declares).
pub struct TemplateModule<B: TemplateBank> {
    bank: B,
}

impl<B: TemplateBank + Clone> TemplateModule<B> {
    pub fn new(bank: B) -> Self {
        TemplateModule { bank }
    }
}

impl<B: TemplateBank + Clone> Module for TemplateModule<B> {
    fn name(&self) -> &'static str {
        MODULE_NAME
    }

    fn module_accounts(&self) -> Vec<ModuleAccountSpec> {
        vec![ModuleAccountSpec {
            name: ESCROW,
            mint: false,
            burn: false,
        }]
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis::TemplateGenesis::default().to_json()
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), StoaError> {
        genesis::TemplateGenesis::from_json(genesis)?.validate()
    }

    fn init_genesis(
        &self,
        ctx: &mut Ctx<'_>,
        genesis: &serde_json::Value,
    ) -> Result<(), StoaError> {
        genesis::init(ctx, &genesis::TemplateGenesis::from_json(genesis)?)
    }

    fn export_genesis(&self, ctx: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        Ok(genesis::export(ctx)?.to_json())
    }

    fn register(&self, r: &mut Registrar) {
        r.msg(handler::Post(self.bank.clone()))
            .msg(handler::Delete(self.bank.clone()));
        query::register(r);
    }

    fn end_block(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        handler::expire_notes(&self.bank, ctx)
    }

    fn invariants(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        keeper::escrow_invariant(&self.bank, ctx)
    }
}
