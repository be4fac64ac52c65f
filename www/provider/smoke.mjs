// Smoke test for oidc.mjs without a browser: a full authorization code + PKCE
// flow driven by fetch with a hand-carried cookie jar.
//   node www/provider/smoke.mjs
// Last line: "N passed, N failed"; exit code 1 on any failure.

import { createHash, randomBytes } from 'node:crypto';
import { startOidcProvider } from './oidc.mjs';

const APP = 'http://localhost:5173'; // the app's origin (never contacted)
const REDIRECT = `${APP}/callback`;
const CLIENT = 'smoke-app';

let passed = 0;
let failed = 0;
function check(name, cond, detail) {
  if (cond) { passed += 1; console.log(`ok   ${name}`); } else { failed += 1; console.log(`FAIL ${name}${detail === undefined ? '' : ` -- ${JSON.stringify(detail)}`}`); }
}

// Minimal cookie jar: name+path keyed, path-prefix matching, deletion on expiry.
const jar = new Map();
function storeCookies(res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const attr = Object.fromEntries(attrs.map((a) => { const [k, v = ''] = a.split('='); return [k.toLowerCase(), v]; }));
    const path = attr.path || '/';
    const expired = value === '' || (attr.expires && Date.parse(attr.expires) <= Date.now());
    if (expired) jar.delete(`${name};${path}`); else jar.set(`${name};${path}`, { name, value, path });
  }
}
function cookieHeader(url) {
  const { pathname } = new URL(url);
  return [...jar.values()]
    .filter((c) => c.path === '/' || pathname === c.path || pathname.startsWith(`${c.path}/`))
    .map((c) => `${c.name}=${c.value}`).join('; ');
}
async function request(url, init = {}) {
  const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: cookieHeader(url) } });
  storeCookies(res);
  return res;
}
// Follow redirects by hand until we land on the app's redirect_uri (returned
// unfetched, as a URL) or on a non-redirect response (returned as-is).
async function follow(url, init) {
  let res = await request(url, init);
  const seen = [res];
  while (res.status >= 300 && res.status < 400) {
    const next = new URL(res.headers.get('location'), url).href;
    if (next.startsWith(REDIRECT)) return { callback: new URL(next), seen };
    url = next;
    res = await request(url);
    seen.push(res);
  }
  return { res, url, seen };
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const jwtPayload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

const op = await startOidcProvider({ clients: [{ client_id: CLIENT, redirect_uris: [REDIRECT] }], accessTokenTtlSeconds: 30 });
try {
  check('issuer is loopback http', /^http:\/\/127\.0\.0\.1:\d+$/.test(op.issuer), op.issuer);

  // ---- discovery ----
  const discRes = await request(`${op.issuer}/.well-known/openid-configuration`, { headers: { origin: APP } });
  const disc = await discRes.json();
  check('discovery issuer', disc.issuer === op.issuer, disc.issuer);
  check('discovery CORS', discRes.headers.get('access-control-allow-origin') === APP);
  check('only code response type', JSON.stringify(disc.response_types_supported) === '["code"]', disc.response_types_supported);
  check('PKCE S256 only', JSON.stringify(disc.code_challenge_methods_supported) === '["S256"]', disc.code_challenge_methods_supported);
  check('iss parameter advertised', disc.authorization_response_iss_parameter_supported === true);
  check('revocation endpoint', typeof disc.revocation_endpoint === 'string');
  const jwksRes = await request(disc.jwks_uri, { headers: { origin: APP } });
  const jwks = await jwksRes.json();
  check('jwks has public keys only', jwks.keys.length >= 1 && jwks.keys.every((k) => !k.d), jwks.keys.map((k) => k.kid));
  check('jwks CORS', jwksRes.headers.get('access-control-allow-origin') === APP);

  const token = (params, origin = APP) => fetch(disc.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
    body: new URLSearchParams({ client_id: CLIENT, ...params }),
  });
  const refresh = (rt) => token({ grant_type: 'refresh_token', refresh_token: rt });

  // Start an authorization request; returns { state, verifier, nonce, first }.
  function authorizeUrl(extra = {}) {
    const verifier = b64url(randomBytes(32));
    const state = b64url(randomBytes(12));
    const nonce = b64url(randomBytes(12));
    const u = new URL(disc.authorization_endpoint);
    u.search = new URLSearchParams({
      client_id: CLIENT, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid profile email',
      state, nonce, code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256', ...extra,
    });
    return { url: u.href, verifier, state, nonce };
  }
  // authorize -> interaction page -> press a button -> callback URL
  async function runFlow(button) {
    const a = authorizeUrl();
    const page = await follow(a.url);
    if (!page.res || page.res.status !== 200) return { ...a, page };
    const html = await page.res.text();
    // what a browser would POST: the form's action, or the #deny button's formaction
    const target = button === 'deny'
      ? /id="deny"[^>]*formaction="([^"]+)"/.exec(html)?.[1]
      : /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    const done = await follow(new URL(target, page.url).href, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=alice',
    });
    return { ...a, page, html, done, cb: done.callback };
  }

  // ---- PKCE is required ----
  const noPkce = await follow(authorizeUrl({ code_challenge: '', code_challenge_method: '' }).url);
  check('authorize without PKCE -> invalid_request', noPkce.callback?.searchParams.get('error') === 'invalid_request', noPkce.callback?.search);

  // ---- approve flow ----
  const f1 = await runFlow('approve');
  check('interaction page served', f1.page.res?.status === 200 && /id="approve"/.test(f1.html) && /id="deny"/.test(f1.html));
  check('interaction page lists scopes and prefilled user', /<li>email<\/li>/.test(f1.html) && /value="alice"/.test(f1.html));
  const cb1 = f1.cb;
  check('redirected to redirect_uri with code', !!cb1?.searchParams.get('code'), [f1.done?.url, f1.done?.res?.status, f1.done?.seen.map((r) => [r.status, r.headers.get('location')])]);
  check('state echoed', cb1?.searchParams.get('state') === f1.state);
  check('RFC 9207 iss in authorization response', cb1?.searchParams.get('iss') === op.issuer, cb1?.search);

  const bad = await token({ grant_type: 'authorization_code', code: cb1.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: b64url(randomBytes(32)) });
  check('wrong code_verifier -> invalid_grant', (await bad.json()).error === 'invalid_grant');
  // Do the real exchange with a fresh code, which also shows SSO on the second authorize.
  const f1b = await runFlow('approve'); // session + grant exist now: no interaction page, straight to callback
  check('second authorize skips interaction (SSO)', !!f1b.page.callback?.searchParams.get('code'), f1b.page.res?.status);
  const codeRes = await token({ grant_type: 'authorization_code', code: f1b.page.callback.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: f1b.verifier });
  const t1 = await codeRes.json();
  check('code exchange 200', codeRes.status === 200, t1);
  check('token response CORS for app origin', codeRes.headers.get('access-control-allow-origin') === APP, codeRes.headers.get('access-control-allow-origin'));
  check('access_token, id_token, refresh_token issued', !!(t1.access_token && t1.id_token && t1.refresh_token), Object.keys(t1));
  check('access token ttl from option', t1.expires_in === 30, t1.expires_in);
  const idt = jwtPayload(t1.id_token);
  check('id_token iss/aud/nonce/sub', idt.iss === op.issuer && idt.aud === CLIENT && idt.nonce === f1b.nonce && idt.sub === 'alice', idt);

  const uiRes = await fetch(disc.userinfo_endpoint, { headers: { authorization: `Bearer ${t1.access_token}`, origin: APP } });
  const ui = await uiRes.json();
  check('userinfo claims', ui.sub === 'alice' && ui.email === 'alice@example.test', ui);
  check('userinfo CORS', uiRes.headers.get('access-control-allow-origin') === APP);

  const evil = await token({ grant_type: 'refresh_token', refresh_token: t1.refresh_token }, 'http://evil.test');
  check('token request from foreign origin rejected', evil.status === 400 && !evil.headers.get('access-control-allow-origin'), evil.status);

  // ---- refresh rotation ----
  const r1 = await (await refresh(t1.refresh_token)).json();
  check('refresh #1 rotates', !!r1.refresh_token && r1.refresh_token !== t1.refresh_token && !!r1.access_token, r1);
  const r2 = await (await refresh(r1.refresh_token)).json();
  check('refresh #2 rotates', !!r2.refresh_token && r2.refresh_token !== r1.refresh_token, r2);
  const reuse = await refresh(t1.refresh_token);
  check('old refresh token rejected invalid_grant', reuse.status === 400 && (await reuse.json()).error === 'invalid_grant');
  const afterReuse = await (await refresh(r2.refresh_token)).json();
  check('reuse detection revoked the whole grant', afterReuse.error === 'invalid_grant', afterReuse);

  // ---- deny ----
  const f2 = await runFlow('deny'); // grant gone -> consent page is shown again
  check('deny -> error=access_denied', f2.cb?.searchParams.get('error') === 'access_denied', f2.cb?.search);
  check('deny keeps state and iss', f2.cb?.searchParams.get('state') === f2.state && f2.cb?.searchParams.get('iss') === op.issuer);

  // ---- revokeAllGrants ----
  const f3 = await runFlow('approve');
  const t3 = await (await token({ grant_type: 'authorization_code', code: f3.cb.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: f3.verifier })).json();
  check('fresh tokens after re-consent', !!t3.refresh_token, t3);
  const n = await op.revokeAllGrants();
  check('revokeAllGrants revoked something', n >= 1, n);
  const r3 = await refresh(t3.refresh_token);
  check('refresh after revokeAllGrants -> invalid_grant', (await r3.json()).error === 'invalid_grant');

  // ---- stats ----
  check('stats: authorization_code requests', op.stats.tokenRequests.authorization_code === 3, op.stats.tokenRequests);
  check('stats: refresh_token requests', op.stats.tokenRequests.refresh_token === 6, op.stats.tokenRequests);
  check('stats: per-grant log with timestamps', op.stats.byGrant.refresh_token.length === 6 && op.stats.byGrant.refresh_token.every((e) => typeof e.at === 'number'));
  check('stats: failures recorded', op.stats.byGrant.refresh_token.filter((e) => !e.ok).map((e) => e.error).join() === 'invalid_request,invalid_grant,invalid_grant,invalid_grant', op.stats.byGrant.refresh_token.map((e) => e.error));
  check('stats: interactions', op.stats.interactions.approve === 2 && op.stats.interactions.deny === 1, op.stats.interactions);
  op.resetStats();
  check('resetStats', op.stats.tokenRequests.refresh_token === 0 && op.stats.tokenLog.length === 0);

  // ---- COOP ----
  const plain = await request(authorizeUrl().url);
  check('no COOP by default', !plain.headers.get('cross-origin-opener-policy'));
  op.setCoop(true);
  await op.endAllSessions(); // force the interaction page again
  const withCoop = await follow(authorizeUrl().url);
  check('COOP on authorization redirect', withCoop.seen[0].headers.get('cross-origin-opener-policy') === 'same-origin');
  check('COOP on interaction page', withCoop.res?.status === 200 && withCoop.res.headers.get('cross-origin-opener-policy') === 'same-origin');
} catch (err) {
  check('no exception', false, String(err?.stack ?? err));
} finally {
  await op.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
