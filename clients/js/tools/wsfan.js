// Development helpers shared by the tests and the demo (not part of the
// package): build the wsfan binary of this checkout and run it on a config.

import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** repoRoot is the wsfan checkout this package lives in (clients/js/../..). */
export const repoRoot = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

const scratch = mkdtempSync(join(tmpdir(), "wsfan-js-"));
const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

let binary;

/**
 * wsfanBinary resolves with the path of the server binary: WSFAN_BIN when
 * set, else one built with `go build` from repoRoot on first use.
 */
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
export function toml(config) {
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
 * runWsfan starts the server on config (an object, see toml) and resolves
 * once it logged its ports (`msg="wsfan listening" listen=… admin_listen=…`).
 * The process is killed when this one exits.
 *
 * @returns {Promise<{listen: string, adminListen: string, exited: Promise<number|string>, log: () => string, stop: (signal?: string) => Promise<number|string>}>}
 */
export async function runWsfan(config) {
  const bin = await wsfanBinary();
  const file = join(scratch, `config-${++serial}.toml`);
  writeFileSync(file, toml(config));
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
  return {
    ...ports,
    exited,
    /** log returns the tail of what the server wrote to stderr. */
    log: () => log,
    /** stop signals the server (SIGTERM drains) and resolves with its exit status. */
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * publisher returns a function that POSTs one publication or an array of
 * them to the internal listener and resolves with the answer's body.
 */
export function publisher(adminListen, key) {
  return async (body) => {
    const res = await fetch(`http://${adminListen}/publish`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await res.json();
    if (res.status !== 200) throw new Error(`publish: ${res.status} ${JSON.stringify(answer)}`);
    return answer;
  };
}
