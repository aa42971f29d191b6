//! Heartbeats: signed by the device's worker key (checked before the block, in parallel with
//! the block's signatures), carrying the answer to the device's current challenge and its
//! health figures; and the end-block detection of devices whose heartbeats stopped, which
//! closes their leases and slashes them. A heartbeat of an online device writes only the
//! device and one history slot (a block of them must cost no more than a block of sends).
//!
//! The challenge of time `t` (a multiple of `heartbeat_interval`) has the seed
//! `randomness_at("stoa/compute/challenge", t)`, drawn by the first block of that minute; its
//! answer is `sha256("stoa/compute/answer" || device id || seed)`. It can be answered once,
//! until `challenge_window` seconds after `t`: the worker must have seen the chain recently.

use crate::device::{self, load_device, refile, set_not_online, set_online, ONLINE, RETIRED};
use crate::error;
use crate::keeper::ComputeBank;
use crate::params::{self, ComputeParams};
use crate::state::*;
use prost::Message;
use sha2::{Digest, Sha256};
use stoa_framework::crypto::PubKey;
use stoa_framework::typed::Map;
use stoa_framework::{sdk, Address, Ctx, MsgHandler, PreState, StoaError};
use stoa_proto::compute::v1 as pb;

pub const CHALLENGE_DOMAIN: &[u8] = b"stoa/compute/challenge";

/// The bytes the worker key signs: a domain, then the message with an empty signature.
pub fn heartbeat_sign_bytes(m: &pb::MsgHeartbeat) -> Vec<u8> {
    let mut unsigned = m.clone();
    unsigned.signature.clear();
    let mut out = b"stoa/compute/heartbeat".to_vec();
    out.extend_from_slice(&unsigned.encode_to_vec());
    out
}

pub fn challenge_answer(device_id: u64, seed: &[u8; 32]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"stoa/compute/answer");
    h.update(device_id.to_be_bytes());
    h.update(seed);
    h.finalize().to_vec()
}

/// The challenge time current at `now`.
pub fn challenge_time(p: &ComputeParams, now: i64) -> i64 {
    now - now.rem_euclid(p.heartbeat_interval)
}

fn verify(worker_key: &[u8], m: &pb::MsgHeartbeat) -> Result<(), StoaError> {
    let key: [u8; 32] = worker_key
        .try_into()
        .map_err(|_| sdk::LOGIC.with("stored worker key is not 32 bytes"))?;
    if !PubKey::Ed25519(key).verify(&heartbeat_sign_bytes(m), &m.signature) {
        return Err(error::BAD_SIGNATURE.with(format!("device {}", m.device_id)));
    }
    Ok(())
}

pub struct Heartbeat<B>(pub B);

