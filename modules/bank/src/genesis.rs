//! The bank's genesis section: params, balances and (optionally) accounts with numbers and
//! sequences. Supply is computed from the balances, never given, so it cannot disagree.

use crate::account::Account;
use crate::params::{genesis_allocation, BankParams};
use crate::state::{self, ACCOUNTS, NEXT_ACCOUNT_NUMBER};
use crate::{error, RESERVE};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use stoa_framework::{
    module_address, params, sdk, Address, Coin, Coins, Ctx, Order, Params, StoaError,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisBalance {
    pub address: Address,
    pub coins: Vec<Coin>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    pub address: Address,
    #[serde(with = "u64_string")]
    pub account_number: u64,
    #[serde(with = "u64_string")]
    pub sequence: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankGenesis {
    pub params: BankParams,
    #[serde(default)]
    pub balances: Vec<GenesisBalance>,
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
}

impl BankGenesis {
    pub fn from_json(v: &serde_json::Value) -> Result<Self, StoaError> {
        serde_json::from_value(v.clone())
            .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("bank genesis: {e}")))
    }

    pub fn to_json(&self) -> Result<serde_json::Value, StoaError> {
        serde_json::to_value(self).map_err(|e| sdk::JSON_MARSHAL.with(e.to_string()))
    }

    /// Supply per denom implied by the balances.
    pub fn supply(&self) -> Result<BTreeMap<String, u128>, StoaError> {
        let mut out = BTreeMap::new();
        for b in &self.balances {
            for c in &b.coins {
                let slot = out.entry(c.denom.clone()).or_insert(0u128);
                *slot = slot
                    .checked_add(c.amount)
                    .ok_or_else(|| sdk::OVERFLOW.with(format!("genesis supply of {}", c.denom)))?;
            }
        }
        Ok(out)
    }

    pub fn validate(&self) -> Result<(), StoaError> {
        self.params.validate()?;
        let mut holders = std::collections::BTreeSet::new();
        for b in &self.balances {
            if !holders.insert(b.address) {
                return Err(
                    error::DUPLICATE_ENTRY.with(format!("balance of {} listed twice", b.address))
                );
            }
            Coins::from_list(b.coins.clone())?;
            for c in &b.coins {
                if self.params.denom(&c.denom).is_none() {
                    return Err(
                        error::UNKNOWN_DENOM.with(format!("genesis balance in {}", c.denom))
                    );
                }
            }
        }
        for (denom, amount) in self.supply()? {
            if let Some(cap) = self.params.denom(&denom).and_then(|d| d.max_supply) {
                if amount > cap {
                    return Err(error::SUPPLY_CAP_EXCEEDED
                        .with(format!("genesis supply {amount}{denom} over cap {cap}")));
                }
            }
        }
        let mut numbers = std::collections::BTreeSet::new();
        for a in &self.accounts {
            if !numbers.insert(a.account_number) {
                return Err(error::DUPLICATE_ENTRY
                    .with(format!("account number {} used twice", a.account_number)));
            }
        }
        Ok(())
    }
}

/// The design files' genesis: the four denoms with caps, and the genesis supplies of STOR and
/// COMP held by the reserve until `stoad genesis add-account` hands them out.
pub fn default_genesis_json() -> serde_json::Value {
    let reserve = GenesisBalance {
        address: module_address(RESERVE),
        coins: genesis_allocation()
            .into_iter()
            .map(|(d, a)| Coin::new(a, d))
            .collect(),
    };
    let g = BankGenesis {
        params: BankParams::default(),
        balances: vec![reserve],
        accounts: vec![],
    };
    serde_json::to_value(&g).unwrap_or_default()
}

pub fn init(ctx: &mut Ctx<'_>, g: &BankGenesis) -> Result<(), StoaError> {
    params::store(ctx, &g.params)?;
    for a in &g.accounts {
        ACCOUNTS.save(
            ctx,
            &a.address,
            &Account {
                address: a.address,
                account_number: a.account_number,
                sequence: a.sequence,
                pub_key: None,
            },
        )?;
    }
    // Accounts given with numbers keep them; new ones are numbered after the highest.
    if let Some(max) = g.accounts.iter().map(|a| a.account_number).max() {
        let next = max
            .checked_add(1)
            .ok_or_else(|| sdk::OVERFLOW.with("account number"))?;
        NEXT_ACCOUNT_NUMBER.save(ctx, &next)?;
    }
    for b in &g.balances {
        crate::keeper::ensure_account(ctx, &b.address)?;
        for c in &b.coins {
            state::set_balance(ctx, &b.address, &c.denom, c.amount)?;
        }
    }
    for (denom, amount) in g.supply()? {
        state::set_supply(ctx, &denom, amount)?;
    }
    Ok(())
}

pub fn export(ctx: &mut Ctx<'_>) -> Result<BankGenesis, StoaError> {
    let params: BankParams = (*params::load::<BankParams>(ctx)?).clone();
    let mut by_addr: BTreeMap<Address, Vec<Coin>> = BTreeMap::new();
    let all: Vec<_> = state::BALANCES
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for ((addr, denom), amount) in all {
        by_addr
            .entry(addr)
            .or_default()
            .push(Coin::new(amount, denom));
    }
    let balances = by_addr
        .into_iter()
        .map(|(address, coins)| GenesisBalance { address, coins })
        .collect();
    let mut accounts = Vec::new();
    let all: Vec<_> = ACCOUNTS
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (_, a) in all {
        accounts.push(GenesisAccount {
            address: a.address,
            account_number: a.account_number,
            sequence: a.sequence,
        });
    }
    Ok(BankGenesis {
        params,
        balances,
        accounts,
    })
}

mod u64_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    /// Accepts a string (Cosmos JSON) or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            S(String),
            N(u64),
        }
        match Either::deserialize(d)? {
            Either::S(s) => s.parse().map_err(serde::de::Error::custom),
            Either::N(n) => Ok(n),
        }
    }
}
