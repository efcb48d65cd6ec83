// Starting the real wsfan binary for the tests: built once per test
// process from the repository (or taken from WSFAN_BIN), one process per
// server, its ports read from its start-up log line.

import { spawn, execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** repoRoot is the wsfan checkout this package lives in (clients/js/../..). */
export const repoRoot = resolve(fileURLToPath(new URL("../../../..", import.meta.url)));

/** publishKey is the publish key every test server accepts. */
export const publishKey = "test-publish-key-0123456789";

const scratch = mkdtempSync(join(tmpdir(), "wsfan-js-"));
const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

let binary;

/** wsfanBinary resolves with the path of the server binary, building it on first use. */
export function wsfanBinary() {
  binary ??= process.env.WSFAN_BIN
    ? Promise.resolve(resolve(process.env.WSFAN_BIN))
    : new Promise((ok, fail) => {
        const out = join(scratch, "wsfan");
        execFile("go", ["build", "-o", out, "."], { cwd: repoRoot }, (err, _stdout, stderr) =>
          err ? fail(new Error(`go build failed: ${stderr || err.message}`)) : ok(out),
        );
      });
  return binary;
}

/**
 * toml renders a config object: top-level scalars and arrays first, then
 * one [table] per nested object. Enough for wsfan's config.
 */
function toml(config) {
  const value = (v) => (Array.isArray(v) ? `[${v.map(value).join(", ")}]` : JSON.stringify(v));
  const lines = [];
  const tables = [];
  for (const [k, v] of Object.entries(config)) {
    if (v && typeof v === "object" && !Array.isArray(v)) tables.push([k, v]);
    else lines.push(`${k} = ${value(v)}`);
  }
  for (const [name, t] of tables) {
    lines.push(`[${name}]`);
    for (const [k, v] of Object.entries(t)) lines.push(`${k} = ${value(v)}`);
  }
  return lines.join("\n") + "\n";
}

let serial = 0;

/**
 * startWsfan starts a server with the test defaults merged with config
 * (tables merged key by key). Pass listen/admin_listen to reuse the ports
 * of a stopped server. It resolves once the server logged its ports.
 */
export async function startWsfan(config = {}) {
  const bin = await wsfanBinary();
  const base = {
    listen: "127.0.0.1:0",
    admin_listen: "127.0.0.1:0",
    publish_keys: [publishKey],
    drain_period: "200ms",
    shutdown_timeout: "2s",
    log_level: "info",
    history: { channels: ["token.>"], size: 1000 },
  };
  const merged = { ...base };
  for (const [k, v] of Object.entries(config)) {
    merged[k] = v && typeof v === "object" && !Array.isArray(v) ? { ...base[k], ...v } : v;
  }
  const file = join(scratch, `config-${++serial}.toml`);
  writeFileSync(file, toml(merged));
  const child = spawn(bin, ["-config", file], { stdio: ["ignore", "ignore", "pipe"] });
  children.add(child);
  const exited = new Promise((ok) =>
    child.on("exit", (code, signal) => {
      children.delete(child);
      ok(code ?? signal);
    }),
  );
  let log = "";
  const ports = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`wsfan did not start within 10 s:\n${log}`)), 10000);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      log = (log + chunk).slice(-20000);
      const m = /msg="wsfan listening" listen=(\S+) admin_listen=(\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        ok({ listen: m[1], adminListen: m[2] });
      }
    });
    exited.then((status) => {
      clearTimeout(timer);
      fail(new Error(`wsfan exited (${status}) before listening:\n${log}`));
    });
  });
  const adminUrl = `http://${ports.adminListen}`;
  return {
    ...ports,
    wsUrl: `ws://${ports.listen}/ws`,
    adminUrl,
    exited,
    /** log returns what the server wrote to stderr (its tail). */
    log: () => log,
    /** publish posts one publication or an array of them and resolves with the answer's body. */
    async publish(body) {
      const res = await fetch(`${adminUrl}/publish`, {
        method: "POST",
        headers: { authorization: `Bearer ${publishKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await res.json();
      if (res.status !== 200) throw new Error(`publish: ${res.status} ${JSON.stringify(answer)}`);
      return answer;
    },
    /** stop signals the server (SIGTERM drains) and resolves with its exit status. */
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
