// A TCP proxy between a client and a server whose network can be cut
// (connections reset, new ones refused) or stalled (bytes silently
// dropped, as on a dead Wi-Fi link), to test recovery and liveness.

import { createConnection, createServer } from "node:net";

/**
 * startProxy listens on a free loopback port and forwards each connection
 * to target ("host:port"). It resolves with { port, cut(), restore(),
 * stall(), accepted, close() }; `accepted` counts connections forwarded.
 */
export async function startProxy(target) {
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  const pairs = new Set();
  let cut = false;
  const proxy = {
    port: 0,
    accepted: 0,
    /** cut resets every connection and refuses new ones until restore(). */
    cut() {
      cut = true;
      for (const p of pairs) p.destroy();
    },
    /** restore lets connections through again. */
    restore() {
      cut = false;
    },
    /** stall makes every current connection a black hole; new ones pass. */
    stall() {
      for (const p of pairs) p.stalled = true;
    },
    close() {
      for (const p of pairs) p.destroy();
      return new Promise((ok) => server.close(ok));
    },
  };
  const server = createServer((inbound) => {
    if (cut) return inbound.destroy();
    proxy.accepted++;
    const outbound = createConnection({ host, port });
    const pair = {
      stalled: false,
      destroy() {
        inbound.destroy();
        outbound.destroy();
        pairs.delete(pair);
      },
    };
    pairs.add(pair);
    const forward = (from, to) => {
      from.on("data", (chunk) => {
        if (!pair.stalled) to.write(chunk);
      });
      from.on("end", () => to.end());
      from.on("error", () => pair.destroy());
      from.on("close", () => pair.destroy());
    };
    forward(inbound, outbound);
    forward(outbound, inbound);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  proxy.port = server.address().port;
  return proxy;
}
