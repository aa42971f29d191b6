// cosmjs 0.39 against a running Stoa node, as a dApp would use it (run by testnet/clients/run.sh).
//
// Environment: STOA_RPC (CometBFT RPC URL), STOA_CHAIN_ID, STOA_CJS_MNEMONIC (a funded secp256k1
// key), STOA_RECIPIENT (any address), STOA_DENOM (default ustor). A check marked `chainSide`
// needs the chain-side work of issue 10 (Simulate with empty signatures, Amino JSON signing,
// NotFound shapes); with STOA_CLIENTS_XFAIL_CHAIN_SIDE=1 its failure is reported as expected
// instead of failing the run. Prints one line per check and "cosmjs: N passed, N failed".

import { StargateClient, SigningStargateClient, GasPrice } from "@cosmjs/stargate";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { Secp256k1HdWallet } from "@cosmjs/amino";

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const RPC = env("STOA_RPC");
const CHAIN_ID = env("STOA_CHAIN_ID");
const MNEMONIC = env("STOA_CJS_MNEMONIC");
const RECIPIENT = env("STOA_RECIPIENT");
const DENOM = env("STOA_DENOM", "ustor");
const XFAIL = process.env.STOA_CLIENTS_XFAIL_CHAIN_SIDE === "1";
const FEE = { amount: [{ denom: DENOM, amount: "2000" }], gas: "200000" };

const checks = [];
const check = (name, fn, opts = {}) => checks.push({ name, fn, chainSide: !!opts.chainSide });
const assert = (cond, msg) => {
  if (!cond) throw new Error(msg);
};
// JSON.stringify that also prints the BigInts cosmjs returns
const show = (x) => JSON.stringify(x, (_, v) => (typeof v === "bigint" ? v.toString() : v));

let sender;
let lastTx;

check("StargateClient: chain id, height, balances", async () => {
  const c = await StargateClient.connect(RPC);
  assert((await c.getChainId()) === CHAIN_ID, "chain id");
  assert((await c.getHeight()) > 1, "height");
  const [acct] = await (await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "stoa" })).getAccounts();
  sender = acct.address;
  const bal = await c.getBalance(sender, DENOM);
  assert(bal.denom === DENOM && BigInt(bal.amount) > 0n, `balance of ${sender}: ${show(bal)}`);
  const all = await c.getAllBalances(sender);
  assert(all.some((b) => b.denom === DENOM), "getAllBalances lists the denom");
  const acc = await c.getAccount(sender);
  assert(acc && acc.address === sender, `getAccount: ${show(acc)}`);
});

check("SigningStargateClient.sendTokens, direct signer, fixed fee", async () => {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "stoa" });
  const [acct] = await wallet.getAccounts();
  const client = await SigningStargateClient.connectWithSigner(RPC, wallet);
  const before = BigInt((await client.getBalance(RECIPIENT, DENOM)).amount);
  const r = await client.sendTokens(acct.address, RECIPIENT, [{ denom: DENOM, amount: "1234" }], FEE, "cosmjs direct");
  assert(r.code === 0, `code ${r.code}: ${r.rawLog ?? ""}`);
  lastTx = r;
  const after = BigInt((await client.getBalance(RECIPIENT, DENOM)).amount);
  assert(after - before === 1234n, `recipient got ${after - before}`);
});

check("StargateClient.searchTx by height finds the send", async () => {
  assert(lastTx, "no earlier send");
  const c = await StargateClient.connect(RPC);
  const found = await c.searchTx(`tx.height=${lastTx.height}`);
  assert(found.some((t) => t.hash === lastTx.transactionHash), `not found: ${show(found.map((t) => t.hash))}`);
  const byHash = await c.getTx(lastTx.transactionHash);
  assert(byHash && byHash.code === 0, "getTx");
});

check("StargateClient.searchTx by the sender's message event", async () => {
  assert(lastTx, "no earlier send");
  const c = await StargateClient.connect(RPC);
  const found = await c.searchTx([{ key: "message.sender", value: sender }]);
  assert(found.some((t) => t.hash === lastTx.transactionHash), `not found among ${found.length}`);
});

check("StargateClient.getAccount of a fresh address is null", async () => {
  const fresh = await DirectSecp256k1HdWallet.generate(12, { prefix: "stoa" });
  const [acct] = await fresh.getAccounts();
  const c = await StargateClient.connect(RPC);
  assert((await c.getAccount(acct.address)) === null, "not null");
}, { chainSide: true });

check("SigningStargateClient.sendTokens with gas \"auto\" (simulate)", async () => {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "stoa" });
  const [acct] = await wallet.getAccounts();
  const client = await SigningStargateClient.connectWithSigner(RPC, wallet, {
    gasPrice: GasPrice.fromString(`0.01${DENOM}`),
  });
  const r = await client.sendTokens(acct.address, RECIPIENT, [{ denom: DENOM, amount: "7" }], "auto");
  assert(r.code === 0, `code ${r.code}: ${r.rawLog ?? ""}`);
}, { chainSide: true });

check("SigningStargateClient.sendTokens with an Amino (Ledger-style) signer", async () => {
  const wallet = await Secp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "stoa" });
  const [acct] = await wallet.getAccounts();
  const client = await SigningStargateClient.connectWithSigner(RPC, wallet);
  const r = await client.sendTokens(acct.address, RECIPIENT, [{ denom: DENOM, amount: "8" }], FEE, "cosmjs amino");
  assert(r.code === 0, `code ${r.code}: ${r.rawLog ?? ""}`);
}, { chainSide: true });

let passed = 0;
let failed = 0;
let xfailed = 0;
for (const c of checks) {
  try {
    // A client that hangs is a failure, not a stuck CI run.
    await Promise.race([
      c.fn(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 60 s")), 60000)),
    ]);
    passed++;
    console.log(`ok    ${c.name}${c.chainSide && XFAIL ? " (passes already: the chain-side switch can go)" : ""}`);
  } catch (e) {
    const msg = (e && e.message ? e.message : String(e)).split("\n")[0].slice(0, 400);
    if (c.chainSide && XFAIL) {
      xfailed++;
      console.log(`xfail ${c.name} (needs the chain side of issue 10): ${msg}`);
    } else {
      failed++;
      console.log(`FAIL  ${c.name}: ${msg}`);
    }
  }
}
console.log(`cosmjs: ${passed} passed, ${failed} failed, ${xfailed} skipped`);
process.exit(failed === 0 ? 0 : 1);
