//! The ante handler: everything a tx must pass before its messages run, in Cosmos SDK's order —
//! size, signature count and gas limits, timeout height, memo, tx-size gas, fee (allowed denoms,
//! minimum gas prices, deducted into `fee_collector`), public keys, signature gas, sequence,
//! signature, sequence bump. Any failure here undoes the whole tx, fee included.

use base64::Engine as _;
use stoa_bank::{AuthKeeper, BankKeeper, BankSend, PubKey};
use stoa_framework::fixed::Dec;
use stoa_framework::{sdk, Coin, Coins, Ctx, Event, ExecMode, StoaResult};

use super::decode::DecodedTx;
use super::{SigVerdict, TxEnv, FEE_COLLECTOR};
use stoa_framework::crypto::verify as verify_one;

pub fn run_ante(
    ctx: &mut Ctx<'_>,
    env: &TxEnv<'_>,
    tx: &DecodedTx,
    verdicts: &[Option<SigVerdict>],
) -> StoaResult<()> {
    let params = env.params;
    let simulate = ctx.mode() == ExecMode::Simulate;

    // Limits that need no state.
    if tx.size as u64 > params.tx_size_limit_bytes {
        return Err(sdk::TX_TOO_LARGE.with(format!(
            "tx size {} bytes exceeds the limit of {} bytes",
            tx.size, params.tx_size_limit_bytes
        )));
    }
    if tx.signers.len() as u64 > params.tx_sig_limit {
        return Err(sdk::TOO_MANY_SIGNATURES.with(format!(
            "signatures: {}, limit: {}",
            tx.signers.len(),
            params.tx_sig_limit
        )));
    }
    if tx.gas_limit > params.max_gas_per_tx {
        return Err(sdk::INVALID_GAS_LIMIT.with(format!(
            "gas limit {} exceeds the maximum of {} per tx",
            tx.gas_limit, params.max_gas_per_tx
        )));
    }
    if tx.timeout_height > 0 && ctx.height() > tx.timeout_height {
        return Err(sdk::TX_TIMEOUT_HEIGHT.with(format!(
            "block height: {}, timeout height: {}",
            ctx.height(),
            tx.timeout_height
        )));
    }
    let memo_chars = tx.memo.chars().count() as u64;
    if memo_chars > params.max_memo_characters {
        return Err(sdk::MEMO_TOO_LARGE.with(format!(
            "maximum number of characters is {} but received {} characters",
            params.max_memo_characters, memo_chars
        )));
    }

    // Gas for the bytes. A simulated tx usually carries empty signatures: charge for real ones.
    let mut size = tx.size as u64;
    if simulate {
        for s in &tx.signers {
            size = size.saturating_add(64u64.saturating_sub(s.signature.len() as u64));
        }
    }
    ctx.consume_gas(
        size.saturating_mul(ctx.gas_config().tx_size_cost_per_byte),
        "txSize",
    )?;

    // Fee: listed denoms, at least the consensus minimum, in CheckTx also the node's minimum.
    if !simulate {
        let prices = params
            .fee_denoms
            .iter()
            .map(|f| (f.denom.as_str(), f.min_gas_price));
        check_fee(&tx.fee, tx.gas_limit, prices, true)?;
        if matches!(ctx.mode(), ExecMode::Check | ExecMode::ReCheck)
            && !env.node_min_gas_prices.is_empty()
        {
            let prices = env
                .node_min_gas_prices
                .iter()
                .map(|(d, p)| (d.as_str(), *p));
            check_fee(&tx.fee, tx.gas_limit, prices, false).map_err(|e| {
                sdk::INSUFFICIENT_FEE.with(format!("{} (this node's minimum gas prices)", e.log))
            })?;
        }
    }
    let payer = tx.fee_payer();
    let (payer_account, payer_len) = BankKeeper.account_sized(ctx, &payer)?;
    let Some(payer_account) = payer_account else {
        return Err(sdk::UNKNOWN_ADDRESS.with(format!("fee payer address: {payer} does not exist")));
    };
    // Paying the fee writes only balances (and the collector's account), so the payer's
    // account read again for the first signer is this one unless the payer is the collector.
    let mut payer_account =
        (payer != stoa_framework::module_address(FEE_COLLECTOR)).then_some(payer_account);
    if !tx.fee.is_empty() {
        BankKeeper
            .send_to_module(ctx, &payer, FEE_COLLECTOR, &tx.fee)
            .map_err(|e| {
                if sdk::INSUFFICIENT_FUNDS.is(&e) {
                    sdk::INSUFFICIENT_FUNDS
                        .with(format!("insufficient funds to pay for fees; {}", e.log))
                } else {
                    e
                }
            })?;
    }
    ctx.emit(
        Event::new("tx")
            .attr("fee", &tx.fee)
            .attr("fee_payer", payer),
    );

    // Signers: key, gas, sequence, signature, sequence bump.
    for (i, signer) in tx.signers.iter().enumerate() {
        let known = match payer_account.take() {
            Some(acc) if i == 0 && signer.address == payer => {
                // The same gas as reading it again.
                ctx.charge_read(payer_len)?;
                Some(acc)
            }
            _ => BankKeeper.account(ctx, &signer.address)?,
        };
        let mut account = known.ok_or_else(|| {
            sdk::UNKNOWN_ADDRESS.with(format!("account {} does not exist", signer.address))
        })?;
        if let Some(pk) = &signer.pub_key {
            if pk.address() != signer.address {
                return Err(sdk::INVALID_PUBKEY.with(format!(
                    "pubKey does not match signer address {} with signer index: {i}",
                    signer.address
                )));
            }
        }
        let pub_key: Option<PubKey> = account.pub_key.or(signer.pub_key);
        let cost = match &pub_key {
            Some(PubKey::Ed25519(_)) => ctx.gas_config().sig_verify_cost_ed25519,
            _ => ctx.gas_config().sig_verify_cost_secp256k1,
        };
        ctx.consume_gas(cost, "ante verify")?;

        if signer.sequence != account.sequence {
            return Err(sdk::WRONG_SEQUENCE.with(format!(
                "account sequence mismatch, expected {}, got {}",
                account.sequence, signer.sequence
            )));
        }
        if !simulate {
            let pub_key = pub_key.as_ref().ok_or_else(|| {
                sdk::INVALID_PUBKEY.with(format!(
                    "pubkey on account {} is not set; the account's first tx must carry it",
                    signer.address
                ))
            })?;
            let ok = match verdicts.get(i).and_then(Option::as_ref) {
                Some(v) if &v.pub_key == pub_key && v.account_number == account.account_number => {
                    v.ok
                }
                _ => verify_one(
                    pub_key,
                    &tx.sign_bytes(env.chain_id, account.account_number),
                    &signer.signature,
                ),
            };
            if !ok {
                return Err(sdk::UNAUTHORIZED.with(format!(
                    "signature verification failed; please verify account number ({}), sequence ({}) and chain-id ({})",
                    account.account_number, account.sequence, env.chain_id
                )));
            }
        }
        // Also in simulation (a throwaway state): the account write then costs what it will.
        if account.pub_key.is_none() {
            account.pub_key = signer.pub_key;
        }
        account.sequence = Ctx::checked(account.sequence.checked_add(1), "account sequence")?;
        BankKeeper.set_account(ctx, &account)?;
        ctx.emit(
            Event::new("tx").attr("acc_seq", format!("{}/{}", signer.address, signer.sequence)),
        );
        let sig_b64 = base64::engine::general_purpose::STANDARD.encode(&signer.signature);
        ctx.emit(Event::new("tx").attr("signature", sig_b64));
    }
    Ok(())
}

