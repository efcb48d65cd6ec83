// Closes the server sends while a Node ws client is still writing: the
// close frame must reach the client (not a TCP reset that discards it).

import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import WebSocket from "ws";
import { startWsfan } from "./support/wsfan.js";

const runs = 20;

/** closeOf resolves with the close code and reason the client read. */
async function closeOf(ws) {
  const [code, reason] = await once(ws, "close");
  return { code, reason: reason.toString() };
}

test(`a 1 MiB frame is answered with close 1009 "message too big", ${runs} of ${runs} runs`, async (t) => {
  const srv = await startWsfan();
  t.after(() => srv.stop("SIGKILL"));
  const big = "x".repeat(1 << 20);
  for (let i = 0; i < runs; i++) {
    const ws = new WebSocket(srv.wsUrl);
    await once(ws, "open");
    ws.send(big);
    assert.deepEqual(await closeOf(ws), { code: 1009, reason: "message too big" }, `run ${i}`);
  }
});

test(`a command flood is answered with close 1008 "rate limited", ${runs} of ${runs} runs`, async (t) => {
  const srv = await startWsfan({ limits: { commands_per_second: 10, command_burst: 10, command_grace: "200ms" } });
  t.after(() => srv.stop("SIGKILL"));
  const cmd = JSON.stringify({ type: "heartbeat", pad: "p".repeat(2000) });
  for (let i = 0; i < runs; i++) {
    const ws = new WebSocket(srv.wsUrl);
    await once(ws, "open");
    const closed = closeOf(ws);
    // Keep writing until the server closes: its close arrives while the
    // client still has commands in flight.
    const flood = setInterval(() => {
      for (let j = 0; j < 50 && ws.readyState === WebSocket.OPEN; j++) ws.send(cmd);
    }, 1);
    const got = await closed;
    clearInterval(flood);
    assert.deepEqual(got, { code: 1008, reason: "rate limited" }, `run ${i}`);
  }
});
