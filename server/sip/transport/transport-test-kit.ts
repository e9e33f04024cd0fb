/**
 * Helpers for the transport tests (and for other parts' tests that need a transport on loopback):
 * message builders and event waiters that fail with a clear error instead of hanging.
 */
import { createRequest, createResponse, type SipMessage, type SipRequest, type SipResponse } from '../message/sip-message';
import type { Endpoint, ReceivedMessage, SipTransportEvents, SipTransportLayer } from './transport-types';
import { hostForUri } from './endpoint';

let counter = 0;

/** An OPTIONS request with a Via for `via` (our listening point or any sent-by text) and a fresh branch. */
export function optionsRequest(via: Endpoint | string, extra: { callId?: string; body?: string } = {}): SipRequest {
  counter += 1;
  const sentBy = typeof via === 'string' ? via : `SIP/2.0/${via.protocol.toUpperCase()} ${hostForUri(via.host)}:${via.port}`;
  return createRequest(
    'OPTIONS',
    'sip:bob@example.test',
    [
      { name: 'Via', value: `${sentBy};branch=z9hG4bK-test-${counter};rport` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: `<sip:alice@example.test>;tag=a${counter}` },
      { name: 'To', value: '<sip:bob@example.test>' },
      { name: 'Call-ID', value: extra.callId ?? `call-${counter}@test` },
      { name: 'CSeq', value: '1 OPTIONS' },
    ],
    extra.body,
  );
}

/** A response to `request` (Via, From, To, Call-ID, CSeq copied as RFC 3261 §8.2.6.2 says). */
export function responseTo(request: SipRequest, status = 200, reason = 'OK'): SipResponse {
  const headers = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].flatMap((name) =>
    request.headers.getAll(name).map((value) => ({ name, value })),
  );
  return createResponse(status, reason, headers);
}

/** The message as a request; throws (failing the test) when it is a response. */
export function asRequest(message: SipMessage): SipRequest {
  if (message.type !== 'request') throw new Error(`expected a request, got a ${message.status} response`);
  return message;
}

/** The status of a response; throws (failing the test) when it is a request. */
export function statusOf(message: SipMessage): number {
  if (message.type !== 'response') throw new Error(`expected a response, got a ${message.method} request`);
  return message.status;
}

/** Raw bytes of a minimal request, for byte-level tests (Content-Length counts the body's bytes). */
export function rawRequest(sentBy: string, body = '', callId = `raw-${++counter}@test`): string {
  const bytes = Buffer.byteLength(body);
  return (
    `MESSAGE sip:bob@example.test SIP/2.0\r\n` +
    `Via: ${sentBy};branch=z9hG4bK-raw-${counter}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:alice@example.test>;tag=r${counter}\r\nTo: <sip:bob@example.test>\r\n` +
    `Call-ID: ${callId}\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: ${bytes}\r\n\r\n${body}`
  );
}

/** Resolve with the next occurrence of `event` (matching `filter`), or reject after `ms` with a clear error. */
export function nextEvent<E extends keyof SipTransportEvents>(
  layer: SipTransportLayer,
  event: E,
  ms = 3000,
  filter: (...args: Parameters<SipTransportEvents[E]>) => boolean = () => true,
): Promise<Parameters<SipTransportEvents[E]>> {
  return new Promise((resolve, reject) => {
    const listener = ((...args: Parameters<SipTransportEvents[E]>) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      layer.off(event, listener);
      resolve(args);
    }) as SipTransportEvents[E];
    const timer = setTimeout(() => {
      layer.off(event, listener);
      reject(new Error(`no '${String(event)}' event within ${ms} ms`));
    }, ms);
    layer.on(event, listener);
  });
}

/** The next received message (optionally one matching `filter`). */
export async function nextMessage(
  layer: SipTransportLayer,
  filter: (m: ReceivedMessage) => boolean = () => true,
  ms = 3000,
): Promise<ReceivedMessage> {
  const [received] = await nextEvent(layer, 'message', ms, filter);
  return received;
}

/** Collect every message and error a layer reports, for assertions after the fact. */
export function recordEvents(layer: SipTransportLayer): { messages: ReceivedMessage[]; errors: Error[]; flowsClosed: string[] } {
  const record = { messages: [] as ReceivedMessage[], errors: [] as Error[], flowsClosed: [] as string[] };
  layer.on('message', (m) => record.messages.push(m));
  layer.on('error', (e) => record.errors.push(e));
  layer.on('flowClosed', (id) => record.flowsClosed.push(id));
  return record;
}

/** Resolve once `predicate()` holds, polling every few ms; reject with `what` after `ms`. */
export async function until(predicate: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
