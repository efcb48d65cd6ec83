/**
 * WsfanError is every error the client reports: to the "error" event, to a
 * subscription's onError, and the few it throws for programming mistakes.
 * `code` is stable and meant for programs; `message` is for people.
 *
 * Codes that come from the server keep the server's name (FORBIDDEN,
 * INVALID_CHANNEL, TOO_MANY_SUBSCRIPTIONS, RATE_LIMITED, BAD_REQUEST); the
 * client's own are listed in Codes.
 */
export class WsfanError extends Error {
  /**
   * @param {string} code a stable code, e.g. "FORBIDDEN"
   * @param {string} message a human-readable explanation
   * @param {object} [details] extra fields copied onto the error (channel, cause, closeCode, ...)
   */
  constructor(code, message, details) {
    super(message, details && "cause" in details ? { cause: details.cause } : undefined);
    this.name = "WsfanError";
    this.code = code;
    if (details) {
      for (const [k, v] of Object.entries(details)) {
        if (k !== "cause") this[k] = v;
      }
    }
  }
}

/** Codes is the set of codes the client itself produces. */
export const Codes = Object.freeze({
  /** A frame from the network that is not a JSON object, or misses or mistypes a field. */
  BAD_FRAME: "BAD_FRAME",
  /** A frame whose `type` the client does not know; it is ignored. */
  UNKNOWN_TYPE: "UNKNOWN_TYPE",
  /** Nothing arrived within heartbeatTimeout after a heartbeat (or the connect took too long). */
  HEARTBEAT_TIMEOUT: "HEARTBEAT_TIMEOUT",
  /** The token function threw or rejected; the client retries with backoff. */
  TOKEN_ERROR: "TOKEN_ERROR",
  /** The WebSocket constructor threw (a bad URL, say); the client retries with backoff. */
  CONNECT_ERROR: "CONNECT_ERROR",
  /** The server closed with 1008 "slow consumer". */
  SLOW_CONSUMER: "SLOW_CONSUMER",
  /** The server closed with 1008 "rate limited", or answered a command RATE_LIMITED. */
  RATE_LIMITED: "RATE_LIMITED",
  /** The server closed with 1008 for another reason. */
  POLICY_VIOLATION: "POLICY_VIOLATION",
  /** The server closed with 1009 "message too big". */
  MESSAGE_TOO_BIG: "MESSAGE_TOO_BIG",
  /** The server closed with 1002: it found the client's frames malformed. */
  PROTOCOL_ERROR: "PROTOCOL_ERROR",
  /** subscribe() was called for a channel that already has a live subscription. */
  ALREADY_SUBSCRIBED: "ALREADY_SUBSCRIBED",
  /** A channel name too long to fit in one command under maxCommandBytes. */
  INVALID_CHANNEL: "INVALID_CHANNEL",
});
