import { describe, expect, it } from 'vitest';
import { joinQuestion, moveProgressText, statusReason } from './transfer-text';

describe('what the user reads about a move', () => {
  it('asks the join question with the peer name and the source device', () => {
    expect(joinQuestion({ peerDisplayName: 'Bob', peerUri: 'sip:bob@b.example', sourceDeviceName: 'Laptop' })).toBe(
      'Continue your conversation with Bob here? (moved from Laptop)',
    );
    expect(joinQuestion({ peerDisplayName: ' ', peerUri: 'sip:bob@b.example', sourceDeviceName: 'Laptop' })).toContain('with sip:bob@b.example here?');
  });

  it('says each outcome with its reason', () => {
    expect(moveProgressText('completed', 'Desktop', 200, null)).toBe('Moved to Desktop.');
    expect(moveProgressText('declined', 'Desktop', 603, null)).toBe('Desktop declined the move.');
    expect(moveProgressText('timed-out', 'Desktop', 408, null)).toBe('No answer from Desktop. The chat stays here.');
    expect(moveProgressText('failed', 'Desktop', 480, null)).toBe('The move failed: that device is not reachable right now. The chat stays here.');
    expect(moveProgressText('failed', 'Desktop', null, 'no session')).toBe('The move failed: no session. The chat stays here.');
    expect(statusReason(599)).toBe('the server answered 599');
  });
});
