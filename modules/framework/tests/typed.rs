//! Typed state against a model: maps, indexes, iteration both ways with bounds and limits, and
//! pagination agree with a `BTreeMap` over committed and pending writes; gas is charged per
//! entry read; a module cannot write outside its prefix; `pop_due` reads only what is due.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ops::Bound;
use stoa_framework::schedule::DueQueue;
use stoa_framework::typed::{
    BigEndian, IndexedMap, Item, Map, MultiIndex, PageRequest, UniqueIndex,
};
use stoa_framework::{sdk, BlockInfo, Ctx, ExecMode, GasMeter, Order, State, Store};

type Balances = Map<(u64, String), u64, BigEndian<u64>>;
const BAL: Balances = Map::new("t", "bal");

fn commit(state: &mut State, version: u64) {
    let writes = state.take_writes();
    state.store().prepare(version, &writes).unwrap();
    state.store().commit().unwrap();
}

fn ctx(state: &mut State) -> Ctx<'_> {
    Ctx::unmetered(state, BlockInfo::default(), ExecMode::Finalize)
}

#[derive(Clone, Debug)]
enum Op {
    Save(u64, String, u64),
    Remove(u64, String),
    Commit,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..4, "[a-c]{0,2}", any::<u64>()).prop_map(|(a, d, v)| Op::Save(a, d, v)),
        2 => (0u64..4, "[a-c]{0,2}").prop_map(|(a, d)| Op::Remove(a, d)),
        1 => Just(Op::Commit),
    ]
}

