import http from 'node:http';

/**
 * One JSON request with a hard deadline, classified for a Jepsen history: a response (any
 * status), a connection that was refused (nothing was sent: the operation certainly did not
 * happen), another network error after the request may have left, or a timeout.
 */
export type JsonReply =
  | { readonly kind: 'response'; readonly status: number; readonly body: any; readonly text: string }
  | { readonly kind: 'refused'; readonly message: string }
  | { readonly kind: 'network'; readonly message: string }
  | { readonly kind: 'timeout' };

export interface CallOptions {
  readonly base: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly token?: string;
  readonly timeoutMs: number;
  readonly agent?: http.Agent;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Errors raised before any byte of the request could reach the server. */
const notSentCodes = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND']);

export function callJson(options: CallOptions): Promise<JsonReply> {
  const payload = options.body === undefined ? undefined : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve) => {
    let settled = false;
    const settle = (reply: JsonReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(reply);
    };
    const request = http.request(new URL(options.path, options.base), { method: options.method, headers, agent: options.agent ?? false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = null;
        try {
          body = text.length > 0 ? JSON.parse(text) : null;
        } catch {
          body = null;
        }
        settle({ kind: 'response', status: response.statusCode ?? 0, body, text });
      });
      response.on('error', (error) => settle({ kind: 'network', message: error.message }));
    });
    const timer = setTimeout(() => {
      settle({ kind: 'timeout' });
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      settle(notSentCodes.has(error.code ?? '') ? { kind: 'refused', message: error.message } : { kind: 'network', message: `${error.code ?? ''} ${error.message}` });
    });
    request.end(payload);
  });
}
