// The wire format of wsfan protocol version 1 (PROTOCOL.md): parsing what
// the server sends, encoding what the client sends.

import { Codes, WsfanError } from "./errors.js";

const isString = (v) => typeof v === "string";
const isSeq = (v) => Number.isSafeInteger(v) && v >= 0;
const isArrayOf = (v, ok) => Array.isArray(v) && v.every(ok);
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks per frame type: each returns whether the frame's fields have the
 * types the client relies on. Unknown fields are ignored, as the protocol
 * asks of both sides.
 * @type {Record<string, (f: any) => boolean>}
 */
const valid = {
  message: (f) =>
    isString(f.channel) &&
    isSeq(f.seq) &&
    (f.ts === undefined || typeof f.ts === "number") &&
    (f.conflated === undefined || isSeq(f.conflated)),
  subscription_ack: (f) =>
    isArrayOf(f.subscribed, isString) &&
    (f.rejected === undefined || isArrayOf(f.rejected, (r) => isObject(r) && isString(r.channel) && isString(r.code))) &&
    (f.positions === undefined ||
      isArrayOf(f.positions, (p) => isObject(p) && isString(p.channel) && isString(p.epoch) && isSeq(p.seq))) &&
    (f.recovered === undefined || typeof f.recovered === "boolean"),
  unsubscription_ack: () => true,
  pong: () => true,
  error: (f) => isString(f.code),
};

/**
 * parseFrame decodes one server frame. It throws a WsfanError with code
 * BAD_FRAME (not a JSON object, or a field of the wrong type) or
 * UNKNOWN_TYPE; the caller reports it and ignores the frame.
 *
 * @param {unknown} data a MessageEvent's data
 * @returns {any} the frame, its fields checked for its type
 */
export function parseFrame(data) {
  if (!isString(data)) {
    throw new WsfanError(Codes.BAD_FRAME, "wsfan: binary frame; the protocol uses text frames only");
  }
  let frame;
  try {
    frame = JSON.parse(data);
  } catch (err) {
    throw new WsfanError(Codes.BAD_FRAME, "wsfan: frame is not JSON", { cause: err, frame: data.slice(0, 256) });
  }
  if (!isObject(frame) || !isString(frame.type)) {
    throw new WsfanError(Codes.BAD_FRAME, "wsfan: frame is not an object with a string type", { frame: data.slice(0, 256) });
  }
  const check = Object.hasOwn(valid, frame.type) ? valid[frame.type] : undefined;
  if (!check) {
    throw new WsfanError(Codes.UNKNOWN_TYPE, `wsfan: unknown frame type ${JSON.stringify(frame.type)}`, {
      frame: data.slice(0, 256),
    });
  }
  if (!check(frame)) {
    throw new WsfanError(Codes.BAD_FRAME, `wsfan: malformed ${frame.type} frame`, { frame: data.slice(0, 256) });
  }
  return frame;
}

const encoder = new TextEncoder();
const byteLength = (s) => encoder.encode(s).length;

/**
 * encodeChannelCommand returns the JSON text of a subscribe or unsubscribe
 * command. since maps a channel to its last known {epoch, seq}; it is left
 * out when empty.
 *
 * @param {"subscribe" | "unsubscribe"} type
 * @param {string} id
 * @param {string[]} channels
 * @param {Record<string, {epoch: string, seq: number}>} [since]
 */
function encodeChannelCommand(type, id, channels, since) {
  const data = { channels };
  if (since && Object.keys(since).length > 0) data.since = since;
  return JSON.stringify({ type, id, data });
}

/**
 * splitCommands packs channels into as few commands as fit maxBytes each
 * (the server closes with 1009 past its max_message_bytes), in order. A
 * channel that does not fit even alone comes back in `tooLong`.
 *
 * @param {"subscribe" | "unsubscribe"} type
 * @param {string[]} channels
 * @param {Record<string, {epoch: string, seq: number}>} since positions, for subscribe
 * @param {number} maxBytes
 * @param {() => string} nextId called once per command
 * @returns {{commands: {id: string, channels: string[], since: Record<string, {epoch: string, seq: number}>, text: string}[], tooLong: string[]}}
 */
export function splitCommands(type, channels, since, maxBytes, nextId) {
  const commands = [];
  const tooLong = [];
  let cmd = null; // the command being filled; its id is taken when it opens
  for (const ch of channels) {
    for (;;) {
      cmd ??= { id: nextId(), channels: [], since: {}, text: "" };
      const chans = [...cmd.channels, ch];
      const s = since[ch] ? { ...cmd.since, [ch]: since[ch] } : cmd.since;
      const text = encodeChannelCommand(type, cmd.id, chans, s);
      if (byteLength(text) <= maxBytes) {
        Object.assign(cmd, { channels: chans, since: s, text });
        break;
      }
      if (cmd.channels.length === 0) {
        tooLong.push(ch); // does not fit alone; cmd stays open for the next
        break;
      }
      commands.push(cmd); // full: the channel goes into a new command
      cmd = null;
    }
  }
  if (cmd && cmd.channels.length > 0) commands.push(cmd);
  return { commands, tooLong };
}
