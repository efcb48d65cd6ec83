/**
 * reconnectDelay returns how long to wait, in milliseconds, before
 * reconnect attempt number `attempt` (0 for the first retry of an outage).
 *
 * Full jitter: the delay is uniform in [min, ceiling], with
 *
 *     ceiling = min(max, min·2^(attempt+1), max(2·min, outage))
 *
 * The first two terms are the usual exponential growth up to max. The last
 * bounds each delay by the time already spent disconnected (`outage`, ms),
 * so a client is never away for much longer than the network was: after
 * an outage of T it is back within about max(T, 2·min) of the network
 * returning, where plain exponential backoff may wait up to max. Every
 * delay is at least min, so a server that closes at once is never retried
 * in a tight loop.
 *
 * @param {object} p
 * @param {number} p.attempt retries already made in this outage, from 0
 * @param {number} p.outage milliseconds since the outage began
 * @param {number} p.min minReconnectDelay
 * @param {number} p.max maxReconnectDelay (>= min)
 * @param {() => number} p.random uniform in [0, 1), e.g. Math.random
 * @returns {number}
 */
export function reconnectDelay({ attempt, outage, min, max, random }) {
  const ceiling = Math.max(min, Math.min(max, min * 2 ** (attempt + 1), Math.max(2 * min, outage)));
  return min + random() * (ceiling - min);
}
