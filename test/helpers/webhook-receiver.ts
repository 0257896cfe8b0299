/**
 * A local webhook endpoint (node:http on 127.0.0.1, any free port) that records every request and answers as told:
 * 200 by default, or fail the next N requests with a status, or hang (never answer) until closed.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body (`{ type, timestamp, data }`). */
  json: { type: string; timestamp: string; data: Record<string, any> };
  /** What the receiver answered (0: it hung). */
  answered: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedWebhook[];
  /** Requests answered 2xx (what a real receiver would have accepted). */
  accepted(): ReceivedWebhook[];
  /** The next `n` requests get `status` (default 500). */
  failNext(n: number, status?: number): void;
  /** From now on every request hangs (never answered) — or, with false, is answered again. */
  hang(on?: boolean): void;
  /** From now on every request gets this status. */
  always(status: number): void;
  /** Waits until `check` holds for the recorded requests (polls; fails after `ms`). */
  until(check: (r: ReceivedWebhook[]) => boolean, ms?: number, what?: string): Promise<void>;
  /** Verifies a request's signature with the standardwebhooks library (throws when it does not verify). */
  verify(r: ReceivedWebhook, secret: string): unknown;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  const hanging = new Set<ServerResponse>();
  let failures = 0;
  let failStatus = 500;
  let hangAll = false;
  let fixed: number | null = null;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: ReceivedWebhook['json'];
      try {
        json = JSON.parse(body) as ReceivedWebhook['json'];
      } catch {
        json = { type: '', timestamp: '', data: {} };
      }
      const entry: ReceivedWebhook = { headers: req.headers, body, json, answered: 0, at: Date.now() };
      requests.push(entry);
      if (hangAll) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      let status = fixed ?? 200;
      if (failures > 0) {
        failures--;
        status = failStatus;
      }
      entry.answered = status;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    accepted: () => requests.filter((r) => r.answered >= 200 && r.answered < 300),
    failNext(n, status = 500) {
      failures = n;
      failStatus = status;
    },
    hang(on = true) {
      hangAll = on;
    },
    always(status) {
      fixed = status;
    },
    async until(check, ms = 30_000, what = 'webhook requests') {
      const deadline = Date.now() + ms;
      while (!check(requests)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${requests.length}: ${requests.map((r) => r.json.type).join(', ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    verify(r, secret) {
      return new Webhook(secret).verify(r.body, {
        'webhook-id': String(r.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(r.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(r.headers['webhook-signature'] ?? ''),
      });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
