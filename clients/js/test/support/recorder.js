// Recorder collects what a callback receives and lets a test wait, without
// polling, until what arrived satisfies a condition.

export class Recorder {
  /** items: everything pushed, in order. */
  items = [];
  #waiters = new Set();

  /** push records one item; bind it as a callback with rec.fn. */
  push(item) {
    this.items.push(item);
    for (const w of [...this.#waiters]) w.check();
  }

  /** fn is push bound to this recorder, for use as a callback. */
  get fn() {
    return (item) => this.push(item);
  }

  /**
   * until resolves with the items once pred(items) holds (at once if it
   * already does). It rejects after ms, naming what it waited for; the
   * timeout is a failure bound, not a synchronisation.
   */
  until(pred, ms, what) {
    return new Promise((resolve, reject) => {
      const w = {
        check: () => {
          let ok;
          try {
            ok = pred(this.items);
          } catch (err) {
            ok = err;
          }
          if (ok === false || ok === undefined) return;
          clearTimeout(w.timer);
          this.#waiters.delete(w);
          if (ok instanceof Error) reject(ok);
          else resolve(this.items);
        },
      };
      w.timer = setTimeout(() => {
        this.#waiters.delete(w);
        const tail = JSON.stringify(this.items.slice(-5));
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; ${this.items.length} items, last: ${tail}`));
      }, ms);
      this.#waiters.add(w);
      w.check();
    });
  }

  /** count resolves once n items arrived. */
  count(n, ms, what = `${n} items`) {
    return this.until((items) => items.length >= n, ms, what);
  }
}
