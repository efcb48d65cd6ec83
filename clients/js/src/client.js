// Client: one WebSocket to wsfan, kept up across failures, carrying every
// live subscription from one connection to the next.

import { reconnectDelay } from "./backoff.js";
import { Emitter } from "./callbacks.js";
import { closePolicy, Connection, OPEN } from "./connection.js";
import { Codes, WsfanError } from "./errors.js";
import { parseFrame, splitCommands } from "./protocol.js";
import { Subscription, Tracker } from "./subscription.js";

/** Defaults of the options; see README.md for each. */
const defaults = Object.freeze({
  minReconnectDelay: 500,
  maxReconnectDelay: 20000,
  heartbeatInterval: 10000,
  heartbeatTimeout: 5000,
  resetBackoffAfter: 5000,
  maxCommandBytes: 4096,
  rateLimitRetryDelay: 1000,
});

/** now is a monotonic clock in ms. */
const now = () => globalThis.performance.now();

/**
 * Client keeps one WebSocket to a wsfan server open and its subscriptions
 * alive: it reconnects with backoff, re-subscribes with `since` to recover
 * what it missed, delivers each message once and in order, and reports
 * every gap it could not fill. All methods must be called from one thread
 * (the page, or Node's main thread); callbacks run on it.
 */
export class Client {
  #url;
  #opts;
  #WebSocket;
  #events = new Emitter();
  /** @type {Map<string, Tracker>} every live subscription, by name */
  #trackers = new Map();
  /** @type {Set<Tracker>} the live subscriptions that are patterns; a subset of #trackers */
  #patterns = new Set();
  /** @type {Connection | null} */
  #conn = null;
  #state = "disconnected";
  /** wanted: connect() was called and close() was not. */
  #wanted = false;
  /** generation: bumped by close(); an async connect step of an older one stops. */
  #generation = 0;
  #retryTimer = null;
  /** attempt: reconnects made in the current outage. */
  #attempt = 0;
  /** outageStart: performance.now() when the current outage began. */
  #outageStart = 0;
  #nextId = 0;
  /** stats: see the stats getter; Trackers count recovered and gaps. */
  #stats = { reconnects: 0, recovered: 0, gaps: 0 };
  #everOpened = false;
  /** Channels to subscribe / unsubscribe at the end of this tick. */
  #toSubscribe = new Set();
  #toUnsubscribe = new Set();
  #flushQueued = false;
  #onOnline = () => this.#online();

  /**
   * @param {string} url ws:// or wss:// URL of the server's /ws (in a browser
   *   it may be relative to the page, and http(s):// is taken as ws(s)://)
   * @param {object} [options] see README.md
   */
  constructor(url, options = {}) {
    if (typeof url !== "string") throw new TypeError("wsfan: url must be a string");
    const opts = { ...defaults, random: Math.random, ...options };
    for (const key of Object.keys(defaults)) {
      if (typeof opts[key] !== "number" || !(opts[key] >= 0)) {
        throw new TypeError(`wsfan: option ${key} must be a number >= 0`);
      }
    }
    if (opts.heartbeatInterval > 0 && opts.heartbeatTimeout === 0) {
      throw new RangeError("wsfan: heartbeatTimeout must be > 0 while heartbeats are on");
    }
    if (opts.maxReconnectDelay < opts.minReconnectDelay) {
      throw new RangeError("wsfan: maxReconnectDelay must be >= minReconnectDelay");
    }
    this.#WebSocket = opts.WebSocket ?? globalThis.WebSocket;
    if (typeof this.#WebSocket !== "function") {
      throw new TypeError("wsfan: no WebSocket constructor; pass options.WebSocket (in Node: the ws package's)");
    }
    this.#url = url;
    this.#opts = opts;
  }

