//! What the template module needs from other modules, as one small trait (the bank's send
//! half), and what it promises: its escrow holds exactly the deposits of its notes.

use crate::error;
use crate::state::NOTES;
use crate::ESCROW;
use std::collections::BTreeMap;
use stoa_bank::BankSend;
use stoa_framework::{Ctx, Order, StoaError};

/// The keeper the module pays deposits through.
pub trait TemplateBank: BankSend + Send + Sync + 'static {}

impl<T: BankSend + Send + Sync + 'static> TemplateBank for T {}

/// The escrow account holds exactly the sum of the notes' deposits, per denom.
pub fn escrow_invariant(bank: &impl TemplateBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let mut owed: BTreeMap<String, u128> = BTreeMap::new();
    let notes: Vec<_> = NOTES
        .map()
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (_, note) in notes {
        if let Some(c) = note.deposit {
            let amount: u128 = c.amount.parse().unwrap_or(u128::MAX);
            let slot = owed.entry(c.denom).or_insert(0);
            *slot = Ctx::checked(slot.checked_add(amount), "escrow sum")?;
        }
    }
    let escrow = bank.module_address(ctx, ESCROW)?;
    for (denom, amount) in &owed {
        let held = bank.balance(ctx, &escrow, denom)?;
        if held != *amount {
            return Err(
                error::ESCROW_INVARIANT.with(format!("{denom}: holds {held}, owes {amount}"))
            );
        }
    }
    let held = bank.balances(ctx, &escrow)?;
    if held.denoms().any(|d| !owed.contains_key(d)) {
        return Err(error::ESCROW_INVARIANT.with(format!("holds {held} for no note")));
    }
    Ok(())
}
