// The demo page: a live table of tokens fed by wsfan-client. Messages only
// update a model; one render per animation frame writes the DOM, flashes
// the cells that changed and measures publish-to-screen latency.

import { Client } from "wsfan-client";

const $ = (id) => document.getElementById(id);

/** Columns of a row, in table order, and how each is shown. */
const columns = ["price", "change", "volume", "trade", "bid", "ask", "spread"];
const fmt = {
  price: (v) => num(v),
  change: (v) => {
    const r = Math.round(v * 100) / 100; // no "-0.00%"
    return `${r > 0 ? "+" : ""}${r.toFixed(2)}%`;
  },
  volume: (v) => v.toLocaleString("en-US"),
  trade: (v) => `${v.side} ${num(v.size)} @ ${num(v.price)}`,
  bid: (v) => num(v),
  ask: (v) => num(v),
  spread: (v) => `${v.toFixed(1)} bp`,
};
const num = (v) => (v >= 100 ? v.toFixed(2) : v >= 1 ? v.toFixed(3) : v.toPrecision(4));

/**
 * stats of the last second: messages, latencies, publish times of messages
 * not yet on screen; recovered is client.stats.recovered as last seen.
 */
const stats = { count: 0, latencies: [], pendingT: [], recovered: 0 };
/** rows: symbol → { cells: {column: td}, values: {column: value}, dirty: Set<column> } */
const rows = new Map();
let frameQueued = false;

const symbols = await (await fetch("/tokens.json")).json();
for (const sym of symbols) {
  const tr = document.createElement("tr");
  tr.dataset.sym = sym;
  tr.insertCell().textContent = sym;
  const cells = {};
  for (const c of columns) {
    cells[c] = tr.insertCell();
    cells[c].textContent = "…";
  }
  $("rows").append(tr);
  rows.set(sym, { cells, values: {}, dirty: new Set() });
}

/** set records a new value for a cell; the next frame shows it. */
function set(sym, column, value) {
  const row = rows.get(sym);
  row.values[column] = value;
  row.dirty.add(column);
  if (!frameQueued) {
    frameQueued = true;
    requestAnimationFrame(render);
  }
}

function render() {
  frameQueued = false;
  for (const row of rows.values()) {
    for (const c of row.dirty) {
      const td = row.cells[c];
      const v = row.values[c];
      const before = td.dataset.v === undefined ? undefined : Number(td.dataset.v);
      td.textContent = fmt[c](v);
      if (typeof v === "number") {
        td.dataset.v = v;
        if (before !== undefined && v !== before) {
          const up = v > before;
          if (c === "change") td.className = v >= 0 ? "up" : "down";
          td.animate([{ background: up ? "rgba(63,185,80,.4)" : "rgba(248,81,73,.4)" }, { background: "transparent" }], {
            duration: 400,
          });
        }
      } else if (c === "trade") {
        td.className = v.side === "buy" ? "up" : "down";
      }
    }
    row.dirty.clear();
  }
  // Everything received before this frame is now on screen.
  const now = Date.now();
  for (const t of stats.pendingT) stats.latencies.push(now - t);
  stats.pendingT.length = 0;
}

/**
 * received counts a message. A replay (the client's recovered counter moved
 * for it) measures the outage, not latency, so it is left out of latency.
 */
function received(data) {
  stats.count++;
  const { recovered } = client.stats;
  if (recovered !== stats.recovered) stats.recovered = recovered;
  else if (typeof data.t === "number") stats.pendingT.push(data.t);
}

const client = new Client("/ws");
client.on("state", (state) => {
  $("state").textContent = state;
  $("state").dataset.state = state;
});
client.on("error", (err) => console.warn(`wsfan: ${err.code}: ${err.message}`));

const onGap = (gap) => console.warn(`wsfan: gap on ${gap.channel}: ${gap.from}..${gap.to ?? "?"}`);
for (const sym of symbols) {
  client.subscribe(`token.${sym}.ticker`, {
    onGap,
    onMessage(d) {
      received(d);
      set(sym, "price", d.last);
      set(sym, "change", d.change);
      set(sym, "volume", d.volume);
    },
  });
  client.subscribe(`token.${sym}.trade`, {
    onGap,
    onMessage(d) {
      received(d);
      set(sym, "price", d.price);
      set(sym, "trade", d);
    },
  });
  client.subscribe(`token.${sym}.book`, {
    onGap,
    onMessage(d) {
      received(d);
      const bid = d.bids[0][0];
      const ask = d.asks[0][0];
      set(sym, "bid", bid);
      set(sym, "ask", ask);
      set(sym, "spread", ((ask - bid) / ((ask + bid) / 2)) * 1e4);
    },
  });
}
client.connect();

// Once a second: the rates and latency percentiles of the last second.
// data-tick counts the updates (the browser test waits on it).
let ticks = 0;
setInterval(() => {
  $("rate").dataset.tick = ++ticks;
  const lat = stats.latencies.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  $("rate").textContent = stats.count;
  $("latency").textContent = lat.length ? `${pct(0.5)} / ${pct(0.99)} ms` : "–";
  const { reconnects, recovered, gaps } = client.stats;
  $("reconnects").textContent = reconnects;
  $("recovered").textContent = recovered;
  $("gaps").textContent = gaps;
  stats.count = 0;
  stats.latencies = [];
}, 1000);

$("drop").addEventListener("click", () => fetch("/drop", { method: "POST" }));
