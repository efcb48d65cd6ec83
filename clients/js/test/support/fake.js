// A fake wsfan for the tests that need the server to misbehave, or to do
// what the real one does not do yet (conflation): a ws WebSocketServer
// whose test script answers each command by hand.

import { WebSocketServer } from "ws";
import { Recorder } from "./recorder.js";

/**
 * FakeConnection is one client connection to the fake server. `commands`
 * records every command it sent, parsed; `closed` resolves with the close
 * code once the connection is gone.
 */
class FakeConnection {
  constructor(ws, request) {
    this.ws = ws;
    this.url = new URL(request.url, "ws://fake");
    this.commands = new Recorder();
    this.closed = new Promise((ok) => ws.on("close", (code) => ok(code)));
    ws.on("message", (data) => this.commands.push(JSON.parse(String(data))));
  }

  /** command resolves with the n-th command (0-based) once it arrived. */
  async command(n, ms = 2000) {
    const items = await this.commands.count(n + 1, ms, `command #${n}`);
    return items[n];
  }

  /** send writes a frame: objects as JSON, strings as they are. */
  send(frame) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** ack answers a subscribe command as wsfan would; extra is merged in. */
  ack(cmd, extra = {}) {
    this.send({ type: "subscription_ack", id: cmd.id, subscribed: cmd.data.channels, count: cmd.data.channels.length, ...extra });
  }

  /** message sends one message frame. */
  message(channel, seq, data, extra = {}) {
    this.send({ type: "message", channel, seq, ts: Date.now(), data, ...extra });
  }

  close(code, reason) {
    this.ws.close(code, reason);
  }
}

/**
 * startFake listens on a free loopback port. `connections` records each
 * FakeConnection as it is accepted; `url` is its ws:// address.
 */
export async function startFake() {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((ok) => wss.on("listening", ok));
  const connections = new Recorder();
  wss.on("connection", (ws, request) => connections.push(new FakeConnection(ws, request)));
  return {
    url: `ws://127.0.0.1:${wss.address().port}/ws`,
    connections,
    /** connection resolves with the n-th connection (0-based) once accepted. */
    async connection(n, ms = 3000) {
      const items = await connections.count(n + 1, ms, `connection #${n}`);
      return items[n];
    },
    close() {
      for (const ws of wss.clients) ws.terminate();
      return new Promise((ok) => wss.close(ok));
    },
  };
}
