/**
 * Choosing the response a forking proxy sends upstream once every branch has a final response
 * (RFC 3261 §16.7 items 6 and 7).
 */
import { createResponse, type SipResponse } from '../message/sip-message';

/**
 * The best of the final responses of a response context (§16.7 item 6):
 * - a 6xx if there is one;
 * - else a response of the lowest class present (3xx before 4xx before 5xx), preferring within the class a
 *   response that carries information over a 408 or 503 the proxy may have synthesised itself;
 * - a 503 becomes a 500 (the upstream element must not think *we* are unavailable);
 * - a chosen 401/407 collects every WWW-Authenticate and Proxy-Authenticate of all the 401/407s (item 7).
 * Throws when given no final response.
 */
export function chooseBestResponse(responses: readonly SipResponse[]): SipResponse {
  const finals = responses.filter((r) => r.status >= 300);
  if (finals.length === 0) throw new Error('chooseBestResponse needs at least one 3xx–6xx response');
  const sixes = finals.filter((r) => r.status >= 600);
  let chosen: SipResponse;
  if (sixes.length > 0) chosen = sixes[0]!;
  else {
    const lowestClass = Math.min(...finals.map((r) => Math.floor(r.status / 100)));
    const inClass = finals.filter((r) => Math.floor(r.status / 100) === lowestClass);
    chosen = inClass.find((r) => r.status !== 408 && r.status !== 503) ?? inClass[0]!;
  }
  if (chosen.status === 503) {
    const replaced = createResponse(500, 'Server Internal Error', chosen.headers.clone());
    replaced.headers.remove('Retry-After');
    return replaced;
  }
  if (chosen.status === 401 || chosen.status === 407) return withAllChallenges(chosen, finals);
  return chosen;
}

function withAllChallenges(chosen: SipResponse, finals: readonly SipResponse[]): SipResponse {
  const out = createResponse(chosen.status, chosen.reason, chosen.headers.clone(), chosen.body);
  for (const name of ['WWW-Authenticate', 'Proxy-Authenticate']) {
    const seen = new Set(out.headers.getAll(name));
    for (const other of finals) {
      if (other === chosen || (other.status !== 401 && other.status !== 407)) continue;
      for (const value of other.headers.getAll(name)) {
        if (!seen.has(value)) {
          seen.add(value);
          out.headers.append(name, value);
        }
      }
    }
  }
  return out;
}