  /**
   * stats returns counters since the client was made: reconnects
   * (connections opened after the first), recovered (messages delivered
   * from a recovery's replay) and gaps (onGap calls).
   * @returns {{reconnects: number, recovered: number, gaps: number}}
   */
  get stats() {
    return { ...this.#stats };
  }

  /** state is "disconnected", "connecting", "connected" or "closed". */
  get state() {
    return this.#state;
  }

  /**
   * on adds a listener: "state" (state, detail) or "error" (err). It
   * returns a function that removes the listener.
   */
  on(event, fn) {
    return this.#events.on(event, fn);
  }

  /** off removes a listener added with on(). */
  off(event, fn) {
    this.#events.off(event, fn);
  }

  /**
   * connect opens the connection and keeps it open until close(). Calling
   * it while connecting or connected does nothing. It returns the client.
   */
  connect() {
    if (this.#wanted) return this;
    this.#wanted = true;
    this.#attempt = 0;
    this.#outageStart = now();
    globalThis.addEventListener?.("online", this.#onOnline);
    this.#open();
    return this;
  }

  /**
   * close closes the connection and stops every timer; nothing reconnects.
   * Subscriptions stay registered: a later connect() re-subscribes them.
   */
  close() {
    this.#wanted = false;
    this.#generation++;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    globalThis.removeEventListener?.("online", this.#onOnline);
    const conn = this.#conn;
    if (conn) {
      this.#teardown(conn);
      try {
        conn.ws.close(1000, "client closed");
      } catch {
        // already closing
      }
    }
    this.#setState("closed");
  }

  /**
   * subscribe subscribes to a channel or pattern. Subscribes made in the
   * same tick go out as one command. It throws ALREADY_SUBSCRIBED when the
   * channel already has a live subscription.
   *
   * @param {string} channel
   * @param {object} [handlers] onMessage(data, meta), onGap(gap), onSubscribed(info), onError(err)
   * @returns {Subscription}
   */
  subscribe(channel, handlers = {}) {
    if (typeof channel !== "string" || channel === "") {
      throw new TypeError("wsfan: channel must be a non-empty string");
    }
    if (this.#trackers.has(channel)) {
      throw new WsfanError(Codes.ALREADY_SUBSCRIBED, `wsfan: ${channel} already has a live subscription`, {
        channel,
      });
    }
    const tracker = new Tracker(channel, handlers, this.#stats);
    this.#trackers.set(channel, tracker);
    if (tracker.pattern) this.#patterns.add(tracker);
    this.#toSubscribe.add(channel);
    this.#scheduleFlush();
    return new Subscription(tracker, () => this.#unsubscribe(tracker));
  }

  #unsubscribe(tracker) {
    if (!tracker.active) return;
    tracker.active = false;
    this.#forget(tracker);
    if (this.#toSubscribe.delete(tracker.channel)) return; // never sent
    if (tracker.conn && tracker.conn === this.#conn) {
      this.#toUnsubscribe.add(tracker.channel);
      this.#scheduleFlush();
    }
  }

  /** forget removes a tracker that is no longer live. */
  #forget(tracker) {
    this.#trackers.delete(tracker.channel);
    this.#patterns.delete(tracker);
  }

  #scheduleFlush() {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  /** flush sends this tick's unsubscribes, then its subscribes. */
  #flush() {
    const conn = this.#conn;
    if (!conn || conn.openedAt === null) {
      // Not open: the open re-subscribes every live subscription.
      this.#toSubscribe.clear();
      this.#toUnsubscribe.clear();
      return;
    }
    if (this.#toUnsubscribe.size > 0) {
      const channels = [...this.#toUnsubscribe];
      this.#toUnsubscribe.clear();
      for (const cmd of this.#split("unsubscribe", channels, {}).commands) this.#send(conn, cmd.text);
    }
    if (this.#toSubscribe.size > 0) {
      const trackers = [...this.#toSubscribe].map((ch) => this.#trackers.get(ch));
      this.#toSubscribe.clear();
      this.#sendSubscribe(conn, trackers);
    }
  }

  #split(type, channels, since) {
    return splitCommands(type, channels, since, this.#opts.maxCommandBytes, () => String(++this.#nextId));
  }

  /**
   * sendSubscribe subscribes trackers on conn, in as few commands as fit
   * maxCommandBytes (one, unless the server's frame limit forbids), with
   * since for those that have a position. A command with more than one
   * since gets a heartbeat behind it as a fence: its ack's recovered flag
   * covers the whole command, and the answer to the heartbeat comes after
   * every replay, so it tells which recoveries did not happen.
   */
  #sendSubscribe(conn, trackers) {
    const since = {};
    for (const t of trackers) {
      const pos = t.since();
      if (pos) since[t.channel] = pos;
    }
    const { commands, tooLong } = this.#split(
      "subscribe",
      trackers.map((t) => t.channel),
      since,
    );
    let ambiguous = false;
    for (const cmd of commands) {
      const entry = { trackers: new Map(), since: cmd.since, sinceCount: Object.keys(cmd.since).length };
      for (const ch of cmd.channels) {
        const t = this.#trackers.get(ch);
        t.conn = conn;
        entry.trackers.set(ch, t);
      }
      ambiguous ||= entry.sinceCount > 1;
      conn.pending.set(cmd.id, entry);
      this.#send(conn, cmd.text);
    }
    if (ambiguous) {
      this.#sendHeartbeat(conn);
      conn.fenceAt = conn.heartbeats;
    }
    for (const ch of tooLong) {
      const t = this.#trackers.get(ch);
      this.#forget(t);
      t.reject(
        new WsfanError(Codes.INVALID_CHANNEL, `wsfan: ${ch} does not fit in a command of maxCommandBytes`, {
          channel: ch,
        }),
      );
    }
  }

  #send(conn, text) {
    if (conn.ws.readyState !== OPEN) return;
    try {
      conn.ws.send(text);
    } catch (err) {
      // The socket is failing; its close event follows.
      this.#error(new WsfanError(Codes.CONNECT_ERROR, "wsfan: send failed", { cause: err }));
    }
  }

  #sendHeartbeat(conn) {
    conn.heartbeats++;
    this.#send(conn, JSON.stringify({ type: "heartbeat", id: `hb-${++this.#nextId}` }));
  }

  #setState(state, detail) {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit("state", state, detail);
  }

  #error(err) {
    this.#events.emit("error", err);
  }

