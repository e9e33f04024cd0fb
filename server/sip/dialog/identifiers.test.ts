import { describe, expect, it } from 'vitest';
import { newBranch, newCallId, newTag } from './identifiers';

describe('identifiers', () => {
  it('makes RFC 3261 branches, tags and Call-IDs that do not repeat', () => {
    const branches = new Set(Array.from({ length: 1000 }, newBranch));
    expect(branches.size).toBe(1000);
    for (const b of [...branches].slice(0, 20)) expect(b).toMatch(/^z9hG4bK[A-Za-z0-9]{16}$/);
    expect(newTag()).toMatch(/^[0-9a-f]{16}$/);
    expect(newTag()).not.toBe(newTag());
    expect(newCallId('host.example')).toMatch(/^[0-9a-f]{32}@host\.example$/);
    expect(newCallId()).toMatch(/^[0-9a-f]{32}$/);
  });
});
