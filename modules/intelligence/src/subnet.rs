//! Subnets and neurons: the decaying registration burn, uids, pruning of the lowest-emission
//! non-immune neuron, and the epoch index commit-reveal windows are counted in.

use crate::error;
use crate::state::{COMMITS, NEURONS, UIDS, WEIGHTS};
use stoa_framework::math::{exp_neg, U128F128};
use stoa_framework::{sdk, Address, Ctx, StoaError};
use stoa_proto::intelligence::v1::{Hyperparams, Neuron, Subnet};

pub fn hp(s: &Subnet) -> Result<&Hyperparams, StoaError> {
    s.hyperparams
        .as_ref()
        .ok_or_else(|| sdk::LOGIC.with("subnet without hyperparameters"))
}

pub fn netuid(n: u32) -> Result<u16, StoaError> {
    u16::try_from(n).map_err(|_| error::SUBNET_NOT_FOUND.with(format!("netuid {n}")))
}

/// The burn at `block`: halved every `burn_half_life` blocks since it was last set, kept
/// within [min_burn, max_burn].
pub fn current_burn(s: &Subnet, block: u64) -> Result<u64, StoaError> {
    let h = hp(s)?;
    let dt = block.saturating_sub(s.burn_block) as u128;
    let decayed = U128F128::LN2
        .checked_mul(U128F128::from_int(dt))
        .and_then(|x| x.checked_div(U128F128::from_int(h.burn_half_life.max(1) as u128)))
        .map(exp_neg)
        .and_then(|f| f.mul_int_floor(s.burn as u128))
        .unwrap_or(0);
    let b = u64::try_from(decayed).unwrap_or(u64::MAX);
    Ok(b.clamp(h.min_burn, h.max_burn))
}

/// The burn after one more registration at `block`.
pub fn raised_burn(s: &Subnet, block: u64) -> Result<u64, StoaError> {
    let h = hp(s)?;
    let b = current_burn(s, block)? as u128 * h.burn_increase_permille as u128 / 1000;
    Ok(u64::try_from(b)
        .unwrap_or(u64::MAX)
        .clamp(h.min_burn, h.max_burn))
}

/// Whether the subnet runs its epoch at `block`: every `tempo + 1` blocks, offset by netuid so
/// subnets do not all fall on one block (as subtensor).
pub fn epoch_due(netuid: u16, tempo: u64, block: u64) -> bool {
    block
        .saturating_add(netuid as u64 + 1)
        .is_multiple_of(tempo.saturating_add(1))
}

/// The index of the epoch `block` lies in.
pub fn epoch_index(netuid: u16, tempo: u64, block: u64) -> u64 {
    block.saturating_add(netuid as u64 + 1) / tempo.saturating_add(1)
}

/// The uid to prune for a newcomer: among neurons out of immunity, the lowest emission, then the
/// earliest registration, then the lowest uid. None when every neuron is immune.
pub fn prune_candidate(
    ctx: &mut Ctx<'_>,
    s: &Subnet,
    net: u16,
    block: u64,
) -> Result<Option<Neuron>, StoaError> {
    let immunity = hp(s)?.immunity_period;
    let mut best: Option<Neuron> = None;
    for uid in 0..s.n {
        let Some(n) = NEURONS.get(ctx, &(net, uid as u16))? else {
            continue;
        };
        if block.saturating_sub(n.block_at_registration) < immunity {
            continue;
        }
        let key = (n.emission, n.block_at_registration, n.uid);
        if best
            .as_ref()
            .is_none_or(|b| key < (b.emission, b.block_at_registration, b.uid))
        {
            best = Some(n);
        }
    }
    Ok(best)
}

/// Forgets a neuron's uid binding, weights and commit (its uid is about to be reused or the
/// subnet dissolved).
pub fn clear_neuron(ctx: &mut Ctx<'_>, net: u16, n: &Neuron) -> Result<(), StoaError> {
    let hk = Address::parse(&n.hotkey)?;
    UIDS.remove(ctx, &(net, hk))?;
    WEIGHTS.remove(ctx, &(net, n.uid as u16))?;
    COMMITS.remove(ctx, &(net, hk))?;
    NEURONS.remove(ctx, &(net, n.uid as u16))
}

/// Values max-upscaled so the largest is 65535 (rounded), as subtensor stores weights.
pub fn max_upscale(values: &[u16]) -> Vec<u16> {
    let max = values.iter().copied().max().unwrap_or(0) as u64;
    values
        .iter()
        .map(|v| {
            if max == 0 {
                0
            } else {
                ((*v as u64 * 65_535 * 2 + max) / (2 * max)) as u16
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(burn: u64) -> Subnet {
        Subnet {
            burn,
            burn_block: 100,
            hyperparams: Some(crate::params::HyperparamsJson::default().to_proto()),
            ..Default::default()
        }
    }

    #[test]
    fn burn_halves_per_half_life_and_rises_by_26_percent() {
        let s = subnet(8_000_000);
        assert_eq!(current_burn(&s, 100).unwrap(), 8_000_000);
        let half = current_burn(&s, 460).unwrap();
        assert!((3_999_990..=4_000_000).contains(&half), "{half}");
        assert_eq!(
            current_burn(&s, 100 + 360 * 100).unwrap(),
            1_000_000,
            "floored at min_burn"
        );
        assert_eq!(raised_burn(&s, 100).unwrap(), 10_080_000);
        let s = subnet(u64::MAX);
        assert_eq!(
            current_burn(&s, 100).unwrap(),
            100_000_000_000,
            "capped at max_burn"
        );
    }

    #[test]
    fn upscale_like_subtensor() {
        assert_eq!(max_upscale(&[32767, 32767]), vec![65535, 65535]);
        assert_eq!(max_upscale(&[1, 2]), vec![32768, 65535]);
        assert_eq!(max_upscale(&[0, 0]), vec![0, 0]);
    }
}
