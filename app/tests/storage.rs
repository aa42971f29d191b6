//! The storage market end to end through the app, driving block time, with real seals and
//! proofs from stoa-prover (2 KiB sectors): a deal from proposal to expiry with the provider
//! paid to the last unit; a missed Window PoSt (faulty, power lost, fault fees, terminated past
//! the maximum fault age, client refunded, collateral burned); a pre-commit never proven; a
//! deal not activated in time; simple minting against its formula; bad inputs rejected with
//! their codes. Invariants (escrow, pledge, minting) are checked after every block.

mod common;
use common::*;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use prost::{Message, Name};
use stoa_app::modules::Router;
use stoa_app::{AppOptions, StoaApp};
use stoa_bank::BankKeeper;
use stoa_framework::{module_address, Address, Any, Module, Store};
use stoa_proto::storage::v1 as pb;
use stoa_prover::prove::{
    generate_window_post, prove_porep, prove_porep_partition, seal, PoStSector, SealJob,
};
use stoa_prover::{PieceInfo, SealProof};
use stoa_storage::StorageModule;
use tendermint_abci::Application as _;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::{ExecTxResult, RequestQuery, ResponseFinalizeBlock};

const GENESIS_TIME: i64 = 1_700_000_000;
const PRICE: u128 = 1_000;
const PROVIDER_COLLATERAL: u128 = 1_000_000;
const CLIENT_COLLATERAL: u128 = 500;
const ESCROWED: u128 = 400_000_000;

fn test_params() -> serde_json::Value {
    // The devnet profile allows the small sizes (the public default allows only 32 GiB).
    let mut p = serde_json::to_value(stoa_storage::StorageParams::devnet()).unwrap();
    let set = |p: &mut serde_json::Value, k: &str, v: serde_json::Value| p[k] = v;
    for (k, v) in [
        ("min_deal_duration", 600),
        ("max_deal_duration", 100_000),
        ("max_seal_rand_lookback", 3_600),
        ("prove_commit_delay", 60),
        ("max_prove_commit_duration", 600),
        ("min_sector_lifetime", 600),
        ("max_sector_lifetime", 100_000),
        ("proving_period", 240),
        ("deadlines", 4),
        ("challenge_lookback", 20),
        ("fault_declaration_cutoff", 30),
        ("max_fault_age", 600),
        ("precommit_deposit_reward_seconds", 10),
        ("initial_pledge_reward_seconds", 20),
        ("fault_fee_reward_seconds", 5),
    ] {
        set(&mut p, k, serde_json::json!(v));
    }
    p
}

struct Chain {
    app: StoaApp,
    time: i64,
}

impl Chain {
    fn new(funded: &[Address], params: serde_json::Value) -> Chain {
        let modules: Vec<Box<dyn Module>> = vec![
            Box::new(stoa_bank::BankModule::new()),
            Box::new(StorageModule::new(BankKeeper)),
        ];
        let opts = AppOptions {
            min_gas_prices: stoa_app::config::parse_gas_prices("0.001ustor").unwrap(),
            check_invariants: true,
        };
        let app = StoaApp::with_router(
            Store::open_temporary().unwrap(),
            Router::new(modules).unwrap(),
            opts,
        );
        let mut g = sections_of(&app, genesis_with(funded));
        g["storage"] = serde_json::json!({ "params": params });
        init(&app, &g);
        let mut c = Chain {
            app,
            time: GENESIS_TIME,
        };
        c.block(&[]);
        c
    }

    /// One block `secs` after the last.
    fn block_after(&mut self, secs: i64, txs: &[Vec<u8>]) -> ResponseFinalizeBlock {
        self.time += secs;
        let height = self.app.last_commit().0 + 1;
        let mut req = block_request(height, txs);
        req.time = Some(Timestamp {
            seconds: self.time,
            nanos: 0,
        });
        let r = self.app.finalize_block(req);
        assert_eq!(r.tx_results.len(), txs.len());
        tendermint_abci::Application::commit(&self.app);
        r
    }

    fn block(&mut self, txs: &[Vec<u8>]) -> ResponseFinalizeBlock {
        self.block_after(10, txs)
    }

    /// Blocks every 10 s until block time reaches `t`.
    fn until(&mut self, t: i64) {
        while self.time + 10 <= t {
            self.block(&[]);
        }
        if self.time < t {
            self.block_after(t - self.time, &[]);
        }
    }

    fn tx(&self, key: &Key, msgs: Vec<Any>) -> Vec<u8> {
        let (num, seq) = account(&self.app, &key.address()).unwrap();
        let mut spec = TxSpec::new(num, seq, msgs);
        spec.gas_limit = 20_000_000;
        spec.fee = vec![(20_000, "ustor")];
        build_tx(key, &spec)
    }

    /// One tx in its own block; its result.
    fn send(&mut self, key: &Key, msgs: Vec<Any>) -> ExecTxResult {
        let tx = self.tx(key, msgs);
        self.block(&[tx]).tx_results.remove(0)
    }

    fn query<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        req: Req,
    ) -> Result<Resp, String> {
        let r = self.app.query(RequestQuery {
            data: req.encode_to_vec().into(),
            path: path.into(),
            height: 0,
            prove: false,
        });
        if r.code != 0 {
            return Err(r.log);
        }
        Ok(Resp::decode(r.value.as_ref()).unwrap())
    }

    fn escrow(&self, a: &Address) -> (u128, u128) {
        let r: pb::QueryBalanceResponse = self
            .query(
                "/stoa.storage.v1.Query/Balance",
                pb::QueryBalanceRequest {
                    address: a.to_string(),
                },
            )
            .unwrap();
        let b = r.balance.unwrap();
        (b.total.parse().unwrap(), b.locked.parse().unwrap())
    }

    fn provider(&self, a: &Address) -> pb::Provider {
        let r: pb::QueryProviderResponse = self
            .query(
                "/stoa.storage.v1.Query/Provider",
                pb::QueryProviderRequest {
                    provider: a.to_string(),
                },
            )
            .unwrap();
        r.provider.unwrap()
    }

    fn power(&self) -> pb::NetworkPower {
        let r: pb::QueryPowerResponse = self
            .query("/stoa.storage.v1.Query/Power", pb::QueryPowerRequest {})
            .unwrap();
        r.power.unwrap()
    }

    fn sector(&self, p: &Address, n: u64) -> Option<pb::Sector> {
        let r: pb::QuerySectorsResponse = self
            .query(
                "/stoa.storage.v1.Query/Sectors",
                pb::QuerySectorsRequest {
                    provider: p.to_string(),
                    pagination: None,
                },
            )
            .unwrap();
        r.sectors.into_iter().find(|s| s.sector_number == n)
    }
}

