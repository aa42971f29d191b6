//! The bank end to end over a real on-disk store: genesis, sends, escrow through module
//! accounts, mint and burn permissions and caps, the supply invariant, and supply conservation
//! under arbitrary transfers.

use proptest::prelude::*;
use stoa_bank::{error, genesis, AuthKeeper, BankKeeper, BankMint, BankModule, BankSend, BankView};
use stoa_framework::{
    module_address, sdk, Address, BlockInfo, Coin, Coins, Ctx, ExecMode, Module, ModuleAccountSpec,
    State, Store,
};

fn addr(n: u8) -> Address {
    Address([n; 20])
}

fn coins(s: &str) -> Coins {
    Coins::parse(s).unwrap()
}

fn block() -> BlockInfo {
    BlockInfo {
        chain_id: "test".into(),
        height: 1,
        time_seconds: 1_700_000_000,
        ..Default::default()
    }
}

/// Genesis with alice and bob funded, plus an "escrow" module that may mint and burn.
fn setup(state: &mut State) {
    let mut g = genesis::BankGenesis::from_json(&genesis::default_genesis_json()).unwrap();
    g.balances.push(genesis::GenesisBalance {
        address: addr(1),
        coins: vec![Coin::new(1_000, "ustor"), Coin::new(50, "uusdc")],
    });
    g.balances.push(genesis::GenesisBalance {
        address: addr(2),
        coins: vec![Coin::new(10, "ustor")],
    });
    let mut ctx = Ctx::unmetered(state, block(), ExecMode::Finalize);
    let bank = BankModule::new();
    bank.init_genesis(&mut ctx, &g.to_json().unwrap()).unwrap();
    BankKeeper
        .register_module_accounts(
            &mut ctx,
            &[
                ModuleAccountSpec {
                    name: "escrow",
                    mint: true,
                    burn: true,
                },
                ModuleAccountSpec {
                    name: "plain",
                    mint: false,
                    burn: false,
                },
            ],
        )
        .unwrap();
}

/// A message through the module as the app runs it: checked without state, then handled.
fn handle(
    bank: &BankModule,
    ctx: &mut Ctx<'_>,
    msg: &stoa_framework::Any,
) -> Result<Vec<u8>, stoa_framework::StoaError> {
    let checked = check(bank, msg)?;
    let (msgs, _) = registered(bank);
    let handler = &msgs.iter().find(|(url, _)| *url == msg.type_url).unwrap().1;
    ctx.in_module("bank", |ctx| handler.execute(ctx, &checked))
}

fn registered(
    bank: &BankModule,
) -> (
    stoa_framework::module::MsgRoutes,
    stoa_framework::module::QueryRoutes,
) {
    let mut r = stoa_framework::Registrar::new("bank");
    bank.register(&mut r);
    r.into_parts()
}

fn check(
    bank: &BankModule,
    msg: &stoa_framework::Any,
) -> Result<stoa_framework::CheckedMsg, stoa_framework::StoaError> {
    let (msgs, _) = registered(bank);
    match msgs.iter().find(|(url, _)| *url == msg.type_url) {
        Some((_, handler)) => handler.check(msg),
        None => Err(sdk::UNKNOWN_REQUEST.with(msg.type_url.clone())),
    }
}

fn send_msg(from: &Address, to: &Address, amount: &str) -> stoa_framework::Any {
    use cosmrs::proto::cosmos::bank::v1beta1::MsgSend;
    use cosmrs::proto::cosmos::base::v1beta1::Coin as PC;
    use prost::Message;
    let amount = amount
        .split(',')
        .map(|c| {
            let (n, d) = c.split_at(c.find(|ch: char| !ch.is_ascii_digit()).unwrap());
            PC {
                denom: d.into(),
                amount: n.into(),
            }
        })
        .collect();
    let m = MsgSend {
        from_address: from.to_string(),
        to_address: to.to_string(),
        amount,
    };
    stoa_framework::Any {
        type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
        value: m.encode_to_vec(),
    }
}

