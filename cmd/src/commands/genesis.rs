//! `stoad genesis add-account`, `add-validator` and `validate`: edits and checks of the bank
//! and validators sections of the genesis `app_state` (docs/DEVELOPING.md). Supply is never
//! stored: it is the sum of balances, so moving coins out of the reserve keeps it unchanged.

use super::Ctx;
use crate::cli::GenesisCmd;
use crate::output::{print_json, table};
use crate::{app_glue, home};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use stoa_framework::fixed::Dec;
use stoa_framework::validators::{self, ValidatorKey};
use stoa_framework::{Address, Coin, Coins};

pub fn run(ctx: &Ctx, cmd: GenesisCmd) -> Result<()> {
    match cmd {
        GenesisCmd::AddAccount {
            address_or_key,
            coins,
        } => add_account(ctx, &address_or_key, &coins),
        GenesisCmd::Validate => validate(ctx),
        GenesisCmd::StorageProfile { name } => super::storage::genesis_profile(ctx, &name),
        GenesisCmd::AddValidator(args) => add_validator(ctx, args),
    }
}

/// `stoad genesis add-validator`: the validator's consensus key and power.
#[derive(clap::Args, Debug)]
pub struct AddValidatorArgs {
    /// The validator's consensus public key: CometBFT's JSON
    /// (`{"type":"tendermint/PubKeyEd25519","value":"..."}`, as `cometbft show-validator`
    /// prints it), the base64 of an ed25519 key, or the path of a priv_validator_key.json.
    #[arg(long)]
    pub pubkey: String,
    /// Voting power (above 0).
    #[arg(long)]
    pub power: u64,
    /// A name for the validator (CometBFT shows it in /validators of genesis.json only).
    #[arg(long, default_value = "")]
    pub name: String,
}

/// Reads `--pubkey`: a file (priv_validator_key.json or show-validator's output), JSON, or
/// the bare base64 of an ed25519 key.
fn parse_validator_key(arg: &str) -> Result<ValidatorKey> {
    let path = std::path::Path::new(arg);
    let text = if !arg.trim_start().starts_with('{') && path.is_file() {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    } else {
        arg.to_string()
    };
    let text = text.trim();
    if text.starts_with('{') {
        let v: Value = serde_json::from_str(text).context("--pubkey is not valid JSON")?;
        // priv_validator_key.json carries the public key under pub_key
        let key = v.get("pub_key").unwrap_or(&v);
        return ValidatorKey::from_json(key).map_err(fw);
    }
    ValidatorKey::from_base64(validators::ED25519_TYPE, text).map_err(fw)
}

fn add_validator(ctx: &Ctx, args: AddValidatorArgs) -> Result<()> {
    let key = parse_validator_key(&args.pubkey)?;
    if args.power == 0 {
        bail!("--power must be above 0");
    }
    let mut genesis = home::read_genesis(&ctx.home)?;
    let app_state = genesis
        .get_mut("app_state")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow!("genesis has no app_state (run `stoad init` first)"))?;
    let list = app_state
        .entry("validators")
        .or_insert_with(|| Value::Array(Vec::new()));
    let arr = list
        .as_array_mut()
        .ok_or_else(|| anyhow!("app_state.validators must be a list"))?;
    arr.push(validators::genesis_entry(&args.name, &key, args.power));
    // The whole section again: a key listed twice or a total over CometBFT's cap is refused
    // here, before a node would halt at InitChain.
    let parsed = validators::parse_genesis(list).map_err(fw)?;
    home::write_genesis(&ctx.home, &genesis)?;
    let total: u64 = parsed.iter().map(|v| v.update.power).sum();
    if ctx.json() {
        return print_json(&json!({
            "name": args.name,
            "pub_key": key.to_json(),
            "power": args.power.to_string(),
            "validators": parsed.len(),
            "total_power": total.to_string(),
        }));
    }
    crate::outln!(
        "genesis validator {} ({}) with power {}: {} validators, total power {total}",
        if args.name.is_empty() {
            "-"
        } else {
            &args.name
        },
        key.to_json()["value"].as_str().unwrap_or(""),
        args.power,
        parsed.len()
    );
    Ok(())
}

fn fw(e: stoa_framework::StoaError) -> anyhow::Error {
    anyhow!("{}", e.log)
}

/// Parses `[{"denom","amount"}]`.
fn parse_coin_list(v: &Value, what: &str) -> Result<Coins> {
    let arr = v
        .as_array()
        .ok_or_else(|| anyhow!("{what}: coins must be a list"))?;
    let mut list = Vec::new();
    for c in arr {
        let denom = c
            .get("denom")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("{what}: a coin has no denom"))?;
        let amount = c
            .get("amount")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("{what}: coin {denom} has no amount string"))?;
        list.push(Coin::from_proto(denom, amount).map_err(|e| anyhow!("{what}: {}", e.log))?);
    }
    Coins::from_list(list).map_err(|e| anyhow!("{what}: {}", e.log))
}

fn coin_list_json(coins: &Coins) -> Value {
    Value::Array(
        coins
            .iter()
            .map(|c| json!({"denom": c.denom, "amount": c.amount.to_string()}))
            .collect(),
    )
}