  /** open makes one connection attempt: token, socket, handlers. */
  async #open() {
    const generation = this.#generation;
    this.#setState("connecting");
    let token;
    try {
      token = typeof this.#opts.token === "function" ? await this.#opts.token() : this.#opts.token;
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#error(new WsfanError(Codes.TOKEN_ERROR, "wsfan: the token function failed", { cause: err }));
      return this.#retry({});
    }
    if (generation !== this.#generation) return;
    let ws;
    try {
      ws = new this.#WebSocket(this.#connectUrl(token));
    } catch (err) {
      this.#error(new WsfanError(Codes.CONNECT_ERROR, "wsfan: cannot create the WebSocket", { cause: err }));
      return this.#retry({});
    }
    const conn = new Connection(ws);
    this.#conn = conn;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => this.#opened(conn);
    ws.onmessage = (ev) => this.#received(conn, ev.data);
    ws.onclose = (ev) => this.#closed(conn, ev.code, ev.reason);
    // Browsers give no detail on errors; the close event that follows
    // carries what there is. Node's ws needs a listener or it throws.
    ws.onerror = () => {};
    if (this.#opts.heartbeatInterval > 0) {
      conn.timer = setTimeout(
        () => this.#livenessFailed(conn, "connect timeout"),
        this.#opts.heartbeatInterval + this.#opts.heartbeatTimeout,
      );
    }
  }

