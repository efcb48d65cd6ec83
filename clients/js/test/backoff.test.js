// reconnectDelay: full jitter between minReconnectDelay and a ceiling that
// grows exponentially and is bounded by the outage so far.

import assert from "node:assert/strict";
import { test } from "node:test";
import { reconnectDelay } from "../src/backoff.js";

const min = 500;
const max = 20000;

test("each delay lies in [min, ceiling]: random 0 gives min, random → 1 the ceiling", () => {
  const f = (attempt, outage, wantCeiling) => {
    const lo = reconnectDelay({ attempt, outage, min, max, random: () => 0 });
    const hi = reconnectDelay({ attempt, outage, min, max, random: () => 1 });
    assert.equal(lo, min, `attempt ${attempt}, outage ${outage}: floor`);
    assert.equal(hi, wantCeiling, `attempt ${attempt}, outage ${outage}: ceiling`);
  };
  f(0, 0, 1000); // first retry: [min, 2·min], jittered
  f(1, 60000, 2000); // exponential in the attempt...
  f(2, 60000, 4000);
  f(5, 60000, 20000); // ...up to max
  f(40, 60000, 20000); // 2^41 is no problem
  f(5, 2000, 2000); // bounded by the time already spent away
  f(5, 100, 1000); // but never below 2·min
});

test("random draws stay between the two delays", () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let attempt = 0; attempt < 30; attempt++) {
    for (const outage of [0, 700, 3000, 100000]) {
      const d = reconnectDelay({ attempt, outage, min, max, random });
      assert.ok(d >= min && d <= max, `attempt ${attempt} outage ${outage}: ${d}`);
    }
  }
});

test("min == max gives a constant delay", () => {
  assert.equal(reconnectDelay({ attempt: 3, outage: 9000, min: 250, max: 250, random: () => 0.7 }), 250);
});
