import { describe, expect, it } from 'vitest';
import { assertTransition, IllegalTransitionError, type TransitionTable } from './state-machine';

type Light = 'red' | 'green';
const TABLE: TransitionTable<Light> = { red: ['green'], green: [] };

describe('assertTransition', () => {
  it('allows a move the table lists', () => {
    expect(() => assertTransition('Light', TABLE, 'red', 'green')).not.toThrow();
  });

  it('rejects a move the table does not list, naming the machine and both states', () => {
    expect(() => assertTransition('Light', TABLE, 'green', 'red')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('Light', TABLE, 'green', 'red')).toThrow('Light: illegal transition green → red');
  });
});
