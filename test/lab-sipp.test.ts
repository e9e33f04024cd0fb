/**
 * System test: the lab cores under SIPp load (issue "lab network"). The lab runs in-process on loopback with
 * ephemeral ports; SIPp (Debian `sip-tester`) drives it over UDP, which has no flows, so every out-of-dialog
 * request is challenged (401 for REGISTER, 407 for INVITE). Each SIPp is bounded by its own -timeout and killed in
 * afterAll. The tests run in order: registrations, calls, then the cores must drain to idle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabNetwork } from '../server/lab/lab-network';
import { labConfigWithLoadUsers, loadUsers, registrationRows, SCENARIOS, writeInjectionFile } from './sipp-lab/lab-sipp-fixtures';
import { freeUdpPort, SippProcess, stopAllSipp, type SippResult } from './sipp-lab/sipp-process';
import { describeSippStats } from './sipp-lab/sipp-stats';

const LOAD_USERS = 1000;
const DEVICES_PER_USER = 4;
const REGISTRATIONS = LOAD_USERS * DEVICES_PER_USER; // 4000 at 200/s: 20 s
const REGISTER_RATE = 200;
const CALLS = 2000; // at 100/s: 20 s
const CALL_RATE = 100;

/** Expect a SIPp run to have completed `calls` calls, none failed, none unexpected; explain otherwise. */
function expectAllSuccessful(result: SippResult, calls: number): void {
  const explain = `exit ${String(result.exitCode)}; ${result.stats ? describeSippStats(result.stats) : 'no statistics'}\n${result.errors}`;
  expect(result.stats, explain).toBeDefined();
  expect({ successful: result.stats?.successful, failed: result.stats?.failed, unexpected: result.stats?.unexpected }, explain).toEqual({
    successful: calls,
    failed: 0,
    unexpected: 0,
  });
  expect(result.exitCode, explain).toBe(0);
}

describe('The lab cores under SIPp load', () => {
  let lab: LabNetwork | undefined;
  let work = '';
  const running = (): LabNetwork => {
    if (!lab) throw new Error('the lab did not start');
    return lab;
  };
  const udpPort = (domain: string): number => {
    const d = running().description.domains.find((x) => x.domain === domain);
    if (!d) throw new Error(`no ${domain} in the lab`);
    return d.udp;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lab-sipp-'));
    lab = await LabNetwork.start({ config: labConfigWithLoadUsers(LOAD_USERS) });
  });

  afterAll(async () => {
    await stopAllSipp();
    await lab?.close();
    // LAB_SIPP_KEEP=1 keeps SIPp's statistics and error logs for a look after a failure.
    if (work && process.env.LAB_SIPP_KEEP !== '1') rmSync(work, { recursive: true, force: true });
    else if (work) process.stderr.write(`lab-sipp: SIPp files kept in ${work}\n`);
  });

  it(`registers ${REGISTRATIONS} devices of ${LOAD_USERS} users with digest at ${REGISTER_RATE}/s: all successful, none failed or unexpected`, async () => {
    const localPort = await freeUdpPort();
    const rows = registrationRows(loadUsers(LOAD_USERS), 'a.example', DEVICES_PER_USER, `127.0.0.1:${localPort}`);
    const injectionFile = join(work, 'registrations.csv');
    writeInjectionFile(injectionFile, rows);

    const sipp = await SippProcess.start({
      name: 'register-load',
      workDir: work,
      scenario: SCENARIOS.register,
      remote: `127.0.0.1:${udpPort('a.example')}`,
      localPort,
      injectionFile,
      calls: REGISTRATIONS,
      rate: REGISTER_RATE,
      timeoutSeconds: 45,
    });
    expectAllSuccessful(await sipp.done, REGISTRATIONS);

    // Every device got its own binding (one per +sip.instance, RFC 5626 §6) with a public GRUU (RFC 5627 §3.1).
    const core = running().domain('a.example').core;
    expect(core.load().bindings).toBe(REGISTRATIONS);
    const probe = rows[REGISTRATIONS - 1];
    const bindings = core.location.bindings(`sip:${probe?.user ?? ''}@a.example`);
    expect(bindings).toHaveLength(DEVICES_PER_USER);
    expect(bindings.map((b) => b.pubGruu).sort()).toEqual(rows.filter((r) => r.user === probe?.user).map((r) => `sip:${r.user}@a.example;gr=urn:uuid:${r.instance}`).sort());
  }, 60_000);

  it(`carries ${CALLS} calls from alice@a.example to bob@b.example at ${CALL_RATE}/s, ACK and BYE following the recorded route set`, async () => {
    const uasPort = await freeUdpPort();
    // bob's SIPp registers its own address as his Contact at core B, then answers.
    const bobFile = join(work, 'bob.csv');
    writeInjectionFile(bobFile, registrationRows([{ user: 'bob', password: 'bob-secret' }], 'b.example', 1, `127.0.0.1:${uasPort}`));
    const registration = await (await SippProcess.start({
      name: 'register-bob',
      workDir: work,
      scenario: SCENARIOS.register,
      remote: `127.0.0.1:${udpPort('b.example')}`,
      injectionFile: bobFile,
      calls: 1,
      timeoutSeconds: 10,
    })).done;
    expectAllSuccessful(registration, 1);
    expect(running().domain('b.example').core.location.bindings('sip:bob@b.example').map((b) => b.contact)).toEqual([`sip:bob@127.0.0.1:${uasPort};transport=UDP`]);

    const uas = await SippProcess.start({
      name: 'bob-uas',
      workDir: work,
      scenario: SCENARIOS.callUas,
      localPort: uasPort,
      service: 'bob',
      calls: CALLS,
      timeoutSeconds: 50,
    });
    const uac = await SippProcess.start({
      name: 'alice-uac',
      workDir: work,
      scenario: SCENARIOS.callUac,
      remote: `127.0.0.1:${udpPort('a.example')}`,
      service: 'bob',
      keys: { from_user: 'alice', from_domain: 'a.example', to_domain: 'b.example' },
      auth: { user: 'alice', password: 'alice-secret' },
      calls: CALLS,
      rate: CALL_RATE,
      pauseMs: 500,
      timeoutSeconds: 45,
    });
    const caller = await uac.done;
    if (caller.exitCode !== 0) uas.stop();
    const callee = await uas.done;
    expectAllSuccessful(caller, CALLS);
    // The callee's checks held on every call: P-Asserted-Identity alice, no Proxy-Authorization, four Record-Routes.
    expectAllSuccessful(callee, CALLS);
  }, 60_000);

  it('drains afterwards: no transaction and no response context left in either core', async () => {
    // Server transactions over UDP linger for Timer J / Timer L (64·T1 = 32 s, RFC 3261 §17.2.2, RFC 6026 §8.7).
    const deadline = Date.now() + 50_000;
    const loads = (): Record<string, { transactions: number; contexts: number }> =>
      Object.fromEntries(running().domains.map((d) => {
        const { transactions, contexts } = d.core.load();
        return [d.domain, { transactions, contexts }];
      }));
    const idle = { 'a.example': { transactions: 0, contexts: 0 }, 'b.example': { transactions: 0, contexts: 0 } };
    while (Date.now() < deadline && JSON.stringify(loads()) !== JSON.stringify(idle)) await new Promise((r) => setTimeout(r, 250));
    expect(loads()).toEqual(idle);
  }, 60_000);
});
