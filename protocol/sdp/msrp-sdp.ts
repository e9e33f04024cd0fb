/**
 * MSRP SDP (RFC 4975 §8, RFC 6135 `a=setup`) as PROFILE.md "A CPM session" fixes it:
 *
 * ```
 * m=message <port> TCP/MSRP *
 * a=accept-types:message/cpim
 * a=accept-wrapped-types:text/plain message/imdn+xml
 * a=path:msrp://<host>:<port>/<session-id>;tcp
 * a=setup:actpass | active | passive
 * ```
 *
 * and who connects: a Conversation Server is always passive; devices connect towards it; device to device,
 * the offerer connects.
 */
import { formatPath, MsrpHeaderError, parsePath } from '../msrp/msrp-headers';
import { formatMsrpUri, type MsrpUri } from '../msrp/msrp-uri';
import { randomBytes } from '../common/random';

/** `a=setup` values (RFC 4145 §4, used for MSRP by RFC 6135). */
export type SetupRole = 'active' | 'passive' | 'actpass' | 'holdconn';

/** The media types of PROFILE.md. */
export const CPM_ACCEPT_TYPES: readonly string[] = ['message/cpim'];
/** The wrapped media types of PROFILE.md. */
export const CPM_ACCEPT_WRAPPED_TYPES: readonly string[] = ['text/plain', 'message/imdn+xml'];

/** Thrown for SDP that is not usable MSRP SDP. */
export class MsrpSdpError extends Error {
  override readonly name = 'MsrpSdpError';
}

/** Thrown when offer and answer cannot agree on who connects (answer with SIP 488). */
export class SetupNegotiationError extends Error {
  override readonly name = 'SetupNegotiationError';
}

/** An address of `c=`/`o=`. */
export interface SdpAddress {
  addrType: 'IP4' | 'IP6';
  address: string;
}

/** What `buildMsrpSdp` needs. */
export interface MsrpSdpInput {
  /** Where we listen (`c=` and `m=` port; normally the host and port of our path URI). */
  address: SdpAddress;
  port: number;
  /** Our path (usually one URI, ours). */
  path: readonly MsrpUri[];
  setup: SetupRole;
  acceptTypes?: readonly string[];
  acceptWrappedTypes?: readonly string[];
  /** `o=` session id and version; random id and version 1 by default. Bump the version on re-offers. */
  sessionId?: string;
  sessionVersion?: number;
  /** `a=max-size` (RFC 4975 §8.6), if any. */
  maxSize?: number;
  /** TCP/TLS/MSRP for msrps. Default TCP/MSRP. */
  tls?: boolean;
}

