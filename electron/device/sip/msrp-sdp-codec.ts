/**
 * The SDP the MSRP peer connection speaks, behind a small interface so that the SDP grammar lives in one
 * place. protocol/sdp/msrp-sdp.ts (being written by a teammate) will implement `MsrpSdpCodec`; until it
 * lands, `basicMsrpSdpCodec` below builds and reads the one media line this profile uses (PROFILE.md
 * "A CPM session"; RFC 4975 §8, RFC 6135 §4):
 *
 * ```
 * m=message <port> TCP/MSRP *
 * a=accept-types:message/cpim
 * a=accept-wrapped-types:text/plain message/imdn+xml
 * a=path:msrp://<host>:<port>/<session-id>;tcp
 * a=setup:actpass|active|passive
 * ```
 */

/** The `a=setup` values (RFC 4145 §4; RFC 6135 §4.2 for MSRP). */
export type MsrpSetup = 'active' | 'passive' | 'actpass' | 'holdconn';

/** The MSRP media description of one side, in both directions (what we build, what we read). */
export interface MsrpSdpDescription {
  /** Address for `o=` and `c=` (IPv4 or IPv6 literal or host name). MSRP itself uses `a=path`, not `c=`. */
  address: string;
  /** The `m=` port (RFC 4975 §8.1: the port of the endpoint's own URI, the last one of `path`). */
  port: number;
  /** `a=path` URIs, in order (RFC 4975 §8.2; relays first, the endpoint's own URI last). */
  path: string[];
  /** `a=setup`, if present. */
  setup?: MsrpSetup;
  /** `a=accept-types` (RFC 4975 §8.6). */
  acceptTypes: string[];
  /** `a=accept-wrapped-types` (RFC 4975 §8.6). */
  acceptWrappedTypes: string[];
  /** The `m=` transport: `TCP/MSRP`, or `TCP/TLS/MSRP` for msrps (RFC 4975 §8.1). */
  transport: 'TCP/MSRP' | 'TCP/TLS/MSRP';
}

/** Builds and parses MSRP SDP. `parse` throws an Error saying what is wrong with the text. */
export interface MsrpSdpCodec {
  build(description: MsrpSdpDescription, session: { id: string; version: number }): string;
  parse(sdp: string): MsrpSdpDescription;
}

/** Thrown by `parse` for SDP that does not describe one usable MSRP media line. */
export class MsrpSdpError extends Error {
  override readonly name = 'MsrpSdpError';
}

const SETUPS: ReadonlySet<string> = new Set<MsrpSetup>(['active', 'passive', 'actpass', 'holdconn']);
const MAX_SDP_LENGTH = 64 * 1024;

/** The interim codec (see the file comment). */
export const basicMsrpSdpCodec: MsrpSdpCodec = {
  build(d, session) {
    const family = d.address.includes(':') ? 'IP6' : 'IP4';
    const lines = [
      'v=0',
      `o=- ${session.id} ${session.version} IN ${family} ${d.address}`,
      's=-',
      `c=IN ${family} ${d.address}`,
      't=0 0',
      `m=message ${d.port} ${d.transport} *`,
      `a=accept-types:${d.acceptTypes.join(' ')}`,
    ];
    if (d.acceptWrappedTypes.length > 0) lines.push(`a=accept-wrapped-types:${d.acceptWrappedTypes.join(' ')}`);
    lines.push(`a=path:${d.path.join(' ')}`);
    if (d.setup) lines.push(`a=setup:${d.setup}`);
    return `${lines.join('\r\n')}\r\n`;
  },

  parse(sdp) {
    if (sdp.length > MAX_SDP_LENGTH) throw new MsrpSdpError(`SDP longer than ${MAX_SDP_LENGTH} characters`);
    const lines = sdp.split(/\r?\n/).filter((l) => l !== '');
    if (lines[0] !== 'v=0') throw new MsrpSdpError('SDP does not start with v=0');
    let sessionAddress: string | undefined;
    let media: { port: number; transport: MsrpSdpDescription['transport']; address?: string; attrs: string[] } | undefined;
    let inOtherMedia = false;
    for (const line of lines) {
      if (line.startsWith('m=')) {
        if (media) break; // only the first message media line is ours
        const m = /^m=message (\d+) (TCP\/MSRP|TCP\/TLS\/MSRP) (.+)$/.exec(line);
        if (!m) {
          inOtherMedia = true;
          continue;
        }
        inOtherMedia = false;
        media = { port: Number(m[1]), transport: m[2] as MsrpSdpDescription['transport'], attrs: [] };
      } else if (line.startsWith('c=')) {
        const c = /^c=IN IP[46] (\S+)$/.exec(line);
        if (!c) throw new MsrpSdpError(`malformed connection line ${JSON.stringify(line)}`);
        if (media) media.address = c[1];
        else if (!inOtherMedia) sessionAddress = c[1];
      } else if (line.startsWith('a=') && media) {
        media.attrs.push(line.slice(2));
      }
    }
    if (!media) throw new MsrpSdpError('no m=message line with TCP/MSRP or TCP/TLS/MSRP');
    if (media.port === 0) throw new MsrpSdpError('the MSRP media line is rejected (port 0)');
    if (media.port > 65_535) throw new MsrpSdpError(`invalid port ${media.port}`);
    const attr = (name: string): string | undefined => {
      const prefix = `${name}:`;
      return media.attrs.find((a) => a.startsWith(prefix))?.slice(prefix.length).trim();
    };
    const path = attr('path');
    if (!path) throw new MsrpSdpError('no a=path attribute on the MSRP media line');
    const setup = attr('setup');
    if (setup !== undefined && !SETUPS.has(setup)) throw new MsrpSdpError(`unknown a=setup value ${JSON.stringify(setup)}`);
    const acceptTypes = attr('accept-types');
    if (!acceptTypes) throw new MsrpSdpError('no a=accept-types attribute on the MSRP media line');
    const address = media.address ?? sessionAddress;
    if (!address) throw new MsrpSdpError('no c= line');
    return {
      address,
      port: media.port,
      path: path.split(/\s+/),
      ...(setup !== undefined ? { setup: setup as MsrpSetup } : {}),
      acceptTypes: acceptTypes.split(/\s+/),
      acceptWrappedTypes: attr('accept-wrapped-types')?.split(/\s+/) ?? [],
      transport: media.transport,
    };
  },
};