#[test]
fn genesis_send_escrow_mint_burn_and_invariant() {
    let store = Store::open_temporary().unwrap();
    let mut state = State::new(store);
    setup(&mut state);
    let bank = BankModule::new();
    let mut ctx = Ctx::unmetered(&mut state, block(), ExecMode::Finalize);

    // Genesis supply: the design's STOR allocation plus what the test accounts were given.
    assert_eq!(
        BankKeeper.supply_of(&mut ctx, "ustor").unwrap(),
        900_000_000_000_000 + 1_010
    );
    assert_eq!(
        BankKeeper
            .balance(&mut ctx, &module_address("reserve"), "ucomp")
            .unwrap(),
        500_000_000_000_000
    );

    // MsgSend moves coins and emits Cosmos events.
    let msg = send_msg(&addr(1), &addr(3), "400ustor");
    assert_eq!(check(&bank, &msg).unwrap().signers, vec![addr(1)]);
    handle(&bank, &mut ctx, &msg).unwrap();
    assert_eq!(
        BankKeeper.balance(&mut ctx, &addr(1), "ustor").unwrap(),
        600
    );
    assert_eq!(
        BankKeeper.balance(&mut ctx, &addr(3), "ustor").unwrap(),
        400
    );
    let t = ctx.events().iter().find(|e| e.kind == "transfer").unwrap();
    assert_eq!(t.get("recipient"), Some(addr(3).to_string().as_str()));
    assert_eq!(t.get("amount"), Some("400ustor"));
    // The recipient got an account with the next number.
    assert!(BankKeeper.account(&mut ctx, &addr(3)).unwrap().is_some());

    // More than the balance, an unknown denom, a module account recipient: clean errors.
    let e = handle(&bank, &mut ctx, &send_msg(&addr(1), &addr(3), "601ustor")).unwrap_err();
    assert!(sdk::INSUFFICIENT_FUNDS.is(&e), "{e}");
    let e = handle(&bank, &mut ctx, &send_msg(&addr(1), &addr(3), "1ufake")).unwrap_err();
    assert!(error::UNKNOWN_DENOM.is(&e), "{e}");
    let e = handle(
        &bank,
        &mut ctx,
        &send_msg(&addr(1), &module_address("fee_collector"), "1ustor"),
    )
    .unwrap_err();
    assert!(error::BLOCKED_RECIPIENT.is(&e), "{e}");
    let e = check(&bank, &send_msg(&addr(1), &addr(3), "0ustor")).unwrap_err();
    assert!(sdk::INVALID_COINS.is(&e), "{e}");

    // Escrow in and out of a module account.
    BankKeeper
        .send_to_module(&mut ctx, &addr(1), "escrow", &coins("100ustor"))
        .unwrap();
    BankKeeper
        .send_from_module(&mut ctx, "escrow", &addr(2), &coins("30ustor"))
        .unwrap();
    assert_eq!(
        BankKeeper
            .balance(&mut ctx, &module_address("escrow"), "ustor")
            .unwrap(),
        70
    );
    assert_eq!(BankKeeper.balance(&mut ctx, &addr(2), "ustor").unwrap(), 40);

    // Mint and burn only with permission; the cap holds.
    BankKeeper
        .mint(&mut ctx, "escrow", &coins("5umind"))
        .unwrap();
    assert_eq!(BankKeeper.supply_of(&mut ctx, "umind").unwrap(), 5);
    BankKeeper
        .burn(&mut ctx, "escrow", &coins("20ustor"))
        .unwrap();
    assert_eq!(
        BankKeeper.supply_of(&mut ctx, "ustor").unwrap(),
        900_000_000_000_000 + 990
    );
    assert!(error::NO_MINT_PERMISSION.is(&BankKeeper
        .mint(&mut ctx, "plain", &coins("1ustor"))
        .unwrap_err()));
    assert!(error::NO_BURN_PERMISSION.is(&BankKeeper
        .burn(&mut ctx, "plain", &coins("1ustor"))
        .unwrap_err()));
    assert!(error::UNKNOWN_MODULE_ACCOUNT.is(&BankKeeper
        .mint(&mut ctx, "nobody", &coins("1ustor"))
        .unwrap_err()));
    let cap = 21_000_000_000_000u128;
    let e = BankKeeper
        .mint(
            &mut ctx,
            "escrow",
            &Coins::from_list([Coin::new(cap, "umind")]).unwrap(),
        )
        .unwrap_err();
    assert!(error::SUPPLY_CAP_EXCEEDED.is(&e), "{e}");
    assert!(error::UNKNOWN_DENOM.is(&BankKeeper
        .mint(&mut ctx, "escrow", &coins("1ufake"))
        .unwrap_err()));

    bank.invariants(&mut ctx).unwrap();

    // A balance written behind the keeper's back breaks the invariant, and the check says so.
    let key = BankKeeper.balance_key(&addr(9), "ustor");
    ctx.set(key, 1u128.to_be_bytes().to_vec()).unwrap();
    assert!(error::SUPPLY_INVARIANT.is(&bank.invariants(&mut ctx).unwrap_err()));
}

