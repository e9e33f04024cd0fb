/**
 * SIP over WebSocket (RFC 7118): each WebSocket message carries exactly one SIP message (§5.1), in a text
 * or a binary frame. We send text frames when the message is valid UTF-8 (what browsers and JsSIP read
 * best) and binary frames otherwise (§5.1: a message with a non-UTF-8 body must go in a binary frame).
 */
import type { RawData, WebSocket } from 'ws';
import type { ChannelSink, MessageChannel } from './message-channel';
import { TransportError, asTransportError } from './transport-error';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True when the bytes are well-formed UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A message channel over one WebSocket (either side). */
export class WebSocketChannel implements MessageChannel {
  constructor(
    private readonly ws: WebSocket,
    private readonly sink: ChannelSink,
    options: { open: boolean },
  ) {
    ws.on('message', (data: RawData) => {
      const raw = toBytes(data);
      if (raw.every((b) => b === 13 || b === 10)) {
        sink.activity(); // an empty or CRLF-only message is a keep-alive, not SIP
        return;
      }
      sink.message(raw);
    });
    ws.on('ping', () => sink.activity());
    ws.on('pong', () => sink.activity());
    ws.on('error', (error: Error) => {
      const tooLarge = /max payload|too big/i.test(error.message);
      sink.fault(asTransportError(tooLarge ? 'message-too-large' : 'bad-message', 'websocket error', error), true);
    });
    if (options.open) return;
    ws.once('open', () => {
      if (ws.protocol !== 'sip') {
        sink.fault(new TransportError('connect-failed', 'WebSocket server did not accept the "sip" subprotocol (RFC 7118 §4)'), true);
        return;
      }
      sink.open();
    });
  }

  /** Send one SIP message as one WebSocket message. */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== this.ws.OPEN) {
        reject(new TransportError('send-failed', 'WebSocket is not open'));
        return;
      }
      const binary = !isUtf8(bytes);
      this.ws.send(bytes, { binary }, (error) => {
        if (error) reject(asTransportError('send-failed', 'WebSocket send failed', error));
        else resolve();
      });
    });
  }

  /** Send a close frame (normal closure). */
  end(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    else this.ws.terminate();
  }
}
