/**
 * The CSeq header (RFC 3261 §20.16): `CSeq = 1*DIGIT LWS Method`. The sequence number must be
 * expressible as a 32-bit unsigned integer (§8.1.1.5); leading zeros are allowed (RFC 4475 §3.1.1.1).
 */
import { isToken, isWsp } from './abnf';
import { SipParseError } from './parse-error';
import { clip } from './sip-uri';

/** A parsed CSeq value. */
export interface CSeq {
  seq: number;
  method: string;
}

/** The largest sequence number a receiver accepts: 2**32 - 1. */
export const MAX_CSEQ = 0xffffffff;

/** Parse a CSeq value. Throws {@link SipParseError} for bad syntax or a number above 2**32-1. */
export function parseCSeq(text: string): CSeq {
  let i = 0;
  while (i < text.length && isWsp(text.charCodeAt(i))) i++;
  const digitsStart = i;
  while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  if (i === digitsStart) throw new SipParseError('CSeq must start with a sequence number', { offset: i });
  const digits = text.slice(digitsStart, i).replace(/^0+(?=\d)/, '');
  if (digits.length > 10 || Number(digits) > MAX_CSEQ) {
    throw new SipParseError(`CSeq sequence number ${clip(digits)} is larger than 2**32-1`, { offset: digitsStart });
  }
  if (!isWsp(text.charCodeAt(i))) throw new SipParseError('CSeq needs whitespace between number and method', { offset: i });
  const method = text.slice(i).trim();
  if (!isToken(method)) throw new SipParseError(`invalid CSeq method "${clip(method)}"`, { offset: i });
  return { seq: Number(digits), method };
}

/** Serialize a CSeq value. */
export function serializeCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}
