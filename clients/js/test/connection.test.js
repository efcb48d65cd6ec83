// The connection's life against a fake server: liveness heartbeats,
// backoff and its reset, close codes, the online event, close(), tokens.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { connected, fakeClient, newClient, watch } from "./support/client.js";

/** backoff is options for reconnect delays from min to max ms (max: min), without heartbeats. */
const backoff = (min, max = min) => ({ minReconnectDelay: min, maxReconnectDelay: max, heartbeatInterval: 0 });

/** gaps returns the times between consecutive "connecting" states, ms. */
function attemptIntervals(states) {
  const at = states.items.filter((s) => s.state === "connecting").map((s) => s.at);
  return at.slice(1).map((x, i) => x - at[i]);
}

/** refusedUrl returns a ws:// URL on which nothing listens. */
async function refusedUrl() {
  const srv = createServer();
  await new Promise((ok) => srv.listen(0, "127.0.0.1", ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return `ws://127.0.0.1:${port}/ws`;
}

test("a heartbeat goes out after heartbeatInterval of silence; no frame within heartbeatTimeout → reconnect", async (t) => {
  const { fake, client, errors } = await fakeClient(t, {
    heartbeatInterval: 100,
    heartbeatTimeout: 100,
    minReconnectDelay: 10,
    maxReconnectDelay: 20,
  });
  watch(client, "token.A.trade");
  client.connect();
  const conn = await fake.connection(0);
  conn.ack(await conn.command(0));
  const hb = await conn.command(1);
  assert.equal(hb.type, "heartbeat");
  // The fake never answers: the client gives the connection up and comes back.
  const again = await fake.connection(1);
  assert.equal(errors.items[0].code, "HEARTBEAT_TIMEOUT");
  assert.equal((await again.command(0)).type, "subscribe");
});

test("any frame proves liveness, a pong without id included", async (t) => {
  const { fake, client } = await fakeClient(t, { heartbeatInterval: 60, heartbeatTimeout: 60, minReconnectDelay: 10 });
  client.connect();
  const conn = await fake.connection(0);
  // Answer five heartbeats, alternately with a pong and with other frames.
  for (let i = 0; i < 5; i++) {
    const cmd = await conn.command(i);
    assert.equal(cmd.type, "heartbeat");
    if (i % 2 === 0) conn.send({ type: "pong", ts: Date.now() });
    else conn.send({ type: "unsubscription_ack", unsubscribed: [], count: 0 });
  }
  assert.equal(fake.connections.items.length, 1);
  assert.equal(client.state, "connected");
});

test("a connect that never completes is abandoned after heartbeatInterval + heartbeatTimeout", async (t) => {
  // A TCP server that accepts and never answers the upgrade.
  const sockets = [];
  const srv = createServer((s) => sockets.push(s));
  await new Promise((ok) => srv.listen(0, "127.0.0.1", ok));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise((ok) => srv.close(ok));
  });
  const { client, states, errors } = newClient(t, `ws://127.0.0.1:${srv.address().port}/ws`, {
    heartbeatInterval: 50,
    heartbeatTimeout: 50,
    minReconnectDelay: 10,
    maxReconnectDelay: 20,
  });
  client.connect();
  await states.until((s) => s.filter((x) => x.state === "connecting").length >= 2, 2000, "a second attempt");
  assert.equal(errors.items[0].code, "HEARTBEAT_TIMEOUT");
  assert.ok(attemptIntervals(states)[0] >= 100, "not before the timeout");
});

test("backoff: every delay in [minReconnectDelay, maxReconnectDelay], growing to the max", async (t) => {
  const url = await refusedUrl();
  const f = async (random, check) => {
    const { client, states } = newClient(t, url, { minReconnectDelay: 20, maxReconnectDelay: 400, random });
    client.connect();
    await states.until((s) => s.filter((x) => x.state === "connecting").length >= 8, 5000, "8 attempts");
    client.close();
    check(attemptIntervals(states));
  };
  // Upper bounds leave room for late timers on a busy machine.
  // random 0: always the floor, however long the outage.
  await f(
    () => 0,
    (iv) => {
      for (const d of iv) assert.ok(d >= 19 && d < 200, `interval ${d}: ${iv}`);
    },
  );
  // random → 1: the ceiling, which doubles up to the max.
  await f(
    () => 0.999,
    (iv) => {
      for (const d of iv) assert.ok(d >= 19 && d < 400 + 200, `interval ${d}: ${iv}`);
      assert.ok(iv.at(-1) >= 390, `reaches the max: ${iv}`);
      assert.ok(iv[0] < 200, `starts low: ${iv}`);
    },
  );
});

test("the backoff resets after a connection that stayed up, not after one that failed at once", async (t) => {
  const { fake, client, states } = await fakeClient(t, {
    ...backoff(40, 2000),
    resetBackoffAfter: 300,
    random: () => 0.999,
  });
  client.connect();
  // Four connections closed at once: the delays grow.
  for (let i = 0; i < 4; i++) (await fake.connection(i)).close(1011, "flap");
  const stable = await fake.connection(4);
  const grown = attemptIntervals(states).at(-1);
  assert.ok(grown >= 250, `grew: ${attemptIntervals(states)}`);
  // One that stays up longer than resetBackoffAfter: back to the first delay.
  await connected(states, 5);
  const openedAt = states.items.at(-1).at;
  await new Promise((ok) => setTimeout(ok, Math.max(0, 320 - (performance.now() - openedAt)))); // the condition is time itself
  stable.close(1011, "after a while");
  await fake.connection(5);
  const after = states.items.filter((s) => s.state === "connecting").at(-1).at - states.items.filter((s) => s.state === "disconnected").at(-1).at;
  // Reset: at most 2·min = 80 ms; not reset it would be about 1 s.
  assert.ok(after < 400, `reset: ${after} ms`);
});

