//! The one way a module keeps its params: a [`Params`] type stored as JSON under its own key,
//! validated before every write, read through the state's decoded-value cache.
//!
//! The encoding is `serde_json::to_vec` of the struct (fields in declaration order, no
//! whitespace): the bytes the bank has always written under `bank/params`, so a module moved
//! onto this keeps its app hash.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use stoa_framework::params::{self, Params};
//! use stoa_framework::{sdk, Ctx, StoaError};
//!
//! #[derive(Clone, Debug, Serialize, Deserialize)]
//! pub struct MarketParams {
//!     pub min_deal_epochs: u64,
//!     pub max_deal_epochs: u64,
//! }
//!
//! impl Default for MarketParams {
//!     fn default() -> Self {
//!         MarketParams { min_deal_epochs: 10, max_deal_epochs: 1_000 }
//!     }
//! }
//!
//! impl Params for MarketParams {
//!     const KEY: &'static [u8] = b"market/params";
//!
//!     fn validate(&self) -> Result<(), StoaError> {
//!         if self.min_deal_epochs == 0 || self.min_deal_epochs > self.max_deal_epochs {
//!             return Err(sdk::INVALID_REQUEST.with("min_deal_epochs must be in 1..=max_deal_epochs"));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! fn raise_max(ctx: &mut Ctx<'_>, max: u64) -> Result<(), StoaError> {
//!     let mut p = (*params::load::<MarketParams>(ctx)?).clone();
//!     p.max_deal_epochs = max;
//!     params::store(ctx, &p) // refused, nothing written, if max < min_deal_epochs
//! }
//! ```

use std::sync::Arc;

use crate::{sdk, Ctx, State, StoaError};

/// A module's params. A missing value reads as `Default::default()`, so the defaults are the
/// params of a chain whose genesis gave none.
pub trait Params:
    Default + Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
    /// The store key, e.g. b"bank/params" (under the module's prefix).
    const KEY: &'static [u8];

    /// Checks the values (ranges, non-empty lists ...); called at genesis and on every update.
    fn validate(&self) -> Result<(), StoaError>;
}

/// The params as stored (the default when nothing is), decoded once and then shared until
/// `P::KEY` is written; every read costs the gas of reading the stored bytes.
pub fn load<P: Params>(ctx: &mut Ctx<'_>) -> Result<Arc<P>, StoaError> {
    ctx.get_cached(P::KEY, decode::<P>)
}

/// The params as `state` holds them, without a context or gas: for checks against the
/// pre-block state (`MsgHandler::precheck`).
pub fn peek<P: Params>(state: &State) -> Result<P, StoaError> {
    state.get_with(P::KEY, decode::<P>)?
}

/// The stored bytes (`None`: never stored) as params.
fn decode<P: Params>(raw: Option<&[u8]>) -> Result<P, StoaError> {
    match raw {
        Some(raw) => serde_json::from_slice(raw).map_err(|e| {
            sdk::LOGIC.with(format!(
                "corrupt params at {}: {e}",
                String::from_utf8_lossy(P::KEY)
            ))
        }),
        None => Ok(P::default()),
    }
}

/// Validates `params`, then writes them under `P::KEY`; nothing is written when they are
/// refused.
pub fn store<P: Params>(ctx: &mut Ctx<'_>, params: &P) -> Result<(), StoaError> {
    params.validate()?;
    ctx.set(P::KEY.to_vec(), encode(params)?)
}

