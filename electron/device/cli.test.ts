import { describe, expect, it } from 'vitest';
import { parseCliArgs } from './cli';

const BASE = ['--ws', 'ws://127.0.0.1:5062', '--user', 'sip:alice@a.example', '--password', 'pw', '--device', 'Laptop'];

describe('npm run device: the command line', () => {
  it('reads every option, with --json as a flag', () => {
    expect(parseCliArgs([...BASE, '--data', '/tmp/d', '--json', '--ca', 'lab.pem'])).toEqual({
      ws: 'ws://127.0.0.1:5062', user: 'sip:alice@a.example', password: 'pw', device: 'Laptop', data: '/tmp/d', json: true, ca: 'lab.pem',
      transfer: 'sip:cpm-transfer@a.example', store: undefined, deposit: false,
    });
  });

  it('takes the transfer service URI and the Message Store, with --deposit as a flag', () => {
    expect(parseCliArgs([...BASE, '--transfer', 'sip:x@a.example', '--store', 'http://127.0.0.1:4000', '--deposit'])).toMatchObject({
      transfer: 'sip:x@a.example', store: 'http://127.0.0.1:4000', deposit: true,
    });
  });

  it('keeps each user and device in its own default data folder', () => {
    const laptop = parseCliArgs(BASE).data;
    const desktop = parseCliArgs([...BASE.slice(0, -1), 'My Desktop']).data;
    expect(laptop).toMatch(/\.cpm-device\/alice@a\.example-Laptop$/);
    expect(desktop).toMatch(/alice@a\.example-My_Desktop$/);
  });

  it.each([
    [['--ws', 'ws://x'], '--user is required'],
    [[...BASE, '--bogus', 'x'], 'unknown argument "--bogus"'],
    [[...BASE.slice(0, -1)], '--device needs a value'],
    [['--ws', 'http://x', ...BASE.slice(2)], '--ws must be a ws:// or wss:// URL'],
    [[...BASE.slice(0, 2), '--user', 'alice', ...BASE.slice(4)], '--user must be a SIP URI'],
    [[...BASE, '--transfer', 'cpm-transfer'], '--transfer must be a SIP URI'],
    [[...BASE, '--store', 'ftp://x'], '--store must be an http:// or https:// URL'],
    [[...BASE, '--deposit'], '--deposit needs --store'],
  ])('refuses %j with the reason and the usage', (argv, reason) => {
    expect(() => parseCliArgs(argv)).toThrow(reason);
    expect(() => parseCliArgs(argv)).toThrow('usage: npm run device');
  });
});
