import { describe, expect, it } from 'vitest';
import { TypedEmitter } from './typed-emitter';

interface Events {
  ping: (n: number) => void;
  error: (e: Error) => void;
}

describe('the typed emitter', () => {
  it('does not throw on an error event nobody listens to', () => {
    const e = new TypedEmitter<Events>();
    expect(e.emit('error', new Error('x'))).toBe(false);
  });

  it('isolates a throwing listener: the others still run and the hook hears of it', () => {
    const heard: string[] = [];
    const e = new TypedEmitter<Events>((event, error) => heard.push(`${event}: ${(error as Error).message}`));
    const got: number[] = [];
    e.on('ping', () => {
      throw new Error('boom');
    });
    e.on('ping', (n) => got.push(n));
    expect(() => e.emit('ping', 7)).not.toThrow();
    expect(got).toEqual([7]);
    expect(heard).toEqual(['ping: boom']);
  });

  it('removes listeners with off', () => {
    const e = new TypedEmitter<Events>();
    const got: number[] = [];
    const l = (n: number): void => void got.push(n);
    e.on('ping', l).emit('ping', 1);
    e.off('ping', l).emit('ping', 2);
    expect(got).toEqual([1]);
    expect(e.listenerCount('ping')).toBe(0);
  });
});