/// The bank section's balances as (address, coins), in file order.
fn read_balances(bank: &Map<String, Value>) -> Result<Vec<(String, Coins)>> {
    let Some(list) = bank.get("balances") else {
        return Ok(Vec::new());
    };
    let arr = list
        .as_array()
        .ok_or_else(|| anyhow!("app_state.bank.balances must be a list"))?;
    let mut out: Vec<(String, Coins)> = Vec::new();
    let mut seen = BTreeSet::new();
    for b in arr {
        let addr = b
            .get("address")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("a balance in app_state.bank.balances has no address"))?;
        Address::parse(addr).map_err(|e| anyhow!("balance address {addr:?}: {}", e.log))?;
        if !seen.insert(addr.to_string()) {
            bail!("address {addr} appears twice in app_state.bank.balances");
        }
        let coins = parse_coin_list(
            b.get("coins").unwrap_or(&Value::Null),
            &format!("balance of {addr}"),
        )?;
        out.push((addr.to_string(), coins));
    }
    Ok(out)
}

/// The denoms `app_state.bank.params.denoms` lists (None when the section has no list).
fn known_denoms(bank: &Map<String, Value>) -> Option<Vec<String>> {
    let denoms = bank.get("params")?.get("denoms")?.as_array()?;
    Some(
        denoms
            .iter()
            .filter_map(|d| d.get("denom")?.as_str().map(str::to_string))
            .collect(),
    )
}

fn check_denoms_known(bank: &Map<String, Value>, coins: &Coins, whose: &str) -> Result<()> {
    if let Some(known) = known_denoms(bank) {
        for d in coins.denoms() {
            if !known.iter().any(|k| k == d) {
                bail!("{whose}: denom {d:?} is not a bank denom (app_state.bank.params.denoms lists {})", known.join(", "));
            }
        }
    }
    Ok(())
}

fn bank_section(genesis: &mut Value) -> Result<&mut Map<String, Value>> {
    genesis
        .get_mut("app_state")
        .and_then(|a| a.get_mut("bank"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow!("genesis has no app_state.bank section (run `stoad init` first)"))
}

fn add_account(ctx: &Ctx, address_or_key: &str, coins: &str) -> Result<()> {
    let address = ctx.resolve_address(address_or_key)?;
    let coins = Coins::parse(coins).map_err(|e| anyhow!("invalid coins {coins:?}: {}", e.log))?;
    if coins.is_empty() {
        bail!("no coins given (e.g. 1000000ustor)");
    }
    let reserve = app_glue::reserve_address();
    if address == reserve {
        bail!("{address} is the reserve module account itself");
    }
    let mut genesis = home::read_genesis(&ctx.home)?;
    let bank = bank_section(&mut genesis)?;
    check_denoms_known(bank, &coins, "add-account")?;
    let mut balances = read_balances(bank)?;
    let reserve_str = reserve.to_string();
    let addr_str = address.to_string();

    let reserve_coins = balances
        .iter()
        .find(|(a, _)| *a == reserve_str)
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    let mut from_reserve = Vec::new();
    let mut new_supply = Vec::new();
    for c in coins.iter() {
        let held = reserve_coins.amount_of(&c.denom);
        if held > 0 {
            if held < c.amount {
                bail!(
                    "the reserve holds only {held}{}, cannot move {c} out of it",
                    c.denom
                );
            }
            from_reserve.push(c);
        } else {
            new_supply.push(c);
        }
    }
    let from_reserve = Coins::from_list(from_reserve).map_err(fw)?;
    let new_supply = Coins::from_list(new_supply).map_err(fw)?;

    for (a, c) in balances.iter_mut() {
        if *a == reserve_str {
            *c = c.checked_sub(&from_reserve).map_err(fw)?;
        }
    }
    match balances.iter_mut().find(|(a, _)| *a == addr_str) {
        Some((_, c)) => *c = c.checked_add(&coins).map_err(fw)?,
        None => balances.push((addr_str.clone(), coins.clone())),
    }
    balances.retain(|(_, c)| !c.is_empty());
    bank.insert(
        "balances".into(),
        Value::Array(
            balances
                .iter()
                .map(|(a, c)| json!({"address": a, "coins": coin_list_json(c)}))
                .collect(),
        ),
    );
    let account_number = ensure_account(bank, &addr_str)?;
    home::write_genesis(&ctx.home, &genesis)?;

    if ctx.json() {
        return print_json(&json!({
            "address": addr_str,
            "account_number": account_number,
            "coins": coins.to_string(),
            "from_reserve": from_reserve.to_string(),
            "new_supply": new_supply.to_string(),
        }));
    }
    let mut t = table(&["Denom", "Amount", "Source"]);
    for c in from_reserve.iter() {
        t.add_row(vec![
            c.denom.clone(),
            c.amount.to_string(),
            "reserve".into(),
        ]);
    }
    for c in new_supply.iter() {
        t.add_row(vec![
            c.denom.clone(),
            c.amount.to_string(),
            "new supply".into(),
        ]);
    }
    crate::outln!("genesis account {addr_str} (account number {account_number})");
    crate::outln!("{t}");
    Ok(())
}

/// Makes sure `address` has an entry in `app_state.bank.accounts`, so it has an account number
/// from the first block; returns that number.
fn ensure_account(bank: &mut Map<String, Value>, address: &str) -> Result<u64> {
    let accounts = bank
        .entry("accounts")
        .or_insert_with(|| Value::Array(Vec::new()));
    let arr = accounts
        .as_array_mut()
        .ok_or_else(|| anyhow!("app_state.bank.accounts must be a list"))?;
    let mut next = 0u64;
    for a in arr.iter() {
        let n = account_number_of(a)?;
        if a.get("address").and_then(Value::as_str) == Some(address) {
            return Ok(n);
        }
        next = next.max(n + 1);
    }
    arr.push(json!({"address": address, "account_number": next.to_string(), "sequence": "0"}));
    Ok(next)
}

fn account_number_of(a: &Value) -> Result<u64> {
    let v = a
        .get("account_number")
        .ok_or_else(|| anyhow!("a genesis account has no account_number"))?;
    match v {
        Value::String(s) => s.parse().map_err(|e| anyhow!("account_number {s:?}: {e}")),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| anyhow!("account_number {n} is not a u64")),
        _ => bail!("account_number must be a decimal string"),
    }
}

