#!/usr/bin/env node
// pretest: make sure the Debian packages the tests drive are present.
// As root it installs what is missing with apt-get; otherwise it stops and names them.
// Add a row here when a test starts needing another system tool.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** binary the tests run → Debian package that ships it */
const NEEDED = [
  { bin: 'sipp', pkg: 'sip-tester', why: 'SIPp load and interop tests (server/sip, lab core)' },
  { bin: 'chromium', pkg: 'chromium', why: 'browser tests of the renderer and the browser shell (playwright-core drives it)' },
  { bin: 'kamailio', pkg: 'kamailio', why: 'the production core config in deploy/kamailio, tested for real' },
  { file: '/usr/lib/x86_64-linux-gnu/kamailio/modules/websocket.so', pkg: 'kamailio-websocket-modules', why: 'Kamailio over WebSocket (deploy/kamailio)' },
  { file: '/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so', pkg: 'kamailio-tls-modules', why: 'Kamailio TLS towards the Conversation Server (deploy/kamailio)' },
];

const onPath = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
/** A module file may live under another multiarch folder: look for its name below /usr/lib. */
const hasFile = (file) => existsSync(file) || spawnSync('sh', ['-c', `ls /usr/lib/*/kamailio/modules/${file.split('/').pop()} /usr/lib/kamailio/modules/${file.split('/').pop()} 2>/dev/null | grep -q .`]).status === 0;
const present = (n) => (n.bin ? onPath(n.bin) : hasFile(n.file));
const missing = NEEDED.filter((n) => !present(n));
if (missing.length === 0) process.exit(0);

const pkgs = [...new Set(missing.map((m) => m.pkg))];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !existsSync('/usr/bin/apt-get')) {
  console.error('The tests need these Debian packages, which are not installed:');
  for (const m of missing) console.error(`  ${m.pkg}  (for ${m.bin ?? m.file}: ${m.why})`);
  console.error(`Install them as root:  apt-get install -y ${pkgs.join(' ')}`);
  process.exit(1);
}
console.log(`pretest: installing ${pkgs.join(' ')} with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
const still = missing.filter((n) => !present(n));
if (still.length) {
  console.error(`pretest: still missing after apt-get: ${still.map((s) => s.bin ?? s.file).join(', ')}`);
  process.exit(1);
}
