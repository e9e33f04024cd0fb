import { describe, expect, it } from 'vitest';
import { StoreClient, StoreClientError } from './store-client';

const CHALLENGE = 'Digest realm="a.example", qop="auth", algorithm=MD5, nonce="n1", opaque="o"';

/** A fetch that answers from a script and records what was sent. */
function scripted(answers: (() => Response)[]) {
  const sent: { url: string; method: string; authorization: string | null }[] = [];
  const fetchImpl = ((input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    sent.push({ url: String(input), method: init?.method ?? 'GET', authorization: new Headers(init?.headers).get('authorization') });
    const next = answers.shift();
    return next ? Promise.resolve(next()) : Promise.reject(new TypeError('no more answers'));
  }) as typeof fetch;
  return { fetchImpl, sent };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): (() => Response) => () =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const challenge = (stale = false): (() => Response) => json(401, { error: 'unauthorized', reason: 'x' }, { 'WWW-Authenticate': `${CHALLENGE}${stale ? ', stale=true' : ''}` });
const list = json(200, { conversations: [], cursor: null });

function client(fetchImpl: typeof fetch): StoreClient {
  return new StoreClient({ baseUrl: 'http://127.0.0.1:9/', username: 'alice@a.example', password: 'pw', fetch: fetchImpl });
}

describe('the store client', () => {
  it('answers the challenge, then authorizes later requests up front with the next nc', async () => {
    const { fetchImpl, sent } = scripted([challenge(), list, list]);
    const c = client(fetchImpl);
    await c.listConversations();
    await c.listConversations({ limit: 5 });
    expect(sent.map((s) => s.authorization?.match(/nc=(\w+)/)?.[1] ?? null)).toEqual([null, '00000001', '00000002']);
    expect(sent[2]?.authorization).toContain('uri="/v1/conversations?limit=5"');
  });

  it('answers a stale challenge once more without bothering the user', async () => {
    const { fetchImpl, sent } = scripted([challenge(), list, challenge(true), list]);
    const c = client(fetchImpl);
    await c.listConversations();
    await expect(c.listConversations()).resolves.toEqual({ conversations: [], cursor: null });
    expect(sent).toHaveLength(4);
  });

  it('gives up with 401 when the answered challenge is refused again (wrong password)', async () => {
    const { fetchImpl, sent } = scripted([challenge(), challenge(), challenge()]);
    await expect(client(fetchImpl).listConversations()).rejects.toMatchObject({ status: 401, error: 'unauthorized' });
    expect(sent).toHaveLength(2);
  });

  it('reports an answer that is not JSON, or lacks a field, as a bad response', async () => {
    const notJson = scripted([() => new Response('<html>', { status: 200 })]);
    await expect(client(notJson.fetchImpl).listConversations()).rejects.toMatchObject({ error: 'bad-response', reason: 'answer is not JSON' });
    const partial = scripted([json(200, { conversations: [] })]);
    await expect(client(partial.fetchImpl).listConversations()).rejects.toMatchObject({ error: 'bad-response', reason: 'answer lacks cursor' });
  });

  it('reports a refused connection as a network error with status 0', async () => {
    const err = await client(scripted([]).fetchImpl).listConversations().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreClientError);
    expect(err).toMatchObject({ status: 0, error: 'network' });
  });

  it('percent-encodes the conversation id in the path it signs', async () => {
    const { fetchImpl, sent } = scripted([challenge(), json(200, { conversationId: "c'1", messages: [], cursor: null, hasMore: false })]);
    await client(fetchImpl).fetchAfter("c'1 x");
    expect(sent[1]?.url).toBe('http://127.0.0.1:9/v1/conversations/c\'1%20x/messages');
    expect(sent[1]?.authorization).toContain('uri="/v1/conversations/c\'1%20x/messages"');
  });
});