test("1009 is reported and retried with backoff, never in a tight loop", async (t) => {
  const { fake, client, states, errors } = await fakeClient(t, {
    ...backoff(30, 400),
    random: () => 0.999,
  });
  watch(client, "token.A.trade");
  client.connect();
  for (let i = 0; i < 4; i++) {
    const conn = await fake.connection(i);
    await conn.command(0);
    conn.close(1009, "message too big");
  }
  await fake.connection(4);
  assert.ok(errors.items.filter((e) => e.code === "MESSAGE_TOO_BIG").length >= 4);
  assert.equal(errors.items[0].closeCode, 1009);
  const iv = attemptIntervals(states);
  assert.ok(
    iv.every((d) => d >= 29),
    `every retry waits: ${iv}`,
  );
  assert.ok(iv.at(-1) > iv[0], `and waits longer each time: ${iv}`);
});

test("1008 token expired → a fresh token, at once; 1008 slow consumer, rate limited → reported, backoff", async (t) => {
  let calls = 0;
  const { fake, client, states, errors } = await fakeClient(t, {
    token: async () => `tok-${++calls}`,
    ...backoff(600),
  });
  client.connect();
  let conn = await fake.connection(0);
  assert.equal(conn.url.searchParams.get("token"), "tok-1");
  conn.close(1008, "token expired");
  conn = await fake.connection(1);
  assert.equal(conn.url.searchParams.get("token"), "tok-2");
  const iv = attemptIntervals(states);
  assert.ok(iv[0] < 400, `token expiry reconnects at once: ${iv}`);
  assert.deepEqual(errors.items, []);
  conn.close(1008, "slow consumer");
  conn = await fake.connection(2);
  assert.equal(conn.url.searchParams.get("token"), "tok-3");
  assert.ok(attemptIntervals(states)[1] >= 595, `slow consumer backs off: ${attemptIntervals(states)}`);
  assert.equal(errors.items[0].code, "SLOW_CONSUMER");
  conn.close(1008, "rate limited");
  await fake.connection(3);
  assert.ok(attemptIntervals(states)[2] >= 595, `rate limited backs off: ${attemptIntervals(states)}`);
  assert.equal(errors.items[1].code, "RATE_LIMITED");
  assert.equal(errors.items[1].closeCode, 1008);
  const disconnected = states.items.filter((s) => s.state === "disconnected").map((s) => s.detail);
  assert.deepEqual(disconnected, [
    { code: 1008, reason: "token expired" },
    { code: 1008, reason: "slow consumer" },
    { code: 1008, reason: "rate limited" },
  ]);
});

test("a token function that fails is reported and retried", async (t) => {
  let calls = 0;
  const { fake, client, errors } = await fakeClient(t, {
    token: () => {
      if (++calls === 1) throw new Error("auth service down");
      return "tok";
    },
    ...backoff(10, 20),
  });
  client.connect();
  const conn = await fake.connection(0);
  assert.equal(conn.url.searchParams.get("token"), "tok");
  assert.equal(errors.items[0].code, "TOKEN_ERROR");
  assert.equal(errors.items[0].cause.message, "auth service down");
});

test("the online event retries at once instead of waiting out the backoff", async (t) => {
  // Node has no window: stand one in for the client's online listener.
  const target = new EventTarget();
  globalThis.addEventListener = target.addEventListener.bind(target);
  globalThis.removeEventListener = target.removeEventListener.bind(target);
  t.after(() => {
    delete globalThis.addEventListener;
    delete globalThis.removeEventListener;
  });
  const { fake, client, states } = await fakeClient(t, backoff(60000));
  client.connect();
  (await fake.connection(0)).close(1001, "shutdown");
  await states.until((s) => s.at(-1).state === "disconnected", 2000, "disconnected");
  target.dispatchEvent(new Event("online"));
  await fake.connection(1, 2000);
  await connected(states, 2);
});

test("close() stops everything: no reconnect, state closed, no timer left", async (t) => {
  const { fake, client, states } = await fakeClient(t, { minReconnectDelay: 50, maxReconnectDelay: 50 });
  watch(client, "token.A.trade");
  client.connect();
  const conn = await fake.connection(0);
  await conn.command(0);
  client.close();
  assert.equal(client.state, "closed");
  assert.equal(await conn.closed, 1000);
  // The same during a backoff wait.
  client.connect();
  (await fake.connection(1)).close(1001, "shutdown");
  await states.until((s) => s.at(-1).state === "disconnected", 2000, "disconnected");
  client.close();
  assert.equal(client.state, "closed");
  // If close() left a timer, this test file would not exit; and no
  // connection may come after it (given a bound of several delays).
  await new Promise((ok) => setTimeout(ok, 200));
  assert.equal(fake.connections.items.length, 2);
});
