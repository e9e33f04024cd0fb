/**
 * What a receiver must do with each of the 49 RFC 4475 torture messages, per receiving role. The RFC's
 * text is the authority; each row cites the section whose text decides it (and RFC 3261 where the role
 * decides: §8.2 for a UAS, §10.3 for a registrar, §16.3 for a proxy).
 *
 * The roles are configured as in {@link TORTURE_ROLE_OPTIONS}: a proxy that forwards any method and
 * supports no proxy extension; a registrar (a UAS that accepts REGISTER, §10.3, and answers OPTIONS,
 * §11); a messaging UAS that handles INVITE, MESSAGE and the usual in-dialog methods.
 */
import type { ReceiverRole, RequestCheckOptions } from '../message/request-check';

/** The outcome a receiver must reach. */
export type TortureOutcome =
  | { outcome: 'process'; because?: string }
  | { outcome: 'reject'; status: number; because: string }
  | { outcome: 'drop'; because: string };

/** One torture message and its outcome in each role. */
export interface TortureRow {
  /** File name in `shared/sip-torture/rfc4475/`. */
  file: string;
  /** The RFC 4475 section describing it. */
  section: string;
  proxy: TortureOutcome;
  registrar: TortureOutcome;
  uas: TortureOutcome;
}

/** The request-check options used for each role in the table. */
export const TORTURE_ROLE_OPTIONS: Readonly<Record<ReceiverRole, RequestCheckOptions>> = {
  proxy: { role: 'proxy' },
  registrar: { role: 'registrar', allowedMethods: ['REGISTER', 'OPTIONS'] },
  uas: {
    role: 'uas',
    allowedMethods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'MESSAGE', 'REFER', 'NOTIFY', 'SUBSCRIBE'],
    acceptedBodyTypes: ['application/sdp', 'text/plain', 'message/cpim', 'multipart/mixed', 'message/sipfrag'],
  },
};

const process = (because?: string): TortureOutcome => (because ? { outcome: 'process', because } : { outcome: 'process' });
const reject = (status: number, because: string): TortureOutcome => ({ outcome: 'reject', status, because });
const drop = (because: string): TortureOutcome => ({ outcome: 'drop', because });

const REG_ONLY = 'RFC 3261 §10.3: a registrar accepts only REGISTER (and answers OPTIONS, §11) → 405 with Allow';
const NOT_REGISTER_UAS = 'RFC 3261 §8.2.1: a UAS that is not a registrar recognises but does not support REGISTER → 405';
const BAD_400 = (what: string): TortureOutcome => reject(400, what);

