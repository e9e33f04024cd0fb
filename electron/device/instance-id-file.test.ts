import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateInstanceId } from './sip/cpm-user-agent';
import { FileInstanceIdStore, INSTANCE_ID_FILE } from './instance-id-file';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'instance-id-'));
  dirs.push(d);
  return d;
}

describe('FileInstanceIdStore', () => {
  it('creates the instance id once, in a folder it creates, and returns the same one after a restart', async () => {
    const dir = join(await tempDir(), 'nested', 'device');
    const first = await loadOrCreateInstanceId(new FileInstanceIdStore(dir));
    expect(first).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect((await readFile(join(dir, INSTANCE_ID_FILE), 'utf8')).trim()).toBe(first);
    expect(await loadOrCreateInstanceId(new FileInstanceIdStore(dir))).toBe(first);
  });

  it('refuses a damaged file instead of silently becoming another device', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, INSTANCE_ID_FILE), 'not-a-urn\n');
    await expect(loadOrCreateInstanceId(new FileInstanceIdStore(dir))).rejects.toThrow('stored instance id "not-a-urn" is not a urn:uuid');
  });

  it('treats an empty file as no id', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, INSTANCE_ID_FILE), '\n');
    expect(await new FileInstanceIdStore(dir).load()).toBeNull();
  });
});
