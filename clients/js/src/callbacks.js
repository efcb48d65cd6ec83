/**
 * call runs an application callback. An exception it throws must not
 * unwind the client's own bookkeeping (a half-processed frame would lose
 * or repeat messages), so it is caught here and rethrown from a fresh task:
 * the host reports it as an uncaught error (the browser's console, Node's
 * 'uncaughtException') exactly as if the application had thrown it from
 * its own event handler, and the client carries on.
 *
 * @param {Function | undefined} fn
 * @param {...unknown} args
 */
export function call(fn, ...args) {
  if (typeof fn !== "function") return;
  try {
    fn(...args);
  } catch (err) {
    setTimeout(() => {
      throw err;
    }, 0);
  }
}

/**
 * Emitter is a minimal event emitter: listeners run in the order they were
 * added, each through call(). Listeners added or removed during an emit take
 * effect from the next one.
 */
export class Emitter {
  /** @type {Map<string, Set<Function>>} */
  #listeners = new Map();

  /**
   * on adds fn for event and returns a function that removes it.
   * @param {string} event
   * @param {Function} fn
   * @returns {() => void}
   */
  on(event, fn) {
    if (typeof fn !== "function") throw new TypeError("wsfan: listener must be a function");
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  /**
   * off removes fn from event; removing one not added does nothing.
   * @param {string} event
   * @param {Function} fn
   */
  off(event, fn) {
    this.#listeners.get(event)?.delete(fn);
  }

  /**
   * emit calls every listener of event with args.
   * @param {string} event
   * @param {...unknown} args
   */
  emit(event, ...args) {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) call(fn, ...args);
  }
}
