import { describe, expect, it } from 'vitest';
import { TypedEmitter } from './typed-emitter';

type Events = { ping: (n: number, s: string) => void; done: () => void };

class Probe extends TypedEmitter<Events> {
  fire<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean {
    return this.emit(event, ...args);
  }
}

describe('TypedEmitter', () => {
  it('calls listeners in order with the arguments, and once-listeners only once', () => {
    const p = new Probe();
    const calls: string[] = [];
    p.on('ping', (n, s) => calls.push(`a${n}${s}`));
    p.once('ping', (n) => calls.push(`once${n}`));
    p.on('ping', (n) => calls.push(`b${n}`));
    expect(p.fire('ping', 1, 'x')).toBe(true);
    p.fire('ping', 2, 'y');
    expect(calls).toEqual(['a1x', 'once1', 'b1', 'a2y', 'b2']);
    expect(p.listenerCount('ping')).toBe(2);
  });

  it('removes listeners, and changes during an emit apply from the next one', () => {
    const p = new Probe();
    const calls: string[] = [];
    const second = (): void => {
      calls.push('second');
    };
    p.on('done', () => {
      calls.push('first');
      p.off('done', second);
    });
    p.on('done', second);
    p.fire('done');
    p.fire('done');
    expect(calls).toEqual(['first', 'second', 'first']);
    expect(new Probe().fire('done')).toBe(false);
  });
});
