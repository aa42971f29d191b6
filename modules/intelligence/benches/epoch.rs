//! One Yuma epoch of a subnet whose 256 validators each weight every uid (classic bonds, every
//! bond present), at 256, 1,024 and 4,096 uids: the goal is under 100 ms at 4,096 on
//! one core. `cargo bench -p stoa-intelligence --bench epoch`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use stoa_intelligence::yuma::{epoch, EpochInput, LiquidAlpha};

/// 256 validators (stake 1e6 + i) with full weight and bond rows, the rest miners.
pub fn full_subnet(n: u16, yuma3: bool) -> EpochInput {
    let nu = n as usize;
    let v = 256.min(nu);
    let weights: Vec<Vec<(u16, u16)>> = (0..nu)
        .map(|i| {
            if i < v {
                (0..n)
                    .map(|j| (j, ((i * 7919 + j as usize * 104_729) % 65_536) as u16))
                    .collect()
            } else {
                vec![]
            }
        })
        .collect();
    EpochInput {
        n,
        block: 1000,
        tempo: 360,
        last_mechanism_step_block: 0,
        activity_cutoff: 5000,
        max_allowed_validators: 256,
        kappa: 32767,
        bonds_moving_average: 900_000,
        bonds_penalty: u16::MAX,
        yuma3,
        liquid_alpha: LiquidAlpha::default(),
        emission: 1_000_000_000,
        stake: (0..nu)
            .map(|i| if i < v { 1_000_000 + i as u64 } else { 0 })
            .collect(),
        last_update: vec![999; nu],
        block_at_registration: vec![0; nu],
        validator_permit: (0..nu).map(|i| i < v).collect(),
        bonds: weights.clone(),
        weights,
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("yuma_epoch_256_validators");
    g.sample_size(20);
    for n in [256u16, 1024, 4096] {
        let input = full_subnet(n, false);
        g.bench_with_input(BenchmarkId::new("classic", n), &input, |b, i| {
            b.iter(|| epoch(i).unwrap())
        });
    }
    let input = full_subnet(4096, true);
    g.bench_with_input(BenchmarkId::new("yuma3", 4096), &input, |b, i| {
        b.iter(|| epoch(i).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
