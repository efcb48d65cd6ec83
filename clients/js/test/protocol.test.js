// The client against a scripted fake server: command batching, recovery
// decisions, gap detection (conflation included), duplicates, bad input.

import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeClient, seqs, watch } from "./support/client.js";

// No heartbeats unless a test wants them: commands are then exactly what
// the test expects.
const quiet = { heartbeatInterval: 0, minReconnectDelay: 10, maxReconnectDelay: 50 };

/**
 * watching starts a fake server and a quiet client of it (options on top)
 * watching channels, one watch each, in order, and connects it; conn is its
 * first connection.
 */
async function watching(t, channels, options = {}) {
  const c = await fakeClient(t, { ...quiet, ...options });
  c.watched = channels.map((ch) => watch(c.client, ch));
  c.client.connect();
  c.conn = await c.fake.connection(0);
  return c;
}

/** live is watching, with the first subscribe acknowledged. */
async function live(t, channels) {
  const c = await watching(t, channels);
  c.conn.ack(await c.conn.command(0));
  return c;
}

test("subscribes of one tick go out as one command; later ones as another", async (t) => {
  const { client, conn, watched: [a] } = await watching(t, ["token.A.trade", "token.B.trade", "token.*.ticker"]);
  const first = await conn.command(0);
  assert.equal(first.type, "subscribe");
  assert.deepEqual(first.data.channels, ["token.A.trade", "token.B.trade", "token.*.ticker"]);
  assert.equal(first.data.since, undefined);
  conn.ack(first);
  await a.subscribed.count(1, 2000);

  watch(client, "token.C.trade");
  watch(client, "token.D.trade");
  const second = await conn.command(1);
  assert.deepEqual(second.data.channels, ["token.C.trade", "token.D.trade"]);
  // Subscribed and unsubscribed in the same tick: nothing is sent for it.
  watch(client, "token.E.trade").sub.unsubscribe();
  a.sub.unsubscribe();
  const third = await conn.command(2);
  assert.deepEqual(third, { type: "unsubscribe", id: third.id, data: { channels: ["token.A.trade"] } });
  assert.equal(conn.commands.items.length, 3);
  assert.equal(a.sub.active, false);
});

test("a subscribe that does not fit maxCommandBytes is split; nothing is lost", async (t) => {
  const names = Array.from({ length: 9 }, (_, i) => `token.T${i}.trade`);
  const { conn } = await watching(t, names, { maxCommandBytes: 120 });
  await conn.commands.until(
    (cmds) => cmds.flatMap((c) => c.data.channels).length === names.length,
    2000,
    "every channel subscribed",
  );
  const cmds = conn.commands.items;
  assert.ok(cmds.length > 1, "split into several commands");
  assert.deepEqual(cmds.flatMap((c) => c.data.channels), names);
  for (const c of cmds) assert.ok(Buffer.byteLength(JSON.stringify(c)) <= 120);
});

test("reconnect re-sends every subscription in one command, with since where positions are known; recovered → in order, no duplicate", async (t) => {
  // token.H.trade keeps history, token.L.trade does not.
  let { fake, client, conn, watched: [h, l] } = await watching(t, ["token.H.trade", "token.L.trade"]);
  conn.ack(await conn.command(0), { positions: [{ channel: "token.H.trade", epoch: "E1", seq: 5 }], recovered: true });
  conn.message("token.H.trade", 6, { p: 6 });
  conn.message("token.L.trade", 3, { p: 3 });
  await h.messages.count(1, 2000);
  await l.messages.count(1, 2000);
  assert.deepEqual(h.subscribed.items, [{ channel: "token.H.trade", recovered: false }]);

  conn.close(1001, "shutdown");
  conn = await fake.connection(1);
  const again = await conn.command(0);
  assert.deepEqual(again.data, {
    channels: ["token.H.trade", "token.L.trade"],
    since: { "token.H.trade": { epoch: "E1", seq: 6 } },
  });
  conn.ack(again, { positions: [{ channel: "token.H.trade", epoch: "E1", seq: 8 }], recovered: true });
  conn.message("token.H.trade", 6, { p: 6 }); // a duplicate: dropped
  conn.message("token.H.trade", 7, { p: 7 });
  conn.message("token.H.trade", 8, { p: 8 });
  conn.message("token.H.trade", 9, { p: 9 });
  conn.message("token.L.trade", 4, { p: 4 });
  await h.messages.count(4, 2000);
  await l.messages.count(2, 2000);
  assert.deepEqual(seqs(h), [6, 7, 8, 9]);
  assert.deepEqual(h.messages.items[1], { data: { p: 7 }, channel: "token.H.trade", seq: 7, ts: h.messages.items[1].ts, conflated: 0 });
  assert.deepEqual(client.stats, { reconnects: 1, recovered: 2, gaps: 0 });
  assert.deepEqual(h.subscribed.items[1], { channel: "token.H.trade", recovered: true });
  assert.deepEqual(h.gaps.items, []);
  assert.deepEqual(l.gaps.items, []); // 3 → 4: nothing missed
  assert.deepEqual(l.subscribed.items[1], { channel: "token.L.trade", recovered: false });
});

