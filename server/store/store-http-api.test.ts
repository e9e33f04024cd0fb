import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigestResponder, parseDigestChallenges, selectDigestChallenge } from '../auth/digest';
import { SqliteMessageStore } from './sqlite-message-store';
import { StoreClient, StoreClientError } from '../../electron/device/history/store-client';
import { StoreHttpApi, usernameToAor } from './store-http-api';
import { message, messages } from './test-fixtures';

const ALICE = 'sip:alice@a.example';
const passwords: Record<string, string> = { [ALICE]: 'alice-pw', 'sip:bob@a.example': 'bob-pw' };

let store: SqliteMessageStore;
let api: StoreHttpApi;
let now = 1_800_000_000_000;
const errors: unknown[] = [];

beforeEach(async () => {
  store = SqliteMessageStore.open({ path: ':memory:' });
  api = await StoreHttpApi.start({
    store,
    realm: 'a.example',
    lookupUser: (aor) => (passwords[aor] === undefined ? undefined : { password: passwords[aor] }),
    maxBodyBytes: 256 * 1024,
    digest: { now: () => now, nonceLifetimeMs: 60_000 },
    onError: (e) => errors.push(e),
  });
});
afterEach(async () => {
  await api.close();
  store.close();
  expect(errors).toEqual([]);
});

const alice = (): StoreClient => new StoreClient({ baseUrl: api.url, username: 'alice@a.example', password: 'alice-pw' });
const bob = (): StoreClient => new StoreClient({ baseUrl: api.url, username: 'bob@a.example', password: 'bob-pw' });

/** An Authorization value for one request, obtained the way a client would. */
async function authorization(username: string, password: string, method: string, path: string): Promise<string> {
  const res = await fetch(`${api.url}${path}`, { method: method === 'POST' ? 'GET' : method });
  const challenge = selectDigestChallenge(parseDigestChallenges([res.headers.get('www-authenticate') ?? '']));
  if (!challenge) throw new Error('no challenge');
  return new DigestResponder(challenge, username, password).authorize(method, path);
}

