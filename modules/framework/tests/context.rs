//! The layered state and the context over a real store: branches that commit or vanish,
//! listings that merge committed and pending writes, gas metering, agreed randomness from
//! recorded block hashes, and schedules on block time.

use stoa_framework::block_record::{last_block, record_block};
use stoa_framework::schedule::{due, DueQueue, Every};
use stoa_framework::{sdk, BlockInfo, Ctx, ExecMode, GasMeter, State, Store};

fn block(height: u64, time: i64) -> BlockInfo {
    BlockInfo {
        chain_id: "t".into(),
        height,
        time_seconds: time,
        hash: vec![height as u8; 32],
        ..Default::default()
    }
}

fn commit(state: &mut State, version: u64) {
    let writes = state.take_writes();
    state.store().prepare(version, &writes).unwrap();
    state.store().commit().unwrap();
}

#[test]
fn branches_merge_or_vanish_and_listings_see_every_layer() {
    let store = Store::open_temporary().unwrap();
    let mut state = State::new(store.clone());
    state.set(b"m/a".to_vec(), b"1".to_vec());
    state.set(b"m/b".to_vec(), b"2".to_vec());
    commit(&mut state, 1);

    let mut ctx = Ctx::unmetered(&mut state, block(2, 10), ExecMode::Finalize);
    ctx.set(b"m/c".to_vec(), b"3".to_vec()).unwrap();
    let failed: Result<(), _> = ctx.branch(|c| {
        c.set(b"m/d".to_vec(), b"4".to_vec())?;
        c.delete(b"m/a".to_vec())?;
        c.emit(stoa_framework::Event::new("gone"));
        Err(sdk::INVALID_REQUEST.with("boom"))
    });
    assert!(failed.is_err());
    assert!(
        ctx.events().is_empty(),
        "events of a failed branch are dropped"
    );
    ctx.branch(|c| {
        c.delete(b"m/b".to_vec())?;
        c.branch(|c2| c2.set(b"m/e".to_vec(), b"5".to_vec()))
    })
    .unwrap();
    let keys: Vec<Vec<u8>> = ctx
        .iter_prefix(b"m/")
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        vec![b"m/a".to_vec(), b"m/c".to_vec(), b"m/e".to_vec()]
    );
    // Nothing reaches the store before commit.
    assert_eq!(store.get(b"m/c").unwrap(), None);
    assert_eq!(store.get(b"m/b").unwrap(), Some(b"2".to_vec()));
    drop(ctx);
    commit(&mut state, 2);
    assert_eq!(store.get(b"m/b").unwrap(), None);
    assert_eq!(store.get(b"m/e").unwrap(), Some(b"5".to_vec()));

    // Historical reads and listings see the old version.
    let old = State::at_version(store.clone(), 1);
    assert_eq!(old.get(b"m/b").unwrap(), Some(b"2".to_vec()));
    let listed: Vec<Vec<u8>> = old
        .iter_prefix(b"m/")
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(listed, vec![b"m/a".to_vec(), b"m/b".to_vec()]);
}

#[test]
fn gas_is_metered_and_out_of_gas_is_an_error() {
    let store = Store::open_temporary().unwrap();
    let mut state = State::new(store);
    let mut ctx = Ctx::new(
        &mut state,
        block(1, 1),
        ExecMode::Finalize,
        GasMeter::new(5_000),
    );
    ctx.set(b"k".to_vec(), b"v".to_vec()).unwrap(); // 2000 + 30 * 2
    assert_eq!(ctx.gas().consumed(), 2060);
    ctx.get(b"k").unwrap(); // 1000 + 3
    assert_eq!(ctx.gas().consumed(), 3063);
    let err = ctx.set(b"k2".to_vec(), vec![0; 100]).unwrap_err();
    assert!(sdk::OUT_OF_GAS.is(&err), "{err}");
}

#[test]
fn randomness_comes_from_recorded_block_hashes_within_the_window() {
    let store = Store::open_temporary().unwrap();
    let mut state = State::new(store);
    for h in 1..=5 {
        let mut ctx = Ctx::unmetered(&mut state, block(h, 100 + h as i64), ExecMode::Finalize);
        record_block(&mut ctx, 3).unwrap();
    }
    let mut ctx = Ctx::unmetered(&mut state, block(6, 106), ExecMode::Finalize);
    assert_eq!(last_block(&mut ctx).unwrap(), Some((5, 105, 0)));
    assert_eq!(ctx.block_hash_at(5).unwrap(), Some([5u8; 32]));
    assert_eq!(
        ctx.block_hash_at(2).unwrap(),
        None,
        "pruned past the retention window"
    );
    let a = ctx.randomness(b"post", 4).unwrap().unwrap();
    let b = ctx.randomness(b"seal", 4).unwrap().unwrap();
    let c = ctx.randomness(b"post", 5).unwrap().unwrap();
    assert!(
        a != b && a != c,
        "domain and height both separate the randomness"
    );
    assert_eq!(ctx.randomness(b"post", 4).unwrap().unwrap(), a);
    assert_eq!(ctx.randomness(b"post", 99).unwrap(), None);
}

#[test]
fn schedules_run_on_block_time_and_due_queues_pop_in_order() {
    let store = Store::open_temporary().unwrap();
    let mut state = State::new(store);
    let mut runs = Vec::new();
    for (h, t) in [(1u64, 0i64), (2, 20), (3, 31), (4, 59), (5, 61), (6, 62)] {
        let mut ctx = Ctx::unmetered(&mut state, block(h, t), ExecMode::Finalize);
        if due(&mut ctx, "m", "epoch", Every::Seconds(30)).unwrap() {
            runs.push(t);
        }
        assert_eq!(
            due(&mut ctx, "m", "every2", Every::Blocks(2)).unwrap(),
            h % 2 == 0
        );
    }
    assert_eq!(runs, vec![0, 31, 61]);

    let q = DueQueue { prefix: b"m/q/" };
    let mut ctx = Ctx::unmetered(&mut state, block(7, 100), ExecMode::Finalize);
    q.push(&mut ctx, 50, b"b").unwrap();
    q.push(&mut ctx, -5, b"z").unwrap();
    q.push(&mut ctx, 50, b"a").unwrap();
    q.push(&mut ctx, 200, b"late").unwrap();
    q.push(&mut ctx, 60, b"gone").unwrap();
    q.remove(&mut ctx, 60, b"gone").unwrap();
    let popped = q.pop_due(&mut ctx, 100).unwrap();
    assert_eq!(popped, vec![b"z".to_vec(), b"a".to_vec(), b"b".to_vec()]);
    assert!(q.pop_due(&mut ctx, 100).unwrap().is_empty());
    assert_eq!(q.pop_due(&mut ctx, 200).unwrap(), vec![b"late".to_vec()]);
}

#[test]
fn an_empty_value_is_a_delete_so_the_block_still_commits() {
    let store = Store::open_temporary().unwrap();
    let mut state = State::new(store.clone());
    state.set(b"m/x".to_vec(), b"1".to_vec());
    commit(&mut state, 1);
    state.set(b"m/x".to_vec(), Vec::new());
    state.set(b"m/y".to_vec(), Vec::new());
    assert_eq!(state.get(b"m/x").unwrap(), None);
    commit(&mut state, 2);
    assert_eq!(store.get(b"m/x").unwrap(), None);
}