/**
 * resubscribedUnrecovered runs one subscription to token.H.trade over two
 * connections: the first acks it at position `before` (recovered) and
 * delivers the next seq; after a drain, the second acks it at `after` with
 * recovered:false and delivers the seq after that. It resolves with the
 * client and the subscription's watcher once both messages are in.
 */
async function resubscribedUnrecovered(t, before, after) {
  let { fake, client, conn, watched: [h] } = await watching(t, ["token.H.trade"]);
  conn.ack(await conn.command(0), { positions: [{ channel: "token.H.trade", ...before }], recovered: true });
  conn.message("token.H.trade", before.seq + 1, {});
  await h.messages.count(1, 2000);
  conn.close(1001, "shutdown");
  conn = await fake.connection(1);
  conn.ack(await conn.command(0), { positions: [{ channel: "token.H.trade", ...after }], recovered: false });
  conn.message("token.H.trade", after.seq + 1, {});
  await h.messages.count(2, 2000);
  return { client, h };
}

test("recovered:false → onGap once, with the range up to the ack's position", async (t) => {
  const { client, h } = await resubscribedUnrecovered(t, { epoch: "E1", seq: 5 }, { epoch: "E1", seq: 40 });
  assert.deepEqual(h.gaps.items, [{ channel: "token.H.trade", from: 7, to: 40 }]);
  assert.deepEqual(seqs(h), [6, 41]);
  assert.deepEqual(client.stats, { reconnects: 1, recovered: 0, gaps: 1 });
});

test("a new epoch (server restart) → onGap reset, then the new numbering is followed", async (t) => {
  const { h } = await resubscribedUnrecovered(t, { epoch: "E1", seq: 50 }, { epoch: "E2", seq: 2 });
  assert.deepEqual(h.gaps.items, [{ channel: "token.H.trade", from: 52, to: null }]);
  assert.deepEqual(seqs(h), [51, 3]);
});

test("recovered:false over several channels: the replayed one is recovered, the fence reports the other", async (t) => {
  let { fake, conn, watched: [a, b] } = await watching(t, ["token.A.trade", "token.B.trade"]);
  conn.ack(await conn.command(0), {
    positions: [
      { channel: "token.A.trade", epoch: "E1", seq: 10 },
      { channel: "token.B.trade", epoch: "E1", seq: 20 },
    ],
    recovered: true,
  });
  conn.close(1001, "shutdown");
  conn = await fake.connection(1);
  const cmd = await conn.command(0);
  assert.deepEqual(cmd.data.since, {
    "token.A.trade": { epoch: "E1", seq: 10 },
    "token.B.trade": { epoch: "E1", seq: 20 },
  });
  const fence = await conn.command(1);
  assert.equal(fence.type, "heartbeat");
  conn.ack(cmd, {
    positions: [
      { channel: "token.A.trade", epoch: "E1", seq: 12 },
      { channel: "token.B.trade", epoch: "E1", seq: 90 },
    ],
    recovered: false,
  });
  conn.message("token.A.trade", 11, {}); // replayed: A was recovered
  conn.message("token.A.trade", 12, {});
  conn.send({ type: "pong", ts: Date.now() }); // the fence: B was not
  await b.gaps.count(1, 2000);
  assert.deepEqual(b.gaps.items, [{ channel: "token.B.trade", from: 21, to: 90 }]);
  assert.deepEqual(a.gaps.items, []);
  assert.deepEqual(seqs(a), [11, 12]);
  assert.deepEqual(a.subscribed.items.at(-1), { channel: "token.A.trade", recovered: true });
  assert.deepEqual(b.subscribed.items.at(-1), { channel: "token.B.trade", recovered: false });
});

