import { describe, expect, it } from 'vitest';
import { RegistrationState, RegistrationStateMachine, type RegistrationSnapshot } from './registration-state';

describe('RegistrationStateMachine', () => {
  it('walks register → refresh → unregister, keeping the GRUUs across a refresh and clearing expiry when unbound', () => {
    const machine = new RegistrationStateMachine();
    const seen: [RegistrationSnapshot, RegistrationState][] = [];
    machine.on('stateChange', (snapshot, from) => seen.push([snapshot, from]));
    machine.transition(RegistrationState.Registering);
    machine.transition(RegistrationState.Registered, { pubGruu: 'sip:a@x;gr=1', tempGruu: 'sip:t@x;gr', expiresAt: 1000, cause: '200 OK' });
    machine.transition(RegistrationState.Refreshing);
    expect(machine.snapshot).toMatchObject({ state: 'refreshing', pubGruu: 'sip:a@x;gr=1', expiresAt: 1000, cause: null });
    machine.transition(RegistrationState.Registered, { expiresAt: 2000 });
    expect(machine.snapshot.pubGruu).toBe('sip:a@x;gr=1');
    machine.transition(RegistrationState.Unregistered, { cause: 'transport lost', pubGruu: null });
    expect(machine.snapshot).toEqual({ state: 'unregistered', cause: 'transport lost', pubGruu: null, tempGruu: 'sip:t@x;gr', expiresAt: null });
    expect(seen.map(([s, from]) => `${from}→${s.state}`)).toEqual([
      'unregistered→registering', 'registering→registered', 'registered→refreshing', 'refreshing→registered', 'registered→unregistered',
    ]);
  });

  it.each([
    [[], RegistrationState.Registered],
    [[], RegistrationState.Unregistered],
    [[RegistrationState.Registering, RegistrationState.Registered], RegistrationState.Registering],
    [[RegistrationState.Registering, RegistrationState.Registered], RegistrationState.Failed],
    [[RegistrationState.Registering, RegistrationState.Failed], RegistrationState.Registered],
  ])('after %j refuses to move to %s', (path, to) => {
    const machine = new RegistrationStateMachine();
    for (const step of path) machine.transition(step);
    const before = machine.snapshot;
    expect(() => machine.transition(to)).toThrow(`RegistrationState: illegal transition ${before.state} → ${to}`);
    expect(machine.snapshot).toEqual(before);
  });

  it('retries from failed', () => {
    const machine = new RegistrationStateMachine();
    machine.transition(RegistrationState.Registering);
    machine.transition(RegistrationState.Failed, { cause: '403 Forbidden' });
    expect(machine.can(RegistrationState.Registering)).toBe(true);
    machine.transition(RegistrationState.Registering);
    expect(machine.snapshot.cause).toBeNull();
  });
});
