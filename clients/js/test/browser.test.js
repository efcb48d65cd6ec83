// The demo page in headless Chromium (Debian's, driven by playwright-core;
// never a downloaded browser): live data, the drop button, recovery, and
// a screenshot (to $WSFAN_SCREENSHOT when set: make demo-screenshot).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { startDemo } from "../demo/server.js";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const screenshot = process.env.WSFAN_SCREENSHOT ? resolve(process.env.WSFAN_SCREENSHOT) : join(tmpdir(), "wsfan-demo.png");

test(
  "demo page: live rows, connected, msgs/s > 0; the drop button → reconnected and recovered, no gap",
  { skip: !existsSync(executablePath) && `no Chromium at ${executablePath} (apt-get install chromium)` },
  async (t) => {
    const demo = await startDemo({ port: 0 });
    t.after(() => demo.stop());
    const browser = await chromium.launch({ executablePath, args });
    t.after(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 700 } });
    const problems = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => msg.text().includes("gap on") && problems.push(msg.text()));
    await page.goto(demo.url);

    const wait = (fn, arg, what, timeout = 10000) =>
      page.waitForFunction(fn, arg, { timeout }).catch((err) => {
        throw new Error(`waiting for ${what}: ${err.message}\n${problems.join("\n")}`);
      });
    const text = (sel) => page.locator(sel).textContent();

    await wait(() => document.getElementById("state").dataset.state === "connected", null, "connected");
    await wait(
      () => [...document.querySelectorAll("#rows td")].every((td) => td.textContent !== "…"),
      null,
      "every cell filled",
    );
    assert.equal(await page.locator("#rows tr").count(), 20);
    const btc = await text('tr[data-sym="BTC"] td:nth-child(2)');
    await wait(
      (before) => document.querySelector('tr[data-sym="BTC"] td:nth-child(2)').textContent !== before,
      btc,
      "the BTC price to move",
    );
    await wait(() => Number(document.getElementById("rate").textContent) > 0, null, "msgs/s > 0");

    await page.click("#drop");
    await wait(() => document.getElementById("state").dataset.state !== "connected", null, "the drop noticed");
    await wait(
      () =>
        document.getElementById("state").dataset.state === "connected" &&
        Number(document.getElementById("reconnects").textContent) >= 1 &&
        Number(document.getElementById("recovered").textContent) > 0,
      null,
      "reconnected and recovered",
    );
    // Two more stats updates: the figures then show live traffic, not the replay burst.
    const tick = Number(await page.locator("#rate").getAttribute("data-tick"));
    await wait((t) => Number(document.getElementById("rate").dataset.tick) >= t + 2, tick, "two stats updates");
    assert.match(await text("#latency"), /^\d+ \/ \d+ ms$/);
    assert.ok(Number(await text("#rate")) > 0, "msgs/s > 0 after the recovery");
    assert.equal(await text("#gaps"), "0");
    assert.deepEqual(problems, []);
    t.diagnostic(
      `msgs/s ${await text("#rate")}, latency p50/p99 ${await text("#latency")}, recovered ${await text("#recovered")}`,
    );
    await page.screenshot({ path: screenshot });
    t.diagnostic(`screenshot: ${screenshot}`);
  },
);
