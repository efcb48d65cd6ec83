// A synthetic market feed: random-walk prices for 20 tokens, published to
// wsfan's POST /publish as trades, a ticker and a small order book.

/** tokens are the demo's symbols with a starting price. */
export const tokens = {
  BTC: 43250, ETH: 2280, SOL: 61.5, BNB: 228, XRP: 0.62, ADA: 0.38, DOGE: 0.081, AVAX: 22.4, DOT: 5.3, LINK: 14.2,
  MATIC: 0.79, TRX: 0.104, LTC: 71.8, ATOM: 9.6, UNI: 6.1, XLM: 0.12, NEAR: 2.05, APT: 7.4, ARB: 1.12, OP: 1.94,
};

/** Every tick publishes one batch. */
const tickMs = 100;
/** Chance that a token trades in a tick. */
const tradeChance = 0.5;
/** The book goes out every bookEvery ticks, the ticker every tickerEvery. */
const bookEvery = 2;
const tickerEvery = 5;
/** Levels per side of the book. */
const bookDepth = 5;

const round = (x) => Number(x.toPrecision(6));

/**
 * startFeed publishes with publish(batch) every tick until stop() is
 * called. Every publication's data carries t, the Unix ms at which it was
 * published, so a page can show publish-to-screen latency.
 *
 * @param {(batch: object[]) => Promise<unknown>} publish
 * @returns {{stop: () => Promise<void>}}
 */
export function startFeed(publish) {
  const state = Object.fromEntries(
    Object.entries(tokens).map(([sym, price]) => [sym, { price, open: price, volume: 0 }]),
  );
  let tick = 0;
  let running = true;
  const batch = () => {
    const t = Date.now();
    const out = [];
    for (const [sym, s] of Object.entries(state)) {
      // A geometric random walk: about 0.1% per tick.
      s.price = round(s.price * Math.exp((Math.random() - 0.5) * 0.002));
      if (Math.random() < tradeChance) {
        const size = round(Math.random() * (1000 / s.price) + 0.001);
        s.volume += size * s.price;
        out.push({
          channel: `token.${sym}.trade`,
          data: { price: s.price, size, side: Math.random() < 0.5 ? "buy" : "sell", t },
        });
      }
      if (tick % tickerEvery === 0) {
        out.push({
          channel: `token.${sym}.ticker`,
          data: { last: s.price, change: round((s.price / s.open - 1) * 100), volume: Math.round(s.volume), t },
        });
      }
      if (tick % bookEvery === 0) {
        // The half-spread wanders between 2 and 8 basis points.
        const half = 0.0002 + Math.random() * 0.0006;
        const level = (i, sign) => [round(s.price * (1 + sign * (half + 0.0003 * i))), round(Math.random() * (500 / s.price))];
        out.push({
          channel: `token.${sym}.book`,
          data: {
            bids: Array.from({ length: bookDepth }, (_, i) => level(i, -1)),
            asks: Array.from({ length: bookDepth }, (_, i) => level(i, +1)),
            t,
          },
        });
      }
    }
    tick++;
    return out;
  };
  // One request at a time: a slow server slows the feed down rather than
  // piling requests up.
  const done = (async () => {
    while (running) {
      const started = Date.now();
      await publish(batch()).catch((err) => console.error(`feed: ${err.message}`));
      await new Promise((ok) => setTimeout(ok, Math.max(0, tickMs - (Date.now() - started))));
    }
  })();
  return {
    stop() {
      running = false;
      return done;
    },
  };
}
