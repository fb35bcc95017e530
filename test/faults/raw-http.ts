import net from 'node:net';

/**
 * Raw HTTP over a TCP socket, for what a well-behaved client library refuses to send: garbage
 * request lines, invalid UTF-8 in the path, bodies cut short, bytes trickled slowly, half-closed
 * sockets. Resolves with whatever came back and whether the server closed the connection.
 */
export type RawStep = Buffer | string | { readonly delayMs: number } | { readonly halfClose: true };

export interface RawResult {
  readonly text: string;
  readonly status: number | null;
  /** The JSON body of the first response, when it has one. */
  readonly json: any;
  readonly closedByServer: boolean;
  readonly elapsedMs: number;
}

export function rawExchange(url: string, steps: readonly RawStep[], timeoutMs = 10_000): Promise<RawResult> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const bodyAt = text.indexOf('\r\n\r\n');
      let json: unknown = null;
      try {
        json = bodyAt >= 0 ? JSON.parse(text.slice(bodyAt + 4)) : null;
      } catch {
        json = null;
      }
      resolve({ text, status: status === null ? null : Number(status[1]), json, closedByServer, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', () => {
      closedByServer = true;
      finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
        closedByServer = true;
        finish();
      } else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.once('connect', async () => {
      for (const step of steps) {
        if (done) return;
        if (typeof step === 'object' && 'delayMs' in step) await new Promise((wait) => setTimeout(wait, step.delayMs));
        else if (typeof step === 'object' && 'halfClose' in step) socket.end();
        else if (!socket.destroyed && socket.writable) socket.write(step);
      }
    });
  });
}
