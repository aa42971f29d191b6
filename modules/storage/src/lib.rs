//! The storage market (Filecoin's market, miner, power and reward actors in one module):
//! providers register an ask; clients escrow funds and sign deal proposals that a provider's
//! worker publishes; providers seal sectors, pre-commit and prove-commit them (PoRep verified
//! with stoa-prover's verify face), then prove them every proving period in their deadline
//! (Window PoSt) or become faulty, pay fault fees and are terminated; power earns the storage
//! token's block reward, minted by simple and baseline minting. Design: STORAGE.md.

pub mod economics;
pub mod error;
pub mod genesis;
mod handler;
mod invariants;
pub mod keeper;
pub mod market;
pub mod miner;
pub mod params;
mod query;
pub mod rewards;
pub mod state;

pub use keeper::StorageBank;
pub use params::{PoRepPolicy, StorageParams};

use stoa_framework::{params as fw_params, Ctx, Module, ModuleAccountSpec, Registrar, StoaError};

pub const MODULE_NAME: &str = "storage";

pub struct StorageModule<B: StorageBank> {
    bank: B,
}

impl<B: StorageBank + Clone> StorageModule<B> {
    pub fn new(bank: B) -> Self {
        StorageModule { bank }
    }
}

impl<B: StorageBank + Clone> Module for StorageModule<B> {
    fn name(&self) -> &'static str {
        MODULE_NAME
    }

    fn module_accounts(&self) -> Vec<ModuleAccountSpec> {
        vec![
            ModuleAccountSpec {
                name: keeper::MARKET,
                mint: false,
                burn: false,
            },
            ModuleAccountSpec {
                name: keeper::PLEDGE,
                mint: false,
                burn: false,
            },
            ModuleAccountSpec {
                name: keeper::REWARD,
                mint: true,
                burn: false,
            },
            ModuleAccountSpec {
                name: keeper::BURN,
                mint: false,
                burn: true,
            },
        ]
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis::StorageGenesis::default().to_json()
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), StoaError> {
        genesis::StorageGenesis::from_json(genesis)?.validate()
    }

    fn init_genesis(
        &self,
        ctx: &mut Ctx<'_>,
        genesis: &serde_json::Value,
    ) -> Result<(), StoaError> {
        genesis::init(ctx, &genesis::StorageGenesis::from_json(genesis)?)
    }

    fn export_genesis(&self, ctx: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        Ok(genesis::export(ctx)?.to_json())
    }

    fn register(&self, r: &mut Registrar) {
        let b = &self.bank;
        r.msg(handler::RegisterProvider)
            .msg(handler::AddBalance(b.clone()))
            .msg(handler::WithdrawBalance(b.clone()))
            .msg(handler::PublishDeals(b.clone()))
            .msg(handler::SettleDealPayments)
            .msg(handler::PreCommitSector(b.clone()))
            .msg(handler::ProveCommitSector(b.clone()))
            .msg(handler::SubmitWindowPoSt)
            .msg(handler::DeclareFaults)
            .msg(handler::DeclareFaultsRecovered)
            .msg(handler::TerminateSectors(b.clone()))
            .msg(handler::ExtendSectorExpiration)
            .msg(handler::WithdrawRewards(b.clone()));
        query::register(r);
    }

    /// Rewards for the time since the last block go to the power that held through it.
    fn begin_block(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        let p = (*fw_params::load::<StorageParams>(ctx)?).clone();
        economics::mint_block_reward(&self.bank, ctx, &p)
    }

    fn end_block(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        let p = (*fw_params::load::<StorageParams>(ctx)?).clone();
        market::end_block(&self.bank, ctx, &p)?;
        miner::end_block(&self.bank, ctx, &p)
    }

    fn invariants(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        invariants::check(&self.bank, ctx)
    }
}
