//! The intelligence market (modelled on Bittensor's subtensor): subnets with owners and locked
//! registration cost, neurons registered by burning MIND (pruning the weakest non-immune one
//! when full), weights set directly or by commit-reveal, stake pools with a validator's take,
//! and MIND issued by block time (1 per 12 s, halvings, 21M cap) split across subnets by Yuma
//! over the root subnet and within each subnet by Yuma Consensus (`yuma`, pure functions over
//! subtensor's fixed-point widths).

mod emission;
pub mod error;
pub mod genesis;
pub mod handler;
pub mod issuance;
mod keeper;
pub mod params;
mod query;
mod state;
pub mod subnet;
pub mod yuma;

pub use keeper::IntelBank;
pub use params::IntelligenceParams;

use stoa_framework::{Ctx, Module, ModuleAccountSpec, Registrar, StoaError};

pub const MODULE_NAME: &str = "intelligence";
/// Mints the issuance and holds it until the subnets' epochs pay it; burns registration fees.
pub const EMISSION_ACCOUNT: &str = "intelligence";
/// Holds every stake.
pub const STAKE_ACCOUNT: &str = "intelligence_stake";
/// Holds the subnets' locked registration cost.
pub const LOCK_ACCOUNT: &str = "intelligence_lock";

pub struct IntelligenceModule<B: IntelBank> {
    bank: B,
}

impl<B: IntelBank + Clone> IntelligenceModule<B> {
    pub fn new(bank: B) -> Self {
        IntelligenceModule { bank }
    }
}

impl<B: IntelBank + Clone> Module for IntelligenceModule<B> {
    fn name(&self) -> &'static str {
        MODULE_NAME
    }

    fn module_accounts(&self) -> Vec<ModuleAccountSpec> {
        vec![
            ModuleAccountSpec {
                name: EMISSION_ACCOUNT,
                mint: true,
                burn: true,
            },
            ModuleAccountSpec {
                name: STAKE_ACCOUNT,
                mint: false,
                burn: false,
            },
            ModuleAccountSpec {
                name: LOCK_ACCOUNT,
                mint: false,
                burn: false,
            },
        ]
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis::IntelligenceGenesis::default().to_json()
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), StoaError> {
        genesis::IntelligenceGenesis::from_json(genesis)?.validate()
    }

    fn init_genesis(
        &self,
        ctx: &mut Ctx<'_>,
        genesis: &serde_json::Value,
    ) -> Result<(), StoaError> {
        genesis::init(ctx, &genesis::IntelligenceGenesis::from_json(genesis)?)
    }

    fn export_genesis(&self, ctx: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        Ok(genesis::export(ctx)?.to_json())
    }

    fn register(&self, r: &mut Registrar) {
        use handler::*;
        let b = &self.bank;
        r.msg(RegisterSubnet(b.clone()))
            .msg(DissolveSubnet(b.clone()))
            .msg(SetHyperparams)
            .msg(BurnedRegister(b.clone()))
            .msg(ServeAxon)
            .msg(SetWeights)
            .msg(CommitWeights)
            .msg(RevealWeights)
            .msg(AddStake(b.clone()))
            .msg(RemoveStake(b.clone()))
            .msg(SetTake);
        query::register(r);
    }

    fn end_block(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        emission::end_block(&self.bank, ctx)
    }

    fn invariants(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        keeper::invariants(&self.bank, ctx)
    }
}
