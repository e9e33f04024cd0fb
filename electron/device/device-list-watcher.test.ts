import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { CPM_FEATURE_TAG } from '../../protocol/cpm/cpm-headers';
import { buildReginfo, type RegContact } from '../../protocol/reginfo/reginfo';
import type { DeviceInfo } from '../api/payloads';
import { DeviceListWatcher } from './device-list-watcher';
import type { CpmUserAgent } from './sip/cpm-user-agent';
import { RegistrationState, RegistrationStateMachine } from './sip/registration-state';

const SELF = 'urn:uuid:00000000-0000-4000-8000-00000000000a';
const DESK = 'urn:uuid:00000000-0000-4000-8000-00000000000b';

/** A JsSIP Subscriber stand-in: records what the watcher does, lets the test play the notifier. */
class FakeSubscription extends EventEmitter {
  subscribed = 0;
  terminated = 0;
  subscribe(): void {
    this.subscribed++;
  }
  terminate(): void {
    this.terminated++;
  }
  notify(body: string): void {
    this.emit('notify', false, {}, body, 'application/reginfo+xml');
  }
}

function fakeUa() {
  const registration = new RegistrationStateMachine();
  const subscriptions: Array<{ target: string; event: string; sub: FakeSubscription }> = [];
  const ua = {
    instanceId: SELF,
    registration,
    subscribe(target: string, event: string) {
      const sub = new FakeSubscription();
      subscriptions.push({ target, event, sub });
      return sub;
    },
  };
  const register = (): void => {
    registration.transition(RegistrationState.Registering);
    registration.transition(RegistrationState.Registered, { pubGruu: `sip:alice@a.example;gr=${SELF}` });
  };
  return { ua: ua as unknown as CpmUserAgent, registration, subscriptions, register };
}

function contact(id: string, instance: string, name: string, state: 'active' | 'terminated' = 'active'): RegContact {
  return {
    id,
    uri: 'sip:alice@127.0.0.1;transport=ws',
    state,
    event: state === 'active' ? 'registered' : 'unregistered',
    params: { '+sip.instance': `"<${instance}>"`, '+cpm.device-name': `"<${name}>"`, '+g.3gpp.icsi-ref': CPM_FEATURE_TAG.slice(CPM_FEATURE_TAG.indexOf('=') + 1) },
    pubGruu: `sip:alice@a.example;gr=${instance}`,
  };
}

const doc = (version: number, state: 'full' | 'partial', contacts: RegContact[]): string =>
  buildReginfo(version, state, [{ aor: 'sip:alice@a.example', id: 'r', state: 'active', contacts }]);

function watch(ua: CpmUserAgent, retryMs = 5) {
  const watcher = new DeviceListWatcher({ ua, aor: 'sip:alice@a.example', retryMs });
  const lists: DeviceInfo[][] = [];
  const problems: string[] = [];
  watcher.on('devices', (d) => lists.push(d));
  watcher.on('problem', (p) => problems.push(p));
  return { watcher, lists, problems };
}

const names = (list: DeviceInfo[] | undefined): string[] => (list ?? []).map((d) => d.name);

describe('DeviceListWatcher', () => {
  it('subscribes to the own AOR once registered, and publishes full and partial documents merged', () => {
    const f = fakeUa();
    const w = watch(f.ua);
    expect(f.subscriptions).toEqual([]);
    f.register();
    expect(f.subscriptions).toHaveLength(1);
    expect(f.subscriptions[0]).toMatchObject({ target: 'sip:alice@a.example', event: 'reg' });
    const sub = f.subscriptions[0]!.sub;
    expect(sub.subscribed).toBe(1);
    sub.notify(doc(0, 'full', [contact('c1', SELF, 'Laptop')]));
    sub.notify(doc(1, 'partial', [contact('c2', DESK, 'Desktop')]));
    expect(w.lists.map(names)).toEqual([['Laptop'], ['Desktop', 'Laptop']]);
    expect(w.watcher.devices.find((d) => d.self)?.name).toBe('Laptop');
  });

  it('does not re-subscribe on a refresh, but does after a new registration (a reconnect), starting from a full document', () => {
    const f = fakeUa();
    const w = watch(f.ua);
    f.register();
    const first = f.subscriptions[0]!.sub;
    first.notify(doc(0, 'full', [contact('c1', SELF, 'Laptop'), contact('c2', DESK, 'Desktop')]));
    f.registration.transition(RegistrationState.Refreshing);
    f.registration.transition(RegistrationState.Registered);
    expect(f.subscriptions).toHaveLength(1);
    f.registration.transition(RegistrationState.Unregistered, { cause: 'connection lost' });
    f.register();
    expect(f.subscriptions).toHaveLength(2);
    expect(first.terminated).toBe(1);
    // The old dialog's late NOTIFY is ignored; the new subscription's numbering starts anywhere.
    first.notify(doc(1, 'partial', [contact('c3', DESK, 'Ghost')]));
    f.subscriptions[1]!.sub.notify(doc(0, 'full', [contact('c1', SELF, 'Laptop')]));
    expect(names(w.lists.at(-1))).toEqual(['Laptop']);
  });

  it('re-subscribes at once when a partial document skips a version (RFC 3680 §5.2)', async () => {
    const f = fakeUa();
    watch(f.ua);
    f.register();
    const sub = f.subscriptions[0]!.sub;
    sub.notify(doc(0, 'full', [contact('c1', SELF, 'Laptop')]));
    sub.notify(doc(2, 'partial', [contact('c2', DESK, 'Desktop')]));
    await vi.waitFor(() => expect(f.subscriptions).toHaveLength(2));
    expect(sub.terminated).toBe(1);
    expect(f.subscriptions[1]!.sub.subscribed).toBe(1);
  });

  it('subscribes again after the notifier ended the subscription, while registered', async () => {
    const f = fakeUa();
    const w = watch(f.ua);
    f.register();
    f.subscriptions[0]!.sub.emit('terminated', 2, 'noresource', undefined);
    expect(w.problems[0]).toMatch(/reg subscription ended \(code 2, noresource\)/);
    await vi.waitFor(() => expect(f.subscriptions).toHaveLength(2));
  });

  it('reports an unreadable NOTIFY body as a problem and keeps the list', () => {
    const f = fakeUa();
    const w = watch(f.ua);
    f.register();
    const sub = f.subscriptions[0]!.sub;
    sub.notify(doc(0, 'full', [contact('c1', SELF, 'Laptop')]));
    sub.notify('<reginfo');
    expect(w.problems).toHaveLength(1);
    expect(w.problems[0]).toMatch(/^unreadable reginfo NOTIFY: /);
    expect(names(w.watcher.devices)).toEqual(['Laptop']);
  });

  it('stops: ends the subscription and ignores later registrations', () => {
    const f = fakeUa();
    const w = watch(f.ua);
    f.register();
    w.watcher.stop();
    expect(f.subscriptions[0]!.sub.terminated).toBe(1);
    f.registration.transition(RegistrationState.Unregistered);
    f.register();
    expect(f.subscriptions).toHaveLength(1);
  });
});
