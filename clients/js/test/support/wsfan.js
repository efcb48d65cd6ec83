// The real wsfan binary for the tests, with test defaults: loopback ports
// chosen by the kernel, a short drain, history on token.>.

import { publisher, runWsfan } from "../../tools/wsfan.js";

/** publishKey is the publish key every test server accepts. */
export const publishKey = "test-publish-key-0123456789";

/**
 * startWsfan starts a server with the test defaults merged with config
 * (tables merged key by key). Pass listen/admin_listen to reuse the ports
 * of a stopped server.
 */
export async function startWsfan(config = {}) {
  const base = {
    listen: "127.0.0.1:0",
    admin_listen: "127.0.0.1:0",
    publish_keys: [publishKey],
    drain_period: "200ms",
    shutdown_timeout: "2s",
    history: { channels: ["token.>"], size: 1000 },
  };
  const merged = { ...base };
  for (const [k, v] of Object.entries(config)) {
    merged[k] = v && typeof v === "object" && !Array.isArray(v) ? { ...base[k], ...v } : v;
  }
  const srv = await runWsfan(merged);
  return {
    ...srv,
    wsUrl: `ws://${srv.listen}/ws`,
    adminUrl: `http://${srv.adminListen}`,
    publish: publisher(srv.adminListen, publishKey),
  };
}
