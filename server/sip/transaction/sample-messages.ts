/** Small request/response builders for the unit tests of this folder and its neighbours. */
import { createRequest, type SipRequest, type SipResponse } from '../message/sip-message';
import { buildResponse } from './response-builder';

/** Options of `sampleRequest`. */
export interface SampleRequestOptions {
  branch?: string;
  /** sent-by and transport of the top Via (default `UDP 192.0.2.1:5070`). */
  via?: string;
  cseq?: number;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  uri?: string;
}

/** A minimal well-formed request (§8.1.1) with one Via. */
export function sampleRequest(method: string, options: SampleRequestOptions = {}): SipRequest {
  const branch = options.branch ?? 'z9hG4bK-test-1';
  const request = createRequest(method, options.uri ?? 'sip:bob@example.com');
  const via = options.via ?? 'SIP/2.0/UDP 192.0.2.1:5070';
  request.headers.append('Via', branch === '' ? via : `${via};branch=${branch}`);
  request.headers.append('Max-Forwards', '70');
  request.headers.append('From', `<sip:alice@example.com>;tag=${options.fromTag ?? 'a1'}`);
  request.headers.append('To', options.toTag === undefined ? '<sip:bob@example.com>' : `<sip:bob@example.com>;tag=${options.toTag}`);
  request.headers.append('Call-ID', options.callId ?? 'call-1@192.0.2.1');
  request.headers.append('CSeq', `${options.cseq ?? 1} ${method}`);
  request.headers.append('Contact', '<sip:alice@192.0.2.1:5070>');
  return request;
}

/** A response to `request` with the given To tag (none for 100). */
export function sampleResponse(request: SipRequest, status: number, toTag = 'b1'): SipResponse {
  return buildResponse(request, status, { toTag });
}
