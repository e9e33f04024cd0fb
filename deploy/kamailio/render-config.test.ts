/**
 * Rendering the Kamailio config: every placeholder filled from the options, users as digest HA1 (never the
 * password), service routing and third-party REGISTER only with a Conversation Server, peers routed over
 * TLS, bad options refused with the option's name; and Kamailio itself accepts the rendered file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { digestHa1, renderKamailioConfig, writeKamailioConfig, type KamailioCoreOptions } from './render-config';

const BASE: KamailioCoreOptions = {
  domain: 'a.example',
  users: [{ user: 'alice', password: 'wonderland' }],
  wsPort: 15080,
  sipPort: 15060,
  internalPort: 15061,
  conversationServer: { host: '127.0.0.1', port: 15062 },
  tls: { certFile: '/etc/cpm/cert.pem', keyFile: '/etc/cpm/key.pem', caFile: '/etc/cpm/ca.pem' },
  secret: '0123456789abcdef0123',
};

function render(options: Partial<KamailioCoreOptions> = {}): { kamailioCfg: string; tlsCfg: string } {
  return renderKamailioConfig({ ...BASE, ...options } as KamailioCoreOptions, '/run/cpm/tls.cfg');
}

describe('digest HA1', () => {
  it('is MD5 of user:realm:password (the RFC 2617 §3.5 example)', () => {
    expect(digestHa1('Mufasa', 'testrealm@host.com', 'Circle Of Life')).toBe('939e7578ed9e3c518a452acee763bce9');
  });
});

describe('rendering the config of one domain', () => {
  it('fills every placeholder: listeners on the given host and ports, the domain, the Conversation Server', () => {
    const { kamailioCfg } = render();
    expect(kamailioCfg).not.toMatch(/@@[A-Z_]+@@/);
    expect(kamailioCfg).toContain('listen=tcp:127.0.0.1:15080');
    expect(kamailioCfg).toContain('listen=udp:127.0.0.1:15060');
    expect(kamailioCfg).toContain('listen=tls:127.0.0.1:15061');
    expect(kamailioCfg).toContain('$du = "sip:127.0.0.1:15062;transport=tls";');
    expect(kamailioCfg).toContain('$uac_req(ruri) = "sip:127.0.0.1:15062;transport=tls";');
    expect(kamailioCfg).toContain('modparam("tls", "config", "/run/cpm/tls.cfg")');
    expect(kamailioCfg).toContain('append_hf("P-Asserted-Identity: <sip:$au@a.example>\\r\\n");');
  });

  it('adds a WSS listener only when asked, and accepts the WebSocket handshake on WS and WSS ports only', () => {
    expect(render().kamailioCfg).not.toMatch(/^listen=tls:127\.0\.0\.1:15443$/m);
    expect(render().kamailioCfg).toContain('if ($Rp != 15080) {');
    const { kamailioCfg } = render({ wssPort: 15443 });
    expect(kamailioCfg).toMatch(/^listen=tls:127\.0\.0\.1:15443$/m);
    expect(kamailioCfg).toContain('if ($Rp != 15080 && $Rp != 15443) {');
  });

  it('stores users as digest HA1 with the domain as realm, never their password', () => {
    const { kamailioCfg } = render({ users: [{ user: 'alice', password: 'wonderland' }, { user: 'bob', password: 'builder' }] });
    expect(kamailioCfg).toContain(`$sht(users=>alice) = "${digestHa1('alice', 'a.example', 'wonderland')}";`);
    expect(kamailioCfg).toContain(`$sht(users=>bob) = "${digestHa1('bob', 'a.example', 'builder')}";`);
    expect(kamailioCfg).not.toContain('wonderland');
  });

  it('trusts P-Asserted-Identity only from the Conversation Server and peers, on the internal listener', () => {
    const { kamailioCfg } = render({ peers: [{ domain: 'b.example', host: '127.0.0.2', port: 16061 }] });
    expect(kamailioCfg).toContain('if ($proto == "tls" && $Rp == 15061 && ($si == "127.0.0.1" || $si == "127.0.0.2")) return 1;');
    expect(kamailioCfg).toMatch(/if \(\$rd == "b\.example"\) \{\s+\$du = "sip:127\.0\.0\.2:16061;transport=tls";/);
  });

  it('without a Conversation Server, does no service routing and sends no third-party REGISTER, and trusts no one', () => {
    const { kamailioCfg } = render({ conversationServer: undefined });
    expect(kamailioCfg).toMatch(/route\[THIRD_PARTY_REGISTER\] \{\n\treturn;/);
    expect(kamailioCfg).toMatch(/route\[SERVICES\] \{\n\treturn;/);
    expect(kamailioCfg).toContain('$Rp == 15061 && (0)) return 1;');
  });

  it('uses the configured transfer service user and service identity prefix', () => {
    const { kamailioCfg } = render({ transferServiceUser: 'move-it', serviceIdentityPrefix: 'conv.' });
    expect(kamailioCfg).toContain('$rU == "move-it"');
    expect(kamailioCfg).toContain('$rU =~ "^conv\\."');
  });

  it('verifies the Conversation Server and peers when a CA is given, and says so when not', () => {
    expect(render().tlsCfg).toMatch(/\[client:default\][^[]*verify_certificate = yes[^[]*ca_list = \/etc\/cpm\/ca\.pem/);
    const { tlsCfg } = render({ tls: { certFile: '/c.pem', keyFile: '/k.pem' } });
    expect(tlsCfg).toMatch(/\[client:default\][^[]*verify_certificate = no/);
    expect(tlsCfg).toContain('certificate = /c.pem');
  });

  it.each([
    ['a domain with a space', { domain: 'a example' }, /domain must be a host name/],
    ['a host name as listen address', { listenHost: 'localhost' }, /listenHost must be an IPv4 literal/],
    ['port 0', { wsPort: 0 }, /wsPort must be a port/],
    ['two listeners on one port', { sipPort: 15080 }, /ports must differ/],
    ['no users', { users: [] }, /users must be a non-empty array/],
    ['a user name with a quote', { users: [{ user: 'al"ice', password: 'x' }] }, /bad user name/],
    ['an empty password', { users: [{ user: 'alice', password: '' }] }, /needs a password/],
    ['a relative certificate path', { tls: { certFile: 'cert.pem', keyFile: '/k.pem' } }, /tls.certFile must be an absolute path/],
    ['a short secret', { secret: 'abc' }, /secret must be at least 16/],
    ['min above max expiry', { minExpires: 7200 }, /minExpires ≤ defaultExpires ≤ maxExpires/],
    ['a Conversation Server by name', { conversationServer: { host: 'cs.a.example', port: 5061 } }, /conversationServer.host must be an IPv4 literal/],
    ['a peer for our own domain', { peers: [{ domain: 'a.example', host: '127.0.0.1', port: 1 }] }, /bad peer domain/],
  ] as const)('refuses %s with an error naming the option', (_what, bad, message) => {
    expect(() => render(bad as Partial<KamailioCoreOptions>)).toThrow(message);
  });
});

describe('the rendered files on disk', () => {
  it('are written side by side and Kamailio 5.6 accepts them (kamailio -c)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpm-kamailio-cfg-'));
    try {
      await writeFile(join(dir, 'cert.pem'), '');
      const cfg = await writeKamailioConfig({ ...BASE, tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') } }, join(dir, 'etc'));
      expect(await readFile(join(dir, 'etc', 'tls.cfg'), 'utf8')).toContain(`certificate = ${join(dir, 'cert.pem')}`);
      const { stdout, stderr } = await promisify(execFile)('kamailio', ['-c', '-f', cfg], { timeout: 20_000 });
      expect(`${stdout}${stderr}`).toContain('config file ok');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
