import { describe, expect, it, vi } from 'vitest';
import type { DeviceCommands } from '../../electron/api/device-api';
import type { JoinRequest } from '../../electron/api/payloads';
import { commandDoubles, storeOverBridge } from './store-test-kit';
import { isTargetFinalPhase, JOIN_PROMPT_MS, joinDeadline, UNNAMED_SOURCE } from './transfer-slice';

type Spy = ReturnType<typeof vi.fn<(...args: unknown[]) => Promise<unknown>>>;

/** A store over a scripted agent (test double) behind the real client and dispatcher, with a clock the test moves. */
function setup() {
  const spies = commandDoubles<Spy>(() => vi.fn(async () => undefined));
  spies.getMessages.mockResolvedValue({ messages: [], hasMore: false });
  const { store, emit, tick, now } = storeOverBridge(spies as unknown as DeviceCommands, { clockStart: 1_000_000 });
  const target = (phase: 'requested' | 'joining' | 'replaced' | 'completed' | 'failed', statusCode: number | null = null) =>
    emit('transferProgress', { transferId: 'j-1', conversationId: 'conv-1', role: 'target', phase, statusCode });
  return { store, spies, emit, target, tick, now };
}

const request = (expiresAt: number): JoinRequest => ({
  joinId: 'j-1', conversationId: 'conv-1', peerUri: 'sip:bob@b.example', peerDisplayName: 'Bob', sourceDeviceName: 'Laptop', expiresAt,
});

describe('the Join prompt countdown', () => {
  it('runs 60 s from the moment the request reached the store, however long the page was open before', () => {
    const { store, emit, tick, now } = setup();
    tick(5 * 60_000); // the page has been open five minutes
    emit('joinRequest', request(now() + 60_000));
    const [pending] = store.getState().joinRequests;
    expect(pending).toMatchObject({ receivedAt: now(), deadline: now() + 60_000 });
    tick(59_999);
    store.getState().expireJoinRequests(now());
    expect(store.getState().joinRequests).toHaveLength(1);
    tick(1);
    store.getState().expireJoinRequests(now());
    expect(store.getState().joinRequests).toEqual([]);
  });

  it("trusts the device's expiry only within the 60 s after arrival (clocks may disagree)", () => {
    expect(joinDeadline(1_050, 1_000)).toBe(1_050); // a request that spent 59.95 s on the way: its real end
    expect(joinDeadline(1_000 + JOIN_PROMPT_MS, 1_000)).toBe(1_000 + JOIN_PROMPT_MS);
    expect(joinDeadline(900, 1_000)).toBe(1_000 + JOIN_PROMPT_MS); // the device's clock is behind
    expect(joinDeadline(1_000 + 10 * JOIN_PROMPT_MS, 1_000)).toBe(1_000 + JOIN_PROMPT_MS); // ahead
    expect(joinDeadline(Number.NaN, 1_000)).toBe(1_000 + JOIN_PROMPT_MS);
  });

  it('keeps the arrival time when the same request is sent again', () => {
    const { store, emit, tick, now } = setup();
    const first = now();
    emit('joinRequest', request(first + 60_000));
    tick(10_000);
    emit('joinRequest', request(first + 60_000));
    expect(store.getState().joinRequests).toEqual([expect.objectContaining({ receivedAt: first, deadline: first + 60_000 })]);
  });
});

describe('a move arriving on this device (target)', () => {
  it("is over at the target's final event, replaced: the banner state ends, a marker is added and the history reloaded", async () => {
    const { store, spies, emit, target } = setup();
    emit('joinRequest', request(2_000_000));
    await store.getState().acceptJoin('j-1');
    target('joining');
    expect(store.getState().joined['conv-1']).toEqual({ sourceDeviceName: 'Laptop', phase: 'joining' });
    expect(isTargetFinalPhase('joining')).toBe(false);
    target('replaced', 200);
    expect(isTargetFinalPhase(store.getState().joined['conv-1']!.phase)).toBe(true);
    expect(store.getState().markers['conv-1']).toEqual([{ at: 1_000_000, text: 'Moved here from Laptop' }]);
    await vi.waitFor(() => expect(spies.getMessages).toHaveBeenCalledWith('conv-1', { limit: 100 }));
    // A late `completed` (the source's word) changes nothing more.
    target('completed', 200);
    expect(store.getState().markers['conv-1']).toHaveLength(1);
    expect(store.getState().joined['conv-1']?.phase).toBe('replaced');
  });

  it('answered on the OS notification: the prompt goes, and the move is followed to its end', () => {
    const { store, emit, target } = setup();
    target('requested');
    emit('joinRequest', request(2_000_000));
    target('joining');
    expect(store.getState().joinRequests).toEqual([]);
    target('replaced', 200);
    expect(store.getState().markers['conv-1']?.map((m) => m.text)).toEqual(['Moved here from Laptop']);
  });

  it('accepted without a prompt (auto-accept): followed too, naming no device the events do not name', () => {
    const { store, target } = setup();
    target('requested');
    expect(store.getState().joined['conv-1']).toBeUndefined();
    target('joining');
    expect(store.getState().joined['conv-1']?.sourceDeviceName).toBe(UNNAMED_SOURCE);
    target('replaced', 200);
    expect(store.getState().markers['conv-1']?.map((m) => m.text)).toEqual([`Moved here from ${UNNAMED_SOURCE}`]);
  });

  it('a join that failed ends with an error and no marker', () => {
    const { store, emit, target } = setup();
    emit('joinRequest', request(2_000_000));
    void store.getState().acceptJoin('j-1');
    target('joining');
    target('failed', 486);
    expect(store.getState().joinError).toBe('The chat could not be moved here from Laptop.');
    expect(store.getState().markers['conv-1']).toBeUndefined();
  });
});
