// Clients for the tests: Node's ws as the WebSocket, and recorders on
// every event and callback.

import WebSocket from "ws";
import { Client } from "../../src/index.js";
import { startFake } from "./fake.js";
import { Recorder } from "./recorder.js";

/**
 * newClient makes a Client on url whose "state" and "error" events are
 * recorded: states holds {state, detail, at} (at: performance.now()).
 * The test's after hook closes it.
 */
export function newClient(t, url, options = {}) {
  const client = new Client(url, { WebSocket, ...options });
  const states = new Recorder();
  const errors = new Recorder();
  client.on("state", (state, detail) => states.push({ state, detail, at: performance.now() }));
  client.on("error", errors.fn);
  t.after(() => client.close());
  return { client, states, errors };
}

/** fakeClient starts a fake server (fake.js) and a newClient of it; both close after t. */
export async function fakeClient(t, options = {}) {
  const fake = await startFake();
  t.after(() => fake.close());
  return { fake, ...newClient(t, fake.url, options) };
}

/**
 * watch subscribes client to channel and records each callback:
 * messages holds {data, channel, seq, ts, conflated, recovered}.
 */
export function watch(client, channel) {
  const w = { messages: new Recorder(), gaps: new Recorder(), subscribed: new Recorder(), errors: new Recorder() };
  w.sub = client.subscribe(channel, {
    onMessage: (data, meta) => w.messages.push({ data, ...meta }),
    onGap: w.gaps.fn,
    onSubscribed: w.subscribed.fn,
    onError: w.errors.fn,
  });
  return w;
}

/** seqs returns the seqs of recorded messages. */
export const seqs = (w) => w.messages.items.map((m) => m.seq);

/** connected resolves once the client's n-th "connected" state (1-based) was recorded. */
export const connected = (states, n = 1, ms = 3000) =>
  states.until((s) => s.filter((x) => x.state === "connected").length >= n, ms, `connected #${n}`);
