// Where Redis is, as the user gave it (a URL or { host, port }), checked before anything connects.
import { rangeError, typeError } from '../errors';

export type ConnectionSpec = string | { host: string; port: number };

export interface RedisTarget {
  url: string;
}

const EXPECTED = 'a redis:// URL (redis://host:port[/db]) or { host, port }';

export function readConnection(where: string, v: unknown): RedisTarget {
  if (typeof v === 'string') {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw rangeError(where, 'connection', EXPECTED, v);
    }
    if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') throw rangeError(where, 'connection', EXPECTED, v);
    return { url: v };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw typeError(where, 'connection', EXPECTED, v);
  const { host, port, ...rest } = v as { host?: unknown; port?: unknown };
  if (Object.keys(rest).length > 0) {
    throw new TypeError(`${where}: unknown connection key ${JSON.stringify(Object.keys(rest)[0])}; expected host, port`);
  }
  if (typeof host !== 'string' || host === '') throw typeError(where, 'connection.host', 'a non-empty string', host);
  if (typeof port !== 'number') throw typeError(where, 'connection.port', 'an integer in 1..65535', port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw rangeError(where, 'connection.port', 'an integer in 1..65535', port);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { url: `redis://${shownHost}:${port}` };
}

/** The URL without its password, for messages. */
export function shownUrl(t: RedisTarget): string {
  const u = new URL(t.url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}
