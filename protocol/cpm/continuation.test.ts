import { describe, expect, it } from 'vitest';
import { judgeContinuation, type LiveDialog } from './continuation';

const live: LiveDialog = { id: 's1', peerAor: 'sip:alice@a.example', conversationId: 'conv-1' };
const lookup = (td: { callId: string; localTag: string; remoteTag: string }) =>
  td.callId === 'T@a' && td.localTag === 'bob' && td.remoteTag === 'lap' ? live : undefined;

describe('Bob’s device judges an INVITE that continues its chat with Alice (RFC 4538 §4)', () => {
  it('no Target-Dialog: an ordinary new session (prompt the user)', () => {
    expect(judgeContinuation({ targetDialog: undefined, assertedAor: 'sip:alice@a.example', conversationId: 'conv-1' }, lookup)).toEqual({ kind: 'new-session' });
  });
  it('Target-Dialog naming the live dialog from our side, same user, same conversation: a continuation', () => {
    const v = judgeContinuation({ targetDialog: 'T@a;local-tag=bob;remote-tag=lap', assertedAor: 'sip:alice@a.example', conversationId: 'conv-1' }, lookup);
    expect(v.kind).toBe('continuation');
  });
  it('tags given from the sender’s side do not match: 481', () => {
    expect(judgeContinuation({ targetDialog: 'T@a;local-tag=lap;remote-tag=bob', assertedAor: 'sip:alice@a.example', conversationId: 'conv-1' }, lookup)).toMatchObject({ status: 481 });
  });
  it('another user naming Alice’s dialog: 403; another conversation: 403; garbage: 400', () => {
    expect(judgeContinuation({ targetDialog: 'T@a;local-tag=bob;remote-tag=lap', assertedAor: 'sip:carol@a.example', conversationId: 'conv-1' }, lookup)).toMatchObject({ status: 403 });
    expect(judgeContinuation({ targetDialog: 'T@a;local-tag=bob;remote-tag=lap', assertedAor: 'sip:alice@a.example', conversationId: 'conv-2' }, lookup)).toMatchObject({ status: 403 });
    expect(judgeContinuation({ targetDialog: 'T@a;local-tag=bob', assertedAor: 'sip:alice@a.example', conversationId: 'conv-1' }, lookup)).toMatchObject({ status: 400 });
  });
});
