/**
 * The device's `+sip.instance` (RFC 5626 §4.1) kept in a file of its data folder, so that a restarted
 * device registers as the same instance (same GRUU, same entry in the others' device lists).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceIdStore } from './sip/cpm-user-agent';

/** The file name inside the data folder. */
export const INSTANCE_ID_FILE = 'instance-id';

/** An InstanceIdStore over `<dataDir>/instance-id` (written atomically: temp file, then rename). */
export class FileInstanceIdStore implements InstanceIdStore {
  constructor(private readonly dataDir: string) {}

  async load(): Promise<string | null> {
    try {
      const text = (await readFile(join(this.dataDir, INSTANCE_ID_FILE), 'utf8')).trim();
      return text === '' ? null : text;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async save(instanceId: string): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    const path = join(this.dataDir, INSTANCE_ID_FILE);
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, `${instanceId}\n`, { mode: 0o600 });
    await rename(temp, path);
  }
}
