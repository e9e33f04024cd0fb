import { describe, expect, it } from 'vitest';
import {
  ConversationServerConfigError,
  parseConversationServerArgs,
  parseConversationServerDescription,
  readTlsFiles,
  sipAddressOf,
  type ConversationServerConfig,
} from './conversation-server-config';

const REQUIRED = ['--domain', 'a.example', '--tls-key', 'key.pem', '--tls-cert', 'cert.pem', '--core', '127.0.0.1:5062'];

/** A file system of JSON and PEM texts by absolute path. */
function files(contents: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = contents[path];
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return text;
  };
}

function parse(argv: readonly string[], contents: Record<string, string> = {}): ConversationServerConfig {
  const result = parseConversationServerArgs(argv, { cwd: '/srv/cpm', readText: files(contents) });
  if (result.help) throw new Error('asked for help');
  return result.config;
}

function failure(argv: readonly string[], contents: Record<string, string> = {}): string {
  try {
    parse(argv, contents);
  } catch (error) {
    expect(error).toBeInstanceOf(ConversationServerConfigError);
    return (error as Error).message;
  }
  throw new Error('no error');
}

describe('the Conversation Server program’s settings', () => {
  it('runs a proxy-mode server on loopback with an ephemeral port when given only what it needs', () => {
    expect(parse(REQUIRED)).toEqual({
      domain: 'a.example',
      mode: 'proxy',
      host: '127.0.0.1',
      port: 0,
      tls: { keyFile: '/srv/cpm/key.pem', certFile: '/srv/cpm/cert.pem' },
      core: { protocol: 'tls', host: '127.0.0.1', port: 5062 },
      msrp: { host: '127.0.0.1', port: 0 },
      delayMs: 0,
    });
  });

  it('reads a config file whose paths are relative to its folder, and lets a flag win over the file', () => {
    const config = parse(['--config', 'etc/cs.json', '--mode', 'proxy', '--t1', '100'], {
      '/srv/cpm/etc/cs.json': JSON.stringify({
        domain: 'B.Example', mode: 'in-path', host: '::1', port: 5071, tlsKey: 'tls/key.pem', tlsCert: '/etc/ssl/cs.pem', tlsCa: 'tls/ca.pem',
        core: '[::1]:5062', store: '../data/b.sqlite', storeSynchronous: 'NORMAL', delayMs: 20, timers: { t1: 50, t2: 400 }, transferTargetAnswerMs: 5000,
      }),
    });
    expect(config).toEqual({
      domain: 'b.example',
      mode: 'proxy',
      host: '::1',
      port: 5071,
      tls: { keyFile: '/srv/cpm/etc/tls/key.pem', certFile: '/etc/ssl/cs.pem', caFile: '/srv/cpm/etc/tls/ca.pem' },
      core: { protocol: 'tls', host: '::1', port: 5062 },
      store: { file: '/srv/cpm/data/b.sqlite', synchronous: 'NORMAL' },
      msrp: { host: '::1', port: 0 },
      delayMs: 20,
      timers: { t1: 100, t2: 400 },
      transferTargetAnswerMs: 5000,
    });
  });

  it('puts an in-path server’s MSRP relay where it is told, and a store is durable (FULL) unless told otherwise', () => {
    const config = parse([...REQUIRED, '--mode', 'in-path', '--msrp-host', '127.0.0.2', '--msrp-port', '2855', '--store', '/var/lib/cpm/a.sqlite']);
    expect(config.msrp).toEqual({ host: '127.0.0.2', port: 2855 });
    expect(config.store).toEqual({ file: '/var/lib/cpm/a.sqlite', synchronous: 'FULL' });
  });

  it('answers --help without asking for anything else', () => {
    expect(parseConversationServerArgs(['--help'], { cwd: '/', readText: files({}) })).toEqual({ help: true });
  });

  it.each([
    [[], '--domain: is required'],
    [['--domain', 'localhost', ...REQUIRED.slice(2)], '--domain: must be a domain name (got "localhost")'],
    [[...REQUIRED, '--mode', 'b2bua'], '--mode: must be one of in-path, proxy (got "b2bua")'],
    [[...REQUIRED, '--host', 'cs.a.example'], '--host: must be an IP literal such as 127.0.0.1 or ::1 (got "cs.a.example")'],
    [[...REQUIRED, '--port', '5061.5'], '--port: must be a port number (0–65535) (got "5061.5")'],
    [[...REQUIRED, '--port', 'x'], '--port: must be a port number (0–65535) (got "x")'],
    [['--domain', 'a.example', '--tls-cert', 'c.pem', '--core', '127.0.0.1:5062'], '--tls-key: is required'],
    [['--domain', 'a.example', '--tls-key', 'k.pem', '--tls-cert', 'c.pem'], '--core: is required'],
    [[...REQUIRED.slice(0, 6), '--core', 'core.a.example:5062'], `--core: must be the core's internal TLS endpoint as IP:PORT or [IPv6]:PORT (got "core.a.example:5062")`],
    [[...REQUIRED.slice(0, 6), '--core', '127.0.0.1'], '--core: must be the core'],
    [[...REQUIRED.slice(0, 6), '--core', '[::1]:0'], '--core: must be the core'],
    [[...REQUIRED, '--store-synchronous', 'NORMAL'], '--store-synchronous: needs --store'],
    [[...REQUIRED, '--store', 'a.sqlite', '--store-synchronous', 'OFF'], '--store-synchronous: must be FULL or NORMAL (got "OFF")'],
    [[...REQUIRED, '--msrp-port', '2855'], '--msrp-port: applies to an in-path server only (--mode in-path)'],
    [[...REQUIRED, '--t1', '0'], '--t1: must be a positive number of milliseconds (at most 3600000) (got "0")'],
    [[...REQUIRED, '--delay-ms=-5'], '--delay-ms: must be a number of milliseconds (0–10000) (got "-5")'],
    [[...REQUIRED, '--tls-chain', 'x.pem'], "Unknown option '--tls-chain'"],
    [[...REQUIRED, 'extra'], "Unexpected argument 'extra'"],
  ])('%j is refused: %s', (argv, message) => {
    expect(failure(argv)).toContain(message);
  });

  it.each([
    ['not JSON', '{"domain": ', 'cannot read config /srv/cpm/cs.json: '],
    ['an array', '[]', 'config /srv/cpm/cs.json: must be a JSON object'],
    ['an unknown setting', '{"domain": "a.example", "listen": "127.0.0.1"}', 'config /srv/cpm/cs.json: unknown setting "listen" (known: domain, mode,'],
    ['a timer that is not one', '{"timers": {"t3": 100}}', 'config /srv/cpm/cs.json: timers.t3 is not a timer (t1, t2, t4)'],
    ['timers as a number', '{"timers": 100}', 'config /srv/cpm/cs.json: timers must be an object'],
    ['a path that is not a string', '{"tlsKey": 42}', 'config /srv/cpm/cs.json: tlsKey must be a file path'],
    ['a bad value', JSON.stringify({ domain: 'a.example', tlsKey: 'k', tlsCert: 'c', core: '127.0.0.1:5062', port: 'fifty' }), 'config /srv/cpm/cs.json: port: must be a port number (0–65535) (got "fifty")'],
    ['a bad timer', JSON.stringify({ domain: 'a.example', tlsKey: 'k', tlsCert: 'c', core: '127.0.0.1:5062', timers: { t2: -1 } }), 'config /srv/cpm/cs.json: timers.t2: must be a positive number'],
  ])('a config file with %s is refused, naming the file and the setting', (_what, text, message) => {
    expect(failure(['--config', 'cs.json'], { '/srv/cpm/cs.json': text })).toContain(message);
  });

  it('says which config file it cannot read', () => {
    expect(failure(['--config', '/nowhere/cs.json'])).toBe("cannot read config /nowhere/cs.json: ENOENT: no such file or directory, open '/nowhere/cs.json'");
  });
});

