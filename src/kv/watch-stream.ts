import type http from 'node:http';
import type { WatchEvent, WatchHandle, WatchHandlers } from './api.js';
import { isConcordError } from '../core/errors.js';

const keepAliveIntervalMs = 15_000;
/** Bytes buffered for a slow watcher before it is disconnected (overflow policy: close). */
const maxBufferedBytes = 8 << 20;

/**
 * One server-sent-events stream of watch events: `id: <revision>`, `event: put|delete`,
 * `data: <json>`. A watcher that stops reading is disconnected once `maxBufferedBytes` are queued
 * (it can resume with `Last-Event-ID`); a comment line every 15 s keeps proxies from timing out.
 */
export class WatchStream implements WatchHandlers {
  private handle: WatchHandle | null = null;
  private closed = false;
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    private readonly request: http.IncomingMessage,
    private readonly response: http.ServerResponse,
    private readonly onClose: () => void,
  ) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.flushHeaders();
    response.write(': watching\n\n');
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), keepAliveIntervalMs);
    request.socket.setTimeout(0);
    request.on('close', () => this.close());
    response.on('close', () => this.close());
  }

  attach(handle: WatchHandle): void {
    if (this.closed) handle.cancel();
    else this.handle = handle;
  }

  onEvents(events: readonly WatchEvent[]): void {
    let text = '';
    for (const event of events) text += `id: ${event.revision}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    this.write(text);
  }

  onError(error: Error): void {
    const code = isConcordError(error) ? error.code : 'INTERNAL';
    this.write(`event: error\ndata: ${JSON.stringify({ error: { code, message: error.message } })}\n\n`);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    this.handle?.cancel();
    this.handle = null;
    if (!this.response.writableEnded) this.response.end();
    this.onClose();
  }

  private write(text: string): void {
    if (this.closed) return;
    this.response.write(text);
    if (this.response.writableLength > maxBufferedBytes) {
      this.response.destroy();
      this.close();
    }
  }
}