fn page_all(
    c: &mut Ctx<'_>,
    reverse: bool,
    limit: u64,
    owner: Option<u64>,
) -> Vec<((u64, String), u64)> {
    let mut out = Vec::new();
    let mut key = Vec::new();
    loop {
        let req = PageRequest {
            key: key.clone(),
            limit,
            reverse,
            ..Default::default()
        };
        let (items, resp) = match owner {
            Some(o) => BAL.paginate_prefix(c, &o, Some(&req)).unwrap(),
            None => BAL.paginate(c, Some(&req)).unwrap(),
        };
        assert!(items.len() as u64 <= limit);
        out.extend(items);
        if resp.next_key.is_empty() {
            return out;
        }
        key = resp.next_key;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn maps_iterate_and_paginate_as_a_btreemap(
        ops in prop::collection::vec(op(), 1..60),
        lo in (0u64..4, "[a-c]{0,2}"),
        hi in (0u64..4, "[a-c]{0,2}"),
        limit in 1u64..7,
        owner in 0u64..4,
    ) {
        let store = Store::open_temporary().unwrap();
        let mut state = State::new(store);
        let mut model: BTreeMap<(u64, String), u64> = BTreeMap::new();
        let mut version = 0;
        for op in ops {
            match op {
                Op::Save(a, d, v) => {
                    BAL.save(&mut ctx(&mut state), &(a, d.clone()), &v).unwrap();
                    model.insert((a, d), v);
                }
                Op::Remove(a, d) => {
                    BAL.remove(&mut ctx(&mut state), &(a, d.clone())).unwrap();
                    model.remove(&(a, d));
                }
                Op::Commit => {
                    version += 1;
                    commit(&mut state, version);
                }
            }
        }
        let mut c = ctx(&mut state);
        // Keys order as the model's only within one string length; compare as byte order.
        let enc = |k: &(u64, String)| BAL.key(k);
        let mut sorted: Vec<_> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
        sorted.sort_by_key(|(k, _)| enc(k));
        let all: Vec<_> = BAL.iter(&mut c, Order::Ascending).map(Result::unwrap).collect();
        prop_assert_eq!(&all, &sorted);
        let rev: Vec<_> = BAL.iter(&mut c, Order::Descending).map(Result::unwrap).collect();
        let mut expected_rev = sorted.clone();
        expected_rev.reverse();
        prop_assert_eq!(&rev, &expected_rev);

        let (lo, hi) = ((lo.0, lo.1), (hi.0, hi.1));
        let in_range: Vec<_> = sorted
            .iter()
            .filter(|(k, _)| enc(k) >= enc(&lo) && enc(k) < enc(&hi))
            .cloned()
            .collect();
        let got: Vec<_> = BAL
            .range(&mut c, Bound::Included(&lo), Bound::Excluded(&hi), Order::Descending)
            .take(limit as usize)
            .map(Result::unwrap)
            .collect();
        let want: Vec<_> = in_range.iter().rev().take(limit as usize).cloned().collect();
        prop_assert_eq!(got, want);

        prop_assert_eq!(page_all(&mut c, false, limit, None), sorted.clone());
        prop_assert_eq!(page_all(&mut c, true, limit, None), expected_rev);
        let of_owner: Vec<_> = sorted.iter().filter(|((a, _), _)| *a == owner).cloned().collect();
        prop_assert_eq!(page_all(&mut c, false, limit, Some(owner)), of_owner.clone());
        let prefix_iter: Vec<_> = BAL.prefix_iter(&mut c, &owner, Order::Ascending).map(Result::unwrap).collect();
        prop_assert_eq!(prefix_iter, of_owner.clone());

        // Offset pages and the total.
        let req = PageRequest { offset: 1, limit, count_total: true, ..Default::default() };
        let (items, resp) = BAL.paginate(&mut c, Some(&req)).unwrap();
        let want: Vec<_> = sorted.iter().skip(1).take(limit as usize).cloned().collect();
        prop_assert_eq!(items, want);
        prop_assert_eq!(resp.total, sorted.len() as u64);
    }
}

#[derive(Clone, PartialEq, prost::Message)]
struct Deal {
    #[prost(string, tag = "1")]
    provider: String,
    #[prost(string, tag = "2")]
    label: String,
}

static BY_PROVIDER: MultiIndex<String, u64, Deal> =
    MultiIndex::new("t", "deal_by_provider", |d| d.provider.clone());
static BY_LABEL: UniqueIndex<String, u64, Deal> =
    UniqueIndex::new("t", "deal_by_label", |d| d.label.clone());
static DEALS: IndexedMap<u64, Deal> = IndexedMap::new("t", "deals", &[&BY_PROVIDER, &BY_LABEL]);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn indexes_follow_every_save_and_remove(
        ops in prop::collection::vec((0u64..8, prop::option::of((0u8..3, 0u8..6))), 1..50)
    ) {
        let store = Store::open_temporary().unwrap();
        let mut state = State::new(store);
        let mut c = ctx(&mut state);
        let mut model: BTreeMap<u64, Deal> = BTreeMap::new();
        for (id, what) in ops {
            match what {
                Some((p, l)) => {
                    let deal = Deal { provider: format!("p{p}"), label: format!("l{l}") };
                    let taken = model.iter().any(|(k, d)| *k != id && d.label == deal.label);
                    let r = c.branch(|c| DEALS.save(c, &id, &deal));
                    prop_assert_eq!(r.is_err(), taken, "a second holder of a unique value is refused");
                    if !taken {
                        model.insert(id, deal);
                    }
                }
                None => {
                    DEALS.remove(&mut c, &id).unwrap();
                    model.remove(&id);
                }
            }
        }
        for p in 0..3 {
            let provider = format!("p{p}");
            let want: Vec<u64> = model.iter().filter(|(_, d)| d.provider == provider).map(|(k, _)| *k).collect();
            prop_assert_eq!(BY_PROVIDER.keys(&mut c, &provider, Order::Ascending, 100).unwrap(), want.clone());
            let (page, _) = DEALS.paginate_by(&mut c, &BY_PROVIDER, &provider, None).unwrap();
            prop_assert_eq!(page.into_iter().map(|(k, _)| k).collect::<Vec<_>>(), want);
        }
        for l in 0..6 {
            let label = format!("l{l}");
            let want = model.iter().find(|(_, d)| d.label == label).map(|(k, _)| *k);
            prop_assert_eq!(BY_LABEL.get(&mut c, &label).unwrap(), want);
        }
    }
}