fn validate(ctx: &Ctx) -> Result<()> {
    let mut genesis = home::read_genesis(&ctx.home)?;
    let chain_id = genesis
        .get("chain_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if chain_id.is_empty() {
        bail!("genesis has no chain_id");
    }
    let app_state = genesis.get("app_state").cloned().unwrap_or(Value::Null);
    if !app_state.is_object() {
        bail!("genesis app_state is missing or not an object (run `stoad init`)");
    }
    let bank = bank_section(&mut genesis)?.clone();
    let balances = read_balances(&bank)?;

    let mut supply = Coins::new();
    for (a, c) in &balances {
        check_denoms_known(&bank, c, &format!("balance of {a}"))?;
        supply = supply
            .checked_add(c)
            .map_err(|e| anyhow!("supply overflows adding the balance of {a}: {}", e.log))?;
    }

    // Caps from the denom params: supply must not exceed max_supply.
    let mut caps = BTreeMap::new();
    if let Some(denoms) = bank
        .get("params")
        .and_then(|p| p.get("denoms"))
        .and_then(Value::as_array)
    {
        for d in denoms {
            let denom = d
                .get("denom")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("a bank denom param has no denom"))?;
            if let Some(max) = d.get("max_supply").and_then(Value::as_str) {
                let max: u128 = max
                    .parse()
                    .map_err(|e| anyhow!("max_supply {max:?} of {denom}: {e}"))?;
                caps.insert(denom.to_string(), max);
            }
        }
    }
    for c in supply.iter() {
        if let Some(max) = caps.get(&c.denom) {
            if c.amount > *max {
                bail!("genesis supply {c} exceeds the max_supply {max}{}", c.denom);
            }
        }
    }

    // Accounts: valid addresses, unique addresses and numbers.
    let mut numbers = BTreeSet::new();
    let mut addrs = BTreeSet::new();
    let accounts = bank
        .get("accounts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for a in &accounts {
        let addr = a
            .get("address")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("a genesis account has no address"))?;
        Address::parse(addr).map_err(|e| anyhow!("account address {addr:?}: {}", e.log))?;
        if !addrs.insert(addr.to_string()) {
            bail!("account {addr} appears twice in app_state.bank.accounts");
        }
        if !numbers.insert(account_number_of(a)?) {
            bail!("account number of {addr} is used twice");
        }
    }

    // Fee params: every minimum gas price is a decimal.
    if let Some(fees) = app_state
        .pointer("/tx/params/fee_denoms")
        .and_then(Value::as_array)
    {
        for f in fees {
            let denom = f.get("denom").and_then(Value::as_str).unwrap_or("?");
            let price = f.get("min_gas_price").and_then(Value::as_str).unwrap_or("");
            price
                .parse::<Dec>()
                .map_err(|e| anyhow!("min_gas_price {price:?} of fee denom {denom}: {}", e.log))?;
        }
    }

    let module_checked =
        app_glue::validate_app_state(&app_state).context("module genesis validation")?;

    if ctx.json() {
        return print_json(&json!({
            "valid": true,
            "chain_id": chain_id,
            "supply": coin_list_json(&supply),
            "balances": balances.len(),
            "accounts": accounts.len(),
            "module_validation": module_checked,
        }));
    }
    crate::outln!(
        "genesis of {chain_id} is valid ({} balances, {} accounts)",
        balances.len(),
        accounts.len()
    );
    if !module_checked {
        crate::outln!("(module-level validation is not available in this build)");
    }
    let mut t = table(&["Denom", "Supply"]);
    for c in supply.iter() {
        t.add_row(vec![c.denom.clone(), c.amount.to_string()]);
    }
    crate::outln!("{t}");
    Ok(())
}
