/**
 * Helpers shared by the store's tests and bench: temporary database directories, and the message factories
 * of `protocol/store/testing`. Not used by production code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { message, messages } from '../../protocol/store/testing/store-fixtures';

/** A fresh directory under the OS temp dir, and a function that removes it. */
export function tempDir(prefix = 'cpm-store-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