/** A parsed MSRP SDP (the first `m=message` line with an MSRP protocol). */
export interface MsrpSdp {
  origin: { username: string; sessionId: string; sessionVersion: string; address: SdpAddress };
  /** The effective connection address (media level over session level). */
  connection: SdpAddress | undefined;
  port: number;
  /** Port 0: the stream was declined. */
  rejected: boolean;
  protocol: 'TCP/MSRP' | 'TCP/TLS/MSRP';
  path: MsrpUri[];
  acceptTypes: string[];
  acceptWrappedTypes: string[];
  /** `a=setup`, or undefined when absent (see `connectingSide`). */
  setup: SetupRole | undefined;
  maxSize: number | undefined;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

const MAX_SDP_LENGTH = 16 * 1024;
const SETUP_ROLES: readonly SetupRole[] = ['active', 'passive', 'actpass', 'holdconn'];
const TYPE = /^(\*|[A-Za-z0-9!#$&^_.+-]+\/(\*|[A-Za-z0-9!#$&^_.+-]+))$/;

/** Build an MSRP SDP body (offer or answer). */
export function buildMsrpSdp(input: MsrpSdpInput): string {
  const acceptTypes = input.acceptTypes ?? CPM_ACCEPT_TYPES;
  const wrapped = input.acceptWrappedTypes ?? CPM_ACCEPT_WRAPPED_TYPES;
  if (!Number.isInteger(input.port) || input.port < 0 || input.port > 65535) throw new MsrpSdpError(`bad port ${input.port}`);
  if (input.path.length === 0) throw new MsrpSdpError('an MSRP SDP needs a path');
  if (!/^[0-9A-Za-z.:]+$/.test(input.address.address)) throw new MsrpSdpError(`bad address ${JSON.stringify(input.address.address)}`);
  for (const t of [...acceptTypes, ...wrapped]) if (!TYPE.test(t)) throw new MsrpSdpError(`bad media type ${JSON.stringify(t)}`);
  const sessionId = input.sessionId ?? randomSessionId();
  if (!/^\d+$/.test(sessionId)) throw new MsrpSdpError('o= session id must be numeric');
  const addr = `IN ${input.address.addrType} ${input.address.address}`;
  const lines = [
    'v=0',
    `o=- ${sessionId} ${input.sessionVersion ?? 1} ${addr}`,
    's=-',
    `c=${addr}`,
    't=0 0',
    `m=message ${input.port} ${input.tls ? 'TCP/TLS/MSRP' : 'TCP/MSRP'} *`,
    `a=accept-types:${acceptTypes.join(' ')}`,
  ];
  if (wrapped.length) lines.push(`a=accept-wrapped-types:${wrapped.join(' ')}`);
  if (input.maxSize !== undefined) lines.push(`a=max-size:${input.maxSize}`);
  lines.push(`a=path:${formatPath(input.path)}`, `a=setup:${input.setup}`);
  return lines.join('\r\n') + '\r\n';
}

/** Parse SDP and extract its MSRP media. Throws `MsrpSdpError` with the reason. */
export function parseMsrpSdp(text: string): MsrpSdp {
  if (text.length > MAX_SDP_LENGTH) throw new MsrpSdpError(`SDP longer than ${MAX_SDP_LENGTH} characters`);
  // RFC 4566 §5: lines end with CRLF; accept a bare LF too, as the RFC advises parsers to.
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  let origin: MsrpSdp['origin'] | undefined;
  let sessionConnection: SdpAddress | undefined;
  let media: Partial<MsrpSdp> & { attrs: string[] } | undefined;
  let inMsrpMedia = false;
  let sawMedia = false;
  if (lines[0] !== 'v=0') throw new MsrpSdpError('SDP must start with v=0');
  for (const line of lines) {
    const m = /^([a-z])=(.*)$/.exec(line);
    if (!m) throw new MsrpSdpError(`bad SDP line ${JSON.stringify(line.slice(0, 60))}`);
    const [, type, value] = m as unknown as [string, string, string];
    if (type === 'm') {
      sawMedia = true;
      inMsrpMedia = false;
      const mm = /^message (\d{1,5}) (TCP\/MSRP|TCP\/TLS\/MSRP) (.+)$/.exec(value);
      if (mm && !media) {
        const port = Number(mm[1]);
        if (port > 65535) throw new MsrpSdpError(`bad port ${port}`);
        media = { port, rejected: port === 0, protocol: mm[2] as MsrpSdp['protocol'], attrs: [] };
        inMsrpMedia = true;
      }
      continue;
    }
    if (type === 'o' && !sawMedia) {
      const o = /^(\S+) (\d+) (\d+) IN (IP4|IP6) (\S+)$/.exec(value);
      if (!o) throw new MsrpSdpError(`bad o= line ${JSON.stringify(value.slice(0, 60))}`);
      origin = { username: o[1]!, sessionId: o[2]!, sessionVersion: o[3]!, address: { addrType: o[4] as 'IP4' | 'IP6', address: o[5]! } };
    } else if (type === 'c') {
      const address = parseConnection(value);
      if (!sawMedia) sessionConnection = address;
      else if (inMsrpMedia && media) media.connection = address;
    } else if (type === 'a' && inMsrpMedia && media) {
      media.attrs.push(value);
    }
  }
  if (!origin) throw new MsrpSdpError('missing o= line');
  if (!media) throw new MsrpSdpError('no m=message TCP/MSRP media');
  let path: MsrpUri[] = [];
  let acceptTypes: string[] | undefined;
  let acceptWrappedTypes: string[] = [];
  let setup: SetupRole | undefined;
  let maxSize: number | undefined;
  let direction: MsrpSdp['direction'] = 'sendrecv';
  for (const attr of media.attrs) {
    const colon = attr.indexOf(':');
    const name = colon < 0 ? attr : attr.slice(0, colon);
    const value = colon < 0 ? '' : attr.slice(colon + 1).trim();
    switch (name) {
      case 'path':
        try {
          path = parsePath(value);
        } catch (e) {
          if (e instanceof MsrpHeaderError) throw new MsrpSdpError(`bad a=path: ${e.message}`);
          throw e;
        }
        break;
      case 'accept-types':
        acceptTypes = mediaTypes(value, name);
        break;
      case 'accept-wrapped-types':
        acceptWrappedTypes = mediaTypes(value, name);
        break;
      case 'setup':
        if (!(SETUP_ROLES as readonly string[]).includes(value)) throw new MsrpSdpError(`bad a=setup ${JSON.stringify(value.slice(0, 20))}`);
        setup = value as SetupRole;
        break;
      case 'max-size':
        if (!/^\d{1,15}$/.test(value)) throw new MsrpSdpError(`bad a=max-size ${JSON.stringify(value.slice(0, 20))}`);
        maxSize = Number(value);
        break;
      case 'sendrecv':
      case 'sendonly':
      case 'recvonly':
      case 'inactive':
        direction = name;
        break;
      default:
        break; // other attributes are not ours to judge
    }
  }
  if (!media.rejected) {
    if (path.length === 0) throw new MsrpSdpError('missing a=path (RFC 4975 §8.1)');
    if (!acceptTypes) throw new MsrpSdpError('missing a=accept-types (RFC 4975 §8.6)');
  }
  return {
    origin,
    connection: media.connection ?? sessionConnection,
    port: media.port!,
    rejected: media.rejected!,
    protocol: media.protocol!,
    path,
    acceptTypes: acceptTypes ?? [],
    acceptWrappedTypes,
    setup,
    maxSize,
    direction,
  };
}

/** Which kind of endpoint is answering: PROFILE.md makes a Conversation Server always passive. */
export type EndpointKind = 'device' | 'server';

/**
 * The answer's `a=setup` and whether the answerer connects (RFC 6135 with PROFILE.md's policy):
 * a server answers `passive` (an offer that is itself `passive` cannot be served: 488); a device answers
 * `passive` to `active`/`actpass`/absent (the offerer connects) and `active` to `passive`.
 * An absent `a=setup` in an offer counts as `active` (RFC 4975 §5.4: the offerer connects; RFC 6135 §5 keeps that as the default).
 */
export function answerSetup(offer: SetupRole | undefined, answerer: EndpointKind): { setup: 'active' | 'passive'; answererConnects: boolean } {
  const effective = offer ?? 'active';
  if (effective === 'holdconn') throw new SetupNegotiationError('offer holds the connection (a=setup:holdconn)');
  if (answerer === 'server') {
    if (effective === 'passive') throw new SetupNegotiationError('both sides passive: a Conversation Server never connects');
    return { setup: 'passive', answererConnects: false };
  }
  return effective === 'passive' ? { setup: 'active', answererConnects: true } : { setup: 'passive', answererConnects: false };
}

/** The `a=setup` an offer carries (PROFILE.md): a server offers `passive`, a device `actpass`. */
export function offerSetup(offerer: EndpointKind): SetupRole {
  return offerer === 'server' ? 'passive' : 'actpass';
}

/**
 * Who connects once the answer is known: the answer's `active` means the answerer, `passive` or absent
 * the offerer (RFC 6135; without a=setup, RFC 4975 §5.4 and RFC 6135 §5). Throws on combinations that cannot work.
 */
export function connectingSide(offer: SetupRole | undefined, answer: SetupRole | undefined): 'offerer' | 'answerer' {
  const o = offer ?? 'active';
  const a = answer ?? (o === 'passive' ? 'active' : 'passive');
  if (a === 'active' && (o === 'passive' || o === 'actpass')) return 'answerer';
  if (a === 'passive' && (o === 'active' || o === 'actpass')) return 'offerer';
  throw new SetupNegotiationError(`offer a=setup:${o} and answer a=setup:${a} do not fit`);
}

/** Whether offered accept-types allow a type (wildcards `*` and `type/*` included). */
export function acceptsType(acceptTypes: readonly string[], type: string): boolean {
  const t = type.toLowerCase();
  return acceptTypes.some((a) => {
    const x = a.toLowerCase();
    return x === '*' || x === t || (x.endsWith('/*') && t.startsWith(x.slice(0, -1)));
  });
}

function parseConnection(value: string): SdpAddress {
  const c = /^IN (IP4|IP6) ([0-9A-Za-z.:-]+)(?:\/\d+)*$/.exec(value);
  if (!c) throw new MsrpSdpError(`bad c= line ${JSON.stringify(value.slice(0, 60))}`);
  return { addrType: c[1] as 'IP4' | 'IP6', address: c[2]! };
}

function mediaTypes(value: string, attr: string): string[] {
  const types = value.split(/\s+/).filter(Boolean);
  if (types.length === 0 || types.length > 32) throw new MsrpSdpError(`bad a=${attr}`);
  for (const t of types) if (!TYPE.test(t)) throw new MsrpSdpError(`bad media type ${JSON.stringify(t.slice(0, 40))} in a=${attr}`);
  return types;
}

function randomSessionId(): string {
  // 48 random bits as a decimal number: fits `o=` and stays well inside a double.
  const b = randomBytes(6);
  let n = 0;
  for (const x of b) n = n * 256 + x;
  return String(n);
}

/**
 * The text-level MSRP media description exchanged by `msrpSdpCodec` (the shape of `MsrpSdpCodec` in
 * electron/device/sip, which protocol/ may not import; TypeScript matches it structurally).
 */
export interface MsrpSdpDescription {
  /** Address for `o=` and `c=`; an IPv6 literal (containing `:`) makes them `IP6`. */
  address: string;
  port: number;
  /** `a=path` URIs as text, in order. */
  path: string[];
  setup?: SetupRole;
  acceptTypes: string[];
  acceptWrappedTypes: string[];
  transport: 'TCP/MSRP' | 'TCP/TLS/MSRP';
}

/** `buildMsrpSdp` / `parseMsrpSdp` behind the device's codec interface. `parse` throws `MsrpSdpError`. */
export const msrpSdpCodec = {
  build(d: MsrpSdpDescription, session: { id: string; version: number }): string {
    let path: MsrpUri[];
    try {
      path = parsePath(d.path.join(' '));
    } catch (e) {
      if (e instanceof MsrpHeaderError) throw new MsrpSdpError(`bad path: ${e.message}`);
      throw e;
    }
    if (d.setup === undefined) throw new MsrpSdpError('PROFILE.md requires a=setup on every MSRP offer and answer');
    return buildMsrpSdp({
      address: { addrType: d.address.includes(':') ? 'IP6' : 'IP4', address: d.address },
      port: d.port,
      path,
      setup: d.setup,
      acceptTypes: d.acceptTypes,
      acceptWrappedTypes: d.acceptWrappedTypes,
      sessionId: session.id,
      sessionVersion: session.version,
      tls: d.transport === 'TCP/TLS/MSRP',
    });
  },

  parse(sdp: string): MsrpSdpDescription {
    const p = parseMsrpSdp(sdp);
    if (p.rejected) throw new MsrpSdpError('the MSRP media line is rejected (port 0)');
    if (!p.connection) throw new MsrpSdpError('no c= line');
    const out: MsrpSdpDescription = {
      address: p.connection.address,
      port: p.port,
      path: p.path.map(formatMsrpUri),
      acceptTypes: p.acceptTypes,
      acceptWrappedTypes: p.acceptWrappedTypes,
      transport: p.protocol,
    };
    if (p.setup !== undefined) out.setup = p.setup;
    return out;
  },
};
