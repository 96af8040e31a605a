import { join } from 'node:path';

export interface NginxConfigInput {
  /** Server folder: store/, tmp/, logs/, run/ and this config live here. */
  dir: string;
  listen: string;
  port: number;
  /** Unix socket of the commit handler (Store) that PUT bodies are forwarded to. */
  commitSocket: string;
  readToken?: string;
  writeToken: string;
  maxEntryBytes: number;
  /** Workers keep root's identity when the master runs as root (the store is root's). */
  asRoot: boolean;
}

/** RFC 6750 token68 characters only: the token goes into the config as a literal string. */
export const TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * The map pattern of one token: `Bearer <token>` exactly (case-sensitive, anchored), each regex metacharacter of
 * TOKEN_PATTERN's set (`.` `+`) in a one-character class so it matches only itself; no backslashes, which nginx's
 * quoted strings would also interpret.
 */
export function tokenPattern(token: string): string {
  if (!TOKEN_PATTERN.test(token)) throw new Error(`token outside TOKEN_PATTERN: ${token.length} characters`);
  return `"~^Bearer ${token.replace(/[.+]/g, '[$&]')}$"`;
}

/**
 * nginx does the HTTP: token roles (a map on Authorization), 401/403/404/409/413 before a body is read, GET and
 * HEAD straight from the store files (sendfile). A PUT that passes is buffered whole by nginx and only then
 * forwarded to the commit handler, which publishes it with link(2) and answers 200 or 409.
 */
export function nginxConfig(c: NginxConfigInput): string {
  const store = join(c.dir, 'store');
  const tmp = join(c.dir, 'tmp');
  const roles = [c.readToken ? `    ${tokenPattern(c.readToken)} read;` : '', `    ${tokenPattern(c.writeToken)} write;`].filter(Boolean);
  return `# Written by \`hotsplice cache-server\` on every start; edits are lost.
${c.asRoot ? 'user root root;\n' : ''}daemon off;
master_process on;
worker_processes 2;
pid ${join(c.dir, 'run', 'nginx.pid')};
error_log ${join(c.dir, 'logs', 'error.log')} warn;

events {
  worker_connections 1024;
}

http {
  default_type application/octet-stream;
  types {}
  server_tokens off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65s;
  log_format hotsplice '$msec $status $request_method $uri $body_bytes_sent $request_length $request_time';
  access_log ${join(c.dir, 'logs', 'access.log')} hotsplice buffer=64k flush=1s;

  client_body_temp_path ${join(tmp, 'body')};
  proxy_temp_path ${join(tmp, 'proxy')};
  fastcgi_temp_path ${join(tmp, 'fastcgi')};
  uwsgi_temp_path ${join(tmp, 'uwsgi')};
  scgi_temp_path ${join(tmp, 'scgi')};

  # The per-entry limit: a larger Content-Length (or chunked body) is answered 413 without storing anything.
  client_max_body_size ${c.maxEntryBytes};
  client_body_buffer_size 1m;
  log_not_found off;

  # Two roles from the bearer token; anything else (no header, unknown token) has none. A map compares plain
  # strings case-insensitively, so each token is a case-sensitive regex (~) matching the whole header.
  map $http_authorization $hs_role {
    default none;
${roles.join('\n')}
  }

  upstream hs_commit {
    server unix:${c.commitSocket};
    keepalive 8;
  }

  server {
    listen ${c.listen}:${c.port};

    location ~ "^/v1/cache/([A-Za-z0-9][A-Za-z0-9_.-]{0,127})$" {
      set $hs_hash $1;
      if ($hs_role = none) {
        return 401 "Missing or invalid authentication token.\\n";
      }
      if ($request_method = PUT) {
        rewrite ^ /.hotsplice-put last;
      }
      if ($request_method !~ ^(GET|HEAD)$) {
        return 405;
      }
      alias ${store}/$hs_hash;
    }

    location = /.hotsplice-put {
      internal;
      if ($hs_role != write) {
        return 403 "Access forbidden: this token is read-only.\\n";
      }
      if (-f ${store}/$hs_hash) {
        return 409 "Cannot override an existing record\\n";
      }
      proxy_pass http://hs_commit/v1/cache/$hs_hash;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering on;
      proxy_read_timeout 120s;
    }

    location / {
      return 404;
    }
  }
}
`;
}