#[test]
fn iteration_gas_is_charged_per_entry_read() {
    let store = Store::open_temporary().unwrap();
    let mut state = State::new(store);
    for i in 0..50u64 {
        BAL.save(&mut ctx(&mut state), &(i, "x".into()), &i)
            .unwrap();
    }
    commit(&mut state, 1);
    let gas_for = |n: usize, state: &mut State| {
        let mut c = Ctx::new(
            state,
            BlockInfo::default(),
            ExecMode::Finalize,
            GasMeter::new(u64::MAX / 2),
        );
        let got = BAL.iter(&mut c, Order::Ascending).take(n).count();
        assert_eq!(got, n);
        c.gas().consumed()
    };
    let one = gas_for(1, &mut state);
    let ten = gas_for(10, &mut state);
    let fifty = gas_for(50, &mut state);
    // Every entry has the same size, so the cost is linear in the entries taken.
    assert!(one > 0);
    assert_eq!(ten, 10 * one);
    assert_eq!(fifty, 50 * one);
    // Out of gas stops the iteration with an error.
    let mut c = Ctx::new(
        &mut state,
        BlockInfo::default(),
        ExecMode::Finalize,
        GasMeter::new(one * 3),
    );
    let results: Vec<_> = BAL.iter(&mut c, Order::Ascending).collect();
    assert_eq!(results.len(), 4);
    assert!(sdk::OUT_OF_GAS.is(results[3].as_ref().unwrap_err()));
}

#[test]
fn a_module_cannot_write_outside_its_prefix() {
    let store = Store::open_temporary().unwrap();
    let mut state = State::new(store);
    let mut c = ctx(&mut state);
    const OTHER: Item<u64, BigEndian<u64>> = Item::new("other", "n");
    const MINE: Item<u64, BigEndian<u64>> = Item::new("t", "n");
    let r = c.in_module("t", |c| OTHER.save(c, &1));
    assert!(sdk::UNAUTHORIZED.is(&r.unwrap_err()));
    let r = c.in_module("t", |c| c.set(b"tt/x".to_vec(), vec![1]));
    assert!(
        sdk::UNAUTHORIZED.is(&r.unwrap_err()),
        "a prefix of another module's name is not its own"
    );
    c.in_module("t", |c| MINE.save(c, &7)).unwrap();
    // A keeper enters its own module's scope for the work it does for others.
    c.in_module("t", |c| c.in_module("other", |c| OTHER.save(c, &2)))
        .unwrap();
    assert_eq!(OTHER.get(&mut c).unwrap(), Some(2));
    assert_eq!(MINE.get(&mut c).unwrap(), Some(7));
    assert_eq!(c.scope(), None);
}

/// Each entry a pop reads is charged iteration gas, so the gas counts the reads.
#[test]
fn pop_due_reads_only_what_is_due() {
    let mut costs = Vec::new();
    for queued in [10u64, 10_000] {
        let store = Store::open_temporary().unwrap();
        let mut state = State::new(store);
        let q = DueQueue { prefix: b"t/due/" };
        let mut c = ctx(&mut state);
        for i in 0..queued {
            q.push(&mut c, 1_000 + i as i64, &i.to_be_bytes()).unwrap();
        }
        drop(c);
        commit(&mut state, 1);
        let mut c = Ctx::new(
            &mut state,
            BlockInfo::default(),
            ExecMode::Finalize,
            GasMeter::new(u64::MAX / 2),
        );
        let popped = q.pop_due(&mut c, 1_002).unwrap();
        assert_eq!(popped.len(), 3);
        assert_eq!(popped[0], 0u64.to_be_bytes());
        costs.push(c.gas().consumed());
        let rest = q.pop_due_at_most(&mut c, 1_004, 1).unwrap();
        assert_eq!(rest, vec![3u64.to_be_bytes().to_vec()]);
        assert_eq!(q.pop_due(&mut c, 999).unwrap(), Vec::<Vec<u8>>::new());
    }
    assert_eq!(
        costs[0], costs[1],
        "the cost of a pop does not depend on the queue's length"
    );
}