/// The stored bytes of `params`.
pub fn encode<P: Params>(params: &P) -> Result<Vec<u8>, StoaError> {
    serde_json::to_vec(params).map_err(|e| sdk::JSON_MARSHAL.with(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BlockInfo, ExecMode, State, Store};
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    struct TestParams {
        enabled: bool,
        limit: u64,
        /// As the bank's caps: a u128 as a decimal string.
        #[serde(with = "crate::coins::amount_string")]
        cap: u128,
        names: Vec<String>,
    }

    impl Default for TestParams {
        fn default() -> Self {
            TestParams {
                enabled: true,
                limit: 7,
                cap: u128::MAX,
                names: vec!["a".into()],
            }
        }
    }

    impl Params for TestParams {
        const KEY: &'static [u8] = b"test/params";
        fn validate(&self) -> Result<(), StoaError> {
            if self.names.is_empty() {
                return Err(sdk::INVALID_REQUEST.with("names must not be empty"));
            }
            if self.limit == 0 {
                return Err(sdk::INVALID_REQUEST.with("limit must be positive"));
            }
            Ok(())
        }
    }

    fn new_state() -> State {
        State::new(Store::open_temporary().unwrap())
    }

    fn ctx(state: &mut State) -> Ctx<'_> {
        Ctx::unmetered(state, BlockInfo::default(), ExecMode::Finalize)
    }

    #[test]
    fn absent_params_read_as_the_default_and_write_nothing() {
        let mut state = new_state();
        let mut c = ctx(&mut state);
        assert_eq!(*load::<TestParams>(&mut c).unwrap(), TestParams::default());
        assert_eq!(c.get(TestParams::KEY).unwrap(), None);
        drop(c);
        assert!(state.take_writes().is_empty());
    }

    #[test]
    fn refused_params_are_not_written() {
        let mut state = new_state();
        let mut c = ctx(&mut state);
        let good = TestParams {
            limit: 9,
            ..TestParams::default()
        };
        store(&mut c, &good).unwrap();
        for bad in [
            TestParams {
                names: vec![],
                ..TestParams::default()
            },
            TestParams {
                limit: 0,
                ..TestParams::default()
            },
        ] {
            let err = store(&mut c, &bad).unwrap_err();
            assert!(sdk::INVALID_REQUEST.is(&err), "{err}");
            assert_eq!(*load::<TestParams>(&mut c).unwrap(), good);
            assert_eq!(
                c.get(TestParams::KEY).unwrap(),
                Some(encode(&good).unwrap())
            );
        }
        drop(c);

        // On a fresh state a refused write leaves no key at all.
        let mut fresh = new_state();
        let mut c = ctx(&mut fresh);
        assert!(store(
            &mut c,
            &TestParams {
                limit: 0,
                ..TestParams::default()
            }
        )
        .is_err());
        drop(c);
        assert!(fresh.take_writes().is_empty());
    }

    #[test]
    fn a_cached_read_sees_a_write_in_the_same_block() {
        let mut state = new_state();
        let mut c = ctx(&mut state);
        let first = load::<TestParams>(&mut c).unwrap();
        // Decoded once: a second read shares the value.
        assert!(Arc::ptr_eq(&first, &load::<TestParams>(&mut c).unwrap()));
        let next = TestParams {
            enabled: false,
            ..TestParams::default()
        };
        store(&mut c, &next).unwrap();
        assert_eq!(*load::<TestParams>(&mut c).unwrap(), next);
        // Also a write that bypasses `store` (a migration writing raw bytes).
        let raw = br#"{"enabled":true,"limit":3,"cap":"5","names":["x","y"]}"#;
        c.set(TestParams::KEY.to_vec(), raw.to_vec()).unwrap();
        assert_eq!(load::<TestParams>(&mut c).unwrap().limit, 3);
    }

    #[test]
    fn round_trip_and_the_encoding_is_compact_json_in_field_order() {
        let mut state = new_state();
        let mut c = ctx(&mut state);
        let p = TestParams {
            enabled: false,
            limit: 42,
            cap: 2_000_000_000_000_000,
            names: vec!["ustor".into(), "ucomp".into()],
        };
        store(&mut c, &p).unwrap();
        let raw = c.get(TestParams::KEY).unwrap().unwrap();
        // The bytes the bank's `write_params` writes for a struct: serde_json::to_vec.
        assert_eq!(raw, serde_json::to_vec(&p).unwrap());
        assert_eq!(
            raw,
            br#"{"enabled":false,"limit":42,"cap":"2000000000000000","names":["ustor","ucomp"]}"#
        );
        drop(c);
        // Decoded back from the bytes alone (another state: nothing cached by the writer).
        let mut other = new_state();
        let mut c = ctx(&mut other);
        c.set(TestParams::KEY.to_vec(), raw).unwrap();
        assert_eq!(*load::<TestParams>(&mut c).unwrap(), p);
    }

    #[test]
    fn corrupt_params_are_a_logic_error() {
        let mut state = new_state();
        let mut c = ctx(&mut state);
        c.set(TestParams::KEY.to_vec(), b"{\"enabled\":".to_vec())
            .unwrap();
        let err = load::<TestParams>(&mut c).unwrap_err();
        assert!(sdk::LOGIC.is(&err), "{err}");
        assert!(err.to_string().contains("test/params"), "{err}");
    }
}
