/**
 * The Message Store's HTTP API: JSON over HTTP on loopback by default, every request authenticated with the
 * user's SIP credentials by Digest (RFC 7616; `WWW-Authenticate` / `Authorization`). The authenticated user is
 * the owner of everything read or written: nobody can name another user's data.
 *
 * | method | path | body / query | answer |
 * | --- | --- | --- | --- |
 * | POST | /v1/messages | `DepositRequest` (≤ 500 messages) | 200 `DepositResponse` |
 * | GET | /v1/conversations/:cid/messages | `after`, `limit` | 200 `MessagePageResponse`, oldest first |
 * | GET | /v1/conversations/:cid/messages | `order=desc`, `before`, `limit` | 200 newest first |
 * | GET | /v1/conversations | `before`, `limit` | 200 `ConversationListResponse` |
 * | POST | /v1/delivery | `DeliveryRequest` | 200 `DeliveryResponse` |
 *
 * Errors are `ErrorResponse` JSON: 400 malformed input (nothing written), 401 bad or missing credentials (with a
 * fresh challenge, `stale=true` when only the nonce was at fault), 403 a deposit for another owner, 404 unknown
 * path or a conversation the user does not have (whether or not someone else has it), 405, 413 body over the
 * limit (RFC 9110 §15.5.14), 415 not JSON.
 *
 * Digest usernames are `user@domain` (like an IMS private identity); the owner AOR is `sip:user@domain`.
 * A username already written as a `sip:` / `sips:` URI is taken as the AOR itself.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DigestAuthenticator, type DigestServerOptions } from '../auth/digest';
import { MAX_PAGE, type MessageStore } from './message-store';
import { StoreInputError, validateBatch, validateConversationId, validateDeliveryUpdates, validateOwner } from '../../protocol/store/store-validation';
import type { ConversationListResponse, DeliveryResponse, DepositResponse, ErrorResponse, MessagePageResponse } from '../../protocol/store/store-wire';

/** A user's credentials, looked up by AOR. */
export type UserLookup = (aor: string) => { password: string } | undefined;

/** Options of `StoreHttpApi.start`. */
export interface StoreHttpApiOptions {
  store: MessageStore;
  /** Digest realm, usually the domain. */
  realm: string;
  lookupUser: UserLookup;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Largest request body, in bytes. Default 8 MiB. */
  maxBodyBytes?: number;
  /** Digest settings besides the realm (algorithms, nonce secret and lifetime, clock). */
  digest?: Omit<DigestServerOptions, 'realm'>;
  /** Called with unexpected errors (answered 500); default: ignored. */
  onError?: (error: unknown) => void;
}

/**
 * Map a Digest username to the owner AOR, or undefined when it has no AOR form. The scheme and host are
 * lower-cased (case-insensitive, RFC 3261 §19.1.4), the user part kept as is, so that one user has one history.
 */
export function usernameToAor(username: string): string | undefined {
  const raw = /^sips?:/i.test(username) ? username : /^[^@\s:]+@[^@\s:]+$/.test(username) ? `sip:${username}` : undefined;
  if (raw === undefined) return undefined;
  const colon = raw.indexOf(':');
  const at = raw.lastIndexOf('@');
  const aor = at < 0 ? `${raw.slice(0, colon).toLowerCase()}${raw.slice(colon)}` : `${raw.slice(0, colon).toLowerCase()}${raw.slice(colon, at)}@${raw.slice(at + 1).toLowerCase()}`;
  try {
    return validateOwner(aor);
  } catch {
    return undefined;
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
    readonly headers: Record<string, string | string[]> = {},
  ) {
    super(reason);
  }
}

const MESSAGES_PATH = /^\/v1\/conversations\/([^/]+)\/messages$/;
const DECIMAL = /^(0|[1-9][0-9]{0,14})$/;

/** A running Message Store HTTP API. */
export class StoreHttpApi {
  private readonly auth: DigestAuthenticator;
  private readonly maxBodyBytes: number;

  private constructor(
    private readonly options: StoreHttpApiOptions,
    private readonly server: Server,
  ) {
    this.auth = new DigestAuthenticator({ ...options.digest, realm: options.realm });
    this.maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  }

