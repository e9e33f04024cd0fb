import { describe, expect, it } from 'vitest';
import { type FramerOutput, FramerState, type FramerStateChange, SipStreamFramer, parseWebSocketFrame } from './framing';
import { parseMessage } from './parse';
import { SipParseError } from './parse-error';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const msg = (body: string, callId = 'c1'): string =>
  `MESSAGE sip:b@x SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK${callId}\r\nCall-ID: ${callId}\r\nContent-Length: ${enc(body).length}\r\n\r\n${body}`;
const kinds = (out: FramerOutput[]): string[] => out.map((o) => (o.kind === 'message' ? `message:${dec(o.bytes)}` : o.kind));

describe('SipStreamFramer', () => {
  it('returns coalesced messages one by one, in order', () => {
    const f = new SipStreamFramer();
    const out = f.push(enc(msg('one', 'a') + msg('twø', 'b')));
    expect(kinds(out)).toEqual([`message:${msg('one', 'a')}`, `message:${msg('twø', 'b')}`]);
    expect(f.state).toBe(FramerState.Idle);
  });

  it('reassembles a message split at every possible byte boundary', () => {
    const bytes = enc(msg('hello wörld'));
    for (let cut = 1; cut < bytes.length; cut++) {
      const f = new SipStreamFramer();
      const out = [...f.push(bytes.subarray(0, cut)), ...f.push(bytes.subarray(cut))];
      expect(kinds(out)).toEqual([`message:${msg('hello wörld')}`]);
    }
  });

  it('feeds byte by byte and still finds the body by byte count, not characters', () => {
    const bytes = enc(msg('ééé'));
    const f = new SipStreamFramer();
    const out: FramerOutput[] = [];
    for (const b of bytes) out.push(...f.push(Uint8Array.of(b)));
    expect(out).toHaveLength(1);
    expect(parseMessage((out[0] as { bytes: Uint8Array }).bytes).body).toHaveLength(6);
  });

  it('answers a CRLFCRLF ping and skips a lone CRLF before a message (RFC 5626 §3.5.1, RFC 3261 §7.5)', () => {
    const f = new SipStreamFramer();
    expect(kinds(f.push(enc('\r\n\r\n')))).toEqual(['ping']);
    expect(kinds(f.push(enc('\r\n')))).toEqual([]);
    expect(kinds(f.push(enc('\r\n')))).toEqual(['ping']);
    expect(kinds(f.push(enc(`\r\n${msg('x')}`)))).toEqual([`message:${msg('x')}`]);
  });

  it('reports each CRLF as a pong on the client side', () => {
    const f = new SipStreamFramer({ keepAliveRole: 'client' });
    expect(kinds(f.push(enc('\r\n')))).toEqual(['pong']);
  });

  it('loses framing on a message without Content-Length and keeps the headers for a 400', () => {
    const f = new SipStreamFramer();
    const out = f.push(enc('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: x\r\n\r\n'));
    expect(out).toHaveLength(1);
    const error = (out[0] as { error: SipParseError }).error;
    expect(error.reason).toMatch(/must have a Content-Length/);
    expect(error.isRequest).toBe(true);
    expect(error.headers?.get('Call-ID')).toBe('x');
    expect(f.state).toBe(FramerState.Failed);
    expect(kinds(f.push(enc(msg('late'))))).toEqual(['error']);
  });

  it('refuses a message over the size limit as soon as its headers announce it (513)', () => {
    const f = new SipStreamFramer({ maxMessageSize: 200 });
    const out = f.push(enc(msg('x'.repeat(300)).slice(0, 60)));
    expect(out).toEqual([]);
    const more = f.push(enc(msg('x'.repeat(300)).slice(60, 130)));
    expect((more[0] as { error: SipParseError }).error.status).toBe(513);
  });

  it('refuses an endless header section', () => {
    const f = new SipStreamFramer({ maxMessageSize: 100 });
    const out = f.push(enc(`OPTIONS sip:a@b SIP/2.0\r\nX: ${'y'.repeat(200)}`));
    expect((out[0] as { error: SipParseError }).error.status).toBe(513);
  });

  it('treats a negative or repeated Content-Length as lost framing', () => {
    for (const bad of ['Content-Length: -5', 'l: 1\r\nContent-Length: 1']) {
      const out = new SipStreamFramer().push(enc(`OPTIONS sip:a@b SIP/2.0\r\n${bad}\r\n\r\nx`));
      expect(out[0]?.kind).toBe('error');
    }
  });

  it('reports every state change through the one transition function', () => {
    const f = new SipStreamFramer();
    const seen: FramerStateChange[] = [];
    f.on('stateChange', (c) => seen.push(c));
    f.push(enc(msg('a')));
    expect(seen).toEqual([
      { from: 'idle', to: 'headers' },
      { from: 'headers', to: 'body' },
      { from: 'body', to: 'idle' },
    ]);
  });

  it('does not keep consumed bytes', () => {
    const f = new SipStreamFramer();
    for (let i = 0; i < 100; i++) f.push(enc(msg(`m${i}`)));
    expect(f.buffered).toBe(0);
  });
});

describe('parseWebSocketFrame', () => {
  it('reads one message per frame, text or binary', () => {
    const frame = parseWebSocketFrame(msg('hi'));
    expect(frame.kind === 'message' && frame.message.type).toBe('request');
    expect(parseWebSocketFrame(enc(msg('hi'))).kind).toBe('message');
  });

  it('treats a frame of CRLFs as a keep-alive', () => {
    expect(parseWebSocketFrame('\r\n\r\n')).toEqual({ kind: 'keepalive' });
  });

  it('rejects a frame holding more than one message (RFC 7118 §5.1)', () => {
    expect(() => parseWebSocketFrame(msg('a') + msg('b'))).toThrow(SipParseError);
  });
});