impl<B: ComputeBank> MsgHandler for Heartbeat<B> {
    type Msg = pb::MsgHeartbeat;
    const AMINO_NAME: &'static str = "stoa/compute/MsgHeartbeat";
    type Checked = pb::MsgHeartbeat;
    type Response = pb::MsgHeartbeatResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let sender = Address::parse(&m.sender)?;
        if m.signature.len() != 64 || m.answer.len() != 32 {
            return Err(error::BAD_SIGNATURE.with("a 64-byte signature and a 32-byte answer"));
        }
        Ok((vec![sender], m))
    }

    fn has_precheck(&self) -> bool {
        true
    }

    /// The signature against the worker key as it stood before the block.
    fn precheck(&self, pre: &PreState<'_>, m: &Self::Checked) -> Result<(), StoaError> {
        let devices: Map<u64, pb::Device> = Map::new(crate::MODULE_NAME, "devices");
        let d = devices
            .peek(pre.state, &m.device_id)?
            .ok_or_else(|| sdk::NOT_FOUND.with(format!("device {}", m.device_id)))?;
        verify(&d.worker_key, m)
    }

    fn execute(&self, ctx: &mut Ctx<'_>, m: &Self::Checked) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        let now = ctx.block_time();
        let mut d = load_device(ctx, m.device_id)?;
        if d.status == RETIRED {
            return Err(error::DEVICE_UNAVAILABLE.with(format!("device {} is retired", d.id)));
        }
        // The key changed in this block: the precheck saw the old one.
        if d.key_changed_height == ctx.height() {
            verify(&d.worker_key, m)?;
        }
        let t = m.challenge_time;
        if t.rem_euclid(p.heartbeat_interval) != 0 || t > now || now - t > p.challenge_window {
            return Err(error::LATE_CHALLENGE.with(format!(
                "challenge {t} at {now}: current is {}, window {} s",
                challenge_time(&p, now),
                p.challenge_window
            )));
        }
        if t <= d.last_challenge {
            return Err(error::HEARTBEAT_TOO_SOON.with(format!("challenge {t} answered")));
        }
        let seed = ctx
            .randomness_at(CHALLENGE_DOMAIN, t)?
            .ok_or_else(|| error::LATE_CHALLENGE.with(format!("challenge {t} not drawn")))?;
        if m.answer != challenge_answer(d.id, &seed) {
            return Err(error::WRONG_ANSWER.with(format!("device {} challenge {t}", d.id)));
        }
        d.last_challenge = t;
        let mut h = d.health.unwrap_or_default();
        let last = h.last_heartbeat;
        if last > 0 {
            let gap = u64::try_from(now - last).unwrap_or(0);
            if d.status == ONLINE {
                h.uptime_s = h.uptime_s.saturating_add(gap);
            } else {
                h.downtime_s = h.downtime_s.saturating_add(gap);
            }
        }
        h.last_heartbeat = now;
        h.net_mbps = m.net_mbps;
        h.gpu_util_bps = m.gpu_util_bps;
        d.health = Some(h);
        record_sample(ctx, &p, &d, m, now)?;
        // An online device already has its offline check queued (at an earlier heartbeat's
        // deadline; `detect_offline` moves it to the latest one when it comes due), so a
        // heartbeat writes no queue entry. Its emission accrues in the pool, paid when the
        // device is next touched (claim, stake change, going offline): a heartbeat does not
        // change its weight.
        if d.status != ONLINE && !d.spoofed {
            OFFLINE_AT.push(
                ctx,
                now.saturating_add(p.offline_after),
                &d.id.to_be_bytes(),
            )?;
            set_online(ctx, &p, &mut d)?;
        }
        refile(ctx, &mut d)?;
        DEVICES.save(ctx, &d.id, &d)?;
        Ok(pb::MsgHeartbeatResponse {})
    }
}

/// Files the sample in the device's ring of `history_len` slots, the slot of the challenge
/// answered (`challenge_time / heartbeat_interval`, which only grows): one write that
/// overwrites the sample `history_len` challenges older, no counter and no delete.
fn record_sample(
    ctx: &mut Ctx<'_>,
    p: &ComputeParams,
    d: &pb::Device,
    m: &pb::MsgHeartbeat,
    now: i64,
) -> Result<(), StoaError> {
    let slot = (m.challenge_time / p.heartbeat_interval).unsigned_abs() % p.history_len;
    HISTORY.save(
        ctx,
        &(d.id, slot),
        &pb::HealthSample {
            time: now,
            net_mbps: m.net_mbps,
            gpu_util_bps: m.gpu_util_bps,
            gpu_temp_c: m.gpu_temp_c,
        },
    )
}

/// End block: devices whose heartbeat is overdue go offline; each of their active leases is
/// closed (the renter refunded pro rata) and the device and its stakers slashed.
pub fn detect_offline(bank: &impl ComputeBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let p = params::load(ctx)?;
    let now = ctx.block_time();
    for raw in OFFLINE_AT.pop_due(ctx, now)? {
        let id = crate::id_of(&raw)?;
        let Some(mut d) = DEVICES.get(ctx, &id)? else {
            continue;
        };
        if d.status != ONLINE {
            continue;
        }
        // Heartbeats since the entry was queued: check again at the latest one's deadline.
        let deadline = d
            .health
            .as_ref()
            .map_or(0, |h| h.last_heartbeat)
            .saturating_add(p.offline_after);
        if deadline > now {
            OFFLINE_AT.push(ctx, deadline, &id.to_be_bytes())?;
            continue;
        }
        set_not_online(bank, ctx, &p, &mut d, device::OFFLINE)?;
        let leases: Vec<u64> = DEVICE_LEASES
            .prefix_iter(ctx, &id, stoa_framework::Order::Ascending)
            .map(|r| r.map(|((_, l), _)| l))
            .collect::<Result<_, _>>()?;
        DEVICES.save(ctx, &id, &d)?;
        let had_leases = !leases.is_empty();
        let last = d.health.as_ref().map_or(now, |h| h.last_heartbeat);
        for lease in leases {
            crate::market::close_lease(bank, ctx, lease, "device_offline", Some((id, last)))?;
        }
        let mut d = load_device(ctx, id)?;
        if had_leases {
            device::slash(bank, ctx, &p, &mut d)?;
        }
        refile(ctx, &mut d)?;
        DEVICES.save(ctx, &id, &d)?;
    }
    Ok(())
}