  /** Start listening; resolves once bound. */
  static async start(options: StoreHttpApiOptions): Promise<StoreHttpApi> {
    const server = createServer();
    const api = new StoreHttpApi(options, server);
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      api.handle(req, res).catch((error: unknown) => api.fail(req, res, error));
    });
    server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        server.on('error', (error) => options.onError?.(error));
        resolve();
      });
    });
    return api;
  }

  /** The bound address. */
  get address(): { host: string; port: number } {
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    const { host, port } = this.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** Stop listening and drop open connections. The store stays open (its owner closes it). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const owner = this.authenticate(req, method, target);
    let url: URL;
    try {
      url = new URL(target, 'http://store.invalid');
    } catch {
      throw new HttpError(400, 'bad-request', 'unparsable request target');
    }
    const path = url.pathname;
    if (path === '/v1/messages') {
      allow(method, ['POST']);
      const body = await this.readJson(req);
      return send(res, 200, this.deposit(owner, body));
    }
    if (path === '/v1/delivery') {
      allow(method, ['POST']);
      const body = await this.readJson(req);
      return send(res, 200, this.delivery(owner, body));
    }
    if (path === '/v1/conversations') {
      allow(method, ['GET']);
      return send(res, 200, this.list(owner, url.searchParams));
    }
    const match = MESSAGES_PATH.exec(path);
    if (match?.[1] !== undefined) {
      allow(method, ['GET']);
      let cid: string;
      try {
        cid = decodeURIComponent(match[1]);
      } catch {
        throw new HttpError(400, 'bad-request', 'conversation id is not valid percent-encoding');
      }
      return send(res, 200, this.messages(owner, cid, url.searchParams));
    }
    throw new HttpError(404, 'not-found', 'no such resource');
  }

  /** The owner AOR, or an HttpError 401 carrying a fresh challenge. */
  private authenticate(req: IncomingMessage, method: string, target: string): string {
    const result = this.auth.verify({ method, uri: target, authorization: req.headersDistinct.authorization ?? [] }, (username) => {
      const aor = usernameToAor(username);
      return aor === undefined ? undefined : this.options.lookupUser(aor)?.password;
    });
    if (result.ok) {
      const aor = usernameToAor(result.username);
      if (aor !== undefined) return aor;
    }
    const reason = result.ok ? 'username has no AOR form' : result.detail;
    throw new HttpError(401, 'unauthorized', reason, { 'WWW-Authenticate': this.auth.challenges({ stale: !result.ok && result.stale }) });
  }

  private async readJson(req: IncomingMessage): Promise<unknown> {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'unsupported-media-type', 'send application/json');
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > this.maxBodyBytes) throw new HttpError(413, 'payload-too-large', `body exceeds ${this.maxBodyBytes} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > this.maxBodyBytes) throw new HttpError(413, 'payload-too-large', `body exceeds ${this.maxBodyBytes} bytes`);
      chunks.push(buf);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
    } catch {
      throw new HttpError(400, 'bad-request', 'body is not UTF-8');
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpError(400, 'bad-request', 'body is not JSON');
    }
  }

  private deposit(owner: string, body: unknown): DepositResponse {
    const obj = asObject(body);
    const claimed = obj['owner'];
    if (claimed !== undefined && claimed !== owner) throw new HttpError(403, 'forbidden', 'you may only deposit your own messages');
    return this.options.store.deposit(owner, validateBatch(obj['messages']));
  }

  private delivery(owner: string, body: unknown): DeliveryResponse {
    return { changed: this.options.store.updateDelivery(owner, validateDeliveryUpdates(asObject(body)['updates'])) };
  }

  private list(owner: string, query: URLSearchParams): ConversationListResponse {
    const q = readQuery(query, ['before', 'limit']);
    const limit = q.limit ?? 100;
    const summaries = this.options.store.listConversations(owner, { limit, ...(q.before !== undefined ? { before: q.before } : {}) });
    const last = summaries[summaries.length - 1];
    return {
      conversations: summaries.map(({ activity: _activity, ...rest }) => rest),
      cursor: summaries.length === limit && last !== undefined ? String(last.activity) : null,
    };
  }

  private messages(owner: string, conversationId: string, query: URLSearchParams): MessagePageResponse {
    validateConversationId(conversationId);
    const order = query.get('order') ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw new HttpError(400, 'bad-request', 'order must be asc or desc');
    const q = readQuery(query, order === 'asc' ? ['after', 'limit', 'order'] : ['before', 'limit', 'order']);
    const store = this.options.store;
    // Same answer whether the conversation belongs to nobody or to someone else: existence is never revealed.
    if (!store.hasConversation(owner, conversationId)) throw new HttpError(404, 'not-found', 'no such conversation');
    const limit = q.limit ?? MAX_PAGE;
    const page =
      order === 'asc'
        ? store.fetchAfter(owner, conversationId, { limit, ...(q.after !== undefined ? { after: q.after } : {}) })
        : store.fetchBefore(owner, conversationId, { limit, ...(q.before !== undefined ? { before: q.before } : {}) });
    return { conversationId, messages: page.messages, cursor: page.cursor === null ? null : String(page.cursor), hasMore: page.hasMore };
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    if (error instanceof HttpError) {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      return send(res, error.status, { error: error.error, reason: error.reason }, this.mustClose(req, error.status));
    }
    if (error instanceof StoreInputError) return send(res, 400, { error: 'bad-request', reason: error.reason }, this.mustClose(req, 400));
    this.options.onError?.(error);
    send(res, 500, { error: 'internal', reason: 'internal error' }, true);
  }

  /**
   * Whether to close the connection after an error. Node drains an unread request body to keep the connection
   * alive; that is fine for a small declared body, but not for one over the limit or of unknown length.
   */
  private mustClose(req: IncomingMessage, status: number): boolean {
    if (req.complete) return false;
    if (status === 413) return true;
    const length = req.headers['content-length'];
    return length === undefined ? req.headers['transfer-encoding'] !== undefined : !(Number(length) <= this.maxBodyBytes);
  }
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method)) throw new HttpError(405, 'method-not-allowed', `use ${methods.join(', ')}`, { Allow: methods.join(', ') });
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'bad-request', 'body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Read the allowed numeric query parameters (after, before, limit); anything unknown or repeated is a 400. */
function readQuery(query: URLSearchParams, allowed: string[]): { after?: number; before?: number; limit?: number } {
  const out: { after?: number; before?: number; limit?: number } = {};
  const seen = new Set<string>();
  for (const [name, value] of query) {
    if (!allowed.includes(name)) throw new HttpError(400, 'bad-request', `unexpected query parameter ${name}`);
    if (seen.has(name)) throw new HttpError(400, 'bad-request', `repeated query parameter ${name}`);
    seen.add(name);
    if (name === 'order') continue;
    if (!DECIMAL.test(value)) throw new HttpError(400, 'bad-request', `${name} must be a decimal integer`);
    const n = Number(value);
    if (name === 'limit' && (n < 1 || n > MAX_PAGE)) throw new HttpError(400, 'bad-request', `limit must be from 1 to ${MAX_PAGE}`);
    out[name as 'after' | 'before' | 'limit'] = n;
  }
  return out;
}

function send(res: ServerResponse, status: number, body: object | ErrorResponse, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (close) res.setHeader('Connection', 'close');
  res.end(text);
}
