import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabDescription, parseLabDescription } from './lab-description';

const LAB = {
  domains: [
    { domain: 'a.example', ws: 'ws://127.0.0.1:5062', wss: 'wss://127.0.0.1:5063', transferService: 'sip:cpm-transfer@a.example', store: 'http://127.0.0.1:8080', mode: 'proxy', udp: 1 },
  ],
  users: [{ uri: 'sip:alice@a.example', password: 'alice-secret' }],
  certificate: '-----BEGIN CERTIFICATE-----',
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpm-labdesc-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('reading the running lab’s description', () => {
  it('keeps what the shell needs from the line `npm run lab` prints', () => {
    expect(parseLabDescription(LAB)).toEqual({
      domains: [{ domain: 'a.example', ws: 'ws://127.0.0.1:5062', transferService: 'sip:cpm-transfer@a.example', store: 'http://127.0.0.1:8080', mode: 'proxy' }],
      users: [{ uri: 'sip:alice@a.example', password: 'alice-secret' }],
    });
  });

  it.each([
    [null, 'lab description: (root) must be an object'],
    [{ ...LAB, domains: [] }, 'lab description: domains must be a non-empty array'],
    [{ ...LAB, users: undefined }, 'lab description: users must be an array'],
    [{ ...LAB, domains: [{ ...LAB.domains[0], ws: 'http://x' }] }, 'lab description: domains[0].ws must match ^wss?:\\/\\/ (got "http://x")'],
    [{ ...LAB, domains: [{ ...LAB.domains[0], mode: 'b2bua' }] }, 'lab description: domains[0].mode must be "in-path" or "proxy"'],
    [{ ...LAB, users: [{ uri: 'sip:alice@a.example' }] }, 'lab description: users[0].password must be a non-empty string'],
  ])('names the bad field of %j', (value, message) => {
    expect(() => parseLabDescription(value)).toThrow(message);
  });

  it('reads a file holding the JSON, pretty-printed or as the first line of the lab’s output', async () => {
    const pretty = join(dir, 'pretty.json');
    await writeFile(pretty, JSON.stringify(LAB, null, 2));
    expect((await loadLabDescription(pretty)).domains).toHaveLength(1);
    const captured = join(dir, 'stdout.txt');
    await writeFile(captured, `${JSON.stringify(LAB)}\nlab: something else\n`);
    expect((await loadLabDescription(captured)).users).toHaveLength(1);
  });

  it('says what is wrong with a missing or non-JSON file', async () => {
    await expect(loadLabDescription(join(dir, 'absent.json'))).rejects.toThrow(/cannot read .*absent\.json/);
    const text = join(dir, 'text.txt');
    await writeFile(text, 'hello');
    await expect(loadLabDescription(text)).rejects.toThrow(/is not JSON/);
  });
});
