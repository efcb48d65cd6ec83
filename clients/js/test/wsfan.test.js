// The client against the real wsfan binary: acks, batching, rejections,
// recovery across a cut and a stalled network, a restart, a drain, token
// expiry.

import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connected, newClient, seqs, watch } from "./support/client.js";
import { signHS256 } from "./support/jwt.js";
import { startProxy } from "./support/proxy.js";
import { startWsfan } from "./support/wsfan.js";

async function wsfan(t, config) {
  const srv = await startWsfan(config);
  t.after(() => srv.stop("SIGKILL"));
  return srv;
}

/** metric reads one counter from the server's /metrics. */
async function metric(srv, name) {
  const text = await (await fetch(`${srv.adminUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

/** publishN publishes n publications to channel, numbered from `from`, in batches. */
async function publishN(srv, channel, from, n, batch = 10) {
  for (let i = 0; i < n; i += batch) {
    const pubs = [];
    for (let j = i; j < Math.min(n, i + batch); j++) pubs.push({ channel, data: { n: from + j } });
    await srv.publish(pubs);
  }
}

/**
 * subscribedClient connects a client to url with options, subscribed to
 * channel, and resolves once the server acked the subscription, with the
 * client, its recorders (states, errors) and the channel's watcher w.
 */
async function subscribedClient(t, url, channel, options) {
  const c = newClient(t, url, options);
  const w = watch(c.client, channel);
  c.client.connect();
  await w.subscribed.count(1, 3000);
  return { ...c, w };
}

/** restarted starts a server on the addresses of srv, which was stopped. */
const restarted = (t, srv) => wsfan(t, { listen: srv.listen, admin_listen: srv.adminListen });

/** range returns [from, ..., to]. */
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("subscribe → ack and messages; the same tick's subscribes are one command on the server", async (t) => {
  const srv = await wsfan(t);
  const { client } = newClient(t, srv.wsUrl, { heartbeatInterval: 0 });
  const a = watch(client, "token.A.trade");
  const b = watch(client, "token.B.trade");
  const p = watch(client, "token.*.ticker");
  client.connect();
  await Promise.all([a, b, p].map((w) => w.subscribed.count(1, 3000)));
  assert.equal(await metric(srv, "wsfan_client_commands_total"), 1);
  assert.deepEqual(a.subscribed.items, [{ channel: "token.A.trade", recovered: false }]);

  await srv.publish([
    { channel: "token.A.trade", data: { price: "1.5" } },
    { channel: "token.B.trade", data: { price: "2" } },
    { channel: "token.Z.ticker", data: { last: 3 } },
  ]);
  await Promise.all([a, b, p].map((w) => w.messages.count(1, 3000)));
  const m = a.messages.items[0];
  assert.deepEqual(m.data, { price: "1.5" });
  assert.equal(m.channel, "token.A.trade");
  assert.equal(m.seq, 1);
  assert.equal(m.conflated, 0);
  assert.ok(Math.abs(m.ts - Date.now()) < 5000);
  assert.equal(p.messages.items[0].channel, "token.Z.ticker");
});

test("FORBIDDEN and INVALID_CHANNEL reach onError; the rest is subscribed", async (t) => {
  const secret = "a-test-secret-of-at-least-32-bytes!";
  const srv = await wsfan(t, { auth: { hs256_secret: secret } });
  const token = signHS256({ sub: "alice", exp: Math.floor(Date.now() / 1000) + 600 }, secret);
  const { client } = newClient(t, srv.wsUrl, { token, heartbeatInterval: 0 });
  const mine = watch(client, "user.alice.favorites");
  const theirs = watch(client, "user.bob.favorites");
  const bad = watch(client, "token..trade");
  client.connect();
  await mine.subscribed.count(1, 3000);
  await theirs.errors.count(1, 3000);
  await bad.errors.count(1, 3000);
  assert.equal(theirs.errors.items[0].code, "FORBIDDEN");
  assert.equal(theirs.errors.items[0].channel, "user.bob.favorites");
  assert.equal(bad.errors.items[0].code, "INVALID_CHANNEL");
  assert.equal(theirs.sub.active, false);
  assert.equal(mine.sub.active, true);
});

test("proxy cut for 2 s while 200 publications go to a history channel: all delivered in order, no duplicate, no gap, within 3 s", async (t) => {
  const srv = await wsfan(t);
  const proxy = await startProxy(srv.listen);
  t.after(() => proxy.close());
  // Default backoff and heartbeat options: the guarantee holds as shipped.
  const { client, states, w } = await subscribedClient(t, `ws://127.0.0.1:${proxy.port}/ws`, "token.BTC.trade");
  await publishN(srv, "token.BTC.trade", 1, 10);
  await w.messages.count(10, 3000);

  proxy.cut();
  await states.until((s) => s.at(-1).state !== "connected", 3000, "the cut noticed");
  const cutAt = performance.now();
  for (let i = 0; i < 20; i++) {
    await publishN(srv, "token.BTC.trade", 11 + 10 * i, 10);
    await sleep(Math.max(0, cutAt + (i + 1) * 100 - performance.now())); // 200 publications spread over the 2 s
  }
  proxy.restore();
  const restoredAt = performance.now();
  await w.messages.count(210, 3000, "210 messages within 3 s of the proxy coming back");
  const took = performance.now() - restoredAt;
  t.diagnostic(`all 200 missed messages delivered ${Math.round(took)} ms after the proxy came back`);

  assert.deepEqual(seqs(w), range(1, 210));
  assert.deepEqual(
    w.messages.items.map((m) => m.data.n),
    range(1, 210),
  );
  assert.deepEqual(client.stats, { reconnects: 1, recovered: 200, gaps: 0 });
  assert.deepEqual(w.gaps.items, []);
  assert.deepEqual(w.subscribed.items.at(-1), { channel: "token.BTC.trade", recovered: true });
  // And live delivery goes on.
  await publishN(srv, "token.BTC.trade", 211, 1);
  await w.messages.count(211, 3000);
  assert.equal(w.messages.items.at(-1).seq, 211);
});

test("a stalled network (no FIN, no reset) is found by the heartbeat and recovered", async (t) => {
  const srv = await wsfan(t);
  const proxy = await startProxy(srv.listen);
  t.after(() => proxy.close());
  const { states, errors, w } = await subscribedClient(t, `ws://127.0.0.1:${proxy.port}/ws`, "token.ETH.trade", {
    heartbeatInterval: 200,
    heartbeatTimeout: 200,
    minReconnectDelay: 50,
    maxReconnectDelay: 200,
  });
  proxy.stall();
  await publishN(srv, "token.ETH.trade", 1, 50);
  await w.messages.count(50, 3000);
  assert.equal(errors.items[0].code, "HEARTBEAT_TIMEOUT");
  assert.equal(states.items.filter((s) => s.state === "connected").length, 2);
  assert.deepEqual(seqs(w), range(1, 50));
  assert.deepEqual(w.gaps.items, []);
});

test("a server restart (new epoch) → onGap once; delivery follows the new server", async (t) => {
  const first = await wsfan(t);
  const { states, w } = await subscribedClient(t, first.wsUrl, "token.SOL.trade", { minReconnectDelay: 50, maxReconnectDelay: 200 });
  await publishN(first, "token.SOL.trade", 1, 5);
  await w.messages.count(5, 3000);

  await first.stop("SIGKILL");
  await states.until((s) => s.at(-1).state !== "connected", 3000, "the loss noticed");
  const second = await restarted(t, first);
  await w.subscribed.count(2, 5000);
  await publishN(second, "token.SOL.trade", 6, 3);
  await w.messages.count(8, 3000);
  assert.deepEqual(w.gaps.items, [{ channel: "token.SOL.trade", from: 6, to: null }]);
  assert.deepEqual(w.subscribed.items[1], { channel: "token.SOL.trade", recovered: false });
  assert.deepEqual(seqs(w), [1, 2, 3, 4, 5, 1, 2, 3]);
});

test("a drain (1001 shutdown) → back on the new server", async (t) => {
  const first = await wsfan(t);
  const { states, w } = await subscribedClient(t, first.wsUrl, "token.ADA.trade", { minReconnectDelay: 50, maxReconnectDelay: 200 });
  assert.equal(await first.stop("SIGTERM"), 0);
  const lost = await states.until((s) => s.some((x) => x.state === "disconnected"), 3000, "disconnected");
  assert.deepEqual(lost.find((x) => x.state === "disconnected").detail, { code: 1001, reason: "shutdown" });
  const second = await restarted(t, first);
  await connected(states, 2, 5000);
  await w.subscribed.count(2, 3000);
  await second.publish({ channel: "token.ADA.trade", data: { on: "second" } });
  await w.messages.count(1, 3000);
  assert.deepEqual(w.messages.items[0].data, { on: "second" });
});

test("token expiry (1008) → a fresh token from the async token function, reconnected, nothing lost", async (t) => {
  const secret = "a-test-secret-of-at-least-32-bytes!";
  const srv = await wsfan(t, { auth: { hs256_secret: secret } });
  const issued = [];
  const token = async () => {
    // The first token expires within a second or two; the next ones later.
    const exp = Math.floor(Date.now() / 1000) + (issued.length === 0 ? 1 : 600);
    issued.push(exp);
    return signHS256({ sub: "alice", exp }, secret);
  };
  const { states, w } = await subscribedClient(t, srv.wsUrl, "token.DOT.trade", { token, heartbeatInterval: 0 });
  await publishN(srv, "token.DOT.trade", 1, 5);
  // exp has whole seconds and auth.leeway is 5 s: the close comes 5 to 6 s
  // after the connect.
  const expired = await states.until((s) => s.some((x) => x.state === "disconnected"), 9000, "the expiry");
  assert.deepEqual(expired.find((x) => x.state === "disconnected").detail, { code: 1008, reason: "token expired" });
  await publishN(srv, "token.DOT.trade", 6, 5);
  await connected(states, 2, 3000);
  await w.messages.count(10, 3000);
  assert.equal(issued.length, 2);
  assert.deepEqual(seqs(w), range(1, 10));
  assert.deepEqual(w.gaps.items, []);
  assert.deepEqual(w.subscribed.items[1], { channel: "token.DOT.trade", recovered: true });
});
