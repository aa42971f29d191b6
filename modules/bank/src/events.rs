//! The bank's events, named and shaped as Cosmos SDK's so explorers and `tx_search` queries
//! such as `transfer.recipient='stoa1...'` work unchanged.

use stoa_framework::{Address, Coins, Event};

pub fn transfer(from: &Address, to: &Address, amount: &Coins) -> Vec<Event> {
    vec![
        Event::new("coin_spent")
            .attr("spender", from)
            .attr("amount", amount),
        Event::new("coin_received")
            .attr("receiver", to)
            .attr("amount", amount),
        Event::new("transfer")
            .attr("recipient", to)
            .attr("sender", from)
            .attr("amount", amount),
    ]
}

pub fn mint(module: &Address, amount: &Coins) -> Vec<Event> {
    vec![
        Event::new("coinbase")
            .attr("minter", module)
            .attr("amount", amount),
        Event::new("coin_received")
            .attr("receiver", module)
            .attr("amount", amount),
    ]
}

pub fn burn(module: &Address, amount: &Coins) -> Vec<Event> {
    vec![
        Event::new("burn")
            .attr("burner", module)
            .attr("amount", amount),
        Event::new("coin_spent")
            .attr("spender", module)
            .attr("amount", amount),
    ]
}

/// Cosmos SDK emits `message.sender` from the bank handler too.
pub fn message_sender(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", crate::MODULE_NAME)
}
