// One WebSocket's state, and what the server's close codes mean for the
// client (PROTOCOL.md, close codes).

import { Codes } from "./errors.js";

/** WebSocket readyState OPEN, the same in browsers and Node's ws. */
export const OPEN = 1;

/**
 * closePolicies maps a server close to what it means for the client: the
 * error to report (if any), whether the next connect may go at once with
 * a fresh token, and whether the closed connection may reset the backoff.
 * Keys are "code" or "code reason" (PROTOCOL.md, close codes).
 */
const closePolicies = {
  "1008 token expired": { immediate: true },
  "1008 slow consumer": { error: Codes.SLOW_CONSUMER },
  "1008 rate limited": { error: Codes.RATE_LIMITED },
  1008: { error: Codes.POLICY_VIOLATION },
  // The client's own frame was too big: reconnecting at once would repeat
  // it, so this close never resets the backoff.
  1009: { error: Codes.MESSAGE_TOO_BIG, noReset: true },
  1002: { error: Codes.PROTOCOL_ERROR },
};

export const closePolicy = (code, reason) => closePolicies[`${code} ${reason}`] ?? closePolicies[code] ?? {};

/**
 * Connection is the state of one WebSocket. A client has at most one; a
 * handler that finds its connection is no longer the client's ignores
 * the event.
 */
export class Connection {
  constructor(ws) {
    this.ws = ws;
    /** openedAt: performance.now() at open, null before. */
    this.openedAt = null;
    /** lastFrameAt: when the last frame arrived (or the open). */
    this.lastFrameAt = 0;
    /** frames: how many frames arrived. */
    this.frames = 0;
    /** framesAtHeartbeat: frames when the liveness heartbeat went out; null when none is out. */
    this.framesAtHeartbeat = null;
    /** timer: the connect timeout before open, the liveness check after. */
    this.timer = null;
    /** pending: command id → the subscribe command awaiting its ack. */
    this.pending = new Map();
    /** resend: subscriptions refused RATE_LIMITED, sent again when resendTimer fires. */
    this.resend = new Set();
    this.resendTimer = null;
    /** heartbeats sent, and answers (a pong, or an error frame) received. */
    this.heartbeats = 0;
    this.answered = 0;
    /**
     * fenceAt: once answered reaches it, every replay of the re-subscription
     * has arrived (the server answers commands in order); 0 when none is due.
     */
    this.fenceAt = 0;
  }
}