async function raw(method: string, path: string, init: { body?: string; contentType?: string; as?: 'alice' | 'bob' } = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = {};
  const who = init.as ?? 'alice';
  headers['Authorization'] = await authorization(`${who}@a.example`, `${who}-pw`, method, path);
  if (init.body !== undefined) headers['Content-Type'] = init.contentType ?? 'application/json';
  const res = await fetch(`${api.url}${path}`, { method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe('authentication', () => {
  it('listens on loopback and challenges a request without credentials', async () => {
    expect(api.address.host).toBe('127.0.0.1');
    const res = await fetch(`${api.url}/v1/conversations`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Digest realm="a\.example", qop="auth", algorithm=MD5, nonce="/);
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
  });

  it('lets the client authenticate transparently and reuse its nonce', async () => {
    const client = alice();
    await client.deposit([message()]);
    expect((await client.listConversations()).conversations).toHaveLength(1);
  });

  it('refuses a wrong password and an unknown user with 401', async () => {
    const wrong = new StoreClient({ baseUrl: api.url, username: 'alice@a.example', password: 'guess' });
    await expect(wrong.listConversations()).rejects.toMatchObject({ status: 401 });
    const stranger = new StoreClient({ baseUrl: api.url, username: 'mallory@a.example', password: 'x' });
    await expect(stranger.listConversations()).rejects.toMatchObject({ status: 401 });
    const noDomain = new StoreClient({ baseUrl: api.url, username: 'alice', password: 'alice-pw' });
    await expect(noDomain.listConversations()).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a replayed Authorization header, with stale=true', async () => {
    const header = await authorization('alice@a.example', 'alice-pw', 'GET', '/v1/conversations');
    const first = await fetch(`${api.url}/v1/conversations`, { headers: { Authorization: header } });
    expect(first.status).toBe(200);
    const replay = await fetch(`${api.url}/v1/conversations`, { headers: { Authorization: header } });
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toMatch(/stale=true/);
  });

  it('refuses credentials computed for another path', async () => {
    const header = await authorization('alice@a.example', 'alice-pw', 'GET', '/v1/conversations');
    const res = await fetch(`${api.url}/v1/conversations?limit=5`, { headers: { Authorization: header } });
    expect(res.status).toBe(401);
  });

  it('accepts one client’s parallel requests on the same nonce (nc arriving out of order)', async () => {
    const client = alice();
    await client.deposit(messages(5));
    const pages = await Promise.all(Array.from({ length: 12 }, () => client.fetchNewest('conv-1', { limit: 2 })));
    expect(pages.every((p) => p.messages[0]?.seq === 5)).toBe(true);
  });

  it('re-authenticates by itself when the nonce goes stale', async () => {
    const client = alice();
    await client.listConversations();
    now += 61_000;
    await expect(client.listConversations()).resolves.toMatchObject({ conversations: [] });
  });

  it('maps usernames to AORs and refuses the rest', () => {
    expect(usernameToAor('alice@a.example')).toBe(ALICE);
    expect(usernameToAor('sip:alice@a.example')).toBe(ALICE);
    expect(usernameToAor('alice@A.Example')).toBe(ALICE);
    expect(usernameToAor('SIP:Alice@a.example')).toBe('sip:Alice@a.example');
    expect(usernameToAor('alice')).toBeUndefined();
    expect(usernameToAor('a@b@c')).toBeUndefined();
  });
});

describe('deposit and fetch', () => {
  it('deposits a batch and pages it forward by cursor', async () => {
    const client = alice();
    await client.deposit(messages(120));
    const ids: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await client.fetchAfter('conv-1', { limit: 50, ...(after !== undefined ? { after } : {}) });
      ids.push(...page.messages.map((m) => m.messageId));
      if (!page.hasMore) break;
      after = page.cursor ?? undefined;
    }
    expect(ids).toEqual(Array.from({ length: 120 }, (_, i) => `msg-${i}`));
  });

  it('serves the newest page newest first, then older pages', async () => {
    const client = alice();
    await client.deposit(messages(30));
    const newest = await client.fetchNewest('conv-1', { limit: 10 });
    expect(newest.messages.map((m) => m.seq)).toEqual([30, 29, 28, 27, 26, 25, 24, 23, 22, 21]);
    const older = await client.fetchNewest('conv-1', { limit: 10, before: newest.cursor! });
    expect(older.messages[0]?.seq).toBe(20);
  });

  it('does not duplicate a batch sent again after a lost answer', async () => {
    const client = alice();
    const batch = messages(10);
    await client.deposit(batch);
    const again = await client.deposit(batch);
    expect(again).toMatchObject({ stored: 0, duplicates: 10 });
    expect((await client.fetchAfter('conv-1')).messages).toHaveLength(10);
  });

  it('lists conversations with their last message and updates delivery state', async () => {
    const client = alice();
    await client.deposit([message({ conversationId: 'x', messageId: 'x1' }), message({ conversationId: 'y', messageId: 'y1' })]);
    expect(await client.updateDelivery([{ conversationId: 'x', messageId: 'x1', state: 'displayed' }])).toBe(1);
    const list = await client.listConversations();
    expect(list.conversations.map((c) => [c.conversationId, c.lastMessage.messageId, c.lastMessage.delivery])).toEqual([
      ['y', 'y1', 'none'],
      ['x', 'x1', 'displayed'],
    ]);
    const first = await client.listConversations({ limit: 1 });
    expect(first.cursor).not.toBeNull();
    const rest = await client.listConversations({ limit: 1, before: first.cursor! });
    expect(rest.conversations.map((c) => c.conversationId)).toEqual(['x']);
  });

  it('stores SQL metacharacters in every field literally, through HTTP', async () => {
    const client = alice();
    const nasty = message({
      conversationId: "c'%--",
      messageId: "m'`*~!",
      sender: "sip:o'brien;--@a.example",
      recipient: "sip:b@b.example;x='1'%20OR%201=1",
      contentType: 'text/plain; q="\'; DROP TABLE messages; --"',
      body: "Robert'); DROP TABLE messages;-- \" \\ % _ 😀",
    });
    await client.deposit([nasty]);
    const page = await client.fetchAfter("c'%--");
    expect(page.messages[0]).toMatchObject(nasty);
    expect(page.conversationId).toBe("c'%--");
  });
});

describe('history continuity across a transfer (PROFILE.md "History continuity")', () => {
  it('gives the target device every message once, in order, when both devices deposit overlapping sets', async () => {
    const source = alice(); // A-D1
    const target = alice(); // A-Dn: same user, another device
    const m = (i: number, direction: 'in' | 'out'): ReturnType<typeof message> =>
      message({ conversationId: 'chat', messageId: `m${i}`, direction, sender: direction === 'out' ? ALICE : 'sip:bob@b.example', recipient: direction === 'out' ? 'sip:bob@b.example' : ALICE });
    await source.deposit([m(1, 'out'), m(2, 'in')]);
    // The target accepts the Join and fetches the history.
    const first = await target.fetchAfter('chat');
    expect(first.messages.map((x) => x.messageId)).toEqual(['m1', 'm2']);
    // During the hand-over: the target already has m4 on its new session and deposits it; m3 reached A-D1 only.
    await target.deposit([m(4, 'in')]);
    // Before its BYE, A-D1 deposits everything it sent or received, including what the store already has.
    await source.deposit([m(1, 'out'), m(2, 'in'), m(3, 'in'), m(4, 'in')]);
    // After the release the target fetches again from its cursor: each missing message once, nothing repeated.
    const second = await target.fetchAfter('chat', { after: first.cursor! });
    expect(second.messages.map((x) => x.messageId)).toEqual(['m4', 'm3']);
    expect((await target.fetchAfter('chat')).messages).toHaveLength(4);
  });
});

describe('isolation between users', () => {
  beforeEach(async () => {
    await alice().deposit([message({ conversationId: 'secret', body: 'for alice only' })]);
  });

  it('answers another user’s conversation exactly like one that does not exist', async () => {
    const theirs = await raw('GET', '/v1/conversations/secret/messages', { as: 'bob' });
    const nobodys = await raw('GET', '/v1/conversations/nothing/messages', { as: 'bob' });
    expect(theirs.status).toBe(404);
    expect(theirs.json).toEqual(nobodys.json);
    const desc = await raw('GET', '/v1/conversations/secret/messages?order=desc', { as: 'bob' });
    expect(desc.status).toBe(404);
  });

  it('never lists or updates another user’s data', async () => {
    const b = bob();
    expect((await b.listConversations()).conversations).toEqual([]);
    expect(await b.updateDelivery([{ conversationId: 'secret', messageId: 'msg-1', state: 'displayed' }])).toBe(0);
    expect((await alice().fetchAfter('secret')).messages[0]?.delivery).toBe('none');
  });

  it('refuses a deposit for another owner with 403 and writes nothing', async () => {
    const err = await bob()
      .deposit([message({ conversationId: 'planted' })], { owner: ALICE })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreClientError);
    expect(err).toMatchObject({ status: 403 });
    expect(store.hasConversation(ALICE, 'planted')).toBe(false);
    expect(store.hasConversation('sip:bob@a.example', 'planted')).toBe(false);
  });

  it('keeps a user’s deposit of the same ids separate from the other’s', async () => {
    await bob().deposit([message({ conversationId: 'secret', body: 'bob’s own' })]);
    expect((await alice().fetchAfter('secret')).messages.map((m) => m.body)).toEqual(['for alice only']);
  });
});

describe('failures', () => {
  it('answers 500 with a generic reason when a dependency throws, and reports the error', async () => {
    const reported: unknown[] = [];
    const broken = await StoreHttpApi.start({
      store,
      realm: 'a.example',
      lookupUser: () => {
        throw new Error('user database down');
      },
      onError: (e) => reported.push(e),
    });
    try {
      const client = new StoreClient({ baseUrl: broken.url, username: 'alice@a.example', password: 'alice-pw' });
      await expect(client.listConversations()).rejects.toMatchObject({ status: 500, reason: 'internal error' });
      expect(reported).toHaveLength(1);
    } finally {
      await broken.close();
    }
  });

  it('reports an unreachable server as a network error', async () => {
    const url = api.url;
    await api.close();
    await expect(new StoreClient({ baseUrl: url, username: 'alice@a.example', password: 'alice-pw' }).listConversations()).rejects.toMatchObject({ status: 0, error: 'network' });
    api = await StoreHttpApi.start({ store, realm: 'a.example', lookupUser: () => undefined });
  });
});

describe('bad input', () => {
  it.each([
    ['malformed JSON', '{"messages": [', /not JSON/],
    ['a JSON array', '[]', /JSON object/],
    ['no messages', '{}', /must be an array/],
    ['too many messages', JSON.stringify({ messages: messages(501) }), /at most 500/],
    ['one bad message among good ones', JSON.stringify({ messages: [...messages(5), message({ messageId: 'x', direction: 'up' as 'in' })] }), /messages\[5\]\.direction/],
    ['a forged conversation id', JSON.stringify({ messages: [message({ conversationId: '../../etc' })] }), /conversationId/],
    ['a non-ISO datetime', JSON.stringify({ messages: [message({ dateTime: 'Thu, 26 Nov 2026 20:00:00 GMT' })] }), /date-time/],
  ])('answers %s with 400 and a reason, writing nothing', async (_name, body, reason) => {
    const res = await raw('POST', '/v1/messages', { body });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'bad-request', reason: expect.stringMatching(reason) });
    expect(store.listConversations(ALICE)).toEqual([]);
  });

  it('answers a body over the limit with 413', async () => {
    const big = JSON.stringify({ messages: messages(5).map((m) => ({ ...m, body: 'x'.repeat(60_000) })) });
    const res = await raw('POST', '/v1/messages', { body: big });
    expect(res.status).toBe(413);
    expect(store.listConversations(ALICE)).toEqual([]);
  });

  it('answers a non-JSON content type with 415', async () => {
    const res = await raw('POST', '/v1/messages', { body: JSON.stringify({ messages: [message()] }), contentType: 'text/plain' });
    expect(res.status).toBe(415);
  });

  it.each([
    ['/v1/conversations/conv%2F1/messages', /conversationId is malformed/],
    ['/v1/conversations/%E0%A4%A/messages', /percent-encoding/],
    ['/v1/conversations/c%00/messages', /conversationId is malformed/],
    [`/v1/conversations/${'c'.repeat(129)}/messages`, /conversationId is malformed/],
    ['/v1/conversations/conv-1/messages?after=-1', /after must be/],
    ['/v1/conversations/conv-1/messages?limit=0', /limit must be/],
    ['/v1/conversations/conv-1/messages?limit=501', /limit must be/],
    ['/v1/conversations/conv-1/messages?after=1&before=2', /unexpected query parameter before/],
    ['/v1/conversations/conv-1/messages?order=desc&after=3', /unexpected query parameter after/],
    ['/v1/conversations/conv-1/messages?order=sideways', /order must be/],
    ['/v1/conversations/conv-1/messages?after=1&after=2', /repeated/],
    ['/v1/conversations/conv-1/messages?after=1e3', /after must be/],
    ["/v1/conversations/conv-1/messages?after=1;DROP%20TABLE%20messages", /after must be/],
  ])('answers GET %s with 400', async (path, reason) => {
    await alice().deposit([message()]);
    const res = await raw('GET', path);
    expect(res.status).toBe(400);
    expect(res.json['reason']).toMatch(reason);
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    expect((await raw('GET', '/v1/nothing')).status).toBe(404);
    const res = await raw('DELETE', '/v1/messages');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});