test("live seq jumps: onGap once per gap; conflated explains skipped seqs; duplicates dropped", async (t) => {
  const { conn, watched: [w] } = await live(t, ["token.X.ticker"]);
  conn.message("token.X.ticker", 1, {});
  conn.message("token.X.ticker", 4, {}, { conflated: 2 }); // replaced 2 and 3: no gap
  conn.message("token.X.ticker", 4, {}); // duplicate
  conn.message("token.X.ticker", 7, {}, { conflated: 1 }); // replaced 6; 5 is missing
  conn.message("token.X.ticker", 8, {});
  conn.message("token.X.ticker", 12, {}); // 9..11 missing
  conn.message("token.X.ticker", 13, {});
  await w.messages.count(6, 2000);
  assert.deepEqual(seqs(w), [1, 4, 7, 8, 12, 13]);
  assert.deepEqual(w.gaps.items, [
    { channel: "token.X.ticker", from: 5, to: 5 },
    { channel: "token.X.ticker", from: 9, to: 11 },
  ]);
  assert.deepEqual(
    w.messages.items.map((m) => m.conflated),
    [0, 2, 1, 0, 0, 0],
  );
});

test("pattern subscriptions track each channel's seq; overlapping subscriptions each get the message", async (t) => {
  const { client, conn, watched: [p, e] } = await live(t, ["token.*.trade", "token.A.trade"]);
  conn.message("token.A.trade", 1, { n: 1 });
  conn.message("token.B.trade", 7, { n: 2 });
  conn.message("token.A.trade", 2, { n: 3 });
  conn.message("token.B.trade", 9, { n: 4 });
  conn.message("token.A.ticker", 1, { n: 5 }); // matches neither
  await p.messages.count(4, 2000);
  await e.messages.count(2, 2000);
  assert.deepEqual(p.messages.items.map((m) => m.data.n), [1, 2, 3, 4]);
  assert.deepEqual(e.messages.items.map((m) => m.data.n), [1, 3]);
  assert.deepEqual(p.gaps.items, [{ channel: "token.B.trade", from: 8, to: 8 }]);
});

test("rejected channels → onError with the server's code; never re-sent", async (t) => {
  let { fake, client, conn, watched: [ok, bad] } = await watching(t, ["token.A.trade", "user.43.>"]);
  const cmd = await conn.command(0);
  conn.send({
    type: "subscription_ack",
    id: cmd.id,
    subscribed: ["token.A.trade"],
    rejected: [{ channel: "user.43.>", code: "FORBIDDEN", message: "not yours" }],
    count: 1,
  });
  await bad.errors.count(1, 2000);
  assert.equal(bad.errors.items[0].code, "FORBIDDEN");
  assert.equal(bad.errors.items[0].channel, "user.43.>");
  assert.equal(bad.sub.active, false);
  assert.equal(ok.sub.active, true);
  conn.close(1001, "shutdown");
  conn = await fake.connection(1);
  assert.deepEqual((await conn.command(0)).data.channels, ["token.A.trade"]);
});

test("bad input from the network is reported via error and never thrown; delivery goes on", async (t) => {
  const { fake, client, conn, errors, watched: [w] } = await live(t, ["token.A.trade"]);
  conn.send("not json {");
  conn.send("[1,2]");
  conn.send({ type: "surprise", data: 1 });
  conn.send({ type: "message", channel: "token.A.trade", seq: "one", data: {} });
  conn.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  conn.send({ type: "error", code: "BAD_REQUEST", message: "malformed command" });
  conn.message("token.A.trade", 1, { ok: true });
  await w.messages.count(1, 2000);
  await errors.count(6, 2000);
  assert.deepEqual(
    errors.items.map((e) => e.code),
    ["BAD_FRAME", "BAD_FRAME", "UNKNOWN_TYPE", "BAD_FRAME", "BAD_FRAME", "BAD_REQUEST"],
  );
  assert.ok(errors.items.every((e) => e.name === "WsfanError" && typeof e.message === "string"));
  assert.equal(client.state, "connected");
  assert.equal(fake.connections.items.length, 1);
});

test("a subscribe answered RATE_LIMITED is sent again", async (t) => {
  const { conn, errors, watched: [w] } = await watching(t, ["token.A.trade"], { rateLimitRetryDelay: 20 });
  const cmd = await conn.command(0);
  conn.send({ type: "error", id: cmd.id, code: "RATE_LIMITED", message: "too many commands; slow down" });
  const retry = await conn.command(1);
  assert.deepEqual(retry.data.channels, ["token.A.trade"]);
  conn.ack(retry);
  await w.subscribed.count(1, 2000);
  assert.equal(errors.items[0].code, "RATE_LIMITED");
});
