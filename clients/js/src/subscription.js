// One subscription: its handlers, and for every concrete channel it
// receives, the position that makes delivery ordered, duplicate-free and
// gap-reporting across reconnects.

import { call } from "./callbacks.js";

/**
 * Subscription is what Client.subscribe returns. It stays valid across
 * reconnects: the client re-subscribes it on every new connection until
 * unsubscribe() is called or the server rejects the channel.
 */
export class Subscription {
  #tracker;
  #unsubscribe;

  /** @internal */
  constructor(tracker, unsubscribe) {
    this.#tracker = tracker;
    this.#unsubscribe = unsubscribe;
  }

  /** channel is the name or pattern given to subscribe(). */
  get channel() {
    return this.#tracker.channel;
  }

  /** active is true until unsubscribe() or a rejection by the server. */
  get active() {
    return this.#tracker.active;
  }

  /** unsubscribe stops delivery at once and tells the server; calling it again does nothing. */
  unsubscribe() {
    this.#unsubscribe();
  }
}

/** isPattern reports whether a subscription name holds a wildcard token. */
export function isPattern(name) {
  return name.split(".").some((t) => t === "*" || t === ">");
}

/**
 * patternMatch reports whether a concrete channel matches a pattern with
 * NATS subject semantics: '*' matches one token, a final '>' one or more.
 */
export function patternMatch(pattern, channel) {
  const p = pattern.split(".");
  const c = channel.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">" && i === p.length - 1) return c.length > i;
    if (i >= c.length || (p[i] !== "*" && p[i] !== c[i])) return false;
  }
  return p.length === c.length;
}

/** LIVE marks a stream resumed without history: its first message decides. */
const LIVE = "live";

/**
 * Stream is the delivery position of one concrete channel.
 * Invariants: seq is the last seq delivered, or the position an ack gave
 * (null before either); epoch is the history epoch seq belongs to (null
 * when the channel keeps no history); messages with seq <= replayTo were
 * replayed by a recovery; resume, when set, is how the first message after
 * a re-subscription is to be judged (LIVE, or {to} for a recovery the ack
 * left undecided).
 */
class Stream {
  epoch = null;
  seq = null;
  replayTo = 0;
  resume = null;
}

/**
 * Tracker holds a subscription's state for the client. It is driven by the
 * client alone, from one thread: ack() when the server acknowledged it on
 * a connection, message() for each message frame it matches, fence() once
 * every replay of the connection's re-subscription has been received, and
 * lost() when the connection is gone.
 */
export class Tracker {
  /**
   * @param {string} channel
   * @param {object} handlers onMessage, onGap, onSubscribed, onError (each optional)
   * @param {{recovered: number, gaps: number}} stats the client's counters, shared
   */
  constructor(channel, handlers, stats) {
    this.channel = channel;
    this.handlers = handlers;
    this.stats = stats;
    this.pattern = isPattern(channel);
    /** @type {Map<string, Stream>} concrete channel → position */
    this.streams = new Map();
    this.active = true;
    /** acked is true once the current connection's server acknowledged the subscription. */
    this.acked = false;
    /** conn is the connection the subscribe went out on (null: not sent yet). */
    this.conn = null;
  }

  /** matches reports whether this pattern subscription receives channel. */
  matches(channel) {
    return patternMatch(this.channel, channel);
  }

