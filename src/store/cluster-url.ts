/**
 * The `redis+cluster://` URL form (issue #21), apart from the connection code so that the configuration
 * schema can check a URL without loading ioredis:
 *
 *     redis+cluster://[user:password@]host1:port1,host2:port2,.../
 *     rediss+cluster://...            (TLS to every node)
 */
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';

/** A `redis+cluster://` URL that cannot be read: a configuration problem (exit 3). */
export class RedisClusterUrlError extends VigilError {
  override name = 'RedisClusterUrlError';
  override readonly category: VigilErrorCategory = 'config';
  /** What is wrong, without the URL (`has a bad node "a:99999"`): for messages that name the key instead. */
  reason = '';
}

export type ClusterUrl = {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
};

const SCHEME = /^(rediss?)\+cluster:\/\//i;

/**
 * The URL with its password replaced by `redacted`. `redactUrl` cannot parse a host list (WHATWG URL
 * refuses `a:1,b:2`) and would return it unchanged, password and all.
 */
export function redactClusterUrl(url: string): string {
  const scheme = SCHEME.exec(url);
  if (!scheme) return url;
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  if (at < 0) return url;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return url;
  return `${scheme[0]}${userinfo.slice(0, colon)}:redacted${rest.slice(at)}`;
}

/** The URL names a Redis Cluster (`redis+cluster://` or `rediss+cluster://`). */
export function isClusterUrl(url: string): boolean {
  return SCHEME.test(url);
}

/** Reads a cluster URL's seed nodes and credentials; RedisClusterUrlError when it is malformed. */
export function parseClusterUrl(url: string): ClusterUrl {
  const scheme = SCHEME.exec(url);
  const bad = (why: string): RedisClusterUrlError => {
    const err = new RedisClusterUrlError(`Redis Cluster URL ${redactClusterUrl(url)} ${why}`, {
      details: '',
      docsPath: 'docs/configuration.md',
    });
    err.reason = why;
    return err;
  };
  if (!scheme) throw bad('does not start with redis+cluster:// or rediss+cluster://');
  let rest = url.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    if (rest.slice(slash) !== '/') throw bad('has a path or query: a cluster has only database 0');
    rest = rest.slice(0, slash);
  }
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const hosts = at >= 0 ? rest.slice(at + 1) : rest;
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
  const password = colon >= 0 ? decodeURIComponent(userinfo.slice(colon + 1)) : '';
  const nodes = hosts.split(',').map((hostPort) => {
    // `[::1]:7000` for IPv6, `host:7000` or `host` otherwise.
    const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(hostPort);
    const host = m?.[1] ?? m?.[2];
    const port = m?.[3] === undefined ? 6379 : Number(m[3]);
    if (host === undefined || port < 1 || port > 65535) throw bad(`has a bad node "${hostPort}"`);
    return { host, port };
  });
  return {
    nodes,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: scheme[1]?.toLowerCase() === 'rediss',
  };
}

/**
 * The URL with `password` as its password (percent-encoded) and its user name kept: how a password
 * from redis.passwordFile or redis.passwordEnv joins a cluster URL. The result holds the secret.
 */
export function withClusterPassword(url: string, password: string): string {
  const scheme = SCHEME.exec(url);
  if (!scheme) throw new RedisClusterUrlError(`${redactClusterUrl(url)} is not a Redis Cluster URL`);
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const colon = userinfo.indexOf(':');
  const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
  return `${scheme[0]}${user}:${encodeURIComponent(password)}@${rest.slice(at + 1)}`;
}