  #connectUrl(token) {
    const url = new URL(this.#url, globalThis.location?.href);
    if (url.protocol === "http:") url.protocol = "ws:";
    if (url.protocol === "https:") url.protocol = "wss:";
    if (token) url.searchParams.set("token", token);
    return url.href;
  }

  #opened(conn) {
    if (conn !== this.#conn) return;
    clearTimeout(conn.timer);
    conn.openedAt = conn.lastFrameAt = now();
    if (this.#everOpened) this.#stats.reconnects++;
    this.#everOpened = true;
    this.#setState("connected");
    // Every live subscription, in one command, with since where known.
    const trackers = [...this.#trackers.values()];
    this.#toSubscribe.clear();
    this.#toUnsubscribe.clear();
    if (trackers.length > 0) this.#sendSubscribe(conn, trackers);
    this.#armLiveness(conn, this.#opts.heartbeatInterval);
  }

  /**
   * armLiveness schedules the liveness check: after heartbeatInterval of
   * silence a heartbeat goes out; heartbeatTimeout later, if still nothing
   * arrived, the connection is given up. One timer per connection, moved
   * forward lazily rather than reset on every frame.
   */
  #armLiveness(conn, delay) {
    if (this.#opts.heartbeatInterval === 0) return;
    conn.timer = setTimeout(() => this.#checkLiveness(conn), delay);
  }

  #checkLiveness(conn) {
    if (conn !== this.#conn) return;
    const { heartbeatInterval, heartbeatTimeout } = this.#opts;
    if (conn.framesAtHeartbeat !== null) {
      if (conn.frames === conn.framesAtHeartbeat) {
        return this.#livenessFailed(conn, "heartbeat timeout");
      }
      conn.framesAtHeartbeat = null;
    }
    const idle = now() - conn.lastFrameAt;
    if (idle < heartbeatInterval) return this.#armLiveness(conn, heartbeatInterval - idle);
    conn.framesAtHeartbeat = conn.frames;
    this.#sendHeartbeat(conn);
    this.#armLiveness(conn, heartbeatTimeout);
  }

  /** livenessFailed gives conn up: reason is "heartbeat timeout" or "connect timeout". */
  #livenessFailed(conn, reason) {
    if (conn !== this.#conn) return;
    this.#error(new WsfanError(Codes.HEARTBEAT_TIMEOUT, `wsfan: ${reason}: no frame in time`));
    this.#teardown(conn);
    // Node's ws can drop the TCP connection at once; a browser's close()
    // may wait for a close handshake the dead network never completes.
    try {
      if (typeof conn.ws.terminate === "function") conn.ws.terminate();
      else conn.ws.close(4000, "heartbeat timeout");
    } catch {
      // already closed
    }
    this.#lost(conn, { code: 4000, reason }, {});
  }

  /** teardown detaches conn from the client: no handler of it acts any more. */
  #teardown(conn) {
    clearTimeout(conn.timer);
    clearTimeout(conn.resendTimer);
    conn.ws.onopen = conn.ws.onmessage = conn.ws.onclose = null;
    if (this.#conn === conn) this.#conn = null;
    for (const t of this.#trackers.values()) t.lost();
  }

  #closed(conn, code, reason) {
    if (conn !== this.#conn) return;
    this.#teardown(conn);
    const policy = closePolicy(code, reason);
    if (policy.error) {
      this.#error(new WsfanError(policy.error, `wsfan: the server closed the connection: ${code} ${reason}`, {
        closeCode: code,
        reason,
      }));
    }
    this.#lost(conn, { code, reason }, policy);
  }

  /** lost moves to "disconnected" and schedules the next attempt. */
  #lost(conn, detail, policy) {
    const t = now();
    if (conn.openedAt !== null && t - conn.openedAt >= this.#opts.resetBackoffAfter && !policy.noReset) {
      // The connection stayed up: this is a new outage.
      this.#attempt = 0;
      this.#outageStart = t;
    }
    this.#setState("disconnected", detail);
    this.#retry(policy);
  }

