//! The compute market (io.net-style, with Akash-style escrow; shared/design/COMPUTE.md): GPU
//! devices registered behind self-stake by a per-device formula and co-staked, kept honest by
//! heartbeats signed by their worker keys and answering randomness-derived challenges, booked
//! by orders matched at end block to the best-ranked devices (clusters across several) or
//! directly; leases pay per second from escrow through payment streams, settled lazily; fees
//! are burned (ucomp) or sold in a buyback auction whose proceeds are burned (uusdc); a device
//! going offline during a lease closes it, refunds the renter and is slashed with its
//! stakers; hourly emission on a monthly-decaying schedule goes to online devices and their
//! stakers; workers report job records.

pub mod device;
pub mod emission;
pub mod error;
mod events;
pub mod genesis;
pub mod heartbeat;
mod keeper;
pub mod market;
pub mod params;
mod query;
pub mod state;

pub use keeper::ComputeBank;
pub use params::ComputeParams;

use stoa_framework::{sdk, Ctx, Module, ModuleAccountSpec, Registrar, StoaError};

pub const MODULE_NAME: &str = "compute";
/// Order deposits and lease escrow; burns ucomp fees.
pub const ESCROW: &str = "compute";
/// Self- and co-stake and unbonding entries; burns slashed stake.
pub const STAKING: &str = "compute_stake";
/// The emission pool (mints the schedule) and the stakers' reward pools.
pub const REWARDS: &str = "compute_rewards";
/// Stable-token fees waiting for the buyback auction; burns the ucomp it receives.
pub const BUYBACK_ACCOUNT: &str = "compute_buyback";

/// A queue entry's id (8 bytes, big-endian).
pub(crate) fn id_of(raw: &[u8]) -> Result<u64, StoaError> {
    Ok(u64::from_be_bytes(raw.try_into().map_err(|_| {
        sdk::LOGIC.with("queue entry is not an id")
    })?))
}

pub struct ComputeModule<B: ComputeBank> {
    bank: B,
}

impl<B: ComputeBank + Clone> ComputeModule<B> {
    pub fn new(bank: B) -> Self {
        ComputeModule { bank }
    }
}

impl<B: ComputeBank + Clone> Module for ComputeModule<B> {
    fn name(&self) -> &'static str {
        MODULE_NAME
    }

    fn module_accounts(&self) -> Vec<ModuleAccountSpec> {
        vec![
            ModuleAccountSpec {
                name: ESCROW,
                mint: false,
                burn: true,
            },
            ModuleAccountSpec {
                name: STAKING,
                mint: false,
                burn: true,
            },
            ModuleAccountSpec {
                name: REWARDS,
                mint: true,
                burn: false,
            },
            ModuleAccountSpec {
                name: BUYBACK_ACCOUNT,
                mint: false,
                burn: true,
            },
        ]
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis::ComputeGenesis::default().to_json()
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), StoaError> {
        genesis::ComputeGenesis::from_json(genesis)?.validate()
    }

    fn init_genesis(
        &self,
        ctx: &mut Ctx<'_>,
        genesis: &serde_json::Value,
    ) -> Result<(), StoaError> {
        genesis::init(ctx, &genesis::ComputeGenesis::from_json(genesis)?)
    }

    fn export_genesis(&self, ctx: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        Ok(genesis::export(ctx)?.to_json())
    }

    fn register(&self, r: &mut Registrar) {
        let b = &self.bank;
        r.msg(device::RegisterDevice(b.clone()))
            .msg(device::UpdateDevice(b.clone()))
            .msg(device::DeregisterDevice(b.clone()))
            .msg(device::StakeMsg(b.clone()))
            .msg(device::Unstake(b.clone()))
            .msg(device::ClaimRewards(b.clone()))
            .msg(device::Attest(b.clone()))
            .msg(heartbeat::Heartbeat(b.clone()))
            .msg(market::CreateOrder(b.clone()))
            .msg(market::CancelOrder(b.clone()))
            .msg(market::BookDevice(b.clone()))
            .msg(market::SettleLease(b.clone()))
            .msg(market::CloseLease(b.clone()))
            .msg(market::FillBuyback(b.clone()))
            .msg(market::ReportJob);
        query::register(r);
    }

    /// Emission first (paying the devices that were online through the hour), then devices
    /// gone silent, leases run dry, unbonding released, and last the matching of open orders
    /// against the devices as they now stand.
    fn end_block(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        market::emit_rewards(&self.bank, ctx)?;
        heartbeat::detect_offline(&self.bank, ctx)?;
        market::close_dry_leases(&self.bank, ctx)?;
        device::release_unbonded(&self.bank, ctx)?;
        market::match_orders(&self.bank, ctx)
    }

    fn invariants(&self, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
        keeper::invariants(&self.bank, ctx)
    }
}
