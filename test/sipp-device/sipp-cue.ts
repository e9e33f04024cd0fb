/**
 * A cue for a SIPp scenario that waits with `<recv request="INFO"/>`: one UDP datagram carrying a bodiless INFO on
 * the call's Call-ID, sent straight to SIPp's port by the test (no SIP element sees it). SIPp dispatches incoming
 * messages to its calls by Call-ID only, so this lets a test say "go on" at a point of its choosing instead of
 * racing a timed `<pause/>`. The cue is not part of any dialog; the scenario does not answer it.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

/** Send the INFO cue for `callId` to SIPp at `host:port`; resolves once the datagram has been handed to the OS. */
export function sendSippCue(options: { host: string; port: number; callId: string }): Promise<void> {
  if (/[\r\n]/.test(options.callId) || options.callId === '') throw new Error(`sendSippCue: unusable Call-ID ${JSON.stringify(options.callId)}`);
  const socket = createSocket('udp4');
  return new Promise<void>((resolve, reject) => {
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind(0, '127.0.0.1', () => {
      const { port: ownPort } = socket.address();
      const target = `${options.host}:${options.port}`;
      const text = [
        `INFO sip:cue@${target} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${ownPort};branch=z9hG4bK${randomBytes(8).toString('hex')};rport`,
        'Max-Forwards: 70',
        `From: <sip:test-harness@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
        `To: <sip:cue@${target}>`,
        `Call-ID: ${options.callId}`,
        'CSeq: 1 INFO',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      socket.send(text, options.port, options.host, (error) => {
        socket.close();
        if (error) reject(error);
        else resolve();
      });
    });
  });
}
