import { describe, expect, it, vi } from 'vitest';
import { createInProcessTransport } from './in-process-transport';

describe('an in-process DeviceApi transport', () => {
  it('hands every command to the dispatcher and resolves with its answer', async () => {
    const dispatch = vi.fn(async (channel: string, args: unknown) => ({ channel, args }));
    const transport = createInProcessTransport(dispatch);
    await expect(transport.invoke('cpm:command:startChat', ['sip:bob@b.example'])).resolves.toEqual({ channel: 'cpm:command:startChat', args: ['sip:bob@b.example'] });
    expect(dispatch).toHaveBeenCalledTimes(1);
  });

  it('delivers an event to the subscribers of its channel only, until they unsubscribe', () => {
    const transport = createInProcessTransport(async () => undefined);
    const devices: unknown[] = [];
    const messages: unknown[] = [];
    const stop = transport.subscribe('cpm:event:devices', (p) => devices.push(p));
    transport.subscribe('cpm:event:message', (p) => messages.push(p));
    transport.publish('cpm:event:devices', 1);
    stop();
    transport.publish('cpm:event:devices', 2);
    expect(devices).toEqual([1]);
    expect(messages).toEqual([]);
  });

  it('delivers an event to the listeners subscribed when it was published, not to one added meanwhile', () => {
    const transport = createInProcessTransport(async () => undefined);
    const seen: string[] = [];
    transport.subscribe('cpm:event:devices', (p) => {
      seen.push(`first ${String(p)}`);
      if (p === 1) transport.subscribe('cpm:event:devices', (q) => seen.push(`late ${String(q)}`));
    });
    transport.publish('cpm:event:devices', 1);
    transport.publish('cpm:event:devices', 2);
    expect(seen).toEqual(['first 1', 'first 2', 'late 2']);
  });
});
