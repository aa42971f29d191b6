//! Validators through ABCI: the genesis `validators` section comes back from InitChain, and a
//! module's `validator_updates` hook reaches FinalizeBlock's `validator_updates` (what a later
//! staking module plugs into); a key updated twice in one block halts the node.

mod common;
use common::*;
use serde_json::json;
use stoa_app::lifecycle::BlockHeader;
use stoa_app::modules::Router;
use stoa_app::{AppOptions, StoaApp};
use stoa_framework::validators::ED25519_TYPE;
use stoa_framework::{Ctx, Module, Registrar, StoaError, Store, ValidatorKey, ValidatorUpdate};
use tendermint_abci::Application as _;
use tendermint_proto::v0_38::abci::RequestInitChain;
use tendermint_proto::v0_38::crypto::public_key::Sum;

/// A test module that changes the validator set: at height 2 it adds key [9; 32] with power 7
/// and removes key [1; 32]; `twice` makes it also name [9; 32] again (a bug that must halt).
struct Staker {
    name: &'static str,
    twice: bool,
}

impl Module for Staker {
    fn name(&self) -> &'static str {
        self.name
    }
    fn default_genesis(&self) -> serde_json::Value {
        json!({})
    }
    fn validate_genesis(&self, _: &serde_json::Value) -> Result<(), StoaError> {
        Ok(())
    }
    fn init_genesis(&self, _: &mut Ctx<'_>, _: &serde_json::Value) -> Result<(), StoaError> {
        Ok(())
    }
    fn export_genesis(&self, _: &mut Ctx<'_>) -> Result<serde_json::Value, StoaError> {
        Ok(json!({}))
    }
    fn register(&self, _: &mut Registrar) {}
    fn validator_updates(&self, ctx: &mut Ctx<'_>) -> Result<Vec<ValidatorUpdate>, StoaError> {
        if ctx.block().height != 2 {
            return Ok(vec![]);
        }
        let mut out = vec![
            ValidatorUpdate {
                pub_key: ValidatorKey::Ed25519([9; 32]),
                power: 7,
            },
            ValidatorUpdate {
                pub_key: ValidatorKey::Ed25519([1; 32]),
                power: 0,
            },
        ];
        if self.twice {
            out.push(out[0].clone());
        }
        Ok(out)
    }
}

fn app_with(staker: Staker) -> StoaApp {
    let modules: Vec<Box<dyn Module>> =
        vec![Box::new(stoa_bank::BankModule::new()), Box::new(staker)];
    StoaApp::with_router(
        Store::open_temporary().unwrap(),
        Router::new(modules).unwrap(),
        AppOptions::default(),
    )
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn genesis(app: &StoaApp, validators: serde_json::Value) -> serde_json::Value {
    let mut g = sections_of(app, genesis_with(&[]));
    g["validators"] = validators;
    g
}

fn init_chain(
    app: &StoaApp,
    g: &serde_json::Value,
) -> tendermint_proto::v0_38::abci::ResponseInitChain {
    app.init_chain(RequestInitChain {
        chain_id: CHAIN_ID.into(),
        app_state_bytes: serde_json::to_vec(g).unwrap().into(),
        initial_height: 1,
        ..Default::default()
    })
}

fn ed25519_of(u: &tendermint_proto::v0_38::abci::ValidatorUpdate) -> (Vec<u8>, i64) {
    match u.pub_key.as_ref().and_then(|k| k.sum.clone()) {
        Some(Sum::Ed25519(k)) => (k, u.power),
        other => panic!("not an ed25519 key: {other:?}"),
    }
}

#[test]
fn init_chain_returns_the_genesis_validators() {
    let app = app_with(Staker {
        name: "staker",
        twice: false,
    });
    let g = genesis(
        &app,
        json!([
            {"name": "v1", "pub_key": {"type": ED25519_TYPE, "value": b64(&[1; 32])}, "power": "10"},
            {"name": "v2", "pub_key": {"type": ED25519_TYPE, "value": b64(&[2; 32])}, "power": "5"},
        ]),
    );
    let r = init_chain(&app, &g);
    let got: Vec<_> = r.validators.iter().map(ed25519_of).collect();
    assert_eq!(got, vec![(vec![1; 32], 10), (vec![2; 32], 5)]);
    assert_eq!(r.app_hash.len(), 32);

    // No section: no validators (CometBFT's genesis.json keeps its own), same app hash as
    // with one, since the set is not kept in the state.
    let plain = app_with(Staker {
        name: "staker",
        twice: false,
    });
    let r2 = init_chain(&plain, &sections_of(&plain, genesis_with(&[])));
    assert!(r2.validators.is_empty());
    assert_eq!(r2.app_hash, r.app_hash);
}

#[test]
fn a_bad_validators_section_is_refused_at_genesis() {
    let app = app_with(Staker {
        name: "staker",
        twice: false,
    });
    let g = genesis(
        &app,
        json!([{"pub_key": {"type": ED25519_TYPE, "value": b64(&[1; 32])}, "power": "0"}]),
    );
    let e = app.apply_genesis(CHAIN_ID, 1, &g).unwrap_err();
    assert!(e.log.contains("power above 0"), "{}", e.log);
    assert_eq!(app.last_commit().0, 0);
}

#[test]
fn a_module_hook_reaches_finalize_block_validator_updates() {
    let app = app_with(Staker {
        name: "staker",
        twice: false,
    });
    init_chain(&app, &genesis(&app, json!([])));
    let first = run_block(&app, &[]);
    assert!(first.validator_updates.is_empty());
    let second = run_block(&app, &[]);
    let got: Vec<_> = second.validator_updates.iter().map(ed25519_of).collect();
    assert_eq!(got, vec![(vec![9; 32], 7), (vec![1; 32], 0)]);
    let third = run_block(&app, &[]);
    assert!(third.validator_updates.is_empty());
}

#[test]
fn a_validator_updated_twice_in_a_block_halts() {
    let app = app_with(Staker {
        name: "staker",
        twice: true,
    });
    init_chain(&app, &genesis(&app, json!([])));
    run_block(&app, &[]);
    let header = BlockHeader {
        height: 2,
        time_seconds: 1_700_000_010,
        ..Default::default()
    };
    let e = app
        .execute_block(&header, &[])
        .err()
        .expect("the block must halt");
    assert!(e.log.contains("updated twice"), "{}", e.log);
}
