//! The ante handler: everything a tx must pass before its messages run, in Cosmos SDK's order —
//! size, signature count and gas limits, timeout height, memo, tx-size gas, fee (allowed denoms,
//! minimum gas prices, deducted into `fee_collector`), public keys, signature gas, sequence,
//! signature, sequence bump. Any failure here undoes the whole tx, fee included.

use base64::Engine as _;
use stoa_bank::{AuthKeeper, BankKeeper, BankSend, PubKey};
use stoa_framework::fixed::Dec;
use stoa_framework::{sdk, Coin, Coins, Ctx, Event, ExecMode, StoaResult};

use cosmos_sdk_proto::cosmos::crypto::multisig::v1beta1::MultiSignature;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use prost::Message as _;
use stoa_framework::{Address, GasConfig, StoaError};

use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, TxRaw};

use super::decode::{sign_mode_name, DecodedTx, SignerMode};
use super::params::TxParams;
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
    // A multisig counts its keys, as the Cosmos SDK's `CountSubKeys`.
    let sig_count = tx.signers.iter().fold(0u64, |n, s| {
        n.saturating_add(match &s.pub_key {
            Some(PubKey::Multisig(m)) => m.keys.len() as u64,
            _ => 1,
        })
    });
    if sig_count > params.tx_sig_limit {
        return Err(sdk::TOO_MANY_SIGNATURES.with(format!(
            "signatures: {sig_count}, limit: {}",
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
    if !simulate {
        for (i, s) in tx.signers.iter().enumerate() {
            if let SignerMode::Unsupported(mode) = &s.mode {
                return Err(unsupported_mode(i, *mode));
            }
        }
    }
    let memo_chars = tx.memo.chars().count() as u64;
    if memo_chars > params.max_memo_characters {
        return Err(sdk::MEMO_TOO_LARGE.with(format!(
            "maximum number of characters is {} but received {} characters",
            params.max_memo_characters, memo_chars
        )));
    }

    // Gas for the bytes. A simulated tx usually carries empty signatures and mode UNSPECIFIED
    // (cosmjs, the Cosmos SDK): charge for the signature and mode the real tx will carry.
    let size = if simulate {
        simulated_size(tx)
    } else {
        tx.size as u64
    };
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
    if tx.fee.is_empty() {
        charge_unpaid_fee(ctx, params, &payer)?;
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
        let pub_key: Option<PubKey> = account.pub_key.clone().or_else(|| signer.pub_key.clone());
        let cost = signature_gas(ctx.gas_config(), pub_key.as_ref(), &signer.mode);
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
                _ => verify_signer(tx, i, pub_key, env.chain_id, account.account_number)?,
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
            account.pub_key = signer.pub_key.clone();
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

/// The refusal of a sign mode Stoa does not verify (it is fine in a simulation).
fn unsupported_mode(i: usize, mode: i32) -> StoaError {
    let name = sign_mode_name(mode);
    let why = if mode == SignMode::Textual as i32 {
        " (SIGN_MODE_TEXTUAL is not implemented by Stoa)"
    } else {
        ""
    };
    sdk::NOT_SUPPORTED.with(format!(
        "signer {i}: sign mode {name} is not supported{why}; sign with SIGN_MODE_DIRECT or SIGN_MODE_LEGACY_AMINO_JSON"
    ))
}

fn mode_number(mode: &SignerMode) -> i32 {
    match mode {
        SignerMode::Direct => SignMode::Direct as i32,
        SignerMode::AminoJson => SignMode::LegacyAminoJson as i32,
        SignerMode::Unsupported(m) => *m,
        // Not a single mode: never named in an error.
        SignerMode::Multi(_) => SignMode::Unspecified as i32,
    }
}

/// Whether signer `i`'s signature is valid for `key` and this account number, in its mode: a
/// single key checks one signature, a multisig key (only with `ModeInfo.Multi`) each of its
/// parts in the part's own mode (amino JSON as the Cosmos SDK's `tx multi-sign`, or direct).
fn verify_signer(
    tx: &DecodedTx,
    i: usize,
    key: &PubKey,
    chain_id: &str,
    account_number: u64,
) -> StoaResult<bool> {
    let Some(signer) = tx.signers.get(i) else {
        return Ok(false);
    };
    let refuse = |why: &str| sdk::UNAUTHORIZED.with(format!("signer {i}: {why}"));
    match (&signer.mode, key) {
        (SignerMode::Multi(mode), PubKey::Multisig(multi)) => {
            if mode.size != multi.keys.len() {
                return Err(refuse(&format!(
                    "bit array size is incorrect: {}, the multisig key has {} keys",
                    mode.size,
                    multi.keys.len()
                )));
            }
            let sigs = MultiSignature::decode(signer.signature.as_slice())
                .map_err(|e| sdk::TX_DECODE.with(format!("signer {i}: MultiSignature: {e}")))?;
            if sigs.signatures.len() != mode.signed.len() {
                return Err(refuse(&format!(
                    "{} signatures for {} keys set in the bit array",
                    sigs.signatures.len(),
                    mode.signed.len()
                )));
            }
            if mode.signed.len() < multi.threshold as usize {
                return Err(refuse(&format!(
                    "not enough signatures: {} of the multisig's threshold {}",
                    mode.signed.len(),
                    multi.threshold
                )));
            }
            for ((k, part_mode), sig) in mode.signed.iter().zip(&mode.modes).zip(&sigs.signatures) {
                let bytes = tx
                    .mode_sign_bytes(part_mode, chain_id, account_number, signer.sequence)
                    .ok_or_else(|| unsupported_mode(i, mode_number(part_mode)))?;
                let Some(part_key) = multi.keys.get(*k) else {
                    return Ok(false);
                };
                if !verify_one(part_key, &bytes, sig) {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (SignerMode::Multi(_), _) => Err(refuse(
            "a multisig signature (ModeInfo.Multi) needs a multisig account key",
        )),
        (_, PubKey::Multisig(_)) => Err(refuse(
            "a multisig account signs with ModeInfo.Multi (one signature per signing key)",
        )),
        (mode, key) => {
            let bytes = tx
                .mode_sign_bytes(mode, chain_id, account_number, signer.sequence)
                .ok_or_else(|| unsupported_mode(i, mode_number(mode)))?;
            Ok(verify_one(key, &bytes, &signer.signature))
        }
    }
}

/// The gas of checking a signer's signature: its key type's cost (secp256k1's when the key is
/// not known yet, as in a simulation of a new account's first tx); for a multisig the sum over
/// the keys that signed (the bit array's, or in a simulation without one, the first
/// `threshold` keys).
fn signature_gas(cfg: &GasConfig, key: Option<&PubKey>, mode: &SignerMode) -> u64 {
    let one = |k: &PubKey| match k {
        PubKey::Ed25519(_) => cfg.sig_verify_cost_ed25519,
        _ => cfg.sig_verify_cost_secp256k1,
    };
    match key {
        Some(PubKey::Multisig(m)) => {
            let signed: Vec<usize> = match mode {
                SignerMode::Multi(mm) => mm.signed.clone(),
                _ => (0..m.threshold as usize).collect(),
            };
            signed
                .iter()
                .filter_map(|k| m.keys.get(*k))
                .fold(0u64, |sum, k| sum.saturating_add(one(k)))
        }
        Some(k) => one(k),
        None => cfg.sig_verify_cost_secp256k1,
    }
}

/// The size of the tx a simulation stands for: each signature as long as a real one (64
/// bytes for a single key, a `MultiSignature` of `threshold` of them for a multisig), and a
/// signer's mode UNSPECIFIED (0, left out of the encoding) as a real mode (DIRECT or
/// LEGACY_AMINO_JSON, one byte each): the tx re-encoded that way, length prefixes included.
fn simulated_size(tx: &DecodedTx) -> u64 {
    let signatures: Vec<Vec<u8>> = tx
        .signers
        .iter()
        .map(|s| {
            let full = match &s.pub_key {
                Some(PubKey::Multisig(m)) => 66usize.saturating_mul(m.threshold as usize),
                _ => 64,
            };
            vec![0u8; full.max(s.signature.len())]
        })
        .collect();
    let unspecified = SignerMode::Unsupported(SignMode::Unspecified as i32);
    let auth_info_bytes = if tx.signers.iter().any(|s| s.mode == unspecified) {
        match AuthInfo::decode(tx.auth_info_bytes.as_slice()) {
            Ok(mut auth) => {
                for info in &mut auth.signer_infos {
                    if let Some(mode_info::Sum::Single(single)) =
                        info.mode_info.as_mut().and_then(|m| m.sum.as_mut())
                    {
                        if single.mode == SignMode::Unspecified as i32 {
                            single.mode = SignMode::Direct as i32;
                        }
                    }
                }
                auth.encode_to_vec()
            }
            Err(_) => tx.auth_info_bytes.clone(),
        }
    } else {
        tx.auth_info_bytes.clone()
    };
    let raw = TxRaw {
        body_bytes: tx.body_bytes.clone(),
        auth_info_bytes,
        signatures,
    };
    (raw.encoded_len() as u64).max(tx.size as u64)
}

/// A tx without a fee still costs the gas of paying one, in simulation and in a block alike:
/// a client simulates without a fee (cosmjs, the Cosmos SDK's `--gas auto`) and then sends the
/// tx with one, and the estimate must cover the transfer. The transfer of one unit of the first
/// fee denom the payer holds runs in a branch that is dropped; only its gas stays. A payer
/// holding none of the fee denoms pays no such gas (its tx could not carry a fee either).
fn charge_unpaid_fee(ctx: &mut Ctx<'_>, params: &TxParams, payer: &Address) -> StoaResult<()> {
    // Chosen without gas: the delivered tx names its denom without reading anything.
    let denom = params
        .fee_denoms
        .iter()
        .map(|f| f.denom.as_str())
        .find(|d| BankKeeper::peek_balance(ctx.state(), payer, d) > 0);
    let Some(denom) = denom else {
        return Ok(());
    };
    let one = Coins::from_list(vec![Coin::new(1, denom)])?;
    // Returned to drop the branch; never leaves this function.
    let dropped = sdk::LOGIC.with("the gas of a fee transfer (dropped)");
    let probe = ctx.branch(|ctx| {
        BankKeeper.send_to_module(ctx, payer, FEE_COLLECTOR, &one)?;
        Err::<(), _>(dropped.clone())
    });
    match probe {
        Err(e) if e == dropped => Ok(()),
        Err(e) => Err(e),
        Ok(()) => Ok(()),
    }
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
