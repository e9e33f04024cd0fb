import { MsrpEndpoint } from '/work/main/electron/device/chat/msrp/msrp-endpoint';
import { MsrpRelay } from '/work/main/server/conversation/in-path/msrp/msrp-relay';
import { MsrpServerEndpoint } from '/work/main/server/conversation/in-path/msrp/msrp-server-endpoint';
const server = new MsrpServerEndpoint(); await server.listen();
const devices = [new MsrpEndpoint(), new MsrpEndpoint()];
const legs = await Promise.all(devices.map(async (device) => {
  await device.listen(); const uri = device.newLocalUri();
  const leg = server.expectLeg({ remotePath: [uri] });
  const session = await device.openSession({ localUri: uri, remotePath: [leg.session.localUri], setup: 'active' });
  await leg.bound; return { device: session, server: leg.session };
}));
const relay = new MsrpRelay({ legA: legs[0]!.server, legB: legs[1]!.server, readControl: server });
let pauses = 0; 
const origPause = server.pauseReading.bind(server);
server.pauseReading = (s, t) => { pauses++; return origPause(s, t); };
const body = new Uint8Array(100);
for (let round = 0; round < 4; round++) {
  let n = 0; const t0 = performance.now();
  const done = new Promise<void>((r) => legs[1]!.device.on('message', () => { if (++n === 20000) r(); }));
  for (let i = 0; i < 20000; i++) { if (legs[0]!.device.needsDrain) await new Promise<void>((r) => legs[0]!.device.once('drain', r)); legs[0]!.device.send(body, 'text/plain'); }
  await done; console.log('msg/s', 20000 / ((performance.now() - t0) / 1000), 'pauses', pauses);
  legs[1]!.device.removeAllListeners?.('message');
}
relay.close(); await server.close(); await Promise.all(devices.map((d) => d.close()));
