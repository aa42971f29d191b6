//! Signed txs built from the input run through CheckTx (the ante: fees, gas, sequence,
//! signatures), ProcessProposal, and a block (the bank's MsgSend checks and handler), on one
//! chain kept across inputs (`check_raw` does the same with raw bytes). Nothing panics; the app checks its supply invariant after every block (a break halts = a crash);
//! a send that lands moves exactly its amount, and a refused tx moves nothing but its fee.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use stoa_fuzz::{account, alice, bob, chain, msg_send, signed_tx, Spec};

#[derive(Arbitrary, Debug)]
enum To {
    Bob,
    BobUpper,
    Alice,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Amount {
    Num(u64),
    Big(u128),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Coin {
    denom: u8,
    amount: Amount,
}

#[derive(Arbitrary, Debug)]
struct Built {
    to: To,
    coins: Vec<Coin>,
    fee: Vec<Coin>,
    gas_limit: u32,
    memo: String,
    timeout_height: u8,
    sequence_offset: i8,
    two_msgs: bool,
    finalize: bool,
}

const DENOMS: [&str; 6] = ["ucomp", "ustor", "uusdc", "umind", "unope", "u"];

fn coins(list: &[Coin]) -> Vec<(String, String)> {
    list.iter()
        .take(4)
        .map(|c| {
            let d = DENOMS[c.denom as usize % DENOMS.len()].to_string();
            let a = match &c.amount {
                Amount::Num(n) => (n % 1_000_000).to_string(),
                Amount::Big(n) => n.to_string(),
                Amount::Text(t) => t.clone(),
            };
            (d, a)
        })
        .collect()
}

fuzz_target!(|b: Built| {
    let (num, seq) = {
        let app = chain().lock().unwrap_or_else(|p| p.into_inner());
        account(&app, &alice())
    };
    let to = match &b.to {
        To::Bob => bob().to_string(),
        To::BobUpper => bob().to_string().to_uppercase(),
        To::Alice => alice().to_string(),
        To::Other(s) => s.clone(),
    };
    let amount = coins(&b.coins);
    let mut msgs = vec![msg_send(&to, &amount)];
    if b.two_msgs {
        msgs.push(msg_send(
            &bob().to_string(),
            &[("ustor".into(), "1".into())],
        ));
    }
    let tx = signed_tx(&Spec {
        msgs,
        fee: coins(&b.fee),
        gas_limit: u64::from(b.gas_limit),
        memo: b.memo.chars().take(300).collect(),
        timeout_height: u64::from(b.timeout_height),
        account_number: num,
        sequence: seq.saturating_add_signed(i64::from(b.sequence_offset % 2)),
    });
    stoa_fuzz::run_tx(&tx, b.finalize);
});
