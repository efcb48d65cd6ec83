// permessage-deflate with Node's ws (RFC 7692): the extension is
// negotiated, a large publication arrives intact, compressed once for
// every deflate subscriber, and a client without the extension gets the
// same publication plain.

import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import WebSocket from "ws";
import { startWsfan } from "./support/wsfan.js";

/** open resolves with a connected ws and a queue of its parsed messages. */
async function open(url, perMessageDeflate) {
  const ws = new WebSocket(url, { perMessageDeflate });
  const queue = [];
  const waiters = [];
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString());
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  await once(ws, "open");
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((ok) => waiters.push(ok)));
  return { ws, next };
}

/** book is an order book update of about 3 KB, as a market-data site sends. */
function book(levels) {
  const side = (sign) =>
    Array.from({ length: levels }, (_, i) => [(43250 + sign * i * 0.5).toFixed(1), ((i * 7919) % 1000 / 100 + 0.01).toFixed(2)]);
  return { symbol: "BTC-USD", ts: 1764633600000, bids: side(-1), asks: side(1) };
}

async function metric(adminUrl, name) {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line ? Number(line.split(" ")[1]) : 0;
}

test("a Node ws client offering permessage-deflate gets it and reads intact messages; a plain one reads the same", async (t) => {
  const srv = await startWsfan();
  t.after(() => srv.stop("SIGKILL"));
  const z = await open(srv.wsUrl, true);
  const plain = await open(srv.wsUrl, false);
  t.after(() => {
    z.ws.terminate();
    plain.ws.terminate();
  });
  assert.match(z.ws.extensions, /^permessage-deflate/);
  assert.equal(plain.ws.extensions, "");

  for (const c of [z, plain]) {
    c.ws.send(JSON.stringify({ type: "subscribe", id: "s", data: { channels: ["token.BTC.book"] } }));
    assert.equal((await c.next()).type, "subscription_ack");
  }
  const data = book(60);
  assert.ok(JSON.stringify(data).length > 2000);
  await srv.publish({ channel: "token.BTC.book", data });
  for (const c of [z, plain]) {
    const m = await c.next();
    assert.equal(m.type, "message");
    assert.deepEqual(m.data, data);
  }
  assert.equal(await metric(srv.adminUrl, "wsfan_compressions_total"), 1);
  assert.equal(await metric(srv.adminUrl, 'wsfan_deliveries_by_encoding_total{encoding="deflate"}'), 1);
  assert.equal(await metric(srv.adminUrl, 'wsfan_deliveries_by_encoding_total{encoding="plain"}'), 1);
  const bytesIn = await metric(srv.adminUrl, "wsfan_compression_bytes_in_total");
  const bytesOut = await metric(srv.adminUrl, "wsfan_compression_bytes_out_total");
  assert.ok(bytesIn >= 3 * bytesOut, `compressed ${bytesIn} bytes to ${bytesOut}: less than 3x`);
});

test("a compressed command from a Node ws client is inflated and answered", async (t) => {
  const srv = await startWsfan({ max_message_bytes: 65536 });
  t.after(() => srv.stop("SIGKILL"));
  const ws = new WebSocket(srv.wsUrl, { perMessageDeflate: { threshold: 0 } }); // compress every message
  t.after(() => ws.terminate());
  await once(ws, "open");
  const channels = Array.from({ length: 50 }, (_, i) => `token.T${i}.trade`);
  ws.send(JSON.stringify({ type: "subscribe", id: "big", data: { channels } }));
  const [raw] = await once(ws, "message");
  const ack = JSON.parse(raw.toString());
  assert.equal(ack.type, "subscription_ack");
  assert.equal(ack.id, "big");
  assert.deepEqual(ack.subscribed, channels);
});

test("with compression = false the offer is declined and messages go plain", async (t) => {
  const srv = await startWsfan({ compression: false });
  t.after(() => srv.stop("SIGKILL"));
  const z = await open(srv.wsUrl, true);
  t.after(() => z.ws.terminate());
  assert.equal(z.ws.extensions, "");
  z.ws.send(JSON.stringify({ type: "subscribe", id: "s", data: { channels: ["token.ETH.book"] } }));
  assert.equal((await z.next()).type, "subscription_ack");
  const data = book(60);
  await srv.publish({ channel: "token.ETH.book", data });
  assert.deepEqual((await z.next()).data, data);
  assert.equal(await metric(srv.adminUrl, "wsfan_compressions_total"), 0);
});
