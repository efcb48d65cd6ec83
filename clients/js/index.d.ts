// Type declarations of wsfan-client (hand-written; the package has no build step).

/** The client's connection state. */
export type State = "connecting" | "connected" | "disconnected" | "closed";

/** Why the connection was lost; given with the "disconnected" state. */
export interface DisconnectDetail {
  /** The WebSocket close code (1006: the network failed; 4000: heartbeat timeout). */
  code: number;
  /** The close reason, e.g. "shutdown", "token expired". */
  reason: string;
}

/** A WebSocket constructor: the browser's, or Node's ws package. */
export interface WebSocketConstructor {
  new (url: string): WebSocketLike;
}

/** The part of the WebSocket interface the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Node's ws only: drop the TCP connection at once. */
  terminate?(): void;
}

export interface ClientOptions {
  /**
   * The JWT, sent as ?token=. A function is called before every connect
   * (so it can fetch a fresh token, e.g. after 1008 "token expired").
   */
  token?: string | (() => string | Promise<string>);
  /** WebSocket constructor; default globalThis.WebSocket. In Node 20: the ws package's. */
  WebSocket?: WebSocketConstructor;
  /** Floor of every reconnect delay, ms. Default 500. */
  minReconnectDelay?: number;
  /** Ceiling of every reconnect delay, ms. Default 20000. */
  maxReconnectDelay?: number;
  /** Send a heartbeat after this long without a frame, ms; 0 disables liveness checks. Default 10000. */
  heartbeatInterval?: number;
  /** Reconnect when no frame arrives this long after a heartbeat, ms. Default 5000. */
  heartbeatTimeout?: number;
  /** A connection that stayed open this long resets the backoff, ms. Default 5000. */
  resetBackoffAfter?: number;
  /** Largest command frame sent, bytes; keep it <= the server's max_message_bytes. Default 4096. */
  maxCommandBytes?: number;
  /** Wait before re-sending a subscribe answered RATE_LIMITED, ms. Default 1000. */
  rateLimitRetryDelay?: number;
  /** Uniform random source in [0, 1) for the backoff's jitter. Default Math.random. */
  random?: () => number;
}

/** Delivery details of one message. */
export interface MessageMeta {
  /** The concrete channel (for a pattern subscription, the one that matched). */
  channel: string;
  /** The channel's sequence number on the delivering node. */
  seq: number;
  /** Unix ms when the server accepted the publication. */
  ts: number;
  /** Publications this message replaced on a conflated channel (0 otherwise). */
  conflated: number;
}

/** Messages missed and not recovered; refetch the state the channel feeds. */
export interface Gap {
  /** The concrete channel. */
  channel: string;
  /** First missed seq. */
  from: number;
  /**
   * Last missed seq, inclusive; null when unknown: the stream restarted (a
   * new epoch, e.g. a server restart), so where the old one ended is unknown.
   */
  to: number | null;
}

/** Counters since the client was made. */
export interface Stats {
  /** Connections opened after the first. */
  reconnects: number;
  /** Messages delivered from a recovery's replay. */
  recovered: number;
  /** onGap calls. */
  gaps: number;
}

/** Given to onSubscribed each time the server acknowledges the subscription. */
export interface SubscribedInfo {
  channel: string;
  /**
   * True when this re-subscription recovered everything missed since the
   * last one; false on the first subscription and whenever not recovered.
   */
  recovered: boolean;
}

/** Every error the client reports. */
export class WsfanError extends Error {
  /**
   * Server codes (FORBIDDEN, INVALID_CHANNEL, TOO_MANY_SUBSCRIPTIONS,
   * RATE_LIMITED, BAD_REQUEST) or the client's own (see Codes).
   */
  readonly code: string;
  /** The channel concerned, for subscription errors. */
  readonly channel?: string;
  /** The WebSocket close code, for errors that a close caused. */
  readonly closeCode?: number;
  /** The close reason, for errors that a close caused. */
  readonly reason?: string;
  constructor(code: string, message: string, details?: Record<string, unknown>);
}

/** The codes the client itself produces. */
export const Codes: Readonly<{
  BAD_FRAME: "BAD_FRAME";
  UNKNOWN_TYPE: "UNKNOWN_TYPE";
  HEARTBEAT_TIMEOUT: "HEARTBEAT_TIMEOUT";
  TOKEN_ERROR: "TOKEN_ERROR";
  CONNECT_ERROR: "CONNECT_ERROR";
  SLOW_CONSUMER: "SLOW_CONSUMER";
  RATE_LIMITED: "RATE_LIMITED";
  POLICY_VIOLATION: "POLICY_VIOLATION";
  MESSAGE_TOO_BIG: "MESSAGE_TOO_BIG";
  PROTOCOL_ERROR: "PROTOCOL_ERROR";
  ALREADY_SUBSCRIBED: "ALREADY_SUBSCRIBED";
  INVALID_CHANNEL: "INVALID_CHANNEL";
}>;

export interface SubscriptionHandlers<T = unknown> {
  /** Each message, once, in seq order. */
  onMessage?(data: T, meta: MessageMeta): void;
  /** Messages missed and not recovered; called once per gap. */
  onGap?(gap: Gap): void;
  /** The server acknowledged the subscription (again after each reconnect). */
  onSubscribed?(info: SubscribedInfo): void;
  /** The server refused the channel; the subscription is over. */
  onError?(err: WsfanError): void;
}

export class Subscription {
  /** The channel or pattern given to subscribe(). */
  readonly channel: string;
  /** True until unsubscribe() or a rejection by the server. */
  readonly active: boolean;
  /** Stop delivery at once and unsubscribe on the server; idempotent. */
  unsubscribe(): void;
}

export class Client {
  constructor(url: string, options?: ClientOptions);
  /** The current state; "disconnected" before connect(). */
  readonly state: State;
  /** A snapshot of the counters. */
  readonly stats: Stats;
  on(event: "state", fn: (state: State, detail?: DisconnectDetail) => void): () => void;
  on(event: "error", fn: (err: WsfanError) => void): () => void;
  off(event: "state" | "error", fn: (...args: any[]) => void): void;
  /** Subscribe to a channel or pattern; throws ALREADY_SUBSCRIBED for a live duplicate. */
  subscribe<T = unknown>(channel: string, handlers?: SubscriptionHandlers<T>): Subscription;
  /** Open the connection and keep it open until close(); returns the client. */
  connect(): this;
  /** Close and stop every timer; subscriptions stay registered for a later connect(). */
  close(): void;
}
