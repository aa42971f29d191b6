//! Gas: what state access and tx bytes cost (Cosmos SDK's KV gas config), and the meter a tx
//! runs against. Out of gas fails the tx; the fee is kept.

use crate::error::{sdk, StoaError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GasConfig {
    pub read_cost_flat: u64,
    pub read_cost_per_byte: u64,
    pub write_cost_flat: u64,
    pub write_cost_per_byte: u64,
    pub delete_cost: u64,
    pub iter_next_cost_flat: u64,
    pub tx_size_cost_per_byte: u64,
    pub sig_verify_cost_secp256k1: u64,
    pub sig_verify_cost_ed25519: u64,
}

impl Default for GasConfig {
    fn default() -> Self {
        GasConfig {
            read_cost_flat: 1000,
            read_cost_per_byte: 3,
            write_cost_flat: 2000,
            write_cost_per_byte: 30,
            delete_cost: 1000,
            iter_next_cost_flat: 30,
            tx_size_cost_per_byte: 10,
            sig_verify_cost_secp256k1: 1000,
            sig_verify_cost_ed25519: 590,
        }
    }
}

#[derive(Clone, Debug)]
pub struct GasMeter {
    limit: u64,
    consumed: u64,
}

impl GasMeter {
    pub fn new(limit: u64) -> Self {
        GasMeter { limit, consumed: 0 }
    }

    /// For block hooks and queries, which Cosmos SDK runs without a limit.
    pub fn infinite() -> Self {
        GasMeter {
            limit: u64::MAX,
            consumed: 0,
        }
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    pub fn consume(&mut self, amount: u64, descriptor: &str) -> Result<(), StoaError> {
        let next = self.consumed.saturating_add(amount);
        if next > self.limit {
            self.consumed = self.limit;
            return Err(sdk::OUT_OF_GAS.with(format!(
                "out of gas in location: {descriptor}; gasWanted: {}, gasUsed: {next}",
                self.limit
            )));
        }
        self.consumed = next;
        Ok(())
    }
}