/** Every RFC 4475 message with its outcome per role. */
export const RFC4475_TABLE: readonly TortureRow[] = [
  // 3.1.1 Valid messages: parse and handle normally
  { file: 'wsinv.dat', section: '3.1.1.1', proxy: process('§3.1.1.1: all elements treat it as well formed'), registrar: reject(405, REG_ONLY), uas: process('§3.1.1.1: well formed') },
  { file: 'intmeth.dat', section: '3.1.1.2', proxy: process('§3.1.1.2: a proxy forwards the unknown method (or 404s the unusual URI)'), registrar: reject(501, '§3.1.1.2: endpoints generate a 501 listing the methods they understand in Allow'), uas: reject(501, '§3.1.1.2: endpoints generate a 501 with Allow') },
  { file: 'esc01.dat', section: '3.1.1.3', proxy: process('§3.1.1.3: well formed'), registrar: reject(405, REG_ONLY), uas: process('§3.1.1.3: well formed') },
  { file: 'escnull.dat', section: '3.1.1.4', proxy: process('§3.1.1.4: well formed'), registrar: process('§3.1.1.4: registers two distinct contacts'), uas: reject(405, NOT_REGISTER_UAS) },
  { file: 'esc02.dat', section: '3.1.1.5', proxy: process('§3.1.1.5: a proxy forwards or rejects depending on the Request-URI'), registrar: reject(501, '§3.1.1.5: the method is unknown (not REGISTER): an endpoint rejects with 501'), uas: reject(501, '§3.1.1.5: an endpoint would reject this message with a 501') },
  { file: 'lwsdisp.dat', section: '3.1.1.6', proxy: process('§3.1.1.6: accept as well formed'), registrar: process('§3.1.1.6 + RFC 3261 §11: OPTIONS answered'), uas: process('§3.1.1.6: accept as well formed') },
  { file: 'longreq.dat', section: '3.1.1.7', proxy: process('§3.1.1.7: well formed'), registrar: reject(405, REG_ONLY), uas: process('§3.1.1.7: well formed') },
  { file: 'dblreq.dat', section: '3.1.1.8', proxy: process('§3.1.1.8: handle the REGISTER, ignore the trailing INVITE octets (RFC 3261 §18.3)'), registrar: process('§3.1.1.8: handle the REGISTER normally'), uas: reject(405, NOT_REGISTER_UAS) },
  { file: 'semiuri.dat', section: '3.1.1.9', proxy: process('§3.1.1.9: well formed'), registrar: process('§3.1.1.9 + RFC 3261 §11'), uas: process('§3.1.1.9: well formed') },
  { file: 'transports.dat', section: '3.1.1.10', proxy: process('§3.1.1.10: accept all transports'), registrar: process('§3.1.1.10 + RFC 3261 §11'), uas: process('§3.1.1.10: well formed') },
  { file: 'mpart01.dat', section: '3.1.1.11', proxy: process('§3.1.1.11: well formed'), registrar: reject(405, REG_ONLY), uas: process('§3.1.1.11: well formed; multipart/mixed is understood') },
  { file: 'unreason.dat', section: '3.1.1.12', proxy: process('§3.1.1.12: a parser must accept this response'), registrar: process('§3.1.1.12: well formed response'), uas: process('§3.1.1.12: well formed response') },
  { file: 'noreason.dat', section: '3.1.1.13', proxy: process('§3.1.1.13: a parser must accept this response'), registrar: process('§3.1.1.13: well formed response'), uas: process('§3.1.1.13: well formed response') },
  // 3.1.2 Invalid messages
  { file: 'badinv01.dat', section: '3.1.2.1', proxy: BAD_400('§3.1.2.1: extraneous Via separators → 400'), registrar: BAD_400('§3.1.2.1 → 400'), uas: BAD_400('§3.1.2.1 → 400') },
  { file: 'clerr.dat', section: '3.1.2.2', proxy: BAD_400('§3.1.2.2: Content-Length larger than the datagram → 400 (RFC 3261 §18.3)'), registrar: BAD_400('§3.1.2.2 → 400'), uas: BAD_400('§3.1.2.2 → 400') },
  { file: 'ncl.dat', section: '3.1.2.3', proxy: BAD_400('§3.1.2.3: negative Content-Length → error response'), registrar: BAD_400('§3.1.2.3 → 400'), uas: BAD_400('§3.1.2.3 → 400') },
  { file: 'scalar02.dat', section: '3.1.2.4', proxy: BAD_400('§3.1.2.4: CSeq above 2**32-1 → 400'), registrar: BAD_400('§3.1.2.4 → 400 due to the CSeq'), uas: BAD_400('§3.1.2.4 → 400') },
  { file: 'scalarlg.dat', section: '3.1.2.5', proxy: drop('§3.1.2.5: a response with out-of-range scalars is discarded'), registrar: drop('§3.1.2.5: discard'), uas: drop('§3.1.2.5: discard') },
  { file: 'quotbal.dat', section: '3.1.2.6', proxy: BAD_400('§3.1.2.6: unterminated quote in To → 400'), registrar: BAD_400('§3.1.2.6 → 400'), uas: BAD_400('§3.1.2.6 → 400') },
  { file: 'ltgtruri.dat', section: '3.1.2.7', proxy: BAD_400('§3.1.2.7: Request-URI in <> → 400'), registrar: BAD_400('§3.1.2.7 → 400'), uas: BAD_400('§3.1.2.7 → 400') },
  { file: 'lwsruri.dat', section: '3.1.2.8', proxy: BAD_400('§3.1.2.8: LWS inside the Request-URI → 400'), registrar: BAD_400('§3.1.2.8 → 400'), uas: BAD_400('§3.1.2.8 → 400') },
  { file: 'lwsstart.dat', section: '3.1.2.9', proxy: BAD_400('§3.1.2.9: multiple SP in the start line: acceptable to reject as malformed'), registrar: BAD_400('§3.1.2.9 → 400'), uas: BAD_400('§3.1.2.9 → 400') },
  { file: 'trws.dat', section: '3.1.2.10', proxy: BAD_400('§3.1.2.10: trailing SP after SIP-Version: acceptable to reject as malformed'), registrar: BAD_400('§3.1.2.10 → 400'), uas: BAD_400('§3.1.2.10 → 400') },
  { file: 'escruri.dat', section: '3.1.2.11', proxy: BAD_400('§3.1.2.11: escaped headers in the Request-URI: acceptable to reject with 400'), registrar: BAD_400('§3.1.2.11 → 400'), uas: BAD_400('§3.1.2.11 → 400') },
  { file: 'baddate.dat', section: '3.1.2.12', proxy: process('§3.1.2.12: should not reject unless the Date matters to its processing (it does not here)'), registrar: reject(405, REG_ONLY), uas: process('§3.1.2.12: Date unused, so ignored') },
  { file: 'regbadct.dat', section: '3.1.2.13', proxy: process('§3.1.2.13 with RFC 3261 §16.3 step 1: a proxy checks only what it uses; the Contact of a REGISTER is forwarded unchanged'), registrar: BAD_400('§3.1.2.13: Contact URI with headers outside <> → 400'), uas: BAD_400('§3.1.2.13 → 400 (syntax is checked before the method, RFC 4475 §3.1.2)') },
  { file: 'badaspec.dat', section: '3.1.2.14', proxy: BAD_400('§3.1.2.14: spaces inside the To addr-spec → 400'), registrar: BAD_400('§3.1.2.14 → 400'), uas: BAD_400('§3.1.2.14 → 400') },
  { file: 'baddn.dat', section: '3.1.2.15', proxy: BAD_400('§3.1.2.15: unquoted non-token display names → 400'), registrar: BAD_400('§3.1.2.15 → 400'), uas: BAD_400('§3.1.2.15 → 400') },
  { file: 'badvers.dat', section: '3.1.2.16', proxy: reject(505, '§3.1.2.16: SIP/7.0 → 505 Version Not Supported'), registrar: reject(505, '§3.1.2.16 → 505'), uas: reject(505, '§3.1.2.16 → 505') },
  { file: 'mismatch01.dat', section: '3.1.2.17', proxy: BAD_400('§3.1.2.17: CSeq method differs from the start line → 400'), registrar: BAD_400('§3.1.2.17 → 400'), uas: BAD_400('§3.1.2.17 → 400') },
  { file: 'mismatch02.dat', section: '3.1.2.18', proxy: reject(501, '§3.1.2.18: unknown method with mismatching CSeq → 501 (preferred at proxies)'), registrar: reject(501, '§3.1.2.18 → 501'), uas: reject(501, '§3.1.2.18 → 501') },
  { file: 'bigcode.dat', section: '3.1.2.19', proxy: drop('§3.1.2.19: status code above 699 → drop'), registrar: drop('§3.1.2.19 → drop'), uas: drop('§3.1.2.19 → drop') },
  // 3.2 Transaction layer
  { file: 'badbranch.dat', section: '3.2.1', proxy: BAD_400('§3.2.1: branch is the bare magic cookie: reject with 400 (preferably statelessly)'), registrar: BAD_400('§3.2.1 → 400'), uas: BAD_400('§3.2.1 → 400') },
  // 3.3 Application layer
  { file: 'insuf.dat', section: '3.3.1', proxy: BAD_400('§3.3.1: no Call-ID, From or To → 400'), registrar: BAD_400('§3.3.1 → 400'), uas: BAD_400('§3.3.1 → 400') },
  { file: 'unkscm.dat', section: '3.3.2', proxy: reject(416, '§3.3.2: unknown Request-URI scheme → 416'), registrar: reject(416, '§3.3.2 → 416'), uas: reject(416, '§3.3.2 → 416') },
  { file: 'novelsc.dat', section: '3.3.3', proxy: reject(416, '§3.3.3: a scheme never accepted as a Request-URI is treated as unknown → 416'), registrar: reject(416, '§3.3.3 → 416'), uas: reject(416, '§3.3.3 → 416') },
  { file: 'unksm2.dat', section: '3.3.4', proxy: process('§3.3.4: proxies treat it like any other request for this URI'), registrar: BAD_400('§3.3.4: a registrar rejects it with 400: To must be a SIP or SIPS URI'), uas: reject(405, NOT_REGISTER_UAS) },
  { file: 'bext01.dat', section: '3.3.5', proxy: reject(420, '§3.3.5: a proxy answers 420 listing the Proxy-Require values'), registrar: reject(420, '§3.3.5: an endpoint answers 420 listing the Require values'), uas: reject(420, '§3.3.5: an endpoint answers 420 listing the Require values') },
  { file: 'invut.dat', section: '3.3.6', proxy: process('§3.3.6: a proxy processes it like any other INVITE'), registrar: reject(405, REG_ONLY), uas: reject(415, '§3.3.6: an endpoint rejects the unknown body type with 415') },
  { file: 'regaut01.dat', section: '3.3.7', proxy: process('§3.3.7: a proxy treats it like any other REGISTER'), registrar: process('§3.3.7: the registrar ignores or challenges the unknown scheme (authentication is not a request check)'), uas: reject(405, '§3.3.7: endpoints not acting as registrars reject it; 405 is appropriate') },
  { file: 'multi01.dat', section: '3.3.8', proxy: BAD_400('§3.3.8: repeated single-value headers → 400'), registrar: BAD_400('§3.3.8 → 400'), uas: BAD_400('§3.3.8 → 400') },
  { file: 'mcl01.dat', section: '3.3.9', proxy: BAD_400('§3.3.9: conflicting Content-Length values → error response (UDP)'), registrar: BAD_400('§3.3.9 → 400'), uas: BAD_400('§3.3.9 → 400') },
  { file: 'bcast.dat', section: '3.3.10', proxy: drop('§3.3.10: proxies drop a response whose next Via is the broadcast address'), registrar: drop('§3.3.10 + RFC 3261 §8.1.3.3: an endpoint discards a response with two Vias'), uas: drop('§3.3.10: an endpoint simply discards it') },
  { file: 'zeromf.dat', section: '3.3.11', proxy: reject(483, '§3.3.11: a proxy does not forward it and answers 483'), registrar: process('§3.3.11: an endpoint processes it as if Max-Forwards were positive'), uas: process('§3.3.11: endpoints process it') },
  { file: 'cparam01.dat', section: '3.3.12', proxy: process('§3.3.12: well formed'), registrar: process('§3.3.12: the REGISTER succeeds (unknownparam is a contact-param)'), uas: reject(405, NOT_REGISTER_UAS) },
  { file: 'cparam02.dat', section: '3.3.13', proxy: process('§3.3.13: well formed'), registrar: process('§3.3.13: the REGISTER succeeds (unknownparam is a URI parameter)'), uas: reject(405, NOT_REGISTER_UAS) },
  { file: 'regescrt.dat', section: '3.3.14', proxy: process('§3.3.14: well formed'), registrar: process('§3.3.14: the registrar accepts it and stores the escaped header'), uas: reject(405, NOT_REGISTER_UAS) },
  { file: 'sdp01.dat', section: '3.3.15', proxy: process('§3.3.15: Accept concerns the endpoint only'), registrar: reject(405, REG_ONLY), uas: reject(406, '§3.3.15: Accept excludes application/sdp → 406 Not Acceptable') },
  // 3.4 Backward compatibility
  { file: 'inv2543.dat', section: '3.4.1', proxy: process('§3.4.1: accept the RFC 2543 request (no branch, no From tag, no Content-Length, no Max-Forwards)'), registrar: reject(405, REG_ONLY), uas: process('§3.4.1: accept for backward compatibility') },
];