fn any<M: Message + Name>(m: M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

fn ok(r: &ExecTxResult) {
    assert_eq!(r.code, 0, "{}: {}", r.codespace, r.log);
}

/// The storage code of a failed tx (and that its log mentions `part`).
#[allow(dead_code)]
fn storage_err(r: &ExecTxResult, code: u32, part: &str) {
    assert_code(r, "storage", code, part);
}

fn publish_results(r: &ExecTxResult) -> Vec<pb::PublishResult> {
    ok(r);
    let data = TxMsgData::decode(r.data.as_ref()).unwrap();
    pb::MsgPublishDealsResponse::decode(data.msg_responses[0].value.as_slice())
        .unwrap()
        .results
}

/// A provider (owner + separate worker) and a client, registered and funded in escrow.
struct Market {
    chain: Chain,
    owner: Key,
    worker: Key,
    client: Key,
    other: Key,
    dir: tempfile::TempDir,
}

impl Market {
    fn new() -> Market {
        Market::with_params(test_params())
    }

    fn with_params(params: serde_json::Value) -> Market {
        let owner = Key::secp(1);
        let worker = Key::ed(2);
        let client = Key::secp(3);
        let other = Key::secp(4);
        let mut chain = Chain::new(
            &[
                owner.address(),
                worker.address(),
                client.address(),
                other.address(),
            ],
            params,
        );
        let r = chain.send(
            &owner,
            vec![any(pb::MsgRegisterProvider {
                owner: owner.address().to_string(),
                worker: worker.address().to_string(),
                seal_proof: SealProof::StackedDrg2KiBV1.to_proto() as i32,
                peer_endpoint: "http://127.0.0.1:7777".into(),
                price_per_gib_per_second: "1".into(),
                min_piece_size: 128,
                max_piece_size: 2048,
            })],
        );
        ok(&r);
        for k in [&owner, &client] {
            let r = chain.send(
                k,
                vec![any(pb::MsgAddBalance {
                    sender: k.address().to_string(),
                    address: String::new(),
                    amount: ESCROWED.to_string(),
                })],
            );
            ok(&r);
        }
        // A few minutes of blocks so that seal randomness anchors exist.
        for _ in 0..12 {
            chain.block(&[]);
        }
        Market {
            chain,
            owner,
            worker,
            client,
            other,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn provider(&self) -> Address {
        self.owner.address()
    }

    fn proposal(&self, payload: &[u8], start: i64, end: i64) -> pb::DealProposal {
        let (comm_p, size) = stoa_prover::piece_commitment(payload);
        pb::DealProposal {
            piece_cid: stoa_prover::piece_cid(&comm_p),
            piece_size: size,
            client: self.client.address().to_string(),
            provider: self.provider().to_string(),
            label: "test".into(),
            start,
            end,
            price_per_second: PRICE.to_string(),
            provider_collateral: PROVIDER_COLLATERAL.to_string(),
            client_collateral: CLIENT_COLLATERAL.to_string(),
        }
    }

    fn signed(&self, signer: &Key, p: pb::DealProposal) -> pb::ClientDealProposal {
        let any_key = signer.pub_key().to_any();
        pb::ClientDealProposal {
            signature: signer.sign(&stoa_storage::market::sign_bytes(&p)),
            proposal: Some(p),
            pub_key_type_url: any_key.type_url,
            pub_key: any_key.value,
        }
    }

    fn publish(&mut self, deals: Vec<pb::ClientDealProposal>) -> Vec<pb::PublishResult> {
        let r = self.chain.send(
            &self.worker,
            vec![any(pb::MsgPublishDeals {
                worker: self.worker.address().to_string(),
                provider: self.provider().to_string(),
                deals,
            })],
        );
        publish_results(&r)
    }

    /// Seals `payload` as sector `n` with the chain's seal randomness of 70 s ago.
    fn seal(
        &self,
        n: u64,
        payload: &[u8],
    ) -> (std::path::PathBuf, stoa_prover::prove::SealOutput, i64) {
        let t = self.chain.time - 70;
        let r: pb::QuerySealRandomnessResponse = self
            .chain
            .query(
                "/stoa.storage.v1.Query/SealRandomness",
                pb::QuerySealRandomnessRequest { time: t },
            )
            .unwrap();
        let data = self.dir.path().join(format!("data-{n}"));
        std::fs::write(&data, payload).unwrap();
        let out_dir = self.dir.path().join(format!("sector-{n}"));
        let job = SealJob {
            seal_proof: SealProof::StackedDrg2KiBV1,
            data,
            sector_number: n,
            prover_id: stoa_storage::miner::prover_id(&self.provider()),
            ticket: r.ticket.try_into().unwrap(),
            out_dir: out_dir.clone(),
        };
        let out = seal(&job, None).unwrap();
        (out_dir, out, t)
    }

    fn precommit(
        &mut self,
        n: u64,
        out: &stoa_prover::prove::SealOutput,
        rand_time: i64,
        deals: Vec<u64>,
        expiration: i64,
    ) -> ExecTxResult {
        let m = pb::MsgPreCommitSector {
            worker: self.worker.address().to_string(),
            provider: self.provider().to_string(),
            sector_number: n,
            comm_r: out.meta.comm_r().unwrap().to_vec(),
            comm_d: out.meta.comm_d().unwrap().to_vec(),
            deal_ids: deals,
            seal_rand_time: rand_time,
            expiration,
        };
        let w = self.worker.clone();
        self.chain.send(&w, vec![any(m)])
    }

    fn seed(&self, n: u64) -> [u8; 32] {
        let r: pb::QueryPreCommitResponse = self
            .chain
            .query(
                "/stoa.storage.v1.Query/PreCommit",
                pb::QueryPreCommitRequest {
                    provider: self.provider().to_string(),
                    sector_number: n,
                },
            )
            .unwrap();
        r.pre_commit.unwrap().seed.try_into().expect("seed drawn")
    }

    fn prove_commit_msg(&self, n: u64, proof: Vec<u8>) -> Any {
        any(pb::MsgProveCommitSector {
            worker: self.worker.address().to_string(),
            provider: self.provider().to_string(),
            sector_number: n,
            proof,
            partition: 0,
        })
    }

    fn deadline_of(&self, n: u64) -> pb::DeadlineInfo {
        let r: pb::QueryDeadlinesResponse = self
            .chain
            .query(
                "/stoa.storage.v1.Query/Deadlines",
                pb::QueryDeadlinesRequest {
                    provider: self.provider().to_string(),
                },
            )
            .unwrap();
        r.deadlines
            .into_iter()
            .find(|d| d.sectors.contains(&n))
            .expect("sector assigned")
    }

    fn post_msg(&self, deadline: u32, proof: Vec<u8>) -> Any {
        any(pb::MsgSubmitWindowPoSt {
            worker: self.worker.address().to_string(),
            provider: self.provider().to_string(),
            deadline,
            proof,
        })
    }

    /// Waits for a window that challenges sector `n` (its randomness drawn, the window open,
    /// the sector not yet proven there), then proves it (real PoSt).
    fn prove_window(&mut self, n: u64, dir: &std::path::Path) {
        let d = loop {
            let d = self.deadline_of(n);
            let s = self.chain.sector(&self.provider(), n).unwrap();
            if d.is_open
                && d.randomness_for_open == d.open
                && s.last_proven != d.open
                && s.activation < d.open
            {
                break d;
            }
            self.chain.block(&[]);
        };
        let rand: [u8; 32] = d.randomness.clone().try_into().unwrap();
        let post = generate_window_post(
            &[PoStSector {
                sector_number: n,
                dir: dir.to_path_buf(),
            }],
            &rand,
        );
        assert!(post.faults.is_empty());
        let w = self.worker.clone();
        let msg = self.post_msg(d.index, post.proof.encode_to_vec());
        ok(&self.chain.send(&w, vec![msg]));
        let s = self.chain.sector(&self.provider(), n).unwrap();
        assert_eq!(s.last_proven, d.open);
    }
}

/// A payload of `len` deterministic bytes.
fn payload(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Publishes one deal, seals it into sector `n`, pre-commits and prove-commits it.
fn sealed_deal(
    m: &mut Market,
    n: u64,
    start_in: i64,
    duration: i64,
) -> (u64, std::path::PathBuf, pb::DealProposal) {
    let data = payload(n as u8, 1000);
    let start = m.chain.time + start_in;
    let prop = m.proposal(&data, start, start + duration);
    let signed = m.signed(&m.client.clone(), prop.clone());
    let res = m.publish(vec![signed]);
    assert_eq!(res[0].code, 0, "{}", res[0].log);
    let deal_id = res[0].deal_id;
    let (dir, out, t) = m.seal(n, &data);
    // comm_d of the sector is that of its one piece padded with zeros.
    let (comm_p, size) = stoa_prover::piece_commitment(&data);
    let comm_d = stoa_prover::compute_comm_d(
        SealProof::StackedDrg2KiBV1,
        &[PieceInfo {
            comm_p,
            padded_size: size,
        }],
    )
    .unwrap();
    assert_eq!(out.meta.comm_d().unwrap(), comm_d);
    let expiration = start + duration + 60;
    ok(&m.precommit(n, &out, t, vec![deal_id], expiration));
    m.chain.until(m.chain.time + 70);
    let seed = m.seed(n);
    let proof = prove_porep(&dir, &seed).unwrap().encode_to_vec();
    let w = m.worker.clone();
    let msg = m.prove_commit_msg(n, proof);
    ok(&m.chain.send(&w, vec![msg]));
    (deal_id, dir, prop)
}

#[test]
fn a_deal_from_proposal_to_expiry_pays_the_provider_to_the_last_unit() {
    let mut m = Market::new();
    let provider = m.provider();
    let client = m.client.address();
    let duration = 1_200;
    let (deal_id, dir, prop) = sealed_deal(&mut m, 1, 300, duration);
    let pv = m.chain.provider(&provider);
    assert_eq!(
        (pv.raw_power, pv.qa_power, pv.active_sectors),
        (2048, 2048, 1)
    );
    assert_eq!(m.chain.power().qa, 2048);
    let pledge: u128 = pv.pledge.parse().unwrap();
    assert!(pledge > 0);
    let (client_total, client_locked) = m.chain.escrow(&client);
    assert_eq!(client_total, ESCROWED);
    assert_eq!(client_locked, PRICE * duration as u128 + CLIENT_COLLATERAL);

    // Prove every window until the deal ends; settle once midway.
    let mut settled = false;
    while m.chain.time < prop.end - 240 {
        m.prove_window(1, &dir);
        if !settled && m.chain.time > prop.start + 100 {
            let sender = m.other.clone();
            ok(&m.chain.send(
                &sender,
                vec![any(pb::MsgSettleDealPayments {
                    sender: sender.address().to_string(),
                    deal_ids: vec![deal_id],
                })],
            ));
            let (ct, _) = m.chain.escrow(&client);
            let paid = (m.chain.time - prop.start) as u128 * PRICE;
            assert_eq!(ESCROWED - ct, paid, "settled to the second");
            settled = true;
        }
    }
    assert!(settled);
    m.chain.until(prop.end + 10);
    let r: Result<pb::QueryDealResponse, _> = m.chain.query(
        "/stoa.storage.v1.Query/Deal",
        pb::QueryDealRequest { id: deal_id },
    );
    assert!(r.is_err(), "an expired deal is removed");
    let paid = PRICE * duration as u128;
    assert_eq!(m.chain.escrow(&client), (ESCROWED - paid, 0));
    let (pt, pl) = m.chain.escrow(&provider);
    let deposit_and_pledge_taken = ESCROWED - (pt - paid);
    assert_eq!(pl, 0, "collateral unlocked");
    assert_eq!(
        deposit_and_pledge_taken, pledge,
        "only the pledge is out of the provider's escrow"
    );
    // The sector expires a minute after the deal: its pledge comes back.
    m.chain.until(prop.end + 120);
    assert!(m.chain.sector(&provider, 1).is_none());
    assert_eq!(m.chain.escrow(&provider), (ESCROWED + paid, 0));
    assert_eq!(m.chain.power().qa, 0);

    // The provider earned block rewards while it had power: 25% liquid now, 75% vesting.
    let before = balance(&m.chain.app, &provider, "ustor");
    let owner = m.owner.clone();
    let r = m.chain.send(
        &owner,
        vec![any(pb::MsgWithdrawRewards {
            owner: provider.to_string(),
        })],
    );
    ok(&r);
    let data = TxMsgData::decode(r.data.as_ref()).unwrap();
    let w = pb::MsgWithdrawRewardsResponse::decode(data.msg_responses[0].value.as_slice()).unwrap();
    let liquid: u128 = w.liquid.parse().unwrap();
    let vesting: u128 = w.vesting.parse().unwrap();
    assert!(liquid > 0 && vesting > 0);
    assert!(vesting.abs_diff(liquid * 3) <= 3, "{liquid} {vesting}");
    let vested: u128 = w.vested_paid.parse().unwrap();
    assert_eq!(
        balance(&m.chain.app, &provider, "ustor") + 20_000,
        before + liquid + vested
    );
}

#[test]
fn a_missed_post_faults_the_sector_then_terminates_it_past_the_max_fault_age() {
    let mut m = Market::new();
    let provider = m.provider();
    let client = m.client.address();
    let duration = 3_000;
    let (deal_id, dir, prop) = sealed_deal(&mut m, 1, 300, duration);
    m.prove_window(1, &dir);
    let pledge0: u128 = m.chain.provider(&provider).pledge.parse().unwrap();
    let supply0 = unminted_supply(&m.chain.app);
    // No proof in the next window: faulty when it closes, power gone, a fault fee paid.
    let d = m.deadline_of(1);
    let next_close = d.close + 240;
    m.chain.until(next_close + 10);
    let s = m.chain.sector(&provider, 1).unwrap();
    assert_eq!(s.state, pb::SectorState::Faulty as i32);
    assert_eq!(m.chain.power().qa, 0);
    let pv = m.chain.provider(&provider);
    assert_eq!((pv.qa_power, pv.faulty_sectors), (0, 1));
    let pledge1: u128 = pv.pledge.parse().unwrap();
    assert!(pledge1 < pledge0, "fault fee charged from the pledge");
    // One more period: another fee.
    m.chain.until(next_close + 240 + 10);
    let pledge2: u128 = m.chain.provider(&provider).pledge.parse().unwrap();
    assert!(pledge2 < pledge1, "a fee every proving period");
    // Past the max fault age (600 s) the sector terminates at its deadline.
    let faulty_since = s.faulty_since;
    m.chain.until(faulty_since + 600 + 240 + 10);
    assert!(m.chain.sector(&provider, 1).is_none(), "terminated");
    let r: Result<pb::QueryDealResponse, _> = m.chain.query(
        "/stoa.storage.v1.Query/Deal",
        pb::QueryDealRequest { id: deal_id },
    );
    assert!(r.is_err());
    // The client paid until the termination and got the rest back; collateral burned.
    let (ct, cl) = m.chain.escrow(&client);
    assert_eq!(cl, 0);
    let paid = ESCROWED - ct;
    assert!(
        paid > 0 && paid < PRICE * duration as u128 && paid.is_multiple_of(PRICE),
        "{paid}"
    );
    assert!(prop.start + (paid / PRICE) as i64 <= m.chain.time);
    let (pt, pl) = m.chain.escrow(&provider);
    assert_eq!(pl, 0);
    // Everything the provider lost (collateral, fault fees, termination fee) was burned.
    let lost = ESCROWED + paid - pt;
    assert!(lost > PROVIDER_COLLATERAL, "collateral and fees");
    assert_eq!(supply0 - unminted_supply(&m.chain.app), lost);
    assert_eq!(m.chain.provider(&provider).pledge, "0");
}

fn supply(app: &StoaApp) -> u128 {
    use cosmos_sdk_proto::cosmos::bank::v1beta1::{QuerySupplyOfRequest, QuerySupplyOfResponse};
    let r = app.query(RequestQuery {
        data: QuerySupplyOfRequest {
            denom: "ustor".into(),
        }
        .encode_to_vec()
        .into(),
        path: "/cosmos.bank.v1beta1.Query/SupplyOf".into(),
        height: 0,
        prove: false,
    });
    assert_eq!(r.code, 0, "{}", r.log);
    QuerySupplyOfResponse::decode(r.value.as_ref())
        .unwrap()
        .amount
        .unwrap()
        .amount
        .parse()
        .unwrap()
}

#[test]
fn a_precommit_never_proven_loses_its_deposit_and_an_unactivated_deal_slashes_collateral() {
    let mut m = Market::new();
    let provider = m.provider();
    let client = m.client.address();
    let data = payload(9, 1000);
    let start = m.chain.time + 300;
    let prop = m.proposal(&data, start, start + 900);
    let c = m.client.clone();
    let res = m.publish(vec![m.signed(&c, prop.clone())]);
    assert_eq!(res[0].code, 0, "{}", res[0].log);
    let (dir, out, t) = m.seal(5, &data);
    drop(dir);
    ok(&m.precommit(5, &out, t, vec![res[0].deal_id], start + 1000));
    let pv = m.chain.provider(&provider);
    let deposit: u128 = pv.precommit_deposits.parse().unwrap();
    assert!(deposit > 0);
    let supply0 = unminted_supply(&m.chain.app);
    // Never proven: the deal's start passes (collateral slashed, client unlocked) ...
    m.chain.until(start + 10);
    assert_eq!(m.chain.escrow(&client), (ESCROWED, 0));
    let (pt, pl) = m.chain.escrow(&provider);
    assert_eq!((pt, pl), (ESCROWED - deposit - PROVIDER_COLLATERAL, 0));
    assert_eq!(unminted_supply(&m.chain.app), supply0 - PROVIDER_COLLATERAL);
    // ... and the pre-commit expires with its deposit burned.
    m.chain.until(m.chain.time + 600);
    assert_eq!(m.chain.provider(&provider).precommit_deposits, "0");
    assert_eq!(
        m.chain.escrow(&provider).0,
        ESCROWED - deposit - PROVIDER_COLLATERAL
    );
    let r: Result<pb::QueryPreCommitResponse, _> = m.chain.query(
        "/stoa.storage.v1.Query/PreCommit",
        pb::QueryPreCommitRequest {
            provider: provider.to_string(),
            sector_number: 5,
        },
    );
    assert!(r.is_err());
}

/// The supply less what the reward account holds (block rewards minted and not withdrawn).
fn unminted_supply(app: &StoaApp) -> u128 {
    supply(app) - balance(app, &module_address("storage_reward"), "ustor")
}

#[test]
fn simple_minting_follows_its_formula_over_simulated_years() {
    let mut chain = Chain::new(
        &[],
        serde_json::to_value(stoa_storage::StorageParams::default()).unwrap(),
    );
    let year = 365 * 86_400i64;
    let lambda = std::f64::consts::LN_2 / (6.0 * year as f64);
    for _ in 0..8 {
        chain.block_after(year, &[]);
        let r: pb::QueryRewardsResponse = chain
            .query("/stoa.storage.v1.Query/Rewards", pb::QueryRewardsRequest {})
            .unwrap();
        let t = (chain.time - GENESIS_TIME) as f64;
        let want = 330e12 * (1.0 - (-lambda * t).exp());
        let got: f64 = r.minted_simple.parse::<u128>().unwrap() as f64;
        assert!(
            (got - want).abs() <= 2.0 + want * 1e-12,
            "t={t}: {got} vs {want}"
        );
        assert_eq!(r.minted_baseline, "0", "no power, no baseline minting");
        assert_eq!(
            balance(&chain.app, &module_address("storage_reward"), "ustor"),
            got as u128
        );
    }
}

#[test]
fn bad_input_is_rejected_with_its_code_and_moves_nothing() {
    let mut m = Market::new();
    let provider = m.provider();
    let client = m.client.address();
    let c = m.client.clone();
    let other = m.other.clone();
    let now = m.chain.time;
    let data = payload(1, 1000);
    let good = m.proposal(&data, now + 300, now + 1_300);

    // Per-proposal errors in one batch: only the valid proposal is published.
    let mut past = good.clone();
    past.start = now - 10;
    let mut backwards = good.clone();
    backwards.end = backwards.start - 1;
    let mut big = good.clone();
    big.piece_size = 4096;
    let res = m.publish(vec![
        m.signed(&other, good.clone()),
        m.signed(&c, past),
        m.signed(&c, backwards),
        m.signed(&c, big),
        m.signed(&c, good.clone()),
        m.signed(&c, good.clone()),
    ]);
    let codes: Vec<(String, u32)> = res.iter().map(|r| (r.codespace.clone(), r.code)).collect();
    let s = |c: u32| ("storage".to_string(), c);
    assert_eq!(
        codes,
        vec![s(10), s(12), s(13), s(15), (String::new(), 0), s(17)],
        "{res:?}"
    );
    let deal_id = res[4].deal_id;
    let locked = PRICE * 1_000 + CLIENT_COLLATERAL;
    assert_eq!(m.chain.escrow(&client), (ESCROWED, locked));

    // A key that is not the provider's worker.
    let r = m.chain.send(
        &other,
        vec![any(pb::MsgPublishDeals {
            worker: other.address().to_string(),
            provider: provider.to_string(),
            deals: vec![m.signed(&c, m.proposal(&payload(2, 500), now + 300, now + 1_300))],
        })],
    );
    storage_err(&r, 3, "");
    // A withdrawal of locked funds.
    let r = m.chain.send(
        &c,
        vec![any(pb::MsgWithdrawBalance {
            address: client.to_string(),
            amount: (ESCROWED - locked + 1).to_string(),
        })],
    );
    storage_err(&r, 9, "");
    assert_eq!(m.chain.escrow(&client), (ESCROWED, locked));

    // Sectors: 1 holds the deal, 2 other data (no deal matches it), 3 none (committed
    // capacity: all zeros).
    let (dir1, out1, t) = m.seal(1, &data);
    let (_, out2, _) = m.seal(2, &payload(7, 2032));
    let (dir3, out3, _) = m.seal(3, &[]);
    let exp = good.end + 100;
    // Stale seal randomness; comm_d that does not match the deals.
    storage_err(
        &m.precommit(1, &out1, t - 4_000, vec![deal_id], exp),
        21,
        "",
    );
    storage_err(&m.precommit(2, &out2, t, vec![deal_id], exp), 22, "");
    assert_eq!(m.chain.provider(&provider).precommit_deposits, "0");
    assert_eq!(m.chain.escrow(&provider), (ESCROWED, PROVIDER_COLLATERAL));
    ok(&m.precommit(1, &out1, t, vec![deal_id], exp));
    ok(&m.precommit(3, &out3, t, vec![], exp));
    // Proving before the seed is drawn.
    let w = m.worker.clone();
    let early = m.prove_commit_msg(1, vec![1, 2, 3]);
    storage_err(&m.chain.send(&w, vec![early]), 25, "");
    m.chain.until(m.chain.time + 70);
    let p1 = prove_porep(&dir1, &m.seed(1)).unwrap().encode_to_vec();
    let p3 = prove_porep(&dir3, &m.seed(3)).unwrap().encode_to_vec();
    // A proof for the wrong sector, a proof with a flipped byte.
    let wrong = m.prove_commit_msg(3, p1.clone());
    storage_err(&m.chain.send(&w, vec![wrong]), 26, "");
    let mut flipped = p1.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    let bad = m.prove_commit_msg(1, flipped);
    storage_err(&m.chain.send(&w, vec![bad]), 26, "");
    assert_eq!(m.chain.power().qa, 0);
    // The right proofs pass (in one block).
    let msgs = vec![m.prove_commit_msg(1, p1), m.prove_commit_msg(3, p3)];
    ok(&m.chain.send(&w, msgs));
    assert_eq!(m.chain.power().qa, 4096);
    assert_eq!(
        m.chain.escrow(&client).1,
        locked - (m.chain.time - good.start).max(0) as u128 * PRICE
    );

    // Window PoSt outside its deadline's window: the sectors sit in deadlines 0 and 1; one
    // with no challenge drawn yet is refused.
    let d = m.deadline_of(1);
    let post = generate_window_post(
        &[PoStSector {
            sector_number: 1,
            dir: dir1.clone(),
        }],
        &[0u8; 32],
    );
    let msg = m.post_msg(d.index, post.proof.encode_to_vec());
    storage_err(&m.chain.send(&w, vec![msg]), 27, "");
    // In its window it passes; once the window closed the same proof is refused.
    m.prove_window(1, &dir1);
    let d = m.deadline_of(1);
    let rand: [u8; 32] = d.randomness.clone().try_into().unwrap();
    let post = generate_window_post(
        &[PoStSector {
            sector_number: 1,
            dir: dir1.clone(),
        }],
        &rand,
    );
    m.chain.until(d.close + 1);
    let msg = m.post_msg(d.index, post.proof.encode_to_vec());
    storage_err(&m.chain.send(&w, vec![msg]), 27, "");
}

#[test]
fn a_declared_fault_removes_power_and_a_later_proof_recovers_it() {
    let mut m = Market::new();
    let provider = m.provider();
    let (_, dir, _) = sealed_deal(&mut m, 1, 300, 3_000);
    m.prove_window(1, &dir);
    let w = m.worker.clone();
    let declare = any(pb::MsgDeclareFaults {
        worker: w.address().to_string(),
        provider: provider.to_string(),
        sector_numbers: vec![1],
    });
    // Only the worker may declare.
    let other = m.other.clone();
    let by_other = any(pb::MsgDeclareFaults {
        worker: other.address().to_string(),
        provider: provider.to_string(),
        sector_numbers: vec![1],
    });
    storage_err(&m.chain.send(&other, vec![by_other]), 3, "");
    // Not while its window is open (nor within the cutoff before it opens).
    storage_err(&m.chain.send(&w, vec![declare.clone()]), 32, "");
    let d = m.deadline_of(1);
    m.chain.until(d.close + 10);
    ok(&m.chain.send(&w, vec![declare]));
    let s = m.chain.sector(&provider, 1).unwrap();
    assert_eq!(s.state, pb::SectorState::Faulty as i32);
    assert_eq!(m.chain.power().qa, 0);
    let pledge0: u128 = m.chain.provider(&provider).pledge.parse().unwrap();
    // Its next window does not challenge it (a fault not declared recovered is skipped, as in
    // Filecoin), and it pays the fault fee when the window closes.
    let declare_recovered = any(pb::MsgDeclareFaultsRecovered {
        worker: w.address().to_string(),
        provider: provider.to_string(),
        sector_numbers: vec![1],
    });
    let d = loop {
        let d = m.deadline_of(1);
        if d.is_open && d.randomness_for_open == d.open {
            break d;
        }
        m.chain.block(&[]);
    };
    assert!(!d.challenged.contains(&1), "{d:?}");
    // Nor may it be declared recovered while its window is open.
    storage_err(&m.chain.send(&w, vec![declare_recovered.clone()]), 32, "");
    m.chain.until(d.close + 10);
    let pledge1: u128 = m.chain.provider(&provider).pledge.parse().unwrap();
    assert!(pledge1 < pledge0, "fault fee for the period");
    assert_eq!(m.chain.power().qa, 0);
    // Declared recovered: the next window challenges it; a real proof recovers it (power
    // back, no more fees).
    ok(&m.chain.send(&w, vec![declare_recovered.clone()]));
    assert!(m.chain.sector(&provider, 1).unwrap().recovering);
    assert!(m.deadline_of(1).challenged.contains(&1));
    m.prove_window(1, &dir);
    let s = m.chain.sector(&provider, 1).unwrap();
    assert_eq!(s.state, pb::SectorState::Active as i32);
    assert!(!s.recovering);
    assert_eq!(m.chain.power().qa, 2048);
    // An active sector has nothing to recover.
    storage_err(&m.chain.send(&w, vec![declare_recovered]), 35, "");
    let d = m.deadline_of(1);
    m.chain.until(d.close + 10);
    assert_eq!(m.chain.provider(&provider).pledge, pledge1.to_string());

    // Expiration only moves later, within the maximum lifetime.
    let exp = s.expiration;
    let extend = |e: i64| {
        any(pb::MsgExtendSectorExpiration {
            worker: w.address().to_string(),
            provider: provider.to_string(),
            sector_numbers: vec![1],
            new_expiration: e,
        })
    };
    storage_err(&m.chain.send(&w, vec![extend(exp - 1)]), 23, "");
    storage_err(
        &m.chain.send(&w, vec![extend(s.activation + 100_001)]),
        23,
        "",
    );
    ok(&m.chain.send(&w, vec![extend(exp + 500)]));
    assert_eq!(m.chain.sector(&provider, 1).unwrap().expiration, exp + 500);
}

/// Seals an empty (committed capacity) sector `n` for the market's current provider and
/// proves it.
fn cc_sector(m: &mut Market, n: u64) {
    let (dir, out, t) = m.seal(n, &[]);
    let exp = m.chain.time + 2_000;
    ok(&m.precommit(n, &out, t, vec![], exp));
    m.chain.until(m.chain.time + 70);
    let proof = prove_porep(&dir, &m.seed(n)).unwrap().encode_to_vec();
    let w = m.worker.clone();
    let msg = m.prove_commit_msg(n, proof);
    ok(&m.chain.send(&w, vec![msg]));
}

#[test]
fn block_rewards_are_split_by_qa_power() {
    // Long proving periods: no deadline closes (and faults a sector) while rewards are measured.
    let mut params = test_params();
    params["proving_period"] = serde_json::json!(4_800);
    let mut m = Market::with_params(params);
    let a = m.provider();
    // A second provider with its own worker; the market's helpers act for it once swapped in.
    let (owner_b, worker_b) = (Key::secp(11), Key::ed(12));
    for k in [&owner_b, &worker_b] {
        let from = m.other.clone();
        ok(&m.chain.send(
            &from,
            vec![msg_send(
                &from.address(),
                &k.address(),
                &[(100_000_000, "ustor")],
            )],
        ));
    }
    ok(&m.chain.send(
        &owner_b,
        vec![any(pb::MsgRegisterProvider {
            owner: owner_b.address().to_string(),
            worker: worker_b.address().to_string(),
            seal_proof: SealProof::StackedDrg2KiBV1.to_proto() as i32,
            peer_endpoint: "http://127.0.0.1:7778".into(),
            price_per_gib_per_second: "1".into(),
            min_piece_size: 128,
            max_piece_size: 2048,
        })],
    ));
    ok(&m.chain.send(
        &owner_b,
        vec![any(pb::MsgAddBalance {
            sender: owner_b.address().to_string(),
            address: String::new(),
            amount: "90000000".into(),
        })],
    ));
    cc_sector(&mut m, 1);
    let (owner_a, worker_a) = (m.owner.clone(), m.worker.clone());
    m.owner = owner_b.clone();
    m.worker = worker_b.clone();
    m.dir = tempfile::tempdir().unwrap();
    cc_sector(&mut m, 1);
    cc_sector(&mut m, 2);
    m.owner = owner_a;
    m.worker = worker_a;
    let b = owner_b.address();
    assert_eq!(m.chain.provider(&a).qa_power, 2048);
    assert_eq!(m.chain.provider(&b).qa_power, 4096);
    let pending = |m: &Market, p: &Address| -> u128 {
        let r: pb::QueryProviderResponse = m
            .chain
            .query(
                "/stoa.storage.v1.Query/Provider",
                pb::QueryProviderRequest {
                    provider: p.to_string(),
                },
            )
            .unwrap();
        r.pending_rewards.parse().unwrap()
    };
    let (a0, b0) = (pending(&m, &a), pending(&m, &b));
    let before: pb::QueryRewardsResponse = m
        .chain
        .query("/stoa.storage.v1.Query/Rewards", pb::QueryRewardsRequest {})
        .unwrap();
    for _ in 0..3 {
        m.chain.block(&[]);
    }
    let after: pb::QueryRewardsResponse = m
        .chain
        .query("/stoa.storage.v1.Query/Rewards", pb::QueryRewardsRequest {})
        .unwrap();
    let minted = after.minted_simple.parse::<u128>().unwrap()
        - before.minted_simple.parse::<u128>().unwrap();
    let (da, db) = (pending(&m, &a) - a0, pending(&m, &b) - b0);
    assert!(minted > 0);
    assert!(
        da + db <= minted && minted - (da + db) <= 3,
        "{da} + {db} of {minted}"
    );
    assert!((2 * da).abs_diff(db) <= 2, "{da} vs {db}");
    assert_eq!(m.chain.power().qa, 3 * 2048);
}

#[derive(Clone, Debug)]
enum Op {
    Add(u128),
    Withdraw(u128),
    Publish {
        start_in: i64,
        duration: i64,
        price: u128,
        collateral: u128,
    },
    Settle(u64),
    Wait(i64),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        (1u128..50_000_000).prop_map(Op::Add),
        (1u128..500_000_000).prop_map(Op::Withdraw),
        (20i64..400, 500i64..2_000, 0u128..5_000, 0u128..50_000_000).prop_map(
            |(start_in, duration, price, collateral)| Op::Publish {
                start_in,
                duration,
                price,
                collateral
            }
        ),
        (0u64..6).prop_map(Op::Settle),
        (1i64..200).prop_map(Op::Wait),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]

    /// Random escrow moves, publications (valid or not), settlements and waits (deals are
    /// never activated, so each is slashed at its start): the module's invariants hold after
    /// every block (the app halts otherwise), nothing stays locked once every deal is gone, and
    /// the client's and provider's escrow changed by exactly what they added, withdrew and
    /// the provider lost to slashing.
    #[test]
    fn escrow_is_conserved_through_random_market_activity(ops in proptest::collection::vec(op(), 1..24)) {
        let mut m = Market::new();
        let (client, provider) = (m.client.address(), m.provider());
        let c = m.client.clone();
        let mut net_client: i128 = ESCROWED as i128;
        let mut slashed_expected: u128 = 0;
        let mut published: Vec<(u128, i64)> = Vec::new();
        let mut label = 0u64;
        for op in ops {
            match op {
                Op::Add(n) => {
                    let r = m.chain.send(&c, vec![any(pb::MsgAddBalance { sender: client.to_string(), address: String::new(), amount: n.to_string() })]);
                    ok(&r);
                    net_client += n as i128;
                }
                Op::Withdraw(n) => {
                    let (t, l) = m.chain.escrow(&client);
                    let r = m.chain.send(&c, vec![any(pb::MsgWithdrawBalance { address: client.to_string(), amount: n.to_string() })]);
                    if n <= t - l { ok(&r); net_client -= n as i128; } else { storage_err(&r, 9, ""); }
                }
                Op::Publish { start_in, duration, price, collateral } => {
                    label += 1;
                    let mut prop = m.proposal(&payload(label as u8, 300), m.chain.time + 10 + start_in, m.chain.time + 10 + start_in + duration);
                    prop.label = format!("p{label}");
                    prop.price_per_second = price.to_string();
                    prop.provider_collateral = collateral.to_string();
                    let res = m.publish(vec![m.signed(&c, prop)]);
                    if res[0].code == 0 {
                        published.push((collateral, m.chain.time));
                    }
                }
                Op::Settle(id) => {
                    let sender = m.other.clone();
                    let _ = m.chain.send(&sender, vec![any(pb::MsgSettleDealPayments { sender: sender.address().to_string(), deal_ids: vec![id] })]);
                }
                Op::Wait(s) => { m.chain.block_after(s, &[]); }
            }
        }
        // Past every start: every deal slashed, nothing locked, nothing paid.
        m.chain.until(m.chain.time + 2_500);
        for (collateral, _) in &published {
            slashed_expected += collateral;
        }
        let (ct, cl) = m.chain.escrow(&client);
        proptest::prop_assert_eq!(cl, 0);
        proptest::prop_assert_eq!(ct as i128, net_client);
        let (pt, pl) = m.chain.escrow(&provider);
        proptest::prop_assert_eq!(pl, 0);
        proptest::prop_assert_eq!(pt, ESCROWED - slashed_expected);
    }
}

#[test]
fn a_porep_in_partitions_is_verified_as_each_arrives_and_activates_with_the_last() {
    // 2 KiB forced into 3 partitions: 8 challenges, 3 per partition (3, 3 and 2).
    let mut params = test_params();
    params["allowed_seal_proofs"] = serde_json::json!([1]);
    params["porep_policies"] = serde_json::json!([
        {"seal_proof": 1, "challenges": 8, "challenges_per_partition": 3}
    ]);
    let mut m = Market::with_params(params);
    let provider = m.provider();
    let (dir, out, t) = m.seal(1, &[]);
    let exp = m.chain.time + 2_000;
    ok(&m.precommit(1, &out, t, vec![], exp));
    m.chain.until(m.chain.time + 70);
    let seed = m.seed(1);
    let part = |index: u32| {
        let p = stoa_prover::PoRepPartition {
            challenges: 8,
            per_partition: 3,
            index,
        };
        prove_porep_partition(&dir, &seed, &p).unwrap()
    };
    let msg = |m: &Market, index: u32, proof: Vec<u8>| {
        any(pb::MsgProveCommitSector {
            worker: m.worker.address().to_string(),
            provider: m.provider().to_string(),
            sector_number: 1,
            proof,
            partition: index,
        })
    };
    let w = m.worker.clone();
    let response = |r: &ExecTxResult| {
        ok(r);
        let data = TxMsgData::decode(r.data.as_ref()).unwrap();
        pb::MsgProveCommitSectorResponse::decode(data.msg_responses[0].value.as_slice()).unwrap()
    };
    let p0 = part(0);
    assert_eq!(p0.challenges.len(), 3);
    // The whole proof of the prover's default count is not a partition of this policy.
    let whole = prove_porep(&dir, &seed).unwrap().encode_to_vec();
    storage_err(&m.chain.send(&w, vec![msg(&m, 0, whole)]), 26, "");
    let r = response(&m.chain.send(&w, vec![msg(&m, 0, p0.encode_to_vec())]));
    assert_eq!(
        (r.activated, r.partitions_proven, r.partitions),
        (false, 1, 3)
    );
    assert!(m.chain.sector(&provider, 1).is_none());
    assert_eq!(m.chain.power().qa, 0);
    // The same partition twice, a partition's proof sent as another, one out of range, and
    // a flipped byte: each refused, nothing recorded.
    storage_err(
        &m.chain.send(&w, vec![msg(&m, 0, p0.encode_to_vec())]),
        34,
        "",
    );
    storage_err(
        &m.chain.send(&w, vec![msg(&m, 1, p0.encode_to_vec())]),
        26,
        "",
    );
    let p2 = part(2);
    assert_eq!(p2.challenges.len(), 2);
    storage_err(
        &m.chain.send(&w, vec![msg(&m, 3, p2.encode_to_vec())]),
        26,
        "",
    );
    let mut bad = part(1).encode_to_vec();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    storage_err(&m.chain.send(&w, vec![msg(&m, 1, bad)]), 26, "");
    let r = response(&m.chain.send(&w, vec![msg(&m, 2, p2.encode_to_vec())]));
    assert_eq!((r.activated, r.partitions_proven), (false, 2));
    assert_eq!(m.chain.power().qa, 0);
    let r = response(&m.chain.send(&w, vec![msg(&m, 1, part(1).encode_to_vec())]));
    assert_eq!(
        (r.activated, r.partitions_proven, r.partitions),
        (true, 3, 3)
    );
    assert_eq!(m.chain.power().qa, 2048);
    assert_eq!(
        m.chain.sector(&provider, 1).unwrap().state,
        pb::SectorState::Active as i32
    );
}

#[test]
fn the_public_default_allows_only_32_gib_sectors() {
    let owner = Key::secp(1);
    let mut chain = Chain::new(
        &[owner.address()],
        serde_json::to_value(stoa_storage::StorageParams::default()).unwrap(),
    );
    let register = |size: SealProof| {
        any(pb::MsgRegisterProvider {
            owner: owner.address().to_string(),
            worker: owner.address().to_string(),
            seal_proof: size.to_proto() as i32,
            peer_endpoint: String::new(),
            price_per_gib_per_second: "1".into(),
            min_piece_size: 128,
            max_piece_size: 2048,
        })
    };
    for small in [
        SealProof::StackedDrg2KiBV1,
        SealProof::StackedDrg8MiBV1,
        SealProof::StackedDrg512MiBV1,
    ] {
        storage_err(&chain.send(&owner, vec![register(small)]), 6, "");
    }
    ok(&chain.send(&owner, vec![register(SealProof::StackedDrg32GiBV1)]));
}