  #stream(channel) {
    let st = this.streams.get(channel);
    if (!st) this.streams.set(channel, (st = new Stream()));
    return st;
  }

  /**
   * since returns the position to recover from on a new connection, or
   * undefined when there is none (a pattern, no history, nothing seen).
   * @returns {{epoch: string, seq: number} | undefined}
   */
  since() {
    if (this.pattern) return undefined;
    const st = this.streams.get(this.channel);
    return st && st.epoch !== null && st.seq !== null ? { epoch: st.epoch, seq: st.seq } : undefined;
  }

  /**
   * ack applies the server's acknowledgement.
   * @param {{epoch: string, seq: number} | undefined} position this channel's, from the ack's positions
   * @param {{epoch: string, seq: number} | undefined} sent the since the command carried for it
   * @param {boolean | undefined} recovered the ack's flag, true only if every since of the command was recovered
   * @param {number} sinceCount how many since entries the command carried
   */
  ack(position, sent, recovered, sinceCount) {
    this.acked = true;
    if (this.pattern) {
      // No positions for patterns: each channel seen so far resumes live.
      for (const st of this.streams.values()) st.resume = LIVE;
      return this.#subscribed(false);
    }
    const st = this.#stream(this.channel);
    if (!position) {
      if (st.seq !== null) {
        st.epoch = null;
        st.replayTo = 0;
        st.resume = LIVE;
      }
      return this.#subscribed(false);
    }
    const sameStream = sent !== undefined && position.epoch === sent.epoch && position.seq >= sent.seq;
    if (!sameStream) {
      // First subscription, or a new stream (another epoch: the server
      // restarted or is another node): start at the ack's position.
      const lost = st.seq;
      st.epoch = position.epoch;
      st.seq = position.seq;
      st.replayTo = 0;
      this.#subscribed(false);
      if (lost !== null) this.#gap({ channel: this.channel, from: lost + 1, to: null });
      return;
    }
    if (position.seq === st.seq || recovered === true) {
      st.replayTo = position.seq; // st.seq+1..position.seq follow the ack, in order
      return this.#subscribed(true);
    }
    if (sinceCount === 1) {
      const from = st.seq + 1;
      st.seq = position.seq;
      this.#subscribed(false);
      return this.#gap({ channel: this.channel, from, to: position.seq });
    }
    // recovered:false covers the whole command: this channel may still be
    // replayed. Its first message, or the fence, decides.
    st.resume = { to: position.seq };
  }

  /**
   * fence is called when every replay of the connection's re-subscription
   * has arrived: a recovery still undecided did not happen.
   */
  fence() {
    for (const st of this.streams.values()) {
      if (st.resume && st.resume !== LIVE) this.#notRecovered(st);
    }
  }

  #notRecovered(st) {
    const from = st.seq + 1;
    const to = st.resume.to;
    st.resume = null;
    st.seq = to;
    this.#subscribed(false);
    this.#gap({ channel: this.channel, from, to });
  }

  /**
   * message delivers one message frame addressed to a channel this
   * subscription matches, unless it is a duplicate; it reports any gap
   * before the message.
   */
  message(frame) {
    if (!this.active || !this.acked) return; // in flight from before this connection's ack
    const st = this.#stream(frame.channel);
    const conflated = frame.conflated ?? 0;
    if (st.resume === LIVE) {
      st.resume = null;
      if (frame.seq <= st.seq) {
        // The numbering restarted (a server restart on a channel without history).
        this.#gap({ channel: frame.channel, from: st.seq + 1, to: null });
        st.seq = null;
      }
    } else if (st.resume) {
      if (frame.seq <= st.seq) return; // already delivered; it decides nothing
      if (frame.seq === st.seq + 1 + conflated) {
        st.replayTo = st.resume.to;
        st.resume = null;
        this.#subscribed(true);
      } else {
        this.#notRecovered(st);
      }
    }
    if (st.seq !== null) {
      if (frame.seq <= st.seq) return; // already delivered
      if (frame.seq > st.seq + 1 + conflated) {
        this.#gap({ channel: frame.channel, from: st.seq + 1, to: frame.seq - 1 - conflated });
      }
    }
    st.seq = frame.seq;
    if (frame.seq <= st.replayTo) this.stats.recovered++;
    call(this.handlers.onMessage, frame.data, { channel: frame.channel, seq: frame.seq, ts: frame.ts, conflated });
  }

  /** lost is called when the connection the subscription was on is gone. */
  lost() {
    this.acked = false;
    this.conn = null;
    for (const st of this.streams.values()) st.resume = null;
  }

  /** reject ends the subscription after the server refused it. */
  reject(err) {
    this.active = false;
    call(this.handlers.onError, err);
  }

  #subscribed(recovered) {
    call(this.handlers.onSubscribed, { channel: this.channel, recovered });
  }

  #gap(gap) {
    this.stats.gaps++;
    call(this.handlers.onGap, gap);
  }
}