  #retry(policy) {
    if (!this.#wanted) return;
    const delay =
      policy.immediate && this.#attempt === 0
        ? 0
        : reconnectDelay({
            attempt: this.#attempt,
            outage: now() - this.#outageStart,
            min: this.#opts.minReconnectDelay,
            max: this.#opts.maxReconnectDelay,
            random: this.#opts.random,
          });
    this.#attempt++;
    this.#setState("disconnected");
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#open();
    }, delay);
  }

  /** online: the browser regained the network; retry now instead of waiting. */
  #online() {
    if (this.#retryTimer === null) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#open();
  }

  #received(conn, data) {
    if (conn !== this.#conn) return;
    conn.lastFrameAt = now();
    conn.frames++;
    let frame;
    try {
      frame = parseFrame(data);
    } catch (err) {
      return this.#error(err);
    }
    switch (frame.type) {
      case "message":
        return this.#message(frame);
      case "subscription_ack":
        return this.#subscriptionAck(conn, frame);
      case "pong":
        return this.#answered(conn);
      case "error":
        return this.#serverError(conn, frame);
      // unsubscription_ack: nothing to do, delivery stopped at unsubscribe().
    }
  }

  #message(frame) {
    const exact = this.#trackers.get(frame.channel);
    if (exact && !exact.pattern) exact.message(frame);
    for (const t of this.#patterns) {
      if (t.matches(frame.channel)) t.message(frame);
    }
  }

  #subscriptionAck(conn, ack) {
    const entry = conn.pending.get(ack.id);
    if (!entry) return;
    conn.pending.delete(ack.id);
    const positions = new Map((ack.positions ?? []).map((p) => [p.channel, p]));
    const live = (ch) => {
      const t = entry.trackers.get(ch);
      return t && t.active && this.#trackers.get(ch) === t ? t : undefined;
    };
    for (const r of ack.rejected ?? []) {
      const t = live(r.channel);
      if (!t) continue;
      this.#forget(t);
      t.reject(new WsfanError(r.code, r.message ?? r.code, { channel: r.channel }));
    }
    for (const ch of ack.subscribed) {
      live(ch)?.ack(positions.get(ch), entry.since[ch], ack.recovered, entry.sinceCount);
    }
  }

  /** answered counts an answer to a heartbeat and runs a fence that is due. */
  #answered(conn) {
    conn.answered++;
    if (conn.fenceAt === 0 || conn.answered < conn.fenceAt) return;
    conn.fenceAt = 0;
    for (const t of this.#trackers.values()) t.fence();
  }

  #serverError(conn, frame) {
    const err = new WsfanError(frame.code, frame.message ?? frame.code, { id: frame.id });
    if (typeof frame.id === "string" && frame.id.startsWith("hb-")) {
      // A heartbeat refused (RATE_LIMITED) is still answered, in order.
      this.#answered(conn);
      return this.#error(err);
    }
    const entry = frame.id !== undefined ? conn.pending.get(frame.id) : undefined;
    if (!entry) return this.#error(err);
    conn.pending.delete(frame.id);
    const trackers = [...entry.trackers.values()].filter((t) => t.active && this.#trackers.get(t.channel) === t);
    if (frame.code === Codes.RATE_LIMITED) {
      // The command was not executed: send it again once the server's
      // command bucket has refilled a little.
      this.#error(err);
      for (const t of trackers) conn.resend.add(t);
      conn.resendTimer ??= setTimeout(() => {
        conn.resendTimer = null;
        const again = [...conn.resend].filter((t) => t.active && this.#trackers.get(t.channel) === t);
        conn.resend.clear();
        if (again.length > 0) this.#sendSubscribe(conn, again);
      }, this.#opts.rateLimitRetryDelay);
      return;
    }
    for (const t of trackers) {
      this.#forget(t);
      t.reject(new WsfanError(frame.code, frame.message ?? frame.code, { channel: t.channel }));
    }
  }
}
