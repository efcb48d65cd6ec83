// The demo's server: it starts wsfan and the synthetic feed, serves the
// page and the client's ESM files, and forwards /ws to wsfan through a
// connection it can drop on request (POST /drop), to show recovery.

import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { connect } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { publisher, runWsfan } from "../tools/wsfan.js";
import { startFeed, tokens } from "./feed.js";

const here = fileURLToPath(new URL(".", import.meta.url));
/** Static roots: URL prefix → directory. */
const roots = [
  ["/wsfan-client/", join(here, "..", "src")],
  ["/", join(here, "public")],
];
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css" };

/** How long POST /drop keeps the connection down unless ?ms= says otherwise. */
const defaultDropMs = 2000;

/**
 * startDemo starts wsfan, the feed and the page's server on host:port
 * (port 0: any free port). It resolves with { url, wsfan, stop() }.
 */
export async function startDemo({ host = "127.0.0.1", port = 8000 } = {}) {
  const key = randomBytes(16).toString("hex");
  const wsfan = await runWsfan({
    listen: "127.0.0.1:0",
    admin_listen: "127.0.0.1:0",
    publish_keys: [key],
    drain_period: "200ms",
    shutdown_timeout: "2s",
    history: { channels: ["token.>"], size: 200 },
  });
  const feed = startFeed(publisher(wsfan.adminListen, key));
  const [wsHost, wsPort] = [wsfan.listen.slice(0, wsfan.listen.lastIndexOf(":")), Number(wsfan.listen.split(":").pop())];

  const pairs = new Set();
  let droppedUntil = 0;

  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://demo").pathname;
    if (req.method === "POST" && path === "/drop") {
      const ms = Number(new URL(req.url, "http://demo").searchParams.get("ms") ?? defaultDropMs);
      droppedUntil = Date.now() + ms;
      for (const p of pairs) p.destroy();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ dropped_ms: ms }));
      return;
    }
    if (path === "/tokens.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Object.keys(tokens)));
      return;
    }
    const file = staticFile(path === "/" ? "/index.html" : path);
    const body = file && (await readFile(file).catch(() => null));
    if (!body) return res.writeHead(404).end("not found");
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }).end(body);
  });

  // /ws: the upgrade request goes to wsfan as it came, then bytes flow
  // both ways untouched. While dropped, upgrades are refused.
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url, "http://demo").pathname !== "/ws" || Date.now() < droppedUntil) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const upstream = connect(wsPort, wsHost);
    const pair = {
      destroy() {
        socket.destroy();
        upstream.destroy();
        pairs.delete(pair);
      },
    };
    pairs.add(pair);
    let request = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) request += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    upstream.write(request + "\r\n");
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream).pipe(socket);
    for (const s of [socket, upstream]) {
      s.on("error", () => pair.destroy());
      s.on("close", () => pair.destroy());
    }
  });

  await new Promise((ok, fail) => server.once("error", fail).listen(port, host, ok));
  const addr = server.address();
  return {
    url: `http://${addr.address}:${addr.port}/`,
    wsfan,
    async stop() {
      for (const p of pairs) p.destroy();
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
      await feed.stop();
      await wsfan.stop();
    },
  };
}

/** staticFile maps a URL path to a file under one of the roots, or null. */
function staticFile(path) {
  for (const [prefix, dir] of roots) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, decodeURIComponent(path.slice(prefix.length))));
    return file.startsWith(dir + sep) ? file : null;
  }
  return null;
}
