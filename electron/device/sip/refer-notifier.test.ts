import { describe, expect, it } from 'vitest';
import type { DialogRequestHandlers, JsSipDialog, JsSipIncomingRequest } from './jssip-internals';
import { ReferNotifier, ReferNotifierState } from './refer-notifier';

/** A dialog that records the NOTIFYs sent in it and answers each 200. */
function fakeDialog() {
  const sent: Array<{ headers: string[]; body: string }> = [];
  let terminated = false;
  const dialog = {
    id: { call_id: 'join-1', local_tag: 'ours', remote_tag: 'cs', toString: () => 'join-1ourscs' },
    local_seqnum: 1,
    sendRequest(_method: string, options?: { extraHeaders?: string[]; body?: string; eventHandlers?: DialogRequestHandlers }) {
      sent.push({ headers: options?.extraHeaders ?? [], body: options?.body ?? '' });
      queueMicrotask(() => options?.eventHandlers?.onSuccessResponse?.({ status_code: 200 } as never));
      return {} as never;
    },
    terminate() {
      terminated = true;
    },
    receiveRequest() {},
  } as unknown as JsSipDialog;
  return { dialog, sent, terminated: () => terminated };
}

/** An in-dialog request with these headers; `replies` records what it was answered. */
function request(method: string, headers: Record<string, string>) {
  const replies: Array<{ code: number; headers: string[] }> = [];
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const r = {
    method,
    cseq: 7,
    getHeader: (name: string) => lower[name.toLowerCase()],
    reply: (code: number, _reason?: string | null, extra: string[] = []) => replies.push({ code, headers: extra }),
  } as unknown as JsSipIncomingRequest;
  return { r, replies };
}

const REFER = { cseq: 7 } as unknown as JsSipIncomingRequest;

describe('ReferNotifier: the Join subscription on the target device (RFC 3515, RFC 6665)', () => {
  it('ends the subscription when Conversation Server A unsubscribes: 200, then a last NOTIFY saying terminated', async () => {
    const d = fakeDialog();
    const notifier = new ReferNotifier(d.dialog, REFER, '<sip:alice@a.example;gr=x>', () => undefined);
    await notifier.start();
    const { r, replies } = request('SUBSCRIBE', { Event: 'refer;id=7', Expires: '0' });
    notifier.receiveRequest(r);
    expect(replies).toEqual([{ code: 200, headers: ['Expires: 0'] }]);
    expect(notifier.state).toBe(ReferNotifierState.Terminated);
    expect(d.sent.at(-1)!.headers).toContain('Subscription-State: terminated');
    expect(d.sent.at(-1)!.body).toContain('SIP/2.0 100 Trying');
    expect(d.terminated()).toBe(true);
    // Too late for anything else: the subscription is gone.
    const again = request('SUBSCRIBE', { Event: 'refer;id=7', Expires: '0' });
    notifier.receiveRequest(again.r);
    expect(again.replies.map((x) => x.code)).toEqual([481]);
  });

  it('answers a refresh without extending the subscription past what it was given', async () => {
    const d = fakeDialog();
    const notifier = new ReferNotifier(d.dialog, REFER, '<sip:alice@a.example;gr=x>', () => undefined, 120);
    const { r, replies } = request('SUBSCRIBE', { Event: 'refer', Expires: '3600' });
    notifier.receiveRequest(r);
    expect(replies[0]!.code).toBe(200);
    expect(Number(replies[0]!.headers[0]!.replace('Expires: ', ''))).toBeLessThanOrEqual(120);
    expect(notifier.state).toBe(ReferNotifierState.Active);
    await notifier.finish(603, 'Decline');
  });

  it('refuses another event package with 489 and other methods with 405', async () => {
    const d = fakeDialog();
    const notifier = new ReferNotifier(d.dialog, REFER, '<sip:alice@a.example;gr=x>', () => undefined);
    const wrongEvent = request('SUBSCRIBE', { Event: 'presence', Expires: '0' });
    notifier.receiveRequest(wrongEvent.r);
    const info = request('INFO', {});
    notifier.receiveRequest(info.r);
    expect([wrongEvent.replies[0]!.code, info.replies[0]!.code]).toEqual([489, 405]);
    expect(notifier.state).toBe(ReferNotifierState.Active);
    await notifier.finish(603, 'Decline');
  });
});