#[test]
fn genesis_export_round_trips_and_validation_rejects_bad_files() {
    let store = Store::open_temporary().unwrap();
    let mut state = State::new(store);
    setup(&mut state);
    let bank = BankModule::new();
    let mut ctx = Ctx::unmetered(&mut state, block(), ExecMode::Finalize);
    let exported = bank.export_genesis(&mut ctx).unwrap();
    let g = genesis::BankGenesis::from_json(&exported).unwrap();
    g.validate().unwrap();
    assert_eq!(g.supply().unwrap()["ustor"], 900_000_000_000_000 + 1_010);

    let mut dup = g.clone();
    dup.balances.push(dup.balances[0].clone());
    assert!(error::DUPLICATE_ENTRY.is(&dup.validate().unwrap_err()));
    let mut over = g.clone();
    over.balances.push(genesis::GenesisBalance {
        address: addr(77),
        coins: vec![Coin::new(2_000_000_000_000_000, "ustor")],
    });
    assert!(error::SUPPLY_CAP_EXCEEDED.is(&over.validate().unwrap_err()));
    let mut unknown = g;
    unknown.balances.push(genesis::GenesisBalance {
        address: addr(78),
        coins: vec![Coin::new(1, "ufake")],
    });
    assert!(error::UNKNOWN_DENOM.is(&unknown.validate().unwrap_err()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Whatever sends are attempted (many failing), supply never changes and always equals the
    /// sum of balances; failed sends change nothing.
    #[test]
    fn transfers_conserve_supply(ops in proptest::collection::vec((1u8..5, 1u8..5, 0u128..1_500, 0usize..3), 1..40)) {
        let store = Store::open_temporary().unwrap();
        let mut state = State::new(store);
        setup(&mut state);
        let bank = BankModule::new();
        let denoms = ["ustor", "uusdc", "ufake"];
        let mut ctx = Ctx::unmetered(&mut state, block(), ExecMode::Finalize);
        let before = BankKeeper.total_supply(&mut ctx).unwrap();
        for (from, to, amount, d) in ops {
            let msg = send_msg(&addr(from), &addr(to), &format!("{amount}{}", denoms[d]));
            let from_before = BankKeeper.balances(&mut ctx, &addr(from)).unwrap();
            let res = ctx.branch(|c| handle(&bank, c, &msg));
            if res.is_err() {
                prop_assert_eq!(BankKeeper.balances(&mut ctx, &addr(from)).unwrap(), from_before);
            }
            prop_assert_eq!(BankKeeper.total_supply(&mut ctx).unwrap(), before.clone());
            prop_assert!(bank.invariants(&mut ctx).is_ok());
        }
    }
}
