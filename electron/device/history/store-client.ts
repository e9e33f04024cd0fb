/**
 * The device's typed client of the Message Store HTTP API (`server/store/store-http-api.ts`, wire shapes in
 * `protocol/store/store-wire.ts`), over `fetch`, answering Digest challenges itself (`protocol/digest`): the
 * first request goes out bare, the 401's challenge is answered, and later requests reuse that nonce with
 * increasing nc until the server says `stale=true` (RFC 7616 §3.4–3.5).
 */
import { parseDigestChallenges, selectDigestChallenge, type DigestChallenge } from '../../../protocol/digest/digest-challenge';
import type { DigestAlgorithm, DigestHash } from '../../../protocol/digest/digest-computation';
import { DigestResponder } from '../../../protocol/digest/digest-responder';
import type { DeliveryUpdate, DepositResult, MessageInput } from '../../../protocol/store/store-types';
import type { ConversationListResponse, DeliveryResponse, MessagePageResponse } from '../../../protocol/store/store-wire';
import { deviceDigestHash } from './node-digest-hash';

/** Options of a `StoreClient`. */
export interface StoreClientOptions {
  /** e.g. `http://127.0.0.1:41234`. */
  baseUrl: string;
  /** Digest username: `user@domain` (the AOR without `sip:`). */
  username: string;
  password: string;
  /** Algorithms we are willing to answer, in preference order; default: every supported one, SHA first. */
  algorithms?: readonly DigestAlgorithm[];
  /** fetch implementation, for tests; default the global fetch. */
  fetch?: typeof fetch;
  /** Digest hash; default `node:crypto`'s. */
  hash?: DigestHash;
}

/** A non-2xx answer (`status`), an answer that is not the expected JSON, or no answer at all (`status` 0, `network`). */
export class StoreClientError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(`${status} ${error}: ${reason}`);
    this.name = 'StoreClientError';
  }
}

/** The Message Store HTTP API, typed. */
export class StoreClient {
  private responder: DigestResponder | undefined;
  private readonly fetch: typeof fetch;
  private readonly base: string;

  constructor(private readonly options: StoreClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.base = options.baseUrl.replace(/\/+$/, '');
  }

  /** Deposit a batch (idempotent: safe to repeat after a lost answer). */
  async deposit(messages: readonly MessageInput[], options: { owner?: string } = {}): Promise<DepositResult> {
    const body = await this.request('POST', '/v1/messages', { ...options, messages });
    return expectShape<DepositResult>(body, ['stored', 'duplicates', 'outcomes']);
  }

  /** Messages after a cursor, oldest first. */
  async fetchAfter(conversationId: string, options: { after?: string; limit?: number } = {}): Promise<MessagePageResponse> {
    const query = new URLSearchParams();
    if (options.after !== undefined) query.set('after', options.after);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    return this.page(conversationId, query);
  }

  /** The newest messages (before a cursor, if given), newest first. */
  async fetchNewest(conversationId: string, options: { before?: string; limit?: number } = {}): Promise<MessagePageResponse> {
    const query = new URLSearchParams({ order: 'desc' });
    if (options.before !== undefined) query.set('before', options.before);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    return this.page(conversationId, query);
  }

  /** The user's conversations, most recently active first. */
  async listConversations(options: { before?: string; limit?: number } = {}): Promise<ConversationListResponse> {
    const query = new URLSearchParams();
    if (options.before !== undefined) query.set('before', options.before);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const qs = query.toString();
    const body = await this.request('GET', `/v1/conversations${qs ? `?${qs}` : ''}`);
    return expectShape<ConversationListResponse>(body, ['conversations', 'cursor']);
  }

  /** Apply IMDN outcomes; resolves to how many messages changed. */
  async updateDelivery(updates: readonly DeliveryUpdate[]): Promise<number> {
    const body = await this.request('POST', '/v1/delivery', { updates });
    return expectShape<DeliveryResponse>(body, ['changed']).changed;
  }

  private async page(conversationId: string, query: URLSearchParams): Promise<MessagePageResponse> {
    const qs = query.toString();
    const body = await this.request('GET', `/v1/conversations/${encodeURIComponent(conversationId)}/messages${qs ? `?${qs}` : ''}`);
    return expectShape<MessagePageResponse>(body, ['conversationId', 'messages', 'cursor', 'hasMore']);
  }

  /**
   * Send one request, answering at most two challenges (a first one, then one marked stale), and return the
   * parsed JSON body of a 2xx answer.
   */
  private async request(method: string, path: string, json?: unknown): Promise<unknown> {
    const body = json === undefined ? undefined : JSON.stringify(json);
    // Sign the request target exactly as it goes on the wire (the URL parser may re-encode characters).
    const url = new URL(`${this.base}${path}`);
    const target = `${url.pathname}${url.search}`;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (this.responder) headers['Authorization'] = this.responder.authorize(method, target);
      let res: Response;
      try {
        res = await this.fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
      } catch (error) {
        throw new StoreClientError(0, 'network', error instanceof Error ? error.message : String(error));
      }
      if (res.status === 401 && attempt < 2) {
        const challenge = this.challengeFrom(res);
        if (challenge !== undefined && (this.responder === undefined || challenge.stale || attempt === 0)) {
          await res.arrayBuffer().catch(() => undefined);
          this.responder = new DigestResponder(challenge, { username: this.options.username, password: this.options.password }, this.options.hash ?? deviceDigestHash);
          continue;
        }
      }
      return readBody(res);
    }
  }

  private challengeFrom(res: Response): DigestChallenge | undefined {
    // fetch joins repeated WWW-Authenticate fields with ", ", which the challenge parser splits again.
    const header = res.headers.get('www-authenticate');
    if (header === null) return undefined;
    try {
      return selectDigestChallenge(parseDigestChallenges([header]), this.options.algorithms);
    } catch {
      return undefined;
    }
  }
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    throw new StoreClientError(res.status, 'bad-response', 'answer is not JSON');
  }
  if (!res.ok) {
    const obj = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const error = typeof obj['error'] === 'string' ? obj['error'] : 'http-error';
    const reason = typeof obj['reason'] === 'string' ? obj['reason'] : res.statusText;
    throw new StoreClientError(res.status, error, reason);
  }
  return parsed;
}

/** Check that a body is an object with the given fields; the field types are the server's contract. */
function expectShape<T>(body: unknown, fields: readonly string[]): T {
  if (typeof body !== 'object' || body === null) throw new StoreClientError(200, 'bad-response', 'answer is not a JSON object');
  for (const f of fields) if (!(f in body)) throw new StoreClientError(200, 'bad-response', `answer lacks ${f}`);
  return body as T;
}
