import { describe, expect, it } from 'vitest';
import { sampleRequest, sampleResponse } from '../transaction/sample-messages';
import { chooseBestResponse } from './best-response';

const invite = sampleRequest('INVITE');
const response = (status: number, challenge?: string) => {
  const r = sampleResponse(invite, status);
  if (challenge) r.headers.append(status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate', challenge);
  return r;
};

describe('chooseBestResponse (RFC 3261 §16.7 items 6–7)', () => {
  it('prefers a 6xx over everything', () => {
    expect(chooseBestResponse([response(302), response(486), response(603)]).status).toBe(603);
  });

  it('otherwise picks the lowest class, preferring an informative response to a 408', () => {
    expect(chooseBestResponse([response(500), response(486), response(302)]).status).toBe(302);
    expect(chooseBestResponse([response(408), response(486)]).status).toBe(486);
    expect(chooseBestResponse([response(408), response(500)]).status).toBe(408);
  });

  it('turns a chosen 503 into a 500', () => {
    const r503 = response(503);
    r503.headers.append('Retry-After', '30');
    const best = chooseBestResponse([r503]);
    expect(best.status).toBe(500);
    expect(best.headers.has('Retry-After')).toBe(false);
  });

  it('gathers every challenge into the chosen 401/407', () => {
    const best = chooseBestResponse([response(401, 'Digest realm="a"'), response(407, 'Digest realm="b"'), response(401, 'Digest realm="c"')]);
    expect(best.status).toBe(401);
    expect(best.headers.getAll('WWW-Authenticate')).toEqual(['Digest realm="a"', 'Digest realm="c"']);
    expect(best.headers.getAll('Proxy-Authenticate')).toEqual(['Digest realm="b"']);
  });

  it('refuses an empty set', () => {
    expect(() => chooseBestResponse([response(200)])).toThrow('at least one 3xx');
  });
});