/// The fee must be paid in listed denoms (when `strict`) and reach `ceil(gas_limit x price)` in
/// at least one of them (Cosmos SDK's `IsAnyGTE`). A zero price makes any fee enough.
pub fn check_fee<'p>(
    fee: &Coins,
    gas_limit: u64,
    prices: impl Iterator<Item = (&'p str, Dec)> + Clone,
    strict: bool,
) -> StoaResult<()> {
    if strict {
        for denom in fee.denoms() {
            if !prices.clone().any(|(d, _)| d == denom) {
                let accepted: Vec<&str> = prices.clone().map(|(d, _)| d).collect();
                return Err(sdk::INSUFFICIENT_FEE.with(format!(
                    "fee denom {denom} is not accepted; accepted: {}",
                    accepted.join(", ")
                )));
            }
        }
    }
    let mut required = Vec::new();
    for (denom, price) in prices {
        let amount = Ctx::checked(price.mul_ceil(u128::from(gas_limit)), "required fee")?;
        if amount == 0 || fee.amount_of(denom) >= amount {
            return Ok(());
        }
        required.push(Coin::new(amount, denom));
    }
    let required: Vec<String> = required.iter().map(|c| c.to_string()).collect();
    Err(sdk::INSUFFICIENT_FEE.with(format!(
        "insufficient fees; got: {:?} required (one of): {}",
        fee.to_string(),
        required.join(",")
    )))
}