describe('the PEM files', () => {
  const config = parse([...REQUIRED, '--tls-ca', 'ca.pem']);
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  it('are read as named', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
    expect(readTlsFiles(config, files({ '/srv/cpm/key.pem': key, '/srv/cpm/cert.pem': PEM, '/srv/cpm/ca.pem': PEM }))).toEqual({ key, cert: PEM, ca: PEM });
  });

  it('refuse a file that cannot be read or is not PEM, naming it', () => {
    expect(() => readTlsFiles(config, files({ '/srv/cpm/key.pem': PEM }))).toThrow(/^cannot read the TLS certificate \/srv\/cpm\/cert\.pem: ENOENT/);
    expect(() => readTlsFiles(config, files({ '/srv/cpm/key.pem': 'hello', '/srv/cpm/cert.pem': PEM }))).toThrow('the TLS key /srv/cpm/key.pem is not PEM');
  });
});

describe('the description line', () => {
  const address = { protocol: 'tls' as const, host: '127.0.0.1', port: 5071 };

  it('reads back what the program prints', () => {
    const description = { domain: 'a.example', mode: 'in-path' as const, sip: sipAddressOf(address), address, msrp: { host: '127.0.0.1', port: 2855 }, pid: 4242, v8Flags: ['--no-allocation-site-pretenuring'] };
    expect(description.sip).toBe('sip:127.0.0.1:5071;transport=tls');
    expect(parseConversationServerDescription(JSON.stringify(description))).toEqual(description);
    expect(sipAddressOf({ protocol: 'tls', host: '::1', port: 5071 })).toBe('sip:[::1]:5071;transport=tls');
  });

  it.each([
    ['lab: starting', 'not JSON'],
    ['{"domain":"a.example","mode":"relay","sip":"sip:x","address":{"protocol":"tls","host":"127.0.0.1","port":1},"pid":1}', 'mode must be in-path or proxy'],
    ['{"domain":"a.example","mode":"proxy","sip":"sip:x","address":{"protocol":"udp","host":"127.0.0.1","port":1},"pid":1}', 'address must be a TLS endpoint'],
    ['{"domain":"a.example","mode":"proxy","sip":"sip:x","address":{"protocol":"tls","host":"127.0.0.1","port":1}}', 'pid must be a number'],
    ['{"domain":"a.example","mode":"proxy","sip":"sip:x","address":{"protocol":"tls","host":"127.0.0.1","port":1},"pid":1,"v8Flags":"--x"}', 'v8Flags must be a list of strings'],
  ])('refuses %s: %s', (line, message) => {
    expect(() => parseConversationServerDescription(line)).toThrow(message);
  });
});
